// The DashScope/TEI test peer lives in testing so the benchmarks (and users' own tests) can use it too.
export * from '../../testing/fake-embedding-server';
