// The `exchange` record as a JSON line (docs/json-lines.md), one per verdict, written
// by code that knows its shape instead of by JSON.stringify, which walks every object
// generically and was two thirds of `replay --json`'s time; it goes straight into the
// output's bytes (shared/json-bytes.ts). The bytes are JSON.stringify's for the same
// record (test/shared/record-json.test.ts compares them on every shipped capture and
// corpus file): the fields in the order correlate/exchange-record.ts sets them, one
// that is undefined left out. A field added to the record's type fails to compile here
// until it is written (EXCHANGE_FIELDS).
import type { ExchangeRecord, StageSighting } from '../events/types.js';
import type { JsonBytes } from './json-bytes.js';

// Every field of the record and of a sighting: `satisfies` fails on one added to the
// type until it is listed, and listing it is the reminder to write it below.
const EXCHANGE_FIELDS = {
  type: 1,
  kind: 1,
  key: 1,
  flow: 1,
  status: 1,
  ts: 1,
  stages: 1,
  lost: 1,
  detail: 1,
  rttMs: 1,
  cause: 1,
} as const satisfies Record<keyof ExchangeRecord, 1>;
const SIGHTING_FIELDS = { iface: 1, ts: 1, hopMs: 1, tunnel: 1 } as const satisfies Record<
  keyof StageSighting,
  1
>;
void EXCHANGE_FIELDS;
void SIGHTING_FIELDS;

/**
 * A flat object (an exchange's `flow`, whose shape is its kind's: kinds/kind-spec.ts),
 * its own fields in their order: strings, numbers and nulls written here, anything else
 * as JSON.stringify writes that value.
 */
export function writeFlat(w: JsonBytes, o: object): void {
  w.byte(0x7b);
  let first = true;
  for (const k in o) {
    const v: unknown = (o as Record<string, unknown>)[k];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    if (!first) w.byte(0x2c);
    first = false;
    w.str(k);
    w.byte(0x3a);
    if (typeof v === 'string') w.str(v);
    else if (typeof v === 'number') w.num(v);
    else if (v === null) w.ascii('null');
    else w.text(JSON.stringify(v));
  }
  w.byte(0x7d);
}

function writeStrings(w: JsonBytes, a: readonly string[]): void {
  w.byte(0x5b);
  for (let i = 0; i < a.length; i++) {
    if (i > 0) w.byte(0x2c);
    w.str(a[i]);
  }
  w.byte(0x5d);
}

function writeSighting(w: JsonBytes, g: StageSighting): void {
  w.key('{"iface":').str(g.iface);
  w.key(',"ts":').str(g.ts);
  if (g.hopMs !== undefined) w.key(',"hopMs":').num(g.hopMs);
  if (g.tunnel !== undefined) writeSightingTunnel(w, g.tunnel.type, g.tunnel.vni);
  w.byte(0x7d);
}

/** A sighting's `,"tunnel":{"type":…,"vni":…}` (correlate/exchange-json.ts writes the same bytes from the rows). */
function writeSightingTunnel(w: JsonBytes, type: string, vni: number | null): void {
  w.key(',"tunnel":{"type":').str(type);
  w.key(',"vni":').numOrNull(vni);
  w.byte(0x7d);
}

/** `,"lost":{"stage":…,"lastSeen":…,"missingOn":` — the caller writes the array and the closing brace. */
export function writeLostHead(w: JsonBytes, stage: string, lastSeen: string | null): void {
  w.key(',"lost":{"stage":').str(stage);
  w.key(',"lastSeen":').strOrNull(lastSeen);
  w.ascii(',"missingOn":');
}

/**
 * Writes JSON.stringify(ex) for an exchange record as correlate/exchange-record.ts
 * builds it: type, kind, key, flow, status, ts, stages, then lost, detail, rttMs and
 * cause when set. `cause` (rare: broken exchanges where evidence was gathered) is
 * JSON.stringify's.
 */
export function writeExchangeJson(w: JsonBytes, ex: ExchangeRecord): void {
  w.key('{"type":').str(ex.type);
  w.key(',"kind":').str(ex.kind);
  w.key(',"key":').str(ex.key);
  writeFlat(w.key(',"flow":'), ex.flow);
  w.key(',"status":').str(ex.status);
  w.key(',"ts":').str(ex.ts);
  w.ascii(',"stages":[');
  const stages = ex.stages;
  for (let i = 0; i < stages.length; i++) {
    const st = stages[i];
    w.ascii(i === 0 ? '{"name":' : ',{"name":');
    w.str(st.name);
    w.key(',"packets":').num(st.packets);
    w.ascii(',"seen":[');
    const seen = st.seen;
    for (let j = 0; j < seen.length; j++) {
      if (j > 0) w.byte(0x2c);
      writeSighting(w, seen[j]);
    }
    w.ascii(']}');
  }
  w.byte(0x5d);
  const lost = ex.lost;
  if (lost !== undefined) {
    writeLostHead(w, lost.stage, lost.lastSeen);
    writeStrings(w, lost.missingOn);
    w.byte(0x7d);
  }
  if (ex.detail !== undefined) w.key(',"detail":').str(ex.detail);
  if (ex.rttMs !== undefined) w.key(',"rttMs":').num(ex.rttMs);
  if (ex.cause !== undefined) w.key(',"cause":').text(JSON.stringify(ex.cause));
  w.byte(0x7d);
}
