// When a run ends: every stop condition of a live capture and of a replay, in one place.
//
//   - a signal (SIGINT: Ctrl-C; SIGTERM; SIGHUP: the terminal closed). The first one stops
//     the run. One that comes once the run is stopping, whatever stopped it, means "do not
//     wait" (the caller's `again`: a capture closes its recording and exits 130 without
//     waiting for remote hosts). While the run lasts, Node's default for these signals
//     (exit at once, the recording left without its end) never applies.
//   - --duration: that many seconds after the start, however many (long-timer.ts).
//   - the output ended: stdout's reader went away (`| head`), or writing to it failed.
//   - the TUI's q (`stop('quit')`), and the end of the files (`stop('end')`).
// The first condition met is the run's reason; later ones change nothing. Whoever reads
// in steps (a replay, between chunks) asks `reason` synchronously; whoever waits awaits
// `stopped()`; the run's timers run `every` until the stop.
import {
  AsyncSubject,
  interval,
  lastValueFrom,
  merge,
  mergeAll,
  Observable,
  Subject,
  take,
  takeUntil,
} from 'rxjs';
import { setLongTimeout } from './long-timer.js';
import type { LineWriter } from '../sinks/line-writer.js';

export type StopReason = NodeJS.Signals | 'duration' | 'output closed' | 'quit' | 'end';

/** The signals that stop a capture: Ctrl-C, kill's default, the terminal closing. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface RunStopOptions {
  /** Stop on STOP_SIGNALS; `again` is called for each one that comes once the run is stopping. */
  signals?: { again(signal: NodeJS.Signals): void };
  /** Stop when this output ends. */
  output?: LineWriter;
}

/** Each of `names` as it comes, while subscribed (Node's default for them is off meanwhile). */
export function processSignals(names: readonly NodeJS.Signals[]): Observable<NodeJS.Signals> {
  return new Observable<NodeJS.Signals>((subscriber) => {
    const listener = (signal: NodeJS.Signals): void => subscriber.next(signal);
    for (const name of names) process.on(name, listener);
    return () => {
      for (const name of names) process.removeListener(name, listener);
    };
  });
}

/**
 * Calls `interrupted` at the first of each of `names` (a second one of the same signal
 * is Node's default again: exit at once), until released. For a step that is not a
 * run, such as building the demo's lab.
 */
export function untilSignal(names: readonly NodeJS.Signals[], interrupted: () => void): { release(): void } {
  const watch = merge(...names.map((name) => processSignals([name]).pipe(take(1)))).subscribe(interrupted);
  return { release: () => watch.unsubscribe() };
}

function afterSeconds(seconds: number): Observable<StopReason> {
  return new Observable<StopReason>((subscriber) =>
    setLongTimeout(seconds * 1000, () => subscriber.next('duration')),
  );
}

function outputClosed(out: LineWriter): Observable<StopReason> {
  return new Observable<StopReason>((subscriber) => out.whenClosed(() => subscriber.next('output closed')));
}

export class RunStop {
  /** the conditions watched: merged, the first reason met stops the run */
  readonly #conditions = new Subject<Observable<StopReason>>();
  readonly #asked = new Subject<StopReason>();
  /** the reason, to every subscriber, once (at once to one that comes later) */
  readonly #stopped = new AsyncSubject<StopReason>();
  #reason: StopReason | null = null;
  /** held from the start to dispose(): the first signal stops, later ones are `again` */
  readonly #signals: { unsubscribe(): void } | null = null;

  constructor(options: RunStopOptions = {}) {
    this.#conditions.pipe(mergeAll(), take(1)).subscribe((reason) => {
      this.#reason = reason;
      this.#stopped.next(reason);
      this.#stopped.complete();
    });
    this.#conditions.next(this.#asked);
    if (options.output !== undefined) this.#conditions.next(outputClosed(options.output));
    const signals = options.signals;
    if (signals !== undefined) {
      this.#signals = processSignals(STOP_SIGNALS).subscribe((signal) => {
        if (this.#reason === null) this.stop(signal);
        else signals.again(signal);
      });
    }
  }

  /** What stopped the run; null while it runs. */
  get reason(): StopReason | null {
    return this.#reason;
  }

  /** --duration: stops the run `seconds` from now (a capture: from when it has started). */
  after(seconds: number): void {
    this.#conditions.next(afterSeconds(seconds));
  }

  /** Stops the run (the TUI's q, the end of the files); nothing once it is stopped. */
  stop(reason: StopReason): void {
    this.#asked.next(reason);
  }

  /** Resolves with the reason once the run is stopped. */
  stopped(): Promise<StopReason> {
    return lastValueFrom(this.#stopped);
  }

  /** Calls `tick` every `ms` until the run stops. */
  every(ms: number, tick: () => void): void {
    interval(ms).pipe(takeUntil(this.#stopped)).subscribe(tick);
  }

  /** The run is over: the signals are Node's again, and whatever still waits is let go. */
  dispose(): void {
    this.#signals?.unsubscribe();
    this.stop('end');
  }
}
