// A problem's lines of the text report written straight from the correlator's rows,
// without the ExchangeRecord that sinks/exchange-text.ts formats: a scan nobody
// answers is hundreds of thousands of problems, and a record and its strings for each
// were a quarter of the report's peak memory (the young garbage kept V8's heap large)
// and a second of its time. The bytes are formatExchange's for the record the
// correlator would build (its labels, its hop times to the µs, the same verdict
// sentence from shared/verdict-words.ts), as test/sinks/exchange-text-rows.test.ts
// checks on every shipped capture and corpus file. No `why:` line: a verdict with a
// cause reaches the report as its record.
import type { ExchangeStatus } from '../events/types.js';
import { type JsonBytes, literal } from '../shared/json-bytes.js';
import { STATUS_WORDS, verdictSentence } from '../shared/verdict-words.js';
import { type ExchangeRecordWriter, hopUs, rttMs, tunnelName } from './exchange-record.js';
import { KeptKeyValues } from './kept-key-values.js';
import { FLOWS, type Kind, KIND_NAMES, STAGE_NAMES } from './kinds/table.js';
import type { ExchangeRows } from './tables.js';
import type { OrderedStage, Verdict } from './verdict.js';

const ARROW = new Uint8Array(Buffer.from(' → ', 'utf8'));
const INDENT = literal('    ');

/** An interface's label as bytes, made again when its label changed. */
interface LabelBytes {
  readonly label: string;
  readonly bytes: Uint8Array;
}

export class ExchangeTextWriter {
  readonly #records: ExchangeRecordWriter;
  readonly #values = new KeptKeyValues();
  /** per status, per kind: `<STATUS padded to 12> <kind padded to 13> ` */
  readonly #heads = new Map<ExchangeStatus, Uint8Array[]>();
  /** per kind: its key text's literal pieces */
  readonly #keyLiterals: ReadonlyArray<readonly Uint8Array[]>;
  readonly #labels: Array<LabelBytes | undefined> = [];

  constructor(records: ExchangeRecordWriter) {
    this.#records = records;
    this.#keyLiterals = FLOWS.map((c) => c.keyLiterals.map((text) => literal(text)));
  }

  /** Writes exchange x's lines as formatExchange(records.record(X, x, kind, stages, verdict)) reads, joined by newlines (no last one). */
  write(
    w: JsonBytes,
    X: ExchangeRows,
    x: number,
    kind: Kind,
    stages: ReadonlyArray<OrderedStage | undefined>,
    verdict: Verdict,
  ): void {
    const records = this.#records;
    w.lit(this.#head(verdict.status, kind));
    this.#values.read(records.keptKey(X, x), kind);
    this.#values.writeKey(w, kind, this.#keyLiterals[kind], false);
    const names = STAGE_NAMES[kind];
    let width = 0;
    let lastStage: string | undefined;
    for (let i = 0; i < stages.length; i++) {
      if (stages[i] === undefined) continue;
      lastStage = names[i];
      if (names[i].length > width) width = names[i].length;
    }
    for (let i = 0; i < stages.length; i++) {
      const s = stages[i];
      if (s === undefined) continue;
      w.byte(0x0a);
      w.lit(INDENT);
      w.ascii(names[i]);
      for (let k = names[i].length; k < width + 2; k++) w.byte(0x20);
      const ifaces = s.ifaces;
      for (let j = 0; j < ifaces.length; j++) {
        if (j > 0) w.lit(ARROW);
        w.lit(this.#labelBytes(ifaces[j]));
        const tun = s.tunnels[j];
        if (tun >= 0) {
          w.ascii(' [');
          w.ascii(tunnelName(tun));
          w.ascii(' vni ');
          w.num(tun & 0xffffff);
          w.byte(0x5d);
        }
        if (j > 0) {
          w.ascii(' +');
          fixed3(w, hopUs(s.times[j - 1], s.times[j]));
          w.ascii('ms');
        }
      }
      if (s.packets > 1) {
        w.ascii('  (');
        w.num(s.packets);
        w.ascii(' packets)');
      }
    }
    w.byte(0x0a);
    w.lit(INDENT);
    const lost = verdict.lost;
    const detail = records.detail(X, x, kind, verdict);
    w.text(
      verdictSentence({
        status: verdict.status,
        lost:
          lost === null
            ? undefined
            : {
                stage: names[lost.stage],
                lastSeen: records.lastSeenLabel(lost.lastSeen),
                missingOn: lost.missingOn.map((i) => records.label(i)),
              },
        detail,
        rttMs: verdict.rttNs !== null ? rttMs(verdict.rttNs) : undefined,
        lastStage,
      }),
    );
  }

  #head(status: ExchangeStatus, kind: Kind): Uint8Array {
    let perKind = this.#heads.get(status);
    if (perKind === undefined) {
      perKind = KIND_NAMES.map((name) => literal(`${STATUS_WORDS[status].padEnd(12)} ${name.padEnd(13)} `));
      this.#heads.set(status, perKind);
    }
    return perKind[kind];
  }

  #labelBytes(iface: number): Uint8Array {
    const label = this.#records.label(iface);
    let made = this.#labels[iface];
    if (made === undefined || made.label !== label) {
      made = { label, bytes: new Uint8Array(Buffer.from(label, 'utf8')) };
      this.#labels[iface] = made;
    }
    return made.bytes;
  }
}

/** `k / 1000` as toFixed(3) writes it (k an integer: hop times in µs, written in ms). */
export function fixed3(w: JsonBytes, k: number): void {
  if (k < 0) {
    w.byte(0x2d);
    k = -k;
  }
  const whole = Math.floor(k / 1000);
  const frac = k - whole * 1000;
  w.num(whole);
  w.byte(0x2e);
  w.byte(0x30 + Math.floor(frac / 100));
  w.byte(0x30 + (Math.floor(frac / 10) % 10));
  w.byte(0x30 + (frac % 10));
}
