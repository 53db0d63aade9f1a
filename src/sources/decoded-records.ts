// The records the replay's decoder thread sends the correlating thread through a
// SlotRing (slot-ring.ts): a classified packet (the Classified fields, its interface
// and time stamp — what Correlator.classified takes), an event (interface, section,
// statistics, warning, end: rare, structured-cloned), the bytes read so far (for
// the progress line), and with --packets --json the packets' JSON lines, made on the
// decoder thread and printed as they are. Packets of no exchange are counted on the
// decoder thread and not sent.
import { deserialize, serialize } from 'node:v8';
import { Classified, keyAddrBytes } from '../correlate/classify.js';
import { copyBytes } from '../framing/bytes.js';
import { recordBytes, recordHeader, recordType, type SlotReader, type SlotWriter } from './slot-ring.js';

export const RECORD_PACKET = 1;
export const RECORD_EVENT = 2;
export const RECORD_PROGRESS = 3;
export const RECORD_LINES = 4;

const BROADCAST = 1;
const MUST_MATCH = 2;
const ERROR_ABOUT_ANSWER = 4;
const HAS_KEY = 8;
const HAS_ERROR = 16;
const KEEPS = 32;

/**
 * A packet record's fixed part, by 32-bit word (PACKET_FIXED_BYTES); the key and the
 * error text follow when present.
 */
const enum PacketWord {
  Header = 0,
  Iface = 1,
  /** kind (8 bits), stage (8), flags (6) and TTL + 1 (9: 0 when none) */
  KindStage = 2,
  /** Classified.mustMatch and keep, as unsigned 32-bit numbers (when flagged MUST_MATCH, KEEPS) */
  MustMatch = 3,
  Keep = 4,
  Tunnel = 5,
  /** the time stamp's seconds: a double, words 6 and 7 (SEC_DOUBLE) */
  Sec = 6,
  Nsec = 8,
  Fingerprint = 9,
  KeySlot = 10,
  KeyCheck = 11,
  SrcHash = 12,
  DstHash = 13,
  L2Src = 14,
  L2Dst = 15,
}
const SEC_DOUBLE = PacketWord.Sec / 2;
const PACKET_FIXED_BYTES = 64;
/** A key's numbers, by 32-bit word from the end of the fixed part: three doubles, then two integers. */
const enum KeyWord {
  Part0 = 0,
  Part1 = 2,
  Part2 = 4,
  /** IP version | which addresses are known << 8 */
  Addr = 6,
  NameLen = 7,
}
/** Bytes before the key's address bytes in a packet with a key. */
const KEY_NUMBERS_BYTES = 32;
/** Event bytes per record; a longer event is sent in parts (the last one flagged). */
const EVENT_PART_BYTES = 64 * 1024;
/**
 * An event record: its header word, then the part's length (the sign bit set when more
 * parts follow), then from EVENT_DATA_AT the part's bytes.
 */
const EVENT_PART_WORD = 1;
const EVENT_DATA_AT = 8;
/**
 * Output bytes per lines record; more go in several records (the bytes are only
 * appended to the output: a record may end inside a line).
 */
const LINES_PART_BYTES = 64 * 1024;
/** A lines record: its header word, then the byte count, then from LINES_DATA_AT the bytes. */
const LINES_COUNT_WORD = 1;
const LINES_DATA_AT = 8;
/** A progress record: its header word, then from byte 8 the bytes read (a double). */
const PROGRESS_BYTES_DOUBLE = 1;
const PROGRESS_RECORD_BYTES = 16;

function align8(n: number): number {
  return (n + 7) & ~7;
}

