// Runs one command from an argument array (never a shell string) and reports a
// failure as one line: the command and the first line of what it said.
import { execa } from 'execa';

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export class CommandFailedError extends Error {
  readonly result: CommandResult;
  constructor(argv: readonly string[], result: CommandResult) {
    const said = firstLine(result.stderr) || firstLine(result.stdout);
    const how = result.timedOut ? 'timed out' : `exit status ${result.exitCode}`;
    super(`\`${argv.join(' ')}\` failed (${how})${said ? `: ${said}` : ''}`);
    this.name = 'CommandFailedError';
    this.result = result;
  }
}

export function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? ''
  );
}

/** Run to completion; never throws for a non-zero exit (see `runChecked`). */
export async function runCommand(
  argv: readonly string[],
  options: { timeoutMs?: number; input?: string } = {},
): Promise<CommandResult> {
  const result = await execa(argv[0], argv.slice(1), {
    reject: false,
    timeout: options.timeoutMs ?? 15_000,
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    stripFinalNewline: true,
    // execa's cleanup loads signal-exit, whose SIGINT handler can re-raise the
    // signal while commands run and kill this process past `lab up`'s own
    // handler (the one that removes a half-built lab). Commands here are short
    // and get the terminal's Ctrl-C themselves.
    cleanup: false,
  });
  if (result.exitCode === undefined && !result.timedOut && result.cause instanceof Error) {
    // Could not start at all (ENOENT): report like a failed command.
    return { exitCode: 127, stdout: '', stderr: result.cause.message, timedOut: false };
  }
  return {
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    timedOut: result.timedOut,
  };
}

/** Run to completion; a non-zero exit throws CommandFailedError. */
export async function runChecked(
  argv: readonly string[],
  options: { timeoutMs?: number; input?: string } = {},
): Promise<CommandResult> {
  const result = await runCommand(argv, options);
  if (result.exitCode !== 0) throw new CommandFailedError(argv, result);
  return result;
}
