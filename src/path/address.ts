// Addresses and prefixes as the path follows them: IPv4 and IPv6 as bytes, prefixes as
// `ip -j route` and nftables write them (`default`, `10.0.0.0/24`, a host address).
// Not on a per-packet path: allocation is fine here.
import { formatIp, parseIp } from '../decode/format.js';

export type Family = 4 | 6;

export interface Address {
  family: Family;
  bytes: Uint8Array;
  /** canonical text (`10.0.0.5`, `fe80::1`) */
  text: string;
}

export interface Prefix {
  family: Family;
  bytes: Uint8Array;
  length: number;
}

/** An IPv4 or IPv6 address in text, or null. A `/len` after it is not accepted here. */
export function parseAddress(text: string): Address | null {
  if (text.includes('/')) return null;
  const bytes = parseIp(text);
  if (bytes === null) return null;
  const family: Family = bytes.length === 4 ? 4 : 6;
  return { family, bytes, text: formatIp(bytes, 0, family) };
}

/** `default`, `A.B.C.D/N`, `A.B.C.D` (a host), the same for IPv6; null when it is none of these. */
export function parsePrefix(text: string, family: Family): Prefix | null {
  if (text === 'default' || text === 'all')
    return { family, bytes: new Uint8Array(family === 4 ? 4 : 16), length: 0 };
  const slash = text.indexOf('/');
  const addr = parseAddress(slash >= 0 ? text.slice(0, slash) : text);
  if (addr === null || addr.family !== family) return null;
  const max = family === 4 ? 32 : 128;
  const length = slash >= 0 ? Number(text.slice(slash + 1)) : max;
  if (!Number.isInteger(length) || length < 0 || length > max) return null;
  return { family, bytes: addr.bytes, length };
}

/** Whether the prefix holds the address (same family, the first `length` bits equal). */
export function prefixContains(prefix: Prefix, addr: Address): boolean {
  if (prefix.family !== addr.family) return false;
  const full = prefix.length >> 3;
  for (let i = 0; i < full; i++) if (prefix.bytes[i] !== addr.bytes[i]) return false;
  const rest = prefix.length & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (prefix.bytes[full] & mask) === (addr.bytes[full] & mask);
}

/** 127.0.0.0/8 or ::1: what Linux calls martian when it arrives on a real interface. */
export function isLoopback(addr: Address): boolean {
  return addr.family === 4 ? addr.bytes[0] === 127 : addr.text === '::1';
}

export function prefixText(p: Prefix): string {
  return p.length === 0 ? 'default' : `${formatIp(p.bytes, 0, p.family)}/${p.length}`;
}
