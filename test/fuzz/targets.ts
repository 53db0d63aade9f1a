// The two fuzz targets and what they check; the same code runs in the fuzz workers
// and in the in-process replay of a saved case (fuzz.test.ts, HOPSCOPE_FUZZ_REPLAY).
//
// Packets: decodePacket(bytes, start, end, linktype, wireLen) with the packet's own
// link type and every other one a capture may declare; each decode must return,
// leave every offset inside the captured bytes (offsetProblems, the decode tests'
// own check, plus the DNS answer arrays and the ends), and describePacket must turn
// the record into JSON without throwing. The packet sits in a buffer between random
// bytes, and is decoded a second time with those bytes changed: the record and the
// view must not change (anything else means a read outside [start, end)).
//
// Files: CaptureReader fed in random chunk sizes; the only exception allowed is
// CaptureFormatError with a whole byte offset inside the input, a message and a
// plausible packet number; every delivered packet lies inside its buffer, on an
// announced interface, numbered in order, with a sane timestamp, and decodes as above;
// and the result (packets, interfaces, warnings, the error) is the same as when the
// file is pushed whole.

import { decodePacket } from '../../src/decode/decode-packet.js';
import {
  LINKTYPE_EN10MB,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
} from '../../src/decode/link.js';
import { describePacket } from '../../src/decode/packet-view.js';
import {
  LAYER_NAMES,
  MAX_DNS_ANSWERS,
  MAX_LAYERS,
  MAX_VLANS,
  PacketRecord,
} from '../../src/decode/record.js';
import {
  CaptureFormatError,
  CaptureReader,
  formatTimestamp,
  MAX_INTERFACE_ADDRESSES,
} from '../../src/framing/index.js';
import type { CapturePacket, CaptureReaderOptions } from '../../src/framing/index.js';
import { offsetProblems } from '../decode/support/cut-at-every-length.js';

/** Link types every packet is also decoded as: what a capture of any of our sources may declare. */
export const PLAUSIBLE_LINKTYPES: readonly number[] = [
  LINKTYPE_EN10MB,
  LINKTYPE_RAW,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_NULL,
  LINKTYPE_LOOP,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
];

export interface PacketCase {
  target: 'packets';
  /** the packet is bytes[start, end), with other bytes around it */
  bytes: Uint8Array;
  start: number;
  end: number;
  linktypes: number[];
  wireLen: number;
}

export interface FileCase {
  target: 'files';
  bytes: Uint8Array;
  /** push sizes, cycled */
  chunkSizes: number[];
  options: CaptureReaderOptions;
}

export type FuzzCase = PacketCase | FileCase;

export interface Problem {
  /** what the failure is, without the numbers that vary between inputs (failures with one signature are one bug) */
  signature: string;
  message: string;
  /** the link type a packet failed with, when it matters */
  linktype?: number;
}

/** Where in src/ an exception came from (first src/ frame of its stack, source-mapped). */
export function errorLocation(err: unknown): string {
  if (!(err instanceof Error) || err.stack === undefined) return 'unknown location';
  for (const line of err.stack.split('\n').slice(1)) {
    const m = /[/\\](src[/\\][^\s:()]+:\d+)/.exec(line);
    if (m !== null) return m[1];
  }
  const first = err.stack.split('\n')[1];
  return first === undefined ? 'unknown location' : first.trim();
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : `non-Error ${String(err)}`;
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}

function normalize(text: string): string {
  return text.replace(/-?\d+(\.\d+)?/g, 'N');
}

// --- the packet record ------------------------------------------------------------

const RECORD_KEYS: string[] = (() => {
  const blank = new PacketRecord() as unknown as Record<string, unknown>;
  return Object.keys(blank).filter((k) => ['number', 'boolean', 'string'].includes(typeof blank[k]));
})();

