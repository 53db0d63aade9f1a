// A verdict's `exchange` JSON line written straight from the correlator's rows, without
// the ExchangeRecord (exchange-record.ts) it would otherwise be serialized from
// (shared/record-json.ts): with --json every verdict is a line, and building the
// record — an object per sighting, time stamps and labels as strings — then walking it
// again cost more than judging. The bytes are the same as that record's: the fields in
// its order, its texts made by the same functions (the record writer's flow, detail
// and labels; its time stamps digit for digit), as test/shared/record-json.test.ts
// checks on every shipped capture and corpus file.
import type { JsonBytes } from '../shared/json-bytes.js';
import { writeFlat, writeLostHead, writeSightingTunnel } from '../shared/record-json.js';
import { type ExchangeRecordWriter, firstTime, hopMs, rttMs, tunnelName } from './exchange-record.js';
import { type Kind, KIND_NAMES, KIND_SPECS, STAGE_NAMES } from './kinds/table.js';
import type { ExchangeRows } from './tables.js';
import type { OrderedStage, Verdict } from './verdict.js';

const NS = 1_000_000_000;

/** Whether JSON.stringify(s) is plain ASCII (JsonBytes.ascii may copy it); else it is written as UTF-8. */
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

export class ExchangeJsonWriter {
  readonly #records: ExchangeRecordWriter;
  /** per kind: `{"type":"exchange","kind":"…","key":` */
  readonly #heads: string[];
  /** per kind, per stage: `{"name":"…","packets":` */
  readonly #stageHeads: string[][];
  /** per interface id: the label its sighting head was made from, and the head `{"iface":"…","ts":` */
  readonly #headLabel: Array<string | undefined> = [];
  readonly #sightingHead: string[] = [];
  readonly #sightingHeadAscii: boolean[] = [];

  constructor(records: ExchangeRecordWriter) {
    this.#records = records;
    this.#heads = KIND_NAMES.map((name) => `{"type":"exchange","kind":${JSON.stringify(name)},"key":`);
    this.#stageHeads = STAGE_NAMES.map((names) =>
      names.map((name) => `{"name":${JSON.stringify(name)},"packets":`),
    );
  }

  /** Writes exchange x's record as records.record(X, x, kind, stages, verdict) serialized would read. */
  write(
    w: JsonBytes,
    X: ExchangeRows,
    x: number,
    kind: Kind,
    stages: ReadonlyArray<OrderedStage | undefined>,
    verdict: Verdict,
  ): void {
    const records = this.#records;
    const flow = records.flow(X, x, kind);
    w.ascii(this.#heads[kind]);
    w.str(KIND_SPECS[kind].keyText(flow));
    writeFlat(w.key(',"flow":'), flow);
    w.key(',"status":').str(verdict.status);
    w.ascii(',"ts":');
    this.#timestamp(w, firstTime(stages));
    w.ascii(',"stages":[');
    const heads = this.#stageHeads[kind];
    let firstStage = true;
    for (let i = 0; i < stages.length; i++) {
      const s = stages[i];
      if (s === undefined) continue;
      if (!firstStage) w.byte(0x2c);
      firstStage = false;
      w.ascii(heads[i]);
      w.num(s.packets);
      w.ascii(',"seen":[');
      const ifaces = s.ifaces;
      const times = s.times;
      for (let j = 0; j < ifaces.length; j++) {
        if (j > 0) w.byte(0x2c);
        this.#sightingStart(w, ifaces[j]);
        this.#timestamp(w, times[j]);
        if (j > 0) w.key(',"hopMs":').num(hopMs(times[j - 1], times[j]));
        const tun = s.tunnels[j];
        if (tun >= 0) writeSightingTunnel(w, tunnelName(tun), tun & 0xffffff);
        w.byte(0x7d);
      }
      w.ascii(']}');
    }
    w.byte(0x5d);
    const lost = verdict.lost;
    if (lost !== null) {
      writeLostHead(w, STAGE_NAMES[kind][lost.stage], records.lastSeenLabel(lost.lastSeen));
      w.byte(0x5b);
      for (let i = 0; i < lost.missingOn.length; i++) {
        if (i > 0) w.byte(0x2c);
        w.str(records.label(lost.missingOn[i]));
      }
      w.ascii(']}');
    }
    const detail = records.detail(X, x, kind, verdict);
    if (detail !== undefined) w.key(',"detail":').str(detail);
    if (verdict.rttNs !== null) w.key(',"rttMs":').num(rttMs(verdict.rttNs));
    w.byte(0x7d);
  }

  /** `{"iface":"<label>","ts":` of interface `iface`, made again when its label changed. */
  #sightingStart(w: JsonBytes, iface: number): void {
    const label = this.#records.label(iface);
    if (this.#headLabel[iface] !== label) {
      this.#headLabel[iface] = label;
      this.#sightingHead[iface] = `{"iface":${JSON.stringify(label)},"ts":`;
      this.#sightingHeadAscii[iface] = isAscii(this.#sightingHead[iface]);
    }
    if (this.#sightingHeadAscii[iface]) w.ascii(this.#sightingHead[iface]);
    else w.text(this.#sightingHead[iface]);
  }

  /** A relative time as the record's time stamp text (records.tsText), in quotes. */
  #timestamp(w: JsonBytes, rel: number): void {
    if (!Number.isFinite(rel)) {
      w.ascii('"0.000000000"');
      return;
    }
    const r = Math.round(rel);
    const whole = Math.floor(r / NS);
    w.timestamp(this.#records.baseSec + whole, r - whole * NS);
  }
}
