// When a run ends: every stop condition of a live capture and of a replay, in one place.
//
//   - a signal (SIGINT: Ctrl-C; SIGTERM; SIGHUP: the terminal closed). The first one stops
//     the run. One that comes once the run is stopping, whatever stopped it, means "do not
//     wait" (the caller's `again`: a capture closes its recording and exits 130 without
//     waiting for remote hosts). While the run lasts, Node's default for these signals
//     (exit at once, the recording left without its end) never applies.
//   - --duration (`after`): that many seconds from then, however many (long-timer.ts).
//   - the output ended: stdout's reader went away (`| head`), or writing to it failed.
//   - the TUI's q (`stop('quit')`), and the end of the files (`stop('end')`).
// The first condition met is the run's reason; later ones change nothing. Whoever reads
// in steps (a replay, between chunks) asks `reason`; whoever waits awaits `stopped()`;
// the run's timers (`every`) end at the stop.
import type { LineWriter } from '../sinks/line-writer.js';
import { setLongTimeout } from './long-timer.js';

export type StopReason = NodeJS.Signals | 'duration' | 'output closed' | 'quit' | 'end';

/** The signals that stop a capture: Ctrl-C, kill's default, the terminal closing. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface RunStopOptions {
  /** Stop on STOP_SIGNALS; `again` is called for each one that comes once the run is stopping. */
  signals?: { again(signal: NodeJS.Signals): void };
  /** Stop when this output ends. */
  output?: LineWriter;
}

export class RunStop {
  #reason: StopReason | null = null;
  /** what the stop ends: timers, waits */
  #atStop: Array<(reason: StopReason) => void> = [];
  readonly #onSignal: ((signal: NodeJS.Signals) => void) | null = null;

  constructor(options: RunStopOptions = {}) {
    options.output?.whenClosed(() => this.stop('output closed'));
    const signals = options.signals;
    if (signals !== undefined) {
      const onSignal = (signal: NodeJS.Signals): void => {
        if (this.#reason === null) this.stop(signal);
        else signals.again(signal);
      };
      for (const name of STOP_SIGNALS) process.on(name, onSignal);
      this.#onSignal = onSignal;
    }
  }

  /** What stopped the run; null while it runs. */
  get reason(): StopReason | null {
    return this.#reason;
  }

  /** Stops the run (the TUI's q, the end of the files); nothing once it is stopped. */
  stop(reason: StopReason): void {
    if (this.#reason !== null) return;
    this.#reason = reason;
    for (const end of this.#atStop.splice(0)) end(reason);
  }

  /** Resolves with the reason once the run is stopped. */
  stopped(): Promise<StopReason> {
    return new Promise((resolve) => this.#whenStopped(resolve));
  }

  /** --duration: stops the run `seconds` from now (a capture: from when it has started). */
  after(seconds: number): void {
    if (this.#reason !== null) return;
    this.#whenStopped(setLongTimeout(seconds * 1000, () => this.stop('duration')));
  }

  /** Calls `tick` every `ms` until the run stops. */
  every(ms: number, tick: () => void): void {
    if (this.#reason !== null) return;
    const timer = setInterval(tick, ms);
    this.#whenStopped(() => clearInterval(timer));
  }

  /** The run is over: the signals are Node's again, and whatever still waits is let go. */
  dispose(): void {
    const onSignal = this.#onSignal;
    if (onSignal !== null) for (const name of STOP_SIGNALS) process.removeListener(name, onSignal);
    this.stop('end');
  }

  #whenStopped(end: (reason: StopReason) => void): void {
    if (this.#reason !== null) end(this.#reason);
    else this.#atStop.push(end);
  }
}

/**
 * Calls `interrupted` at the first of each of `names` (a second one of the same signal
 * is Node's default again: exit at once), until released. For a step that is not a
 * run, such as building the demo's lab.
 */
export function untilSignal(names: readonly NodeJS.Signals[], interrupted: () => void): { release(): void } {
  for (const name of names) process.once(name, interrupted);
  return {
    release: () => {
      for (const name of names) process.removeListener(name, interrupted);
    },
  };
}
