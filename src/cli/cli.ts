// Dispatch: `hopscope COMMAND [options]`. Each command lives in commands/ and
// returns its exit status; user errors become one line on stderr and exit 2, and so
// does stdout failing (a full disk; a reader that went away is no error).
import { bootDecoderThread, replayMayUseDecoderThread } from '../sources/decoder-thread-boot.js';
import { EXIT_OK, EXIT_USAGE, UserError } from './errors.js';
import { CAPTURE_HELP, DEMO_HELP, IFACES_HELP, LAB_HELP, MAIN_HELP, PATH_HELP, REPLAY_HELP } from './help.js';
import { guardStdStreams, stdoutFailure } from './std-streams.js';

type CommandRunner = (argv: string[]) => Promise<number>;

interface CommandEntry {
  help: string;
  load: () => Promise<CommandRunner>;
}

const COMMANDS: Record<string, CommandEntry> = {
  capture: { help: CAPTURE_HELP, load: async () => (await import('./commands/capture.js')).runCapture },
  replay: { help: REPLAY_HELP, load: async () => (await import('./commands/replay.js')).runReplay },
  ifaces: { help: IFACES_HELP, load: async () => (await import('./commands/ifaces.js')).runIfaces },
  path: { help: PATH_HELP, load: async () => (await import('./commands/path.js')).runPath },
  lab: { help: LAB_HELP, load: async () => (await import('./commands/lab.js')).runLab },
  demo: { help: DEMO_HELP, load: async () => (await import('./commands/demo.js')).runDemo },
};

function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

export async function runCli(argv: string[]): Promise<number> {
  guardStdStreams();
  const [command, ...rest] = argv;
  let status: number;
  try {
    status = await dispatch(command, rest);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    // one line: the error the command met first
    process.stderr.write(`hopscope: ${err.message}\n`);
    return err.exitCode;
  }
  const failure = await stdoutFailure();
  if (failure === null) return status;
  const known = command !== undefined && Object.hasOwn(COMMANDS, command);
  process.stderr.write(
    `hopscope: ${known ? `${command}: ` : ''}cannot write to standard output: ${failure}\n`,
  );
  return EXIT_USAGE;
}

async function dispatch(command: string | undefined, rest: string[]): Promise<number> {
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    const topic = command === 'help' ? rest[0] : undefined;
    process.stdout.write(topic && COMMANDS[topic] ? COMMANDS[topic].help : MAIN_HELP);
    return EXIT_OK;
  }
  if (command === '--version' || command === '-V') {
    process.stdout.write('hopscope 0.1.0\n');
    return EXIT_OK;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(
      `hopscope: unknown command '${command}' (commands: ${Object.keys(COMMANDS).join(', ')}; see hopscope --help)\n`,
    );
    return EXIT_USAGE;
  }
  if (wantsHelp(rest)) {
    process.stdout.write(entry.help);
    return EXIT_OK;
  }
  // A replay's decoder thread starts while the command loads (decoder-thread-boot.ts).
  if (command === 'replay' && replayMayUseDecoderThread(rest, process.stdout.isTTY === true))
    bootDecoderThread();
  const run = await entry.load();
  return await run(rest);
}
