// hopscope command-line entry: parses the command and dispatches (DESIGN §2).
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv.slice(2));
