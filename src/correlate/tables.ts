// The correlator's state in flight as columns of typed arrays, one row per exchange,
// stage track and sighting: no object per exchange, nothing for the garbage collector
// to trace or free (bounded state, docs/architecture.md). Rows are reused through free lists;
// a table grows fourfold when full and keeps its size (its peak) afterwards.
//
//   ExchangeRows    kind, key, times, timeout, error, one track row per stage
//   TrackRows       per stage: first fingerprint, packet count, sightings (a chain)
//   SightingRows    interface, raw relative ns, address hashes, tunnel, next in chain
//   RowQueue        exchange rows in creation order
//   LongNames       DNS names longer than KEY_NAME_INLINE, by exchange row
//
// The index from an exchange's key slot to its row is slot-index.ts.

import { MAX_STAGES } from './kinds/kind-spec.js';

export { MAX_STAGES };
/**
 * Key bytes per exchange row: the source address at KEY_SRC_AT, the destination
 * address at KEY_DST_AT (16 bytes each: IPv4 uses 4, a DHCP client's MAC 6). Every
 * row's key bytes are touched, whatever its kind.
 */
export const KEY_SRC_AT = 0;
export const KEY_DST_AT = 16;
export const KEY_STRIDE = 32;
/**
 * A DNS name (up to KEY_NAME_BYTES on the wire) is kept in ExchangeRows.nameBytes when it
 * fits KEY_NAME_INLINE, else in ExchangeRows.longNames. Apart from the key bytes: only
 * DNS rows touch those pages. A row sized for the longest name (256 bytes) was once most
 * of a replay's memory when a hundred thousand queries stayed open; names in the key
 * bytes (96 a row) were 13 MB of a scan's 200 000 open exchanges with no name at all.
 */
export const KEY_NAME_BYTES = 255;
export const KEY_NAME_INLINE = 64;

/**
 * What an exchange in flight weighs against the correlator's `maxExchanges`, in 64-byte
 * units of the memory it holds until its row is free: its rows (exchange, track,
 * sighting, index: ~320 bytes), a DNS name kept beside them (64 more), one longer than
 * 64 bytes its slot of 256 (LongNames). So the limit bounds memory, not a count: 200,000
 * exchanges of a scan, 167,000 queries for short names, 100,000 for long ones.
 */
export const ROW_WEIGHT = 5;
export function exchangeWeight(nameLen: number): number {
  return nameLen <= 0 ? ROW_WEIGHT : nameLen <= KEY_NAME_INLINE ? ROW_WEIGHT + 1 : ROW_WEIGHT * 2;
}

const INITIAL_ROWS = 262144;
/**
 * A full table grows fourfold: fewer copies on the way to its peak (each copy touches
 * every page of a new array), and the rows not used yet cost address space, not memory.
 */
const GROWTH = 4;

function grownF64(a: Float64Array, rows: number, stride = 1): Float64Array<ArrayBuffer> {
  const b = new Float64Array(rows * stride);
  b.set(a);
  return b;
}
function grownI32(a: Int32Array, rows: number, stride = 1): Int32Array<ArrayBuffer> {
  const b = new Int32Array(rows * stride);
  b.set(a);
  return b;
}
function grownU8(a: Uint8Array, rows: number, stride = 1): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(rows * stride);
  b.set(a);
  return b;
}

/** A stack of free row numbers, and the count of rows ever handed out. */
class RowAllocator {
  free = new Int32Array(INITIAL_ROWS);
  freeTop = 0;
  used = 0;
  capacity = INITIAL_ROWS;

  /** A free row, or -1 when the table must grow first. */
  take(): number {
    if (this.freeTop > 0) return this.free[--this.freeTop];
    if (this.used < this.capacity) return this.used++;
    return -1;
  }

  give(row: number): void {
    if (this.freeTop === this.free.length) this.free = grownI32(this.free, this.free.length * 2);
    this.free[this.freeTop++] = row;
  }

  /** Rows in use. */
  get live(): number {
    return this.used - this.freeTop;
  }
}