/** The first field in which two records of the same packet differ, or null. */
function recordDifference(a: PacketRecord, b: PacketRecord): string | null {
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  for (const key of RECORD_KEYS)
    if (!Object.is(x[key], y[key])) return `${key} (${String(x[key])} vs ${String(y[key])})`;
  const arrays: Array<[string, ArrayLike<number>, ArrayLike<number>, number]> = [
    ['layers', a.layers, b.layers, Math.min(a.layerCount, MAX_LAYERS)],
    ['vlanIds', a.vlanIds, b.vlanIds, Math.min(a.vlanCount, MAX_VLANS)],
    ['dnsAnswerType', a.dnsAnswerType, b.dnsAnswerType, Math.min(a.dnsAnswerCount, MAX_DNS_ANSWERS)],
    ['dnsAnswerNameOff', a.dnsAnswerNameOff, b.dnsAnswerNameOff, Math.min(a.dnsAnswerCount, MAX_DNS_ANSWERS)],
    ['dnsAnswerDataOff', a.dnsAnswerDataOff, b.dnsAnswerDataOff, Math.min(a.dnsAnswerCount, MAX_DNS_ANSWERS)],
    ['dnsAnswerDataLen', a.dnsAnswerDataLen, b.dnsAnswerDataLen, Math.min(a.dnsAnswerCount, MAX_DNS_ANSWERS)],
    ['dnsAnswerTtl', a.dnsAnswerTtl, b.dnsAnswerTtl, Math.min(a.dnsAnswerCount, MAX_DNS_ANSWERS)],
  ];
  for (const [name, p, q, n] of arrays) {
    for (let i = 0; i < n; i++) if (p[i] !== q[i]) return `${name}[${i}] (${p[i]} vs ${q[i]})`;
  }
  return null;
}

/** Bounds offsetProblems does not cover: the record's own range, the DNS answer arrays, the ends, the counts. */
function moreRecordProblems(rec: PacketRecord, bytes: Uint8Array, what: string, out: string[]): void {
  const { start, end } = rec;
  if (!(
    Number.isInteger(start) &&
    Number.isInteger(end) &&
    start >= 0 &&
    start <= end &&
    end <= bytes.length
  )) {
    out.push(`${what}: record range [${start}, ${end}) not inside the buffer of ${bytes.length} bytes`);
  }
  const inside = (v: number): boolean => v >= start && v <= end;
  if (rec.dnsAnswerCount < 0 || rec.dnsAnswerCount > MAX_DNS_ANSWERS)
    out.push(`${what}: dnsAnswerCount ${rec.dnsAnswerCount}`);
  for (let i = 0; i < Math.min(rec.dnsAnswerCount, MAX_DNS_ANSWERS); i++) {
    const nameOff = rec.dnsAnswerNameOff[i];
    const dataOff = rec.dnsAnswerDataOff[i];
    if (nameOff !== -1 && !inside(nameOff))
      out.push(`${what}: dnsAnswerNameOff[${i}]=${nameOff} outside [${start}, ${end}]`);
    if (dataOff !== -1 && !inside(dataOff))
      out.push(`${what}: dnsAnswerDataOff[${i}]=${dataOff} outside [${start}, ${end}]`);
  }
  if (rec.dnsOff >= 0 && !(rec.dnsEnd >= rec.dnsOff && rec.dnsEnd <= end)) {
    out.push(`${what}: dnsEnd=${rec.dnsEnd} outside [dnsOff ${rec.dnsOff}, ${end}]`);
  }
  if (rec.quotedEnd !== -1 && !inside(rec.quotedEnd))
    out.push(`${what}: quotedEnd=${rec.quotedEnd} outside [${start}, ${end}]`);
  if (rec.vlanCount < 0 || rec.vlanCount > MAX_VLANS) out.push(`${what}: vlanCount ${rec.vlanCount}`);
  const outerLen = rec.tunnelOuterIpVersion === 6 ? 16 : 4;
  if (rec.tunnelOuterDstOff >= 0 && rec.tunnelOuterDstOff + outerLen > end)
    out.push(`${what}: tunnel destination not present`);
  const quotedLen = rec.quotedIpVersion === 6 ? 16 : 4;
  if (rec.quotedSrcAddrOff >= 0 && rec.quotedSrcAddrOff + quotedLen > end)
    out.push(`${what}: quoted source not present`);
  if (rec.quotedDstAddrOff >= 0 && rec.quotedDstAddrOff + quotedLen > end)
    out.push(`${what}: quoted destination not present`);
}