/** Writes one classified packet (kind not None) seen on `iface` at (sec, nsec). */
export function writePacket(w: SlotWriter, c: Classified, iface: number, sec: number, nsec: number): void {
  // the key's bytes: its two addresses (each keyAddrBytes long) then the name
  const addrLen = keyAddrBytes(c.addrVersion);
  const nameLen = c.nameLen > 0 ? c.nameLen : 0;
  const keyBytes = c.hasKey ? KEY_NUMBERS_BYTES + 2 * addrLen + nameLen : 0;
  const errorLen = c.errorDetail.length;
  const bytes = align8(PACKET_FIXED_BYTES + keyBytes + (errorLen > 0 ? 4 + errorLen : 0));
  const at = w.reserve(bytes);
  const i32 = w.i32;
  const f64 = w.f64;
  const u8 = w.u8;
  const wd = at >>> 2;
  const flags =
    (c.broadcast ? BROADCAST : 0) |
    (c.mustMatch >= 0 ? MUST_MATCH : 0) |
    (c.errorAboutAnswer ? ERROR_ABOUT_ANSWER : 0) |
    (c.hasKey ? HAS_KEY : 0) |
    (errorLen > 0 ? HAS_ERROR : 0) |
    (c.keep >= 0 ? KEEPS : 0);
  i32[wd + PacketWord.Header] = recordHeader(RECORD_PACKET, bytes);
  i32[wd + PacketWord.Iface] = iface;
  i32[wd + PacketWord.KindStage] = c.kind | (c.stage << 8) | (flags << 16) | ((c.ttl + 1) << 22);
  i32[wd + PacketWord.MustMatch] = c.mustMatch;
  i32[wd + PacketWord.Keep] = c.keep;
  i32[wd + PacketWord.Tunnel] = c.tunnel;
  f64[(at >>> 3) + SEC_DOUBLE] = sec;
  i32[wd + PacketWord.Nsec] = nsec;
  i32[wd + PacketWord.Fingerprint] = c.fingerprint;
  i32[wd + PacketWord.KeySlot] = c.keySlot;
  i32[wd + PacketWord.KeyCheck] = c.keyCheck;
  i32[wd + PacketWord.SrcHash] = c.srcHash;
  i32[wd + PacketWord.DstHash] = c.dstHash;
  i32[wd + PacketWord.L2Src] = c.l2Src;
  i32[wd + PacketWord.L2Dst] = c.l2Dst;
  let p = at + PACKET_FIXED_BYTES;
  if (c.hasKey) {
    f64[(p >>> 3) + KeyWord.Part0 / 2] = c.keyPart0;
    f64[(p >>> 3) + KeyWord.Part1 / 2] = c.keyPart1;
    f64[(p >>> 3) + KeyWord.Part2 / 2] = c.keyPart2;
    i32[(p >>> 2) + KeyWord.Addr] = c.addrVersion | (c.addrKnown << 8);
    i32[(p >>> 2) + KeyWord.NameLen] = c.nameLen;
    p += KEY_NUMBERS_BYTES;
    const from = c.keySource;
    // (an address not known is not read: its bytes in the record are whatever was there)
    if ((c.addrKnown & 1) !== 0) copyBytes(u8, p, from, c.keySrcAt, addrLen);
    if ((c.addrKnown & 2) !== 0) copyBytes(u8, p + addrLen, from, c.keyDstAt, addrLen);
    if (nameLen > 0) copyBytes(u8, p + 2 * addrLen, from, c.keyNameAt, nameLen);
    p += 2 * addrLen + nameLen;
  }
  if (errorLen > 0) {
    // ICMP error and rcode texts are ASCII (classify.ts writes them)
    p = (p + 3) & ~3;
    i32[p >>> 2] = errorLen;
    p += 4;
    for (let i = 0; i < errorLen; i++) u8[p + i] = c.errorDetail.charCodeAt(i) & 0x7f;
  }
  w.commit(bytes);
}

/** Writes a structured-cloneable event, in parts when it is long. */
export function writeEvent(w: SlotWriter, event: unknown): void {
  const data = serialize(event);
  for (let off = 0; off === 0 || off < data.length; off += EVENT_PART_BYTES) {
    const n = Math.min(EVENT_PART_BYTES, data.length - off);
    const bytes = align8(EVENT_DATA_AT + n);
    const at = w.reserve(bytes);
    w.i32[at >>> 2] = recordHeader(RECORD_EVENT, bytes);
    w.i32[(at >>> 2) + EVENT_PART_WORD] = off + n < data.length ? n | 0x80000000 : n;
    w.u8.set(data.subarray(off, off + n), at + EVENT_DATA_AT);
    w.commit(bytes);
  }
}

/** Writes output bytes (whole packet lines, in the order they are printed): src[start, end). */
export function writeLines(w: SlotWriter, src: Uint8Array, start: number, end: number): void {
  for (let off = start; off < end; off += LINES_PART_BYTES) {
    const n = Math.min(LINES_PART_BYTES, end - off);
    const bytes = align8(LINES_DATA_AT + n);
    const at = w.reserve(bytes);
    w.i32[at >>> 2] = recordHeader(RECORD_LINES, bytes);
    w.i32[(at >>> 2) + LINES_COUNT_WORD] = n;
    // (memcpy: lines are hundreds of bytes a packet, past where a loop wins)
    w.u8.set(src.subarray(off, off + n), at + LINES_DATA_AT);
    w.commit(bytes);
  }
}

/** Notes how many bytes of the files have been read (for a progress line). */
export function writeProgress(w: SlotWriter, bytesRead: number): void {
  const at = w.reserve(PROGRESS_RECORD_BYTES);
  w.i32[at >>> 2] = recordHeader(RECORD_PROGRESS, PROGRESS_RECORD_BYTES);
  w.f64[(at >>> 3) + PROGRESS_BYTES_DOUBLE] = bytesRead;
  w.commit(PROGRESS_RECORD_BYTES);
}