/** A sighting's fields, side by side in one row of eight doubles (one 64-byte cache line). */
export const enum Sighting {
  /** interface id */
  Iface = 0,
  /** time stamp on its host's clock, relative ns */
  Time = 1,
  /** flow direction at this sighting: source and destination address hashes */
  Src = 2,
  Dst = 3,
  /** (TunnelType << 24) | VNI, or -1 outside any tunnel */
  Tunnel = 4,
  /** the next sighting row of its chain (-1: none) */
  Next = 5,
  /** TTL / hop limit of the innermost IP header (-1: none) */
  Ttl = 6,
  /** the frame's source and destination MAC hashes (Classified.l2Src, l2Dst): src × 2^26 + dst, 0: none */
  L2 = 7,
}
/** Sighting.L2 of a frame's MAC hashes (26 bits each: exact in a double). */
export const L2_SRC_UNIT = 67108864;
export const SIGHTING_FIELDS = 8;

/** Sightings, chained per stage track in arrival order. */
export class SightingRows {
  readonly rows = new RowAllocator();
  /** SIGHTING_FIELDS numbers per row */
  f = new Float64Array(INITIAL_ROWS * SIGHTING_FIELDS);

  /**
   * A sighting row, for TrackRows.chain. Its time is the caller's to write into
   * `f[row * SIGHTING_FIELDS + Sighting.Time]`: a time in ns is a double, and a double
   * passed to a call that is not inlined is boxed on the heap, once per packet.
   */
  add(
    iface: number,
    src: number,
    dst: number,
    tunnel: number,
    ttl: number,
    l2Src: number,
    l2Dst: number,
  ): number {
    let r = this.rows.take();
    if (r < 0) {
      this.#grow();
      r = this.rows.take();
    }
    const b = r * SIGHTING_FIELDS;
    const f = this.f;
    f[b + Sighting.Iface] = iface;
    f[b + Sighting.Src] = src;
    f[b + Sighting.Dst] = dst;
    f[b + Sighting.Tunnel] = tunnel;
    f[b + Sighting.Ttl] = ttl;
    f[b + Sighting.L2] = l2Src * L2_SRC_UNIT + l2Dst;
    f[b + Sighting.Next] = -1;
    return r;
  }

  /** The next sighting row of r's chain, or -1. */
  next(r: number): number {
    return this.f[r * SIGHTING_FIELDS + Sighting.Next];
  }

  #grow(): void {
    const n = this.rows.capacity * GROWTH;
    this.f = grownF64(this.f, n, SIGHTING_FIELDS);
    this.rows.capacity = n;
  }
}

/** A stage track's numbers, side by side in one row (half a cache line): see TrackRows. */
export const enum Tr {
  /** the first packet's fingerprint */
  Fp0 = 0,
  /** distinct packets (fingerprints) seen: the second's in Fp1, further ones in `more` */
  Packets = 1,
  /** sightings in the chain, and sightings beyond the limit (counted, not kept) */
  Count = 2,
  Extra = 3,
  /** first and last sighting row of the chain (-1: none) */
  Head = 4,
  Tail = 5,
  /** 1 when a packet of the stage was broadcast or multicast (flooded) */
  Broadcast = 6,
  /**
   * the second packet's fingerprint: a stage of two distinct packets (a retransmission,
   * a scan's repeated probe) is common, and an array for each was young garbage that
   * survived — the young generation grew by tens of MB (peak RSS)
   */
  Fp1 = 7,
}
export const TRACK_INTS = 8;

/** Stage tracks: the packets of one stage of one exchange and where they were seen. */
export class TrackRows {
  readonly rows = new RowAllocator();
  readonly sightings = new SightingRows();
  /** TRACK_INTS per row (Tr.Fp0 … Tr.Broadcast) */
  ints = new Int32Array(INITIAL_ROWS * TRACK_INTS);
  /** fingerprints beyond the second (rare); read only while Tr.Packets > 2 */
  more: Array<number[] | null> = [];

  open(): number {
    let t = this.rows.take();
    if (t < 0) {
      this.#grow();
      t = this.rows.take();
    }
    const i = t * TRACK_INTS;
    const n = this.ints;
    n[i + Tr.Fp0] = 0;
    n[i + Tr.Packets] = 0;
    n[i + Tr.Count] = 0;
    n[i + Tr.Extra] = 0;
    n[i + Tr.Head] = -1;
    n[i + Tr.Tail] = -1;
    n[i + Tr.Broadcast] = 0;
    return t;
  }

