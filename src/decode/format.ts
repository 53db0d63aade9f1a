// Text forms of the addresses a PacketRecord points at, for sinks and tests.
// Not the hot path: these allocate strings, and are called only for what is shown.
//
// - IPv4: dotted decimal (RFC 791 §3.2 / the usual `a.b.c.d`).
// - IPv6: RFC 5952 §4 canonical text: lowercase hex, no leading zeros in a group,
//   the longest run of two or more zero groups (the first when tied) written `::`,
//   and IPv4-mapped addresses (::ffff:0:0/96) with a dotted IPv4 tail (§5).
// - MAC: six lowercase hex pairs separated by colons (IEEE 802 canonical form).
// Callers pass offsets the record says are present (rec.srcAddrOff and so on).

import { type PacketRecord } from './record.js';

const HEX = '0123456789abcdef';

/** `a.b.c.d` from the 4 bytes at `off`. */
export function formatIpv4(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** `a.b.c.d` from an address held as an unsigned 32-bit number (DHCP fields of the record). */
export function formatIpv4Number(n: number): string {
  return `${(n >>> 24) & 0xff}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** RFC 5952 text of the 16 bytes at `off`. */
export function formatIpv6(b: Uint8Array, off: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[off + 2 * i] << 8) | b[off + 2 * i + 1]);
  // ::ffff:a.b.c.d (RFC 5952 §5)
  if (
    groups[0] === 0 &&
    groups[1] === 0 &&
    groups[2] === 0 &&
    groups[3] === 0 &&
    groups[4] === 0 &&
    groups[5] === 0xffff
  ) {
    return `::ffff:${formatIpv4(b, off + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) return groups.map((g) => g.toString(16)).join(':');
  const head = groups
    .slice(0, bestStart)
    .map((g) => g.toString(16))
    .join(':');
  const tail = groups
    .slice(bestStart + bestLen)
    .map((g) => g.toString(16))
    .join(':');
  return `${head}::${tail}`;
}

/** IPv4 or IPv6 text by `version` (4 or 6), '' for any other version. */
export function formatIp(b: Uint8Array, off: number, version: number): string {
  if (version === 4) return formatIpv4(b, off);
  if (version === 6) return formatIpv6(b, off);
  return '';
}

/**
 * The bytes of an IPv4 (4) or IPv6 (16) address written as text, a `/prefix` after it
 * ignored (`10.0.0.5/24`, `fe80::1/64`, `::ffff:10.0.0.5`); null when it is not one.
 * Not for the per-packet path (it allocates).
 */
export function parseIp(text: string): Uint8Array | null {
  const slash = text.indexOf('/');
  const addr = slash >= 0 ? text.slice(0, slash) : text;
  if (!addr.includes(':')) return parseIpv4Text(addr);
  const out = new Uint8Array(16);
  const halves = addr.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (part: string): number[] | null => {
    if (part === '') return [];
    const groups: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4Text(piece);
        if (v4 === null) return null;
        groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) groups.push(parseInt(piece, 16));
      else return null;
    }
    return groups;
  };
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  if (head === null || tail === null) return null;
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) return null;
  const groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i] >> 8;
    out[2 * i + 1] = groups[i] & 0xff;
  }
  return out;
}

function parseIpv4Text(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return null;
    const n = Number(parts[i]);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** `aa:bb:cc:dd:ee:ff` from the 6 bytes at `off`. */
export function formatMac(b: Uint8Array, off: number): string {
  let s = '';
  for (let i = 0; i < 6; i++) {
    if (i > 0) s += ':';
    s += HEX[b[off + i] >> 4] + HEX[b[off + i] & 15];
  }
  return s;
}

/** The innermost packet's source address as text, null when it has no IP header. */
export function formatSrcAddr(rec: PacketRecord): string | null {
  return rec.srcAddrOff < 0 ? null : formatIp(rec.bytes, rec.srcAddrOff, rec.ipVersion);
}

/** The innermost packet's destination address as text, null when it has no IP header. */
export function formatDstAddr(rec: PacketRecord): string | null {
  return rec.dstAddrOff < 0 ? null : formatIp(rec.bytes, rec.dstAddrOff, rec.ipVersion);
}

/** The outermost tunnel's underlay addresses as text, null when not tunnelled. */
export function formatTunnelOuterSrc(rec: PacketRecord): string | null {
  return rec.tunnelOuterSrcOff < 0
    ? null
    : formatIp(rec.bytes, rec.tunnelOuterSrcOff, rec.tunnelOuterIpVersion);
}

export function formatTunnelOuterDst(rec: PacketRecord): string | null {
  return rec.tunnelOuterDstOff < 0
    ? null
    : formatIp(rec.bytes, rec.tunnelOuterDstOff, rec.tunnelOuterIpVersion);
}
