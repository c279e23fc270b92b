#!/usr/bin/env node
'use strict';
// `npx umzug ...` for sparse-vector-migration's migrations (the umzug package itself ships no bin).
// No child process: signals sent to this process reach the command directly; under `npx` (npm -> sh -> node)
// a SIGTERM that only reached npm's shell is passed on as well (see src/cli/orphan-signal.ts).
const { runUmzugCli } = require('../dist/src/cli/umzug-cli.js');
const { stopWhenOrphaned } = require('../dist/src/cli/orphan-signal.js');
stopWhenOrphaned();
runUmzugCli(process.argv.slice(2)).then((code) => process.exit(code));
