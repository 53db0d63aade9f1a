// A verdict's `exchange` JSON line written straight from the correlator's rows, without
// the ExchangeRecord (exchange-record.ts) it would otherwise be serialized from
// (shared/record-json.ts): with --json every verdict is a line, and building the
// record — an object per sighting, time stamps and labels as strings — then walking it
// again cost more than judging. The bytes are the same as that record's: the fields in
// its order, its texts made by the same functions (the record writer's flow, detail
// and labels; its time stamps digit for digit), as test/shared/record-json.test.ts
// checks on every shipped capture and corpus file.
import type { ExchangeFlow } from '../events/types.js';
import { type JsonBytes, literal } from '../shared/json-bytes.js';
import { writeLostHead } from '../shared/record-json.js';
import { type ExchangeRecordWriter, firstTime, hopMs, rttMs, tunnelName } from './exchange-record.js';
import { type Kind, KIND_NAMES, KIND_SPECS, STAGE_NAMES } from './kinds/table.js';
import type { ExchangeRows } from './tables.js';
import type { OrderedStage, Verdict } from './verdict.js';

const NS = 1_000_000_000;

// The line's constant pieces as bytes (json-bytes.ts literal).
const FLOW = literal(',"flow":');
const STATUS = literal(',"status":');
const TS = literal(',"ts":');
const STAGES = literal(',"stages":[');
const SEEN = literal(',"seen":[');
const HOP_MS = literal(',"hopMs":');
const TUNNEL = literal(',"tunnel":{"type":');
const VNI = literal(',"vni":');
const DETAIL = literal(',"detail":');
const RTT_MS = literal(',"rttMs":');
const NULL = literal('null');

/** A flow's fields in the order its kind's `flow` sets them, each as `{"name":` / `,"name":`. */
interface FlowShape {
  readonly names: readonly string[];
  readonly heads: readonly Uint8Array[];
}

/** JSON text made once (a label may be any UTF-8) as the bytes JsonBytes.lit copies. */
function utf8(json: string): Uint8Array {
  return Buffer.from(json, 'utf8');
}

export class ExchangeJsonWriter {
  readonly #records: ExchangeRecordWriter;
  /** per kind: `{"type":"exchange","kind":"…","key":` */
  readonly #heads: Uint8Array[];
  /** per kind, per stage: `{"name":"…","packets":`, and with a comma before it */
  readonly #stageHeads: Uint8Array[][];
  readonly #nextStageHeads: Uint8Array[][];
  /** per kind: its flow's fields, learnt from its first flow (a kind's `flow` is one object literal) */
  readonly #flowShapes: Array<FlowShape | undefined> = [];
  /** per verdict status: `"ok"` … */
  readonly #statuses = new Map<string, Uint8Array>();
  /** per interface id: the label its sighting head was made from, and the head `{"iface":"…","ts":` */
  readonly #headLabel: Array<string | undefined> = [];
  readonly #sightingHead: Uint8Array[] = [];
  /** per tunnel type: `"vxlan"` … */
  readonly #tunnelNames = new Map<number, Uint8Array>();