  /** Frees the track and its sightings. */
  close(t: number): void {
    const s = this.sightings;
    for (let r = this.ints[t * TRACK_INTS + Tr.Head]; r >= 0;) {
      const next = s.next(r);
      s.rows.give(r);
      r = next;
    }
    if (this.ints[t * TRACK_INTS + Tr.Packets] > 2) this.more[t] = null;
    this.rows.give(t);
  }

  /**
   * Appends sighting row r (SightingRows.add: its time is the caller's to write, see
   * there) to track t's chain.
   */
  chain(t: number, r: number): void {
    const i = t * TRACK_INTS;
    const n = this.ints;
    if (n[i + Tr.Head] < 0) n[i + Tr.Head] = r;
    else this.sightings.f[n[i + Tr.Tail] * SIGHTING_FIELDS + Sighting.Next] = r;
    n[i + Tr.Tail] = r;
    n[i + Tr.Count]++;
  }

  /** The sighting row of `iface` on track t, or -1. */
  find(t: number, iface: number): number {
    const s = this.sightings;
    const f = s.f;
    for (let r = this.ints[t * TRACK_INTS + Tr.Head]; r >= 0; r = f[r * SIGHTING_FIELDS + Sighting.Next])
      if (f[r * SIGHTING_FIELDS + Sighting.Iface] === iface) return r;
    return -1;
  }

  /** Whether the track holds fingerprint fp already. */
  hasPacket(t: number, fp: number): boolean {
    const i = t * TRACK_INTS;
    if (this.ints[i + Tr.Fp0] === fp) return true;
    const packets = this.ints[i + Tr.Packets];
    if (packets < 2) return false;
    if (this.ints[i + Tr.Fp1] === fp) return true;
    return packets > 2 && (this.more[t] as number[]).indexOf(fp) >= 0;
  }

  /** Notes packet fp of the stage: the first, or one more distinct one (kept up to `keep`). */
  addPacket(t: number, fp: number, keep: number): void {
    const i = t * TRACK_INTS;
    const n = this.ints;
    const packets = ++n[i + Tr.Packets];
    if (packets === 1) n[i + Tr.Fp0] = fp;
    else if (packets === 2) n[i + Tr.Fp1] = fp;
    else if (packets === 3) this.more[t] = [fp];
    else {
      // beyond the first, `keep` are kept: Fp1 and keep - 1 here
      const more = this.more[t] as number[];
      if (more.length < keep - 1) more.push(fp);
    }
  }

  #grow(): void {
    const n = this.rows.capacity * GROWTH;
    this.ints = grownI32(this.ints, n, TRACK_INTS);
    this.rows.capacity = n;
  }
}

/**
 * An exchange row's numbers, side by side so that opening, answering and judging an
 * exchange touches a few cache lines, not one per column: many thousands are in flight
 * (a replay holds a second and more of them), so a row is usually cold by its verdict.
 * Integers: one 64-byte line per row (EX_INTS); doubles (times, the key's numbers):
 * another (EX_DOUBLES).
 */
