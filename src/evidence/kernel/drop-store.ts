// The drops the tracer reported lately, kept as the tracer's raw records in one
// ring (no object per drop): a verdict comes up to a few seconds after its packet
// died, so the drops of that window must still be here then. Bounded: the newest
// `capacity` records (default 65 536, 5.8 MB); under a flood of drops the oldest go
// first, and a query says when its window reaches back before what is kept.
import type { ExchangePacket } from '../context.js';
import { isSamePacket } from '../packet-fields.js';
import { decodeDrop, DROP_RECORD_BYTES, DropField, type KernelDrop } from './drop-record.js';

export const DROP_STORE_DEFAULTS = { capacity: 65_536 } as const;

export interface DropQuery {
  /** namespace inodes to look in */
  netns: ReadonlySet<number>;
  startNs: bigint;
  endNs: bigint;
  /** the missing packet; null: time-matched drops only */
  packet: ExchangePacket | null;
}

export interface DropQueryResult {
  /** drops whose fields are the packet's */
  byPacket: KernelDrop[];
  /** other drops of those namespaces in the window, at most `limit` */
  byTime: KernelDrop[];
  /** the window starts before the oldest record kept (some of its drops may be gone) */
  truncated: boolean;
}

const NS = 1_000_000_000n;

export class DropStore {
  readonly #capacity: number;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  /** next slot to write */
  #next = 0;
  /** records held (≤ capacity) */
  #held = 0;
  /** records that were overwritten before a query could see them, all time */
  #overwritten = 0;

  constructor(capacity: number = DROP_STORE_DEFAULTS.capacity) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`drop store capacity ${capacity}`);
    this.#capacity = capacity;
    this.#bytes = new Uint8Array(capacity * DROP_RECORD_BYTES);
    this.#view = new DataView(this.#bytes.buffer);
  }

  get size(): number {
    return this.#held;
  }

  get overwritten(): number {
    return this.#overwritten;
  }

  /** Copies `count` records from a tracer batch. */
  push(batch: ArrayBuffer, count: number): void {
    const src = new Uint8Array(batch, 0, count * DROP_RECORD_BYTES);
    for (let k = 0; k < count; k++) {
      this.#bytes.set(
        src.subarray(k * DROP_RECORD_BYTES, (k + 1) * DROP_RECORD_BYTES),
        this.#next * DROP_RECORD_BYTES,
      );
      this.#next = (this.#next + 1) % this.#capacity;
      if (this.#held < this.#capacity) this.#held++;
      else this.#overwritten++;
    }
  }

  query(q: DropQuery, limit = 16): DropQueryResult {
    const result: DropQueryResult = { byPacket: [], byTime: [], truncated: false };
    const startSec = Number(q.startNs / NS);
    const startNsec = Number(q.startNs % NS);
    const endSec = Number(q.endNs / NS);
    const endNsec = Number(q.endNs % NS);
    const v = this.#view;
    const oldest = (this.#next - this.#held + this.#capacity) % this.#capacity;
    for (let k = 0; k < this.#held; k++) {
      const at = ((oldest + k) % this.#capacity) * DROP_RECORD_BYTES;
      const sec = v.getUint32(at + DropField.TsSec, true);
      const nsec = v.getUint32(at + DropField.TsNsec, true);
      if (k === 0 && this.#overwritten > 0 && (sec > startSec || (sec === startSec && nsec > startNsec)))
        result.truncated = true;
      if (sec < startSec || (sec === startSec && nsec < startNsec)) continue;
      if (sec > endSec || (sec === endSec && nsec > endNsec)) continue;
      if (!q.netns.has(v.getUint32(at + DropField.Netns, true))) continue;
      const drop = decodeDrop(this.#bytes, v, at);
      if (q.packet !== null && isSamePacket(drop, q.packet)) result.byPacket.push(drop);
      else if (result.byTime.length < limit) result.byTime.push(drop);
    }
    return result;
  }
}
