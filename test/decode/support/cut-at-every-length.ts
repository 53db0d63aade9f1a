// The shared "cut this fixture at every length" robustness check, for
// every decoder's tests: the packet is decoded with its captured end at every length
// from 0 to its full length, as snaplen would cut it (wire length = full length), and
// each time
// - decodePacket returns (never throws),
// - the record says `truncated` (for cuts inside the data that matters: pass
//   `truncatedBelow` when the fixture ends in padding that nothing declares),
// - every `...Off` field of the record is -1 or inside the captured bytes, and the
//   addresses, MACs and payload it points at are present in full.
// Checks are plain comparisons collected into one list, so that the helper stays
// fast enough to run over every packet of the corpus.

import { expect } from 'vitest';
import { decodePacket } from '../../../src/decode/decode-packet.js';
import { PacketRecord } from '../../../src/decode/record.js';
import { decode, ethernet, ipv4Header, ipv6Header, layerNames, LT_EN10MB } from './frames.js';
import { concat } from './hex.js';

export interface CutOptions {
  /** cuts shorter than this must be marked truncated (default: the fixture's length) */
  truncatedBelow?: number;
  /** where the packet starts in `bytes` (default 0) */
  start?: number;
  /** decode only every `step`-th length beyond this one (default: every length) */
  everyLengthUpTo?: number;
  step?: number;
}

/** Runs the check with vitest's expect; returns the record of the full-length decode. */
export function cutAtEveryLength(
  bytes: Uint8Array,
  linktype: number,
  options: CutOptions = {},
): PacketRecord {
  const rec = new PacketRecord();
  const problems = cutProblems(bytes, linktype, rec, options);
  expect(problems).toEqual([]);
  return rec;
}

/** The check itself, without vitest: the problems found (empty when all is well). Leaves the full-length decode in `rec`. */
export function cutProblems(
  bytes: Uint8Array,
  linktype: number,
  rec: PacketRecord,
  options: CutOptions = {},
): string[] {
  const start = options.start ?? 0;
  const full = bytes.length - start;
  const truncatedBelow = options.truncatedBelow ?? full;
  const upTo = options.everyLengthUpTo ?? full;
  const step = options.step ?? 1;
  const problems: string[] = [];
  for (let len = 0; len <= full; len = len < upTo || len === full ? len + 1 : Math.min(len + step, full)) {
    const what = `cut at ${len} of ${full}`;
    try {
      decodePacket(bytes, start, start + len, linktype, full, rec);
    } catch (err) {
      problems.push(`${what}: threw ${String(err)}`);
      continue;
    }
    if (len < truncatedBelow && !rec.truncated) problems.push(`${what}: not marked truncated`);
    offsetProblems(rec, what, problems);
    if (problems.length > 20) break;
  }
  if (problems.length === 0) decodePacket(bytes, start, start + full, linktype, full, rec);
  return problems;
}

const blank = new PacketRecord() as unknown as Record<string, unknown>;
const OFFSET_FIELDS: string[] = Object.keys(blank).filter(
  (key) => key.endsWith('Off') && typeof blank[key] === 'number',
);

/** Adds to `problems` every offset of `rec` that points outside its captured bytes. */
export function offsetProblems(rec: PacketRecord, what: string, problems: string[]): void {
  const fields = rec as unknown as Record<string, number>;
  for (const key of OFFSET_FIELDS) {
    const value = fields[key];
    if (value !== -1 && !(value >= rec.start && value <= rec.end))
      problems.push(`${what}: ${key}=${value} outside [${rec.start}, ${rec.end}]`);
  }
  const addrLen = rec.ipVersion === 6 ? 16 : 4;
  if (rec.srcAddrOff >= 0 && rec.srcAddrOff + addrLen > rec.end)
    problems.push(`${what}: source address not present`);
  if (rec.dstAddrOff >= 0 && rec.dstAddrOff + addrLen > rec.end)
    problems.push(`${what}: destination address not present`);
  const outerLen = rec.tunnelOuterIpVersion === 6 ? 16 : 4;
  if (rec.tunnelOuterSrcOff >= 0 && rec.tunnelOuterSrcOff + outerLen > rec.end)
    problems.push(`${what}: tunnel source not present`);
  if (rec.ethSrcOff >= 0 && rec.ethSrcOff + 6 > rec.end) problems.push(`${what}: source MAC not present`);
  if (rec.ethDstOff >= 0 && rec.ethDstOff + 6 > rec.end)
    problems.push(`${what}: destination MAC not present`);
  if (rec.payloadOff >= 0 && !(rec.payloadLen >= 0 && rec.payloadOff + rec.payloadLen <= rec.end)) {
    problems.push(`${what}: payload ${rec.payloadOff}+${rec.payloadLen} not present`);
  }
  if (rec.layerCount < 0 || rec.layerCount > rec.layers.length)
    problems.push(`${what}: layerCount ${rec.layerCount}`);
}

/** Every `...Off` field name of the record (for tests that check offsets themselves). */
export function offsetFieldNames(): readonly string[] {
  return OFFSET_FIELDS;
}

/**
 * `l4` (IP protocol `proto`) in an Ethernet frame over `ip`: decoded whole, its layers
 * eth, `ip` and `layer`, then cut at every length. Returns the whole frame's record.
 */
export function wholeFrameSurvivesEveryCut(
  l4: Uint8Array,
  ip: 'ipv4' | 'ipv6',
  proto: number,
  layer: string,
): PacketRecord {
  const header = ip === 'ipv4' ? ipv4Header(proto, l4.length) : ipv6Header(proto, l4.length);
  const frame = concat(ethernet(ip === 'ipv4' ? '0800' : '86dd'), header, l4);
  const rec = decode(frame, LT_EN10MB);
  expect(layerNames(rec)).toEqual(['eth', ip, layer]);
  cutAtEveryLength(frame, LT_EN10MB);
  return rec;
}
