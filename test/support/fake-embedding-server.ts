// The DashScope/TEI test peer lives in src/testing so the benchmarks (and users' own tests) can use it too.
export * from '../../src/testing/fake-embedding-server';
