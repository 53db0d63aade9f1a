// One verdict's flow values, read from the key kept in its row by its kind's flow
// declaration (kinds/flow-spec.ts, as flowOf and keyTextOf read it), and its key text
// written from them: for the writers that make a verdict's line straight from the rows
// (exchange-json.ts, exchange-text-writer.ts), with no flow object or key string made.
// Each value is found once; an IPv4 address stays its offset in the key's bytes, a DNS
// name whose text is its bytes stays those bytes.
import { DNS_MAX_NAME_LEN } from '../decode/dns.js';
import type { JsonBytes } from '../shared/json-bytes.js';
import type { KeptKeyView } from './exchange-record.js';
import { flowValue, KeyFormat, keyValueText, Source } from './kinds/flow-spec.js';
import { FLOWS, type Kind } from './kinds/table.js';

/** The most fields a flow has (DNS: 6). */
export const MAX_FLOW_FIELDS = 8;

for (const c of FLOWS)
  if (c.names.length > MAX_FLOW_FIELDS) throw new Error(`a flow of ${c.names.length} fields`);

/** What a flow value of the verdict being written is. */
export const enum Value {
  Null = 0,
  Number = 1,
  /** an IPv4 address: its offset in the key's bytes */
  Ipv4 = 2,
  Text = 3,
  /** the DNS name as its bytes in `name` (its length in nums) */
  Name = 4,
}

export class KeptKeyValues {
  /** per field: what its value is, its number or address offset or name length, its text */
  readonly tags = new Uint8Array(MAX_FLOW_FIELDS);
  readonly nums = new Float64Array(MAX_FLOW_FIELDS);
  readonly strs: Array<string | null> = new Array<string | null>(MAX_FLOW_FIELDS).fill(null);
  /** the DNS name, when its text is its bytes (KeptKeyView.plainName) */
  readonly name = new Uint8Array(DNS_MAX_NAME_LEN);
  /** the key's bytes the Ipv4 offsets are in (the last key read) */
  bytes: Uint8Array = new Uint8Array(0);

  /** Reads the flow values of `key` (exchange of `kind`); valid until the next read. */
  read(key: KeptKeyView, kind: Kind): void {
    const c = FLOWS[kind];
    const tags = this.tags;
    const nums = this.nums;
    const strs = this.strs;
    this.bytes = key.bytes;
    for (let i = 0; i < c.names.length; i++) {
      strs[i] = null;
      const source = c.sources[i];
      if (source === Source.Src || source === Source.Dst) {
        const at = key.ipv4At(source === Source.Src ? 1 : 2);
        if (at >= 0) {
          tags[i] = Value.Ipv4;
          nums[i] = at;
          continue;
        }
      } else if (source === Source.Name) {
        const len = key.plainName(this.name);
        if (len > 0) {
          tags[i] = Value.Name;
          nums[i] = len;
          continue;
        }
      }
      const v = flowValue(c, i, key);
      if (v === null) tags[i] = Value.Null;
      else if (typeof v === 'number') {
        tags[i] = Value.Number;
        nums[i] = v;
      } else {
        tags[i] = Value.Text;
        strs[i] = v;
      }
    }
  }

  /**
   * The key text (keyTextOf's) of the values read: `json` as the content of a JSON
   * string (escaped where JSON must), else as it is (the text report).
   */
  writeKey(w: JsonBytes, kind: Kind, keyLiterals: readonly Uint8Array[], json: boolean): void {
    const c = FLOWS[kind];
    const tags = this.tags;
    const nums = this.nums;
    for (let p = 0; p < c.keyFields.length; p++) {
      const f = c.keyFields[p];
      if (f < 0) {
        w.lit(keyLiterals[p]);
        continue;
      }
      switch (tags[f]) {
        case Value.Null:
          w.byte(0x3f);
          break;
        case Value.Ipv4:
          w.ipv4Text(this.bytes, nums[f]);
          break;
        case Value.Name:
          w.copy(this.name, 0, nums[f]);
          break;
        case Value.Number:
          // an integer as JSON writes it is its String(); anything else (or hex) as keyTextOf makes it
          if (
            c.keyFormats[p] === KeyFormat.Plain &&
            nums[f] >= 0 &&
            nums[f] <= 0xffffffff &&
            nums[f] === Math.floor(nums[f])
          )
            w.num(nums[f]);
          else if (json) w.strContent(keyValueText(nums[f], c.keyFormats[p]));
          else w.text(keyValueText(nums[f], c.keyFormats[p]));
          break;
        default:
          if (json) w.strContent(this.strs[f] as string);
          else w.text(this.strs[f] as string);
      }
    }
  }
}
