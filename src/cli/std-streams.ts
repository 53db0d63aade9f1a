// stdout and stderr that fail (a reader gone: EPIPE; a full disk: ENOSPC; a closed
// terminal: EIO) must not crash hopscope with an uncaught 'error' event. stderr
// failing leaves nowhere to tell it: ignored. stdout's first error is kept for the
// CLI to judge once the command is done: a reader that went away (`| head`) is no
// error (like tcpdump), anything else is one line and exit 2.
import { getSystemErrorMap } from 'node:util';

let stdoutError: NodeJS.ErrnoException | null = null;

export function guardStdStreams(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    stdoutError ??= err;
  });
  process.stderr.on('error', () => undefined);
}

/**
 * Resolves once stdout has taken everything written so far (or failed): with the
 * reason it failed, null when it did not or its reader only went away (EPIPE).
 */
export async function stdoutFailure(): Promise<string | null> {
  const out = process.stdout;
  if (stdoutError === null && !out.destroyed && out.writable)
    await new Promise<void>((resolve) => out.write('', () => resolve()));
  // the 'error' event may still be on its way: the stream knows already
  const err = stdoutError ?? (out.errored as NodeJS.ErrnoException | null);
  if (err === null || err.code === 'EPIPE') return null;
  return errorText(err);
}

/** "no space left on device" for ENOSPC: the system's text, as strerror gives it. */
function errorText(err: NodeJS.ErrnoException): string {
  const known = err.errno !== undefined ? getSystemErrorMap().get(err.errno) : undefined;
  return known?.[1] ?? err.code ?? err.message;
}
