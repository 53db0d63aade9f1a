// The lab's address rule (README "The lab"): only private and documentation ranges, so a
// lab can never collide with, or send to, a real public address.

interface Ipv4Network {
  readonly base: number;
  readonly prefixLength: number;
}

/** 10/8, 192.168/16 and the three documentation ranges (RFC 1918, RFC 5737). */
export const LAB_ADDRESS_RANGES: readonly string[] = [
  '10.0.0.0/8',
  '192.168.0.0/16',
  '192.0.2.0/24',
  '198.51.100.0/24',
  '203.0.113.0/24',
];

/** Loopback is allowed where a scenario is about it (dnat-local's 127.0.0.1). */
const LOOPBACK = '127.0.0.0/8';

export function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

function parseNetwork(cidr: string): Ipv4Network | null {
  const [addr, len] = cidr.split('/');
  const base = parseIpv4(addr);
  const prefixLength = len === undefined ? 32 : Number(len);
  if (base === null || !Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) return null;
  return { base, prefixLength };
}

function contains(network: Ipv4Network, address: number, prefixLength: number): boolean {
  if (prefixLength < network.prefixLength) return false;
  const size = 2 ** (32 - network.prefixLength);
  return Math.floor(address / size) === Math.floor(network.base / size);
}

/** True when an address or network (`a.b.c.d[/n]`) lies wholly inside one lab range. */
export function isLabAddress(cidrOrAddress: string, options: { allowLoopback?: boolean } = {}): boolean {
  const candidate = parseNetwork(cidrOrAddress);
  if (candidate === null) return false;
  const ranges = options.allowLoopback ? [...LAB_ADDRESS_RANGES, LOOPBACK] : LAB_ADDRESS_RANGES;
  return ranges.some((range) => {
    const network = parseNetwork(range);
    return network !== null && contains(network, candidate.base, candidate.prefixLength);
  });
}