export const enum ExInt {
  /** Kind */
  Kind = 0,
  /** 1 once judged (the row waits in the queue until passed) */
  Judged = 1,
  /** the key's map slot (30 bits) and the two bits above it, checked on lookup */
  Slot = 2,
  Check = 3,
  /** the flow direction's learned-table key */
  Flow = 4,
  /** stage of the first error (ICMP error, RST, NAK, rcode), -1 when none; its text in errorDetail */
  ErrorStage = 5,
  /**
   * the key: DNS name length (-1: none); its addresses' IP version | which are known << 8
   * (bit 0 source, bit 1 destination)
   */
  NameLen = 6,
  Addr = 7,
  /** the TTL of the packet the key was taken from (-1: none): the highest is nearest the asker */
  KeyTtl = 8,
  /** 1 when an ICMP error about the answer was seen (its text in answerError) */
  AnswerError = 9,
  /** track row + 1 per stage (0: no packet of that stage yet), MAX_STAGES of them */
  Stages = 10,
  /** 1 once the exchange gave its flow an RTT sample (after the MAX_STAGES stage slots) */
  RttSampled = 15,
  /** 1 once its asker asked again after its answer reached it (KindSpec.notTakenWhenAskedAgain) */
  AskedAgain = 16,
}
export const enum ExDouble {
  /** relative ns of the first packet, the latest packet, and the packet the key was taken from (reference clock) */
  FirstRel = 0,
  LastRel = 1,
  KeyRel = 2,
  TimeoutNs = 3,
  /**
   * the kind's own number, kept from one stage to check a packet of another
   * (Classified.keep, mustMatch; TCP: the server's ISN, to recognise the handshake's
   * ACK), or -1
   */
  Kept = 4,
  /** the key's three numbers (the kind's: echo id/seq, TCP ports and ISN, DNS id, qtype and transport, DHCP xid) */
  Part0 = 5,
  Part1 = 6,
  Part2 = 7,
}
export const EX_INTS = 17;
export const EX_DOUBLES = 8;

/** Exchanges: one row each, from the first packet until the queue has passed its verdict. */
export class ExchangeRows {
  readonly rows = new RowAllocator();
  /** EX_INTS per row (ExInt.Kind … ExInt.Stages + MAX_STAGES - 1) */
  ints = new Int32Array(INITIAL_ROWS * EX_INTS);
  /** EX_DOUBLES per row (ExDouble.FirstRel … ExDouble.Part2) */
  doubles = new Float64Array(INITIAL_ROWS * EX_DOUBLES);
  /**
   * The key's bytes (of the record's `key`), from the packet of the asking stage nearest the
   * asker: source and destination address (DHCP: the client MAC) at KEY_SRC_AT and
   * KEY_DST_AT.
   */
  keyBytes = new Uint8Array(INITIAL_ROWS * KEY_STRIDE);
  /** the key's DNS name as on the wire, KEY_NAME_INLINE bytes a row (ExInt.NameLen: its length) */
  nameBytes = new Uint8Array(INITIAL_ROWS * KEY_NAME_INLINE);
  /** a DNS name longer than KEY_NAME_INLINE, by row */
  readonly longNames = new LongNames();
  /** what the rows handed out weigh (exchangeWeight of each, from open to free) */
  weight = 0;
  /** error text of a stage (when ExInt.ErrorStage >= 0) and of an error about the answer (ExInt.AnswerError) */
  errorDetail: string[] = [];
  answerError: string[] = [];

  static readonly KEY_STRIDE = KEY_STRIDE;

  /**
   * A row for a new exchange, its stages empty and key not yet kept (a name of
   * `nameLen` bytes: what it weighs); the caller sets its times (ExDouble.FirstRel,
   * LastRel, KeyRel: doubles, not passed, so never boxed).
   */
  open(kind: number, slot: number, check: number, timeoutNs: number, nameLen: number): number {
    this.weight += exchangeWeight(nameLen);
    let x = this.rows.take();
    if (x < 0) {
      this.#grow();
      x = this.rows.take();
    }
    const i = x * EX_INTS;
    const n = this.ints;
    n[i + ExInt.Kind] = kind;
    n[i + ExInt.Judged] = 0;
    n[i + ExInt.Slot] = slot;
    n[i + ExInt.Check] = check;
    n[i + ExInt.ErrorStage] = -1;
    n[i + ExInt.AnswerError] = 0;
    n[i + ExInt.RttSampled] = 0;
    n[i + ExInt.AskedAgain] = 0;
    for (let k = i + ExInt.Stages; k < i + ExInt.Stages + MAX_STAGES; k++) n[k] = 0;
    const d = x * EX_DOUBLES;
    this.doubles[d + ExDouble.TimeoutNs] = timeoutNs;
    this.doubles[d + ExDouble.Kept] = -1;
    return x;
  }

  /** Row x is free again: its long name and its weight go with it. */
  free(x: number): void {
    this.longNames.delete(x);
    this.weight -= exchangeWeight(this.ints[x * EX_INTS + ExInt.NameLen]);
    this.rows.give(x);
  }

