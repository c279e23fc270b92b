#!/usr/bin/env node
'use strict';
// `npx sparse-vector list|info|run|verify|search`: the script manager of sparse-vector-migration.
// No child process: signals sent to this process reach the command directly; under `npx` (npm -> sh -> node)
// a SIGTERM that only reached npm's shell is passed on as well (see src/cli/orphan-signal.ts).
const { runSparseVectorCli } = require('../dist/src/cli/sparse-vector-cli.js');
const { stopWhenOrphaned } = require('../dist/src/cli/orphan-signal.js');
stopWhenOrphaned();
runSparseVectorCli(process.argv.slice(2)).then((code) => process.exit(code));
