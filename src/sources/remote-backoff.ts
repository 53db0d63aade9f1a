// The waits between the sessions of a remote capture that keeps losing its ssh
// session: from `initialMs`, times `factor` after each failure, at most `maxMs`; back
// to `initialMs` once a session came up. stop() cuts a wait short (wake).

export interface BackoffOptions {
  /** wait before the first restart */
  initialMs: number;
  /** longest wait between restarts */
  maxMs: number;
  factor: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 10_000, factor: 2 };

export class Backoff {
  readonly #options: BackoffOptions;
  #delayMs: number;
  #wakeUp: (() => void) | null = null;

  constructor(options: BackoffOptions) {
    this.#options = options;
    this.#delayMs = options.initialMs;
  }

  /** A session came up: the next wait is the shortest again. */
  reset(): void {
    this.#delayMs = this.#options.initialMs;
  }

  /** Waits the current delay (or until wake()), then makes the next one longer. */
  async wait(): Promise<void> {
    await this.#sleep(this.#delayMs);
    this.#delayMs = Math.min(this.#delayMs * this.#options.factor, this.#options.maxMs);
  }

  /** Ends the wait under way, if any, at once. */
  wake(): void {
    this.#wakeUp?.();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakeUp = done;
    });
  }
}
