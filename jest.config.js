/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Sources import siblings without an extension; this also accepts "./x.js" specifiers.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  // p-queue and p-timeout are ESM-only. Node >= 20.19 loads them with require(esm) at run time,
  // but jest's own module loader does not, so jest transpiles exactly those packages to CJS.
  transform: {
    '^.+\\.(ts|js)$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(p-queue|p-timeout)/)'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  // The default reporter, and the skipped suites' reasons repeated after the summary (the live suite's).
  reporters: ['default', '<rootDir>/test/support/skipped-suites-reporter.js'],
  testTimeout: 60000,
  maxWorkers: 2,
  // A worker ends the run with 0.6–0.7 GB of RSS (its files' module registries and contexts) and takes 0.45–0.51 s
  // from its 'exit' event to its actual exit (V8 tearing its heap down), about jest's default limit of 0.5 s: jest
  // then kills it and warns that "a worker process has failed to exit gracefully", with nothing leaked (measured:
  // at exit each worker holds only its stdio and IPC pipes). Give the exit that time.
  workerGracefulExitTimeout: 3000,
  // Tests run in a random order within each file (every file must not depend on its order); the seed is
  // printed so that a failing order can be replayed with `npm test -- --seed=<n>`.
  randomize: true,
  showSeed: true,
};
