// ES-module entry of sparse-vector-migration/testing (see dist/testing/index.d.ts).
export * from '../dist/testing/index.js';
