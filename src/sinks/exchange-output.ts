// Where verdicts go: JSON lines with --json (docs/json-lines.md); otherwise the text report
// (problems with their paths; ok exchanges one line each). (The exit status the
// verdicts call for is the CLI's: cli/errors.ts exitStatus.)
import type { ClockRecord, ExchangeRecord, SummaryRecord } from '../events/types.js';
import { formatClock, formatExchange, formatSummary } from './exchange-text.js';
import type { LineWriter } from './line-writer.js';
import type { JudgedExchange } from '../shared/judged-exchange.js';
import { writeExchangeJson } from '../shared/record-json.js';

export interface ExchangeOutputOptions {
  json: boolean;
  /** text report: ok exchanges printed (one line each) before they are only counted; default 20 */
  okLines?: number;
}

export class ExchangeOutput {
  readonly #out: LineWriter;
  readonly #json: boolean;
  readonly #okLines: number;
  #okShown = 0;
  readonly #clocks = new Map<string, ClockRecord>();

  constructor(out: LineWriter, options: ExchangeOutputOptions) {
    this.#out = out;
    this.#json = options.json;
    this.#okLines = options.okLines ?? 20;
  }

  /**
   * A verdict as judged (it has no cause: one with a cause comes as its record): its JSON
   * line or a problem's report lines written from it, an ok exchange's line from its record.
   */
  judged(j: JudgedExchange): void {
    if (!this.#json && j.status === 'ok') {
      this.exchange(j.record());
      return;
    }
    const w = this.#out.record();
    if (w === null) return;
    const start = w.pos;
    if (this.#json) j.writeJson(w);
    else j.writeText(w);
    this.#out.endRecord(start);
  }

  exchange(ex: ExchangeRecord): void {
    if (this.#json) {
      const w = this.#out.record();
      if (w === null) return;
      const start = w.pos;
      writeExchangeJson(w, ex);
      this.#out.endRecord(start);
      return;
    }
    if (ex.status === 'ok') {
      if (this.#okShown >= this.#okLines) return;
      this.#okShown++;
      const rtt = ex.rttMs !== undefined ? `${ex.rttMs.toFixed(3)} ms` : 'answered';
      this.#out.line(`${formatExchange(ex)[0]}  (${rtt})`);
      if (this.#okShown === this.#okLines) {
        this.#out.line('(further ok exchanges are only counted in the summary; --json lists every one)');
      }
      return;
    }
    for (const line of formatExchange(ex)) this.#out.line(line);
  }

  /** For the correlator: whether a verdict of this status will be printed (else it is only counted). */
  wants(status: ExchangeRecord['status']): boolean {
    return this.#json || status !== 'ok' || this.#okShown < this.#okLines;
  }

  clock(c: ClockRecord): void {
    this.#clocks.set(c.host, c);
    if (this.#json) this.#out.line(JSON.stringify(c));
  }

  /** The summary record, or the clock offsets and the summary line. */
  summary(s: SummaryRecord): void {
    if (this.#json) this.#out.line(JSON.stringify(s));
    else {
      for (const c of this.#clocks.values()) this.#out.line(formatClock(c));
      this.#out.line(formatSummary(s));
    }
  }
}
