// A verdict as the correlator hands it to the pipeline, before anything is built for
// it. Most verdicts of a replay with --json are ok exchanges whose only destination is
// a JSON line: writing that line straight from the correlator's rows
// (correlate/exchange-json.ts) costs a fraction of building the ExchangeRecord object
// and serializing it. A consumer that keeps the verdict, changes it (a cause joins it)
// or reads its fields asks for the record; the line written is the same either way
// (test/correlate/exchange-json.test.ts).
import type { ExchangeRecord, ExchangeStatus } from '../events/types.js';
import type { JsonBytes } from './json-bytes.js';

/** One judged exchange; valid only during the call that hands it out (its rows are freed after). */
export interface JudgedExchange {
  readonly status: ExchangeStatus;
  /** Its record (built at the first ask, the same object at every later one). */
  record(): ExchangeRecord;
  /**
   * Writes its `exchange` JSON line's record (no newline) into `w`: the record's
   * serialization (shared/record-json.ts) once the record is built, else the same bytes
   * straight from the correlator's state.
   */
  writeJson(w: JsonBytes): void;
  /**
   * Writes its lines of the text report (newline-separated, no last newline) straight
   * from the correlator's state: formatExchange of its record without a cause
   * (sinks/exchange-text.ts, correlate/exchange-text-writer.ts).
   */
  writeText(w: JsonBytes): void;
}