/**
 * Decodes, checks the record, describes it. Returns the view's JSON, or null when the
 * decode or the view threw (a problem is then recorded).
 */
function decodeAndCheck(
  bytes: Uint8Array,
  start: number,
  end: number,
  linktype: number,
  wireLen: number,
  rec: PacketRecord,
  view: { n: number; iface: string; ts: string },
  problems: Problem[],
): string | null {
  const what = `linktype ${linktype}`;
  try {
    decodePacket(bytes, start, end, linktype, wireLen, rec);
  } catch (err) {
    problems.push({
      signature: `decodePacket threw ${errorName(err)} at ${errorLocation(err)} (linktype ${linktype})`,
      message: `decodePacket threw ${errorText(err)} at ${errorLocation(err)} (linktype ${linktype})`,
      linktype,
    });
    return null;
  }
  const found: string[] = [];
  offsetProblems(rec, what, found);
  moreRecordProblems(rec, bytes, what, found);
  if (found.length > 0) {
    const layers: string[] = [];
    for (let i = 0; i < Math.min(rec.layerCount, MAX_LAYERS); i++)
      layers.push(LAYER_NAMES[rec.layers[i]] ?? '?');
    const malformed =
      rec.malformedReason === ''
        ? 'not malformed'
        : `malformed ${rec.malformedReason} at ${rec.malformedOff}`;
    const context = ` (layers ${layers.join('/')}; ${malformed})`;
    for (const text of found) {
      // an offset of the anomaly is as good as the anomaly that set it
      const reason = text.includes('malformedOff') ? ` by ${rec.malformedReason}` : '';
      problems.push({
        signature: `record: ${normalize(text.slice(what.length + 2))}${reason} (linktype ${linktype})`,
        message: `${text}${context}`,
        linktype,
      });
    }
  }
  try {
    const caplen = rec.end - rec.start;
    return JSON.stringify(describePacket(rec, view.n, view.iface, view.ts, caplen, wireLen));
  } catch (err) {
    problems.push({
      signature: `describePacket threw ${errorName(err)} at ${errorLocation(err)} (linktype ${linktype})`,
      message: `describePacket threw ${errorText(err)} at ${errorLocation(err)} (linktype ${linktype})`,
      linktype,
    });
    return null;
  }
}

const PACKET_VIEW_ARGS = { n: 1, iface: 'fuzz', ts: '0.000000000' };

export class PacketTarget {
  private readonly rec = new PacketRecord();
  private readonly shadow = new PacketRecord();
  private readonly again = new PacketRecord();

  check(c: PacketCase, problems: Problem[]): void {
    const before = c.bytes.slice();
    for (const linktype of c.linktypes) this.checkLinktype(c, linktype, problems);
    for (let i = 0; i < before.length; i++) {
      if (before[i] !== c.bytes[i]) {
        problems.push({
          signature: 'decode or describe wrote into the packet bytes',
          message: `byte ${i} changed from ${before[i]} to ${c.bytes[i]} while decoding as ${c.linktypes.join(', ')}`,
        });
        break;
      }
    }
  }