  constructor(records: ExchangeRecordWriter) {
    this.#records = records;
    this.#heads = KIND_NAMES.map((name) => utf8(`{"type":"exchange","kind":${JSON.stringify(name)},"key":`));
    this.#stageHeads = STAGE_NAMES.map((names) =>
      names.map((name) => utf8(`{"name":${JSON.stringify(name)},"packets":`)),
    );
    this.#nextStageHeads = STAGE_NAMES.map((names) =>
      names.map((name) => utf8(`,{"name":${JSON.stringify(name)},"packets":`)),
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
    w.lit(this.#heads[kind]);
    w.str(KIND_SPECS[kind].keyText(flow));
    w.lit(FLOW);
    this.#flow(w, kind, flow);
    w.lit(STATUS);
    this.#status(w, verdict.status);
    w.lit(TS);
    this.#timestamp(w, firstTime(stages));
    w.lit(STAGES);
    const heads = this.#stageHeads[kind];
    const nextHeads = this.#nextStageHeads[kind];
    let firstStage = true;
    for (let i = 0; i < stages.length; i++) {
      const s = stages[i];
      if (s === undefined) continue;
      w.lit(firstStage ? heads[i] : nextHeads[i]);
      firstStage = false;
      w.num(s.packets);
      w.lit(SEEN);
      const ifaces = s.ifaces;
      const times = s.times;
      for (let j = 0; j < ifaces.length; j++) {
        if (j > 0) w.byte(0x2c);
        this.#sightingStart(w, ifaces[j]);
        this.#timestamp(w, times[j]);
        if (j > 0) w.field(HOP_MS).num(hopMs(times[j - 1], times[j]));
        const tun = s.tunnels[j];
        if (tun >= 0) this.#tunnel(w, tun);
        w.byte(0x7d);
      }
      w.byte(0x5d);
      w.byte(0x7d);
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
    if (detail !== undefined) w.field(DETAIL).str(detail);
    if (verdict.rttNs !== null) w.field(RTT_MS).num(rttMs(verdict.rttNs));
    w.byte(0x7d);
  }

  /**
   * The flow object as record-json.ts's writeFlat writes it (its own fields in order;
   * strings, numbers and nulls; undefined left out), with its names' bytes made once per kind.
   */
  #flow(w: JsonBytes, kind: Kind, flow: ExchangeFlow): void {
    const o = flow as unknown as Record<string, unknown>;
    let shape = this.#flowShapes[kind];
    if (shape === undefined) {
      const names = Object.keys(o);
      shape = { names, heads: names.map((k, i) => utf8(`${i === 0 ? '{' : ','}${JSON.stringify(k)}:`)) };
      this.#flowShapes[kind] = shape;
    }
    const { names, heads } = shape;
    // (its values in one call: a load by each name, across kinds' shapes, cost more)
    const values = Object.values(o);
    let first = true;
    for (let i = 0; i < names.length; i++) {
      const v = values[i];
      if (v === undefined) continue;
      // a field left out: the next one's head is written with `{` or `,` as it falls
      if (first && i > 0) w.ascii(`{${JSON.stringify(names[i])}:`);
      else w.lit(heads[i]);
      first = false;
      if (typeof v === 'string') w.str(v);
      else if (typeof v === 'number') w.num(v);
      else if (v === null) w.lit(NULL);
      else w.text(JSON.stringify(v));
    }
    if (first) w.byte(0x7b);
    w.byte(0x7d);
  }

  #status(w: JsonBytes, status: string): void {
    let bytes = this.#statuses.get(status);
    if (bytes === undefined) {
      bytes = utf8(JSON.stringify(status));
      this.#statuses.set(status, bytes);
    }
    w.lit(bytes);
  }

  /** A sighting's `,"tunnel":{"type":…,"vni":…}` (record-json.ts writeSightingTunnel's bytes). */
  #tunnel(w: JsonBytes, tun: number): void {
    const type = tun >>> 24;
    let name = this.#tunnelNames.get(type);
    if (name === undefined) {
      name = utf8(JSON.stringify(tunnelName(tun)));
      this.#tunnelNames.set(type, name);
    }
    w.lit(TUNNEL);
    w.lit(name);
    w.field(VNI).num(tun & 0xffffff);
    w.byte(0x7d);
  }

  /** `{"iface":"<label>","ts":` of interface `iface`, made again when its label changed. */
  #sightingStart(w: JsonBytes, iface: number): void {
    const label = this.#records.label(iface);
    if (this.#headLabel[iface] !== label) {
      this.#headLabel[iface] = label;
      this.#sightingHead[iface] = utf8(`{"iface":${JSON.stringify(label)},"ts":`);
    }
    w.lit(this.#sightingHead[iface]);
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
