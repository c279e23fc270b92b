#!/usr/bin/env node
'use strict';
// `npx sparse-vector list|info|run|verify|search`: the script manager of sparse-vector-migration.
const { runSparseVectorCli } = require('../dist/src/cli/sparse-vector-cli.js');
runSparseVectorCli(process.argv.slice(2)).then((code) => process.exit(code));
