// The correlator's verdict as the pipeline receives it (shared/judged-exchange.ts): the
// judged exchange's row and ordered stages, read only while the correlator's
// onExchange call lasts; the record is built when a consumer asks for it, the JSON
// line written from the row when none did.
import type { ExchangeRecord, ExchangeStatus } from '../events/types.js';
import type { JsonBytes } from '../shared/json-bytes.js';
import type { JudgedExchange } from '../shared/judged-exchange.js';
import { writeExchangeJson } from '../shared/record-json.js';
import { ExchangeJsonWriter } from './exchange-json.js';
import type { ExchangeRecordWriter } from './exchange-record.js';
import { ExchangeTextWriter } from './exchange-text-writer.js';
import type { Kind } from './kinds/table.js';
import type { ExchangeRows } from './tables.js';
import type { OrderedStage, Verdict } from './verdict.js';

/** One object, pointed at each verdict in turn (a verdict judged allocates nothing for it). */
export class JudgedView implements JudgedExchange {
  readonly #records: ExchangeRecordWriter;
  readonly #json: ExchangeJsonWriter;
  readonly #text: ExchangeTextWriter;
  #X: ExchangeRows | null = null;
  #x = -1;
  #kind = 0 as Kind;
  #stages: ReadonlyArray<OrderedStage | undefined> = [];
  #verdict: Verdict | null = null;
  #record: ExchangeRecord | null = null;

  constructor(records: ExchangeRecordWriter) {
    this.#records = records;
    this.#json = new ExchangeJsonWriter(records);
    this.#text = new ExchangeTextWriter(records);
  }

  /** Points at exchange x (its row still holds the key; `stages` and `verdict` are the judge's). */
  at(
    X: ExchangeRows,
    x: number,
    kind: Kind,
    stages: ReadonlyArray<OrderedStage | undefined>,
    verdict: Verdict,
  ): this {
    this.#X = X;
    this.#x = x;
    this.#kind = kind;
    this.#stages = stages;
    this.#verdict = verdict;
    this.#record = null;
    return this;
  }

  /** The call is over: the row is freed, asking again is a bug. */
  done(): void {
    this.#X = null;
    this.#verdict = null;
    this.#record = null;
  }

  get status(): ExchangeStatus {
    return this.#live().status;
  }

  record(): ExchangeRecord {
    if (this.#record === null) {
      const verdict = this.#live();
      this.#record = this.#records.record(
        this.#X as ExchangeRows,
        this.#x,
        this.#kind,
        this.#stages,
        verdict,
      );
    }
    return this.#record;
  }

  writeJson(w: JsonBytes): void {
    if (this.#record !== null) writeExchangeJson(w, this.#record);
    else this.#json.write(w, this.#X as ExchangeRows, this.#x, this.#kind, this.#stages, this.#live());
  }

  writeText(w: JsonBytes): void {
    this.#text.write(w, this.#X as ExchangeRows, this.#x, this.#kind, this.#stages, this.#live());
  }

  #live(): Verdict {
    if (this.#verdict === null) throw new Error('a judged exchange was read after its onExchange call');
    return this.#verdict;
  }
}
