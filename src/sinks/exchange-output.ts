// Where verdicts go (DESIGN §2, §3): JSON lines with --json; otherwise the text report
// (problems with their paths; ok exchanges one line each). The run's exit status
// follows the verdicts: 1 when anything was lost or unanswered, like diff.
import type { ClockRecord, ExchangeRecord, SummaryRecord } from '../events/types.js';
import { formatClock, formatExchange, formatSummary } from './exchange-text.js';
import type { LineWriter } from './line-writer.js';

export const EXIT_FOUND_LOSS = 1;

export interface ExchangeOutputOptions {
  json: boolean;
  /** text report: print ok exchanges too (one line each); default true */
  showOk?: boolean;
}

export class ExchangeOutput {
  readonly #out: LineWriter;
  readonly #json: boolean;
  readonly #showOk: boolean;
  readonly #clocks = new Map<string, ClockRecord>();

  constructor(out: LineWriter, options: ExchangeOutputOptions) {
    this.#out = out;
    this.#json = options.json;
    this.#showOk = options.showOk ?? true;
  }

  exchange(ex: ExchangeRecord): void {
    if (this.#json) {
      this.#out.line(JSON.stringify(ex));
      return;
    }
    if (ex.status === 'ok') {
      if (this.#showOk)
        this.#out.line(
          formatExchange(ex)[0] + `  (${ex.rttMs !== undefined ? `${ex.rttMs.toFixed(3)} ms` : 'answered'})`,
        );
      return;
    }
    for (const line of formatExchange(ex)) this.#out.line(line);
  }

  clock(c: ClockRecord): void {
    this.#clocks.set(c.host, c);
    if (this.#json) this.#out.line(JSON.stringify(c));
  }

  /** The summary record or line; returns the exit status the verdicts call for. */
  summary(s: SummaryRecord): number {
    if (this.#json) this.#out.line(JSON.stringify(s));
    else {
      for (const c of this.#clocks.values()) this.#out.line(formatClock(c));
      this.#out.line(formatSummary(s));
    }
    return s.lost > 0 || s.unanswered > 0 ? EXIT_FOUND_LOSS : 0;
  }
}
