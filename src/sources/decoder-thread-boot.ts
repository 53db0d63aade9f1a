// Starting the replay's decoder thread (file-decoder-worker.ts) early. A thread takes
// about 0.1 s to start — a V8 isolate, Node's bootstrap, its own modules — and until
// it sends its first packets the correlating thread has nothing to do. The CLI starts
// it as soon as it knows the command is `replay`, before loading the command's modules,
// so the two start-ups overlap; the thread then waits for its input (files and ring).
// Not for a replay that will decode on its own thread (paced, the TUI, --packets as
// text); one
// started for nothing is let go. Until taken, the thread does not keep the process alive.
import { Worker } from 'node:worker_threads';

/** A decoder thread, and what happened to it before anyone listened. */
export interface DecoderThread {
  worker: Worker;
  /** an error the thread stopped with before it was taken */
  failure: Error | null;
  /** the thread is gone already (failed, or exited) */
  exited: boolean;
}

/** The young generation of a thread that keeps nothing: small, so its scavenges stay cheap. */
const RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 4 };

let booted: DecoderThread | null = null;

function start(): DecoderThread {
  const worker = new Worker(new URL('./file-decoder-worker.js', import.meta.url), {
    resourceLimits: RESOURCE_LIMITS,
  });
  const thread: DecoderThread = { worker, failure: null, exited: false };
  worker.on('error', (err) => {
    thread.failure = err;
  });
  worker.on('exit', () => {
    thread.exited = true;
  });
  return thread;
}

/**
 * Whether a `replay` with these arguments will likely decode on a second thread: not
 * paced, not printing packets as text (--packets without --json), not the TUI (a
 * terminal without --json). A guess from
 * the raw arguments, before they are parsed: a wrong guess only costs a thread started
 * for nothing, or started later.
 */
export function replayMayUseDecoderThread(argv: readonly string[], stdoutIsTerminal: boolean): boolean {
  const has = (flag: string): boolean => argv.some((a) => a === flag || a.startsWith(`${flag}=`));
  if ((has('--packets') && !has('--json')) || has('--speed') || has('--realtime')) return false;
  return !stdoutIsTerminal || has('--json');
}

/** Starts a decoder thread now, for a `replay` that may take it. */
export function bootDecoderThread(): void {
  if (booted !== null) return;
  booted = start();
  booted.worker.unref();
}

/** The thread started early, or a new one: the caller sends it its input. */
export function takeDecoderThread(): DecoderThread {
  const thread = booted ?? start();
  booted = null;
  thread.worker.ref();
  return thread;
}

/** Stops a thread started early that will not be taken. */
export async function releaseDecoderThread(): Promise<void> {
  const thread = booted;
  booted = null;
  if (thread !== null) await thread.worker.terminate();
}
