// ES-module entry of sparse-vector-migration/testing (see dist/src/testing/index.d.ts).
export * from '../dist/src/testing/index.js';