export interface DecodedRecordHandlers {
  packet(c: Classified, iface: number, sec: number, nsec: number): void;
  event(event: unknown): void;
  progress(bytesRead: number): void;
  /** output bytes to print as they are: u8[start, end), valid during the call */
  lines(u8: Uint8Array, start: number, end: number): void;
}

/** Reads the records of one slot [start, end), in order. */
export class DecodedRecordReader {
  readonly #c = new Classified();
  #eventParts: Uint8Array[] = [];

  constructor(private readonly r: SlotReader) {}

  read(start: number, end: number, h: DecodedRecordHandlers): void {
    const { i32, f64, u8 } = this.r;
    const c = this.#c;
    for (let at = start; at < end;) {
      const header = i32[at >>> 2];
      const bytes = recordBytes(header);
      if (bytes === 0) throw new Error(`decoder thread: empty record at byte ${at}`);
      const type = recordType(header);
      if (type === RECORD_PACKET) {
        const wd = at >>> 2;
        const iface = i32[wd + PacketWord.Iface];
        const kindStage = i32[wd + PacketWord.KindStage];
        const flags = (kindStage >>> 16) & 0x3f;
        c.ttl = ((kindStage >>> 22) & 0x1ff) - 1;
        c.kind = kindStage & 0xff;
        c.stage = (kindStage >>> 8) & 0xff;
        c.broadcast = (flags & BROADCAST) !== 0;
        c.errorAboutAnswer = (flags & ERROR_ABOUT_ANSWER) !== 0;
        c.hasKey = (flags & HAS_KEY) !== 0;
        c.mustMatch = (flags & MUST_MATCH) !== 0 ? i32[wd + PacketWord.MustMatch] >>> 0 : -1;
        c.keep = (flags & KEEPS) !== 0 ? i32[wd + PacketWord.Keep] >>> 0 : -1;
        c.tunnel = i32[wd + PacketWord.Tunnel];
        const sec = f64[(at >>> 3) + SEC_DOUBLE];
        const nsec = i32[wd + PacketWord.Nsec];
        c.fingerprint = i32[wd + PacketWord.Fingerprint];
        c.keySlot = i32[wd + PacketWord.KeySlot];
        c.keyCheck = i32[wd + PacketWord.KeyCheck];
        c.srcHash = i32[wd + PacketWord.SrcHash];
        c.dstHash = i32[wd + PacketWord.DstHash];
        c.l2Src = i32[wd + PacketWord.L2Src];
        c.l2Dst = i32[wd + PacketWord.L2Dst];
        let p = at + PACKET_FIXED_BYTES;
        if (c.hasKey) {
          c.keyPart0 = f64[(p >>> 3) + KeyWord.Part0 / 2];
          c.keyPart1 = f64[(p >>> 3) + KeyWord.Part1 / 2];
          c.keyPart2 = f64[(p >>> 3) + KeyWord.Part2 / 2];
          const addr = i32[(p >>> 2) + KeyWord.Addr];
          c.addrVersion = addr & 0xff;
          c.addrKnown = addr >>> 8;
          c.nameLen = i32[(p >>> 2) + KeyWord.NameLen];
          p += KEY_NUMBERS_BYTES;
          // the key's bytes stay in the ring until the slot is released (after this call)
          const addrLen = keyAddrBytes(c.addrVersion);
          c.keySource = u8;
          c.keySrcAt = p;
          c.keyDstAt = p + addrLen;
          c.keyNameAt = p + 2 * addrLen;
          p += 2 * addrLen + (c.nameLen > 0 ? c.nameLen : 0);
        }
        if ((flags & HAS_ERROR) !== 0) {
          p = (p + 3) & ~3;
          const len = i32[p >>> 2];
          c.errorDetail = String.fromCharCode(...u8.subarray(p + 4, p + 4 + len));
        } else c.errorDetail = '';
        h.packet(c, iface, sec, nsec);
      } else if (type === RECORD_EVENT) {
        const word = i32[(at >>> 2) + EVENT_PART_WORD];
        const n = word & 0x7fffffff;
        // copied out of the ring: the slot is reused once handed back
        this.#eventParts.push(u8.slice(at + EVENT_DATA_AT, at + EVENT_DATA_AT + n));
        if (word >= 0) {
          const parts = this.#eventParts;
          this.#eventParts = [];
          h.event(deserialize(parts.length === 1 ? parts[0] : Buffer.concat(parts)));
        }
      } else if (type === RECORD_PROGRESS) {
        h.progress(f64[(at >>> 3) + PROGRESS_BYTES_DOUBLE]);
      } else if (type === RECORD_LINES) {
        const from = at + LINES_DATA_AT;
        h.lines(u8, from, from + i32[(at >>> 2) + LINES_COUNT_WORD]);
      } else throw new Error(`decoder thread: unknown record type ${type} at byte ${at}`);
      at += bytes;
    }
  }
}
