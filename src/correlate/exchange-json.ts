// A verdict's `exchange` JSON line written straight from the correlator's rows, without
// the ExchangeRecord (exchange-record.ts) it would otherwise be serialized from
// (shared/record-json.ts): with --json every verdict is a line, and building the
// record — an object per sighting, time stamps and labels as strings — then walking it
// again cost more than judging. The bytes are the same as that record's: the fields in
// its order, its texts made from the same sources (the kind's flow declaration,
// kinds/flow-spec.ts, read here value by value; the record writer's detail and labels;
// its time stamps digit for digit), as test/shared/record-json.test.ts checks on every
// shipped capture and corpus file.
import { type JsonBytes, literal } from '../shared/json-bytes.js';
import { writeLostHead } from '../shared/record-json.js';
import {
  type ExchangeRecordWriter,
  firstTime,
  hopUs,
  type KeptKeyView,
  rttUs,
  tunnelName,
} from './exchange-record.js';
import { KeptKeyValues, MAX_FLOW_FIELDS, Value } from './kept-key-values.js';
import { FLOWS, type Kind, KIND_NAMES, STAGE_NAMES } from './kinds/table.js';
import type { ExchangeRows } from './tables.js';
import type { OrderedStage, Verdict } from './verdict.js';

const NS = 1_000_000_000;

// The line's constant pieces as bytes (json-bytes.ts literal); pieces that always follow
// one another are one literal, made per kind, stage, status or interface below: a copy
// costs about the same whatever its length, so a line is cheaper in fewer of them.
const HOP_MS = literal(',"hopMs":');
const TUNNEL = literal(',"tunnel":{"type":');
const VNI = literal(',"vni":');
const DETAIL = literal(',"detail":');
const RTT_MS = literal(',"rttMs":');
const NULL = literal('null');
const NO_STAGES = literal(',"stages":[]');
const STAGES_END = literal(']}]');
const SEEN_NONE = literal(',"seen":[');

/** A kind's flow as bytes: its opening, each further field's `,"name":`, the key's literal pieces. */
interface FlowShape {
  /** `","flow":{"<first field>":` (the key text's closing quote first), or `","flow":{` */
  readonly open: Uint8Array;
  /** per field: `,"name":` (the first field's, `{"name":`, is not written: it is in `open`) */
  readonly heads: readonly Uint8Array[];
  readonly keyLiterals: readonly Uint8Array[];
}

/** JSON text made once (a label may be any UTF-8) as the bytes JsonBytes.lit copies. */
function utf8(json: string): Uint8Array {
  return new Uint8Array(Buffer.from(json, 'utf8'));
}

/** An interface's sighting heads, made from its label. */
interface SightingHeads {
  readonly label: string;
  /** `,"seen":[{"iface":"<label>","ts":` */
  readonly first: Uint8Array;
  /** `},{"iface":"<label>","ts":` */
  readonly next: Uint8Array;
}

export class ExchangeJsonWriter {
  readonly #records: ExchangeRecordWriter;
  /** per kind: `{"type":"exchange","kind":"…","key":"` */
  readonly #heads: Uint8Array[];
  /** per kind, per stage: `,"stages":[{"name":"…","packets":` (the first stage written) */
  readonly #firstStageHeads: Uint8Array[][];
  /** per kind, per stage: `]},{"name":"…","packets":` (a stage after another) */
  readonly #nextStageHeads: Uint8Array[][];
  /** per kind: the bytes of its flow's field names and of its key text's literal pieces */
  readonly #shapes: FlowShape[];
  /** one record's flow values (#keyAndFlow) */
  readonly #values = new KeptKeyValues();
  /** per verdict status: `},"status":"ok","ts":` (the flow's closing brace first) … */
  readonly #statuses = new Map<string, Uint8Array>();
  #lastStatus = '';
  #lastStatusBytes: Uint8Array = new Uint8Array(0);
  /** per interface id: its sighting heads, made again when its label changed */
  readonly #sightingHeads: Array<SightingHeads | undefined> = [];
  /** per tunnel type: `"vxlan"` … */
  readonly #tunnelNames = new Map<number, Uint8Array>();