  private checkLinktype(c: PacketCase, linktype: number, problems: Problem[]): void {
    const rec = this.rec;
    const before = problems.length;
    const json = decodeAndCheck(
      c.bytes,
      c.start,
      c.end,
      linktype,
      c.wireLen,
      rec,
      PACKET_VIEW_ARGS,
      problems,
    );
    if (json === null || problems.length > before) return;
    // The same packet among other bytes: nothing may change.
    const { start, end } = rec;
    if (start === 0 && end === c.bytes.length) return;
    const other = c.bytes.slice();
    for (let i = 0; i < start; i++) other[i] ^= 0xff;
    for (let i = end; i < other.length; i++) other[i] ^= 0xa5;
    const shadow = this.shadow;
    const json2 = decodeAndCheck(
      other,
      c.start,
      c.end,
      linktype,
      c.wireLen,
      shadow,
      PACKET_VIEW_ARGS,
      problems,
    );
    if (json2 === null) return;
    const diff = recordDifference(rec, shadow);
    if (diff !== null) {
      // the same bytes again: a difference then is state kept between calls, not a read outside
      const again = this.again;
      decodeAndCheck(c.bytes, c.start, c.end, linktype, c.wireLen, again, PACKET_VIEW_ARGS, problems);
      const changed = recordDifference(rec, again);
      if (changed !== null) {
        problems.push({
          signature: `decode not deterministic: ${changed.split(' ')[0].replace(/\[\d+\]/, '[i]')} (linktype ${linktype})`,
          message: `the same packet decoded twice gives different records: ${changed} (linktype ${linktype})`,
          linktype,
        });
        return;
      }
    }
    if (diff !== null) {
      const field = diff.split(' ')[0].replace(/\[\d+\]/, '[i]');
      problems.push({
        signature: `decode reads outside [start, end): ${field} (linktype ${linktype})`,
        message: `decode reads outside [start, end): with other bytes outside the packet, ${diff} (linktype ${linktype})`,
        linktype,
      });
    } else if (json !== json2) {
      problems.push({
        signature: `describePacket reads outside [start, end) (linktype ${linktype})`,
        message: `describePacket reads outside [start, end): same record, views differ: ${json} vs ${json2} (linktype ${linktype})`,
        linktype,
      });
    }
  }
}

// --- capture files ------------------------------------------------------------------

const MAX_KEPT_WARNINGS = 50;

/** What one read of a file produced, for comparing reads in different chunk sizes. */
interface ReadOutcome {
  /** per packet: a digest of its fields and bytes */
  packets: number[];
  interfaces: string[];
  stats: string[];
  warnings: string[];
  warningCount: number;
  /** `code@offset#packet` of the CaptureFormatError, or null */
  error: string | null;
}

function fnv(h: number, v: number): number {
  return Math.imul(h ^ (v & 0xff), 16777619) >>> 0;
}

function fnvNumber(h: number, v: number): number {
  const s = String(v);
  for (let i = 0; i < s.length; i++) h = fnv(h, s.charCodeAt(i));
  return fnv(h, 0x2c);
}

function packetDigest(p: CapturePacket): number {
  let h = 2166136261;
  for (const v of [
    p.interfaceId,
    p.tsSec,
    p.tsNsec,
    p.caplen,
    p.len,
    p.direction,
    p.packetNumber,
    p.hasTimestamp ? 1 : 0,
  ]) {
    h = fnvNumber(h, v);
  }
  const end = Math.min(p.offset + p.caplen, p.data.length);
  for (let i = p.offset; i < end; i++) h = fnv(h, p.data[i]);
  return h;
}

export class FileTarget {
  private readonly rec = new PacketRecord();

  /** `beat` is called often (every push, every packet): the worker's sign of life. */
  check(c: FileCase, problems: Problem[], beat: () => void): void {
    const chunked = this.read(c, c.chunkSizes, true, problems, beat);
    if (c.chunkSizes.length === 1 && c.chunkSizes[0] >= c.bytes.length) return;
    const whole = this.read(c, [Math.max(1, c.bytes.length)], false, [], beat);
    const diff = outcomeDifference(whole, chunked);
    if (diff !== null) {
      problems.push({
        signature: `chunking changes the result: ${diff.what}`,
        message: `pushed in chunks of ${c.chunkSizes.join(',')} instead of whole: ${diff.what}: ${diff.detail}`,
      });
    }
  }

