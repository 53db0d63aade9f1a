// A kind's `flow` and `key` (docs/json-lines.md `exchange`) declared once, as data: which
// field of the flow comes from which part of the key the correlator kept, and the key
// text as a template over those fields. Both the record (exchange-record.ts: an object
// and a string, for the TUI, the report, the annotations) and the JSON line written
// straight from the rows (exchange-json.ts: bytes, no object or string made for them)
// are made from the one declaration, so the two cannot drift apart.
import type { ExchangeFlow } from '../../events/types.js';

/**
 * An exchange's key as the correlator kept it (from the asking packet nearest the
 * asker), for `flow`: the three numbers the kind's keepKey wrote, its addresses and
 * name as text.
 */
export interface KeptKey {
  readonly part0: number;
  readonly part1: number;
  readonly part2: number;
  /** the source and destination address (IPv4, IPv6), null when not known */
  src(): string | null;
  dst(): string | null;
  /** the first key address read as a MAC (a DHCP client's), null when not known */
  mac(): string | null;
  /** the DNS name kept, null when none or unreadable */
  name(): string | null;
}

/**
 * Where a flow field's value comes from in the key kept:
 * - 'src', 'dst': the address as text, null when the asking packet did not hold it;
 * - 'mac': the first key address read as a MAC (a DHCP client's), null when not known;
 * - 'name': the DNS name kept, null when none or unreadable;
 * - 'part0' … 'part2': one of the numbers the kind's keepKey kept;
 * - a function: text made from the key (a DNS type's mnemonic), never null.
 */
export type FlowSource =
  'src' | 'dst' | 'mac' | 'name' | 'part0' | 'part1' | 'part2' | ((key: KeptKey) => string);

export interface FlowSpec<F extends ExchangeFlow> {
  /** the flow's fields in the order the record lists them, each with its source (every field of F) */
  readonly fields: Readonly<Record<keyof F & string, FlowSource>>;
  /**
   * The key text: `{field}` stands for the field's value (`?` when null), `{field:hex8}`
   * for a number as 8 hex digits; anything else is printable ASCII written as it is.
   */
  readonly key: string;
}

/** FlowSource as a number, for the per-record loops. */
export const enum Source {
  Src = 0,
  Dst = 1,
  Mac = 2,
  Name = 3,
  Part0 = 4,
  Part1 = 5,
  Part2 = 6,
  Text = 7,
}

const SOURCES: Readonly<Record<string, Source>> = {
  src: Source.Src,
  dst: Source.Dst,
  mac: Source.Mac,
  name: Source.Name,
  part0: Source.Part0,
  part1: Source.Part1,
  part2: Source.Part2,
};

/** How a field appears in the key text. */
export const enum KeyFormat {
  Plain = 0,
  Hex8 = 1,
}

/** A FlowSpec read once: its fields as arrays, its key template cut into pieces. */
export interface CompiledFlow {
  readonly names: readonly string[];
  readonly sources: readonly Source[];
  /** the functions of Source.Text fields (null for the others) */
  readonly texts: ReadonlyArray<((key: KeptKey) => string) | null>;
  /** the key: its pieces in order, each literal text (field -1) or a field by index */
  readonly keyLiterals: readonly string[];
  readonly keyFields: readonly number[];
  readonly keyFormats: readonly KeyFormat[];
}

/** Reads a kind's FlowSpec; throws on a template naming no field or holding text JSON must escape. */
export function compileFlow(spec: FlowSpec<ExchangeFlow>): CompiledFlow {
  const names = Object.keys(spec.fields);
  const given = spec.fields as unknown as Record<string, FlowSource>;
  const sources = names.map((n) =>
    typeof given[n] === 'function' ? Source.Text : SOURCES[given[n] as string],
  );
  const texts = names.map((n) => {
    const f = given[n];
    return typeof f === 'function' ? f : null;
  });
  const keyLiterals: string[] = [];
  const keyFields: number[] = [];
  const keyFormats: KeyFormat[] = [];
  const template = /\{(\w+)(?::(hex8))?\}/g;
  let at = 0;
  const literal = (text: string): void => {
    if (text === '') return;
    if (!/^[\x20-\x7e]*$/.test(text) || /["\\]/.test(text))
      throw new Error(`flow key ${JSON.stringify(spec.key)}: ${JSON.stringify(text)} is not plain text`);
    keyLiterals.push(text);
    keyFields.push(-1);
    keyFormats.push(KeyFormat.Plain);
  };
  for (const m of spec.key.matchAll(template)) {
    literal(spec.key.slice(at, m.index));
    const field = names.indexOf(m[1]);
    if (field < 0) throw new Error(`flow key ${JSON.stringify(spec.key)}: no field ${m[1]}`);
    keyLiterals.push('');
    keyFields.push(field);
    keyFormats.push(m[2] === 'hex8' ? KeyFormat.Hex8 : KeyFormat.Plain);
    at = m.index + m[0].length;
  }
  literal(spec.key.slice(at));
  return { names, sources, texts, keyLiterals, keyFields, keyFormats };
}

/** Field `i`'s value from the key kept. */
export function flowValue(c: CompiledFlow, i: number, key: KeptKey): string | number | null {
  switch (c.sources[i]) {
    case Source.Src:
      return key.src();
    case Source.Dst:
      return key.dst();
    case Source.Mac:
      return key.mac();
    case Source.Name:
      return key.name();
    case Source.Part0:
      return key.part0;
    case Source.Part1:
      return key.part1;
    case Source.Part2:
      return key.part2;
    default:
      return (c.texts[i] as (key: KeptKey) => string)(key);
  }
}

/** The record's `flow` object, its fields in order. */
export function flowOf(c: CompiledFlow, key: KeptKey): ExchangeFlow {
  const flow: Record<string, string | number | null> = {};
  for (let i = 0; i < c.names.length; i++) flow[c.names[i]] = flowValue(c, i, key);
  return flow as unknown as ExchangeFlow;
}

/** A value as the key text writes it: `?` for null, a number as String() or as 8 hex digits. */
export function keyValueText(v: string | number | null, format: KeyFormat): string {
  if (v === null) return '?';
  if (typeof v === 'number' && format === KeyFormat.Hex8) return v.toString(16).padStart(8, '0');
  return String(v);
}

/** The record's `key` text, from its flow. */
export function keyTextOf(c: CompiledFlow, flow: ExchangeFlow): string {
  const values = flow as unknown as Record<string, string | number | null>;
  let text = '';
  for (let i = 0; i < c.keyFields.length; i++) {
    const f = c.keyFields[i];
    text += f < 0 ? c.keyLiterals[i] : keyValueText(values[c.names[f]], c.keyFormats[i]);
  }
  return text;
}