  constructor(records: ExchangeRecordWriter) {
    this.#records = records;
    this.#heads = KIND_NAMES.map((name) => utf8(`{"type":"exchange","kind":${JSON.stringify(name)},"key":"`));
    this.#firstStageHeads = STAGE_NAMES.map((names) =>
      names.map((name) => utf8(`,"stages":[{"name":${JSON.stringify(name)},"packets":`)),
    );
    this.#nextStageHeads = STAGE_NAMES.map((names) =>
      names.map((name) => utf8(`]},{"name":${JSON.stringify(name)},"packets":`)),
    );
    this.#shapes = FLOWS.map((c) => {
      if (c.names.length > MAX_FLOW_FIELDS) throw new Error(`a flow of ${c.names.length} fields`);
      const heads = c.names.map((name, i) => utf8(`${i === 0 ? '{' : ','}${JSON.stringify(name)}:`));
      return {
        open: utf8(`","flow":${c.names.length > 0 ? `{${JSON.stringify(c.names[0])}:` : '{'}`),
        heads,
        keyLiterals: c.keyLiterals.map((text) => literal(text)),
      };
    });
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
    w.lit(this.#heads[kind]);
    this.#keyAndFlow(w, records.keptKey(X, x), kind);
    this.#status(w, verdict.status);
    this.#timestamp(w, firstTime(stages));
    const firstHeads = this.#firstStageHeads[kind];
    const nextHeads = this.#nextStageHeads[kind];
    let firstStage = true;
    for (let i = 0; i < stages.length; i++) {
      const s = stages[i];
      if (s === undefined) continue;
      w.lit(firstStage ? firstHeads[i] : nextHeads[i]);
      firstStage = false;
      w.num(s.packets);
      const ifaces = s.ifaces;
      const times = s.times;
      if (ifaces.length === 0) w.lit(SEEN_NONE);
      for (let j = 0; j < ifaces.length; j++) {
        const heads = this.#sightingHeadsOf(ifaces[j]);
        w.lit(j === 0 ? heads.first : heads.next);
        this.#timestamp(w, times[j]);
        if (j > 0) w.field(HOP_MS).thousandths(hopUs(times[j - 1], times[j]));
        const tun = s.tunnels[j];
        if (tun >= 0) this.#tunnel(w, tun);
      }
      if (ifaces.length > 0) w.byte(0x7d);
    }
    w.lit(firstStage ? NO_STAGES : STAGES_END);
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
    if (verdict.rttNs !== null) w.field(RTT_MS).thousandths(rttUs(verdict.rttNs));
    w.byte(0x7d);
  }

  /** `"<key text>","flow":{…}` from the key kept, by the kind's flow declaration (kept-key-values.ts). */
  #keyAndFlow(w: JsonBytes, key: KeptKeyView, kind: Kind): void {
    const shape = this.#shapes[kind];
    const values = this.#values;
    values.read(key, kind);
    values.writeKey(w, kind, shape.keyLiterals, true);
    const { tags, nums, strs } = values;
    w.lit(shape.open);
    for (let i = 0; i < FLOWS[kind].names.length; i++) {
      if (i > 0) w.lit(shape.heads[i]);
      switch (tags[i]) {
        case Value.Null:
          w.lit(NULL);
          break;
        case Value.Ipv4:
          w.ipv4(values.bytes, nums[i]);
          break;
        case Value.Name:
          w.byte(0x22);
          w.copy(values.name, 0, nums[i]);
          w.byte(0x22);
          break;
        case Value.Number:
          w.num(nums[i]);
          break;
        default:
          w.str(strs[i] as string);
      }
      strs[i] = null;
    }
  }

  /** `},"status":"<status>","ts":`: the flow closed, the status, the head of the first time stamp. */
  #status(w: JsonBytes, status: string): void {
    if (status !== this.#lastStatus) {
      let bytes = this.#statuses.get(status);
      if (bytes === undefined) {
        bytes = utf8(`},"status":${JSON.stringify(status)},"ts":`);
        this.#statuses.set(status, bytes);
      }
      this.#lastStatus = status;
      this.#lastStatusBytes = bytes;
    }
    w.lit(this.#lastStatusBytes);
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

  /** Interface `iface`'s sighting heads, made again when its label changed. */
  #sightingHeadsOf(iface: number): SightingHeads {
    const label = this.#records.label(iface);
    let heads = this.#sightingHeads[iface];
    if (heads === undefined || heads.label !== label) {
      const head = `{"iface":${JSON.stringify(label)},"ts":`;
      heads = { label, first: utf8(`,"seen":[${head}`), next: utf8(`},${head}`) };
      this.#sightingHeads[iface] = heads;
    }
    return heads;
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