  private read(
    c: FileCase,
    sizes: number[],
    decode: boolean,
    problems: Problem[],
    beat: () => void,
  ): ReadOutcome {
    const bytes = c.bytes;
    const rec = this.rec;
    const out: ReadOutcome = {
      packets: [],
      interfaces: [],
      stats: [],
      warnings: [],
      warningCount: 0,
      error: null,
    };
    const linktypes = new Map<number, number>();
    const problem = (signature: string, message: string): void => void problems.push({ signature, message });
    const reader = new CaptureReader(
      {
        onInterface: (i) => {
          if (!Number.isInteger(i.id) || i.id < 0 || linktypes.has(i.id))
            problem('interface id not new', `interface id ${i.id} announced twice or invalid`);
          if (!Number.isInteger(i.linktype) || i.linktype < 0 || i.linktype > 0xffff)
            problem('interface linktype', `interface ${i.id} linktype ${i.linktype}`);
          if (i.addresses.length > MAX_INTERFACE_ADDRESSES)
            problem('interface addresses', `interface ${i.id} has ${i.addresses.length} addresses`);
          linktypes.set(i.id, i.linktype);
          out.interfaces.push(
            `${i.id}/${i.section}/${i.sectionInterfaceId}/${i.linktype}/${i.snaplen}/${i.tsResolution.base}^${i.tsResolution.exponent}/${i.tsOffsetSec}/${i.fcsLen}/${i.name}/${i.addresses.join(',')}`,
          );
        },
        onPacket: (p) => {
          beat();
          const n = out.packets.length + 1;
          if (p.packetNumber !== n)
            problem('packet numbers not consecutive', `packet ${n} delivered as number ${p.packetNumber}`);
          const linktype = linktypes.get(p.interfaceId);
          if (linktype === undefined)
            problem(
              'packet on an unannounced interface',
              `packet ${n} on interface ${p.interfaceId}, not announced`,
            );
          const inData =
            Number.isInteger(p.offset) &&
            Number.isInteger(p.caplen) &&
            p.offset >= 0 &&
            p.caplen >= 0 &&
            p.offset + p.caplen <= p.data.length;
          if (!inData) {
            problem(
              'packet bytes outside its buffer',
              `packet ${n}: offset ${p.offset} + caplen ${p.caplen} outside its buffer of ${p.data.length} bytes`,
            );
          }
          if (!(Number.isInteger(p.len) && p.len >= 0)) problem('packet len', `packet ${n}: len ${p.len}`);
          if (!(Number.isFinite(p.tsSec) && Number.isInteger(p.tsNsec) && p.tsNsec >= 0 && p.tsNsec < 1e9)) {
            problem(
              'packet timestamp out of range',
              `packet ${n}: timestamp {sec ${p.tsSec}, nsec ${p.tsNsec}}`,
            );
          }
          if (p.direction !== 0 && p.direction !== 1 && p.direction !== 2)
            problem('packet direction', `packet ${n}: direction ${p.direction}`);
          out.packets.push(packetDigest(p));
          if (!decode || !inData) return;
          let ts: string;
          try {
            ts = formatTimestamp(p.tsSec, p.tsNsec);
          } catch (err) {
            problem(
              `formatTimestamp threw ${errorName(err)} at ${errorLocation(err)}`,
              `formatTimestamp threw ${errorText(err)}`,
            );
            ts = '0.000000000';
          }
          const lt = linktype ?? LINKTYPE_EN10MB;
          decodeAndCheck(
            p.data,
            p.offset,
            p.offset + p.caplen,
            lt,
            p.len,
            rec,
            { n, iface: `if${p.interfaceId}`, ts },
            problems,
          );
        },
        onStats: (s) => {
          if (!linktypes.has(s.interfaceId))
            problem('stats for an unannounced interface', `stats for interface ${s.interfaceId}`);
          if (!(
            Number.isFinite(s.received) &&
            s.received >= 0 &&
            Number.isFinite(s.dropped) &&
            s.dropped >= 0
          )) {
            problem('stats counters', `stats ${JSON.stringify(s)}`);
          }
          out.stats.push(`${s.interfaceId}/${s.received}/${s.dropped}/${s.final}`);
        },
        onWarning: (message) => {
          if (typeof message !== 'string' || message.length === 0)
            problem('empty warning', 'a warning without text');
          out.warningCount++;
          if (out.warnings.length < MAX_KEPT_WARNINGS) out.warnings.push(message);
        },
      },
      c.options,
    );
    // Chunks are pushed from one scratch buffer, clobbered after each push: the reader
    // may keep no reference to a chunk once push() returns (capture-reader.ts), so a
    // read that did shows up as a difference from the whole-file read.
    const scratch = new Uint8Array(Math.min(bytes.length, Math.max(...sizes)));
    try {
      let o = 0;
      for (let i = 0; o < bytes.length; i++) {
        const n = Math.min(sizes[i % sizes.length], bytes.length - o);
        const chunk = scratch.subarray(0, n);
        chunk.set(bytes.subarray(o, o + n));
        reader.push(chunk);
        chunk.fill(0xee);
        o += n;
        beat();
      }
      reader.end();
      if (reader.bytesReceived !== bytes.length) {
        problem('bytesReceived', `bytesReceived ${reader.bytesReceived} after pushing ${bytes.length} bytes`);
      }
    } catch (err) {
      if (!(err instanceof CaptureFormatError)) {
        problem(
          `framing threw ${errorName(err)} (not CaptureFormatError) at ${errorLocation(err)}`,
          `framing threw ${errorText(err)} at ${errorLocation(err)}, not a CaptureFormatError`,
        );
        out.error = `${errorName(err)}`;
        return out;
      }
      const delivered = out.packets.length;
      if (!(
        typeof err.offset === 'number' &&
        Number.isInteger(err.offset) &&
        err.offset >= 0 &&
        err.offset <= bytes.length
      )) {
        problem(
          `CaptureFormatError ${err.code} offset outside the input`,
          `CaptureFormatError ${err.code} offset ${err.offset} not a byte offset within the ${bytes.length}-byte input: ${err.message}`,
        );
      }
      if (typeof err.message !== 'string' || err.message.length === 0)
        problem(`CaptureFormatError ${err.code} without message`, 'no message');
      if (!(err.packetNumber === 0 || err.packetNumber === delivered + 1)) {
        problem(
          `CaptureFormatError ${err.code} packet number`,
          `CaptureFormatError ${err.code} names packet ${err.packetNumber} after ${delivered} packets were delivered: ${err.message}`,
        );
      }
      out.error = `${err.code}@${err.offset}#${err.packetNumber}`;
    }
    return out;
  }
}

