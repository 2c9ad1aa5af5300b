// Runs the CLI straight from the sources (`node --import tsx src/cli/run.ts ARGS`), as the tests do;
// the installed command is bin/toxrelay.js, which runs the bundle of main.ts instead.
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
