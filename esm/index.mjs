// ES-module entry of sparse-vector-migration: the CommonJS build's named exports (one copy of the code,
// so `import` and `require` in one process share the same classes and state).
export * from '../dist/src/index.js';
