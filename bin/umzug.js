#!/usr/bin/env node
'use strict';
// `npx umzug ...` for sparse-vector-migration's migrations (the umzug package itself ships no bin).
const { runUmzugCli } = require('../dist/src/cli/umzug-cli.js');
runUmzugCli(process.argv.slice(2)).then((code) => process.exit(code));