  #grow(): void {
    const n = this.rows.capacity * GROWTH;
    this.ints = grownI32(this.ints, n, EX_INTS);
    this.doubles = grownF64(this.doubles, n, EX_DOUBLES);
    this.keyBytes = grownU8(this.keyBytes, n, KEY_STRIDE);
    this.nameBytes = grownU8(this.nameBytes, n, KEY_NAME_INLINE);
    this.rows.capacity = n;
  }
}

/** Rows in the order they were pushed: a ring, a power of two long, doubled when full. */
export class RowQueue {
  #ring = new Int32Array(4096);
  #head = 0;
  length = 0;

  push(row: number): void {
    let ring = this.#ring;
    if (this.length === ring.length) {
      // Full: unroll the ring into one twice as long.
      const grown = new Int32Array(ring.length * 2);
      for (let i = 0; i < this.length; i++) grown[i] = ring[(this.#head + i) & (ring.length - 1)];
      this.#ring = ring = grown;
      this.#head = 0;
    }
    ring[(this.#head + this.length) & (ring.length - 1)] = row;
    this.length++;
  }

  /** The k-th oldest row (0 ≤ k < length). */
  at(k: number): number {
    return this.#ring[(this.#head + k) & (this.#ring.length - 1)];
  }

  /** The oldest row (the queue must not be empty). */
  peek(): number {
    return this.#ring[this.#head];
  }

  /** The oldest row, taken off the queue (the queue must not be empty). */
  shift(): number {
    const row = this.#ring[this.#head];
    this.#head = (this.#head + 1) & (this.#ring.length - 1);
    this.length--;
    return row;
  }
}

/**
 * DNS names longer than KEY_NAME_INLINE, by exchange row: each in a slot of
 * LONG_NAME_SLOT bytes of one pool, slots reused through a free list. (A Uint8Array
 * per name in a Map cost ~1.5 KB each in V8's heap and malloc: a flood of queries for
 * names of 74 bytes, 200,000 open, took a replay to 550 MB.)
 */
export const LONG_NAME_SLOT = KEY_NAME_BYTES + 1;

export class LongNames {
  /** the names' bytes, LONG_NAME_SLOT a slot (sized as the tables are: untouched pages cost nothing) */
  bytes = new Uint8Array(INITIAL_ROWS * LONG_NAME_SLOT);
  /** per exchange row: its slot + 1 (0: none) */
  #slotOf = new Int32Array(INITIAL_ROWS);
  readonly #free: number[] = [];
  #slots = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Keeps row x's name, src[start, start + len) (len ≤ LONG_NAME_SLOT). */
  set(x: number, src: Uint8Array, start: number, len: number): void {
    if (x >= this.#slotOf.length) {
      const grown = new Int32Array(Math.max(x + 1, this.#slotOf.length * GROWTH));
      grown.set(this.#slotOf);
      this.#slotOf = grown;
    }
    let slot = this.#slotOf[x] - 1;
    if (slot < 0) {
      slot = this.#free.pop() ?? this.#newSlot();
      this.#slotOf[x] = slot + 1;
      this.#size++;
    }
    const b = this.bytes;
    const at = slot * LONG_NAME_SLOT;
    for (let i = 0; i < len; i++) b[at + i] = src[start + i];
  }

  /** Where row x's name starts in `bytes`, or -1 when it has none. */
  at(x: number): number {
    return x < this.#slotOf.length && this.#slotOf[x] > 0 ? (this.#slotOf[x] - 1) * LONG_NAME_SLOT : -1;
  }

  delete(x: number): void {
    if (x >= this.#slotOf.length || this.#slotOf[x] === 0) return;
    this.#free.push(this.#slotOf[x] - 1);
    this.#slotOf[x] = 0;
    this.#size--;
  }

  #newSlot(): number {
    const slot = this.#slots++;
    if ((slot + 1) * LONG_NAME_SLOT > this.bytes.length) {
      const grown = new Uint8Array(this.#slots * GROWTH * LONG_NAME_SLOT);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    return slot;
  }
}
