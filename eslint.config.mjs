// ESLint flat config: typescript-eslint's type-checked rules on every TypeScript file of the project,
// plus the size limits the project holds itself to in src/ (files under 300 lines, functions under 60).
// Formatting is Prettier's job (`npm run format`); eslint-config-prettier turns off the rules it owns.
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', '.db/**', 'coverage/**', 'reports/**', '.stryker-tmp/**', '.test-each/**'],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Methods that implement a Promise-returning contract (Umzug storage, knex migration source, embedders)
      // are `async` without an `await` on purpose: a synchronous throw then becomes a rejection, as callers expect.
      '@typescript-eslint/require-await': 'off',
      // Control characters are matched on purpose: API keys and text are checked for them, tests strip ANSI codes.
      'no-control-regex': 'off',
      // Unused bindings are an error; a leading underscore marks one that is unused on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // The project's size limits for library code: files under 300 lines, functions under 60, every line counted
    // (blank lines and comments too). Tests are exempt: a test file groups one feature's cases.
    files: ['src/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 300, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: false, skipComments: false, IIFEs: true }],
    },
  },
  {
    // Tests, benchmarks and tooling read JSON-lines output, knex raw rows and mysql2 results, which are `any` by
    // the libraries' design; the expect() calls are the checks there. Library code (src/) keeps these rules.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'examples/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  {
    // Plain JavaScript (the bins, jest's and this config) is outside the TypeScript project: no type-checked rules.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The bins and jest.config.js are CommonJS entry points.
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