function outcomeDifference(
  whole: ReadOutcome,
  chunked: ReadOutcome,
): { what: string; detail: string } | null {
  if (whole.error !== chunked.error)
    return { what: 'error', detail: `whole ${whole.error}, chunked ${chunked.error}` };
  const n = Math.min(whole.packets.length, chunked.packets.length);
  for (let i = 0; i < n; i++) {
    if (whole.packets[i] !== chunked.packets[i]) return { what: 'packet', detail: `packet ${i + 1} differs` };
  }
  if (whole.packets.length !== chunked.packets.length) {
    return {
      what: 'packet count',
      detail: `whole ${whole.packets.length}, chunked ${chunked.packets.length}`,
    };
  }
  const lists: Array<[string, string[], string[]]> = [
    ['interfaces', whole.interfaces, chunked.interfaces],
    ['statistics', whole.stats, chunked.stats],
    ['warnings', whole.warnings, chunked.warnings],
  ];
  for (const [what, a, b] of lists) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (a[i] !== b[i])
        return { what, detail: `#${i + 1}: whole ${JSON.stringify(a[i])}, chunked ${JSON.stringify(b[i])}` };
    }
  }
  if (whole.warningCount !== chunked.warningCount) {
    return { what: 'warning count', detail: `whole ${whole.warningCount}, chunked ${chunked.warningCount}` };
  }
  return null;
}
