// hopscope command-line entry: parses the command and dispatches.
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv.slice(2));
