// Addresses, prefixes, interface-name wildcards and the names rulesets use for
// numbers (ICMP types, protocols): the vocabulary both rule readers (nftables,
// iptables) compare a packet with. Pure.

/** Three-valued: a match expression fits, does not, or cannot be decided for this packet. */
export type Truth = 'yes' | 'no' | 'unknown';

export function all(values: readonly Truth[]): Truth {
  if (values.includes('no')) return 'no';
  return values.includes('unknown') ? 'unknown' : 'yes';
}

export function not(t: Truth): Truth {
  return t === 'yes' ? 'no' : t === 'no' ? 'yes' : 'unknown';
}

/** An address as a number (IPv4 in 32 bits, IPv6 in 128), with its width; null when not an address. */
export function parseAddress(text: string): { value: bigint; bits: 32 | 128 } | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4 !== null) {
    const parts = v4.slice(1).map(Number);
    if (parts.some((p) => p > 255)) return null;
    return {
      value: BigInt(((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3]),
      bits: 32,
    };
  }
  if (!text.includes(':')) return null;
  const [head, tail] = text.split('::');
  if (text.split('::').length > 2) return null;
  const groups = (s: string | undefined): string[] => (s === undefined || s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = groups(tail);
  const missing = 8 - h.length - t.length;
  if (tail === undefined ? h.length !== 8 : missing < 0) return null;
  const all16 = [...h, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...t];
  let value = 0n;
  for (const g of all16) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  return { value, bits: 128 };
}

/** Whether `address` is in `prefix/len` (`address` == `prefix` for len = width). */
export function inPrefix(address: string, prefix: string, len: number): boolean {
  const a = parseAddress(address);
  const p = parseAddress(prefix);
  if (a === null || p === null || a.bits !== p.bits) return false;
  const shift = BigInt(a.bits - len);
  return a.value >> shift === p.value >> shift;
}

/** `10.0.0.0/8`, `10.0.0.5`, `fe80::/10` → whether `address` falls in it. */
export function inCidr(address: string, cidr: string): boolean {
  const slash = cidr.indexOf('/');
  if (slash < 0)
    return parseAddress(cidr)?.value === parseAddress(address)?.value && parseAddress(address) !== null;
  return inPrefix(address, cidr.slice(0, slash), Number(cidr.slice(slash + 1)));
}

/** An interface name against a pattern: nft's `tap*` and iptables' `tap+` match every name that begins so. */
export function interfaceMatches(name: string, pattern: string): boolean {
  if (pattern.endsWith('*') && !pattern.endsWith('\\*')) return name.startsWith(pattern.slice(0, -1));
  if (pattern.endsWith('+')) return name.startsWith(pattern.slice(0, -1));
  return name === pattern.replace(/\\\*$/, '*');
}

export const IP_PROTOCOLS: Readonly<Record<string, number>> = {
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  'ipv6-icmp': 58,
  icmpv6: 58,
  sctp: 132,
  udplite: 136,
};

export const ICMP_TYPES: Readonly<Record<string, number>> = {
  'echo-reply': 0,
  'destination-unreachable': 3,
  'source-quench': 4,
  redirect: 5,
  'echo-request': 8,
  'router-advertisement': 9,
  'router-solicitation': 10,
  'time-exceeded': 11,
  'parameter-problem': 12,
  'timestamp-request': 13,
  'timestamp-reply': 14,
  'info-request': 15,
  'info-reply': 16,
  'address-mask-request': 17,
  'address-mask-reply': 18,
};

export const ICMPV6_TYPES: Readonly<Record<string, number>> = {
  'destination-unreachable': 1,
  'packet-too-big': 2,
  'time-exceeded': 3,
  'parameter-problem': 4,
  'echo-request': 128,
  'echo-reply': 129,
  'nd-router-solicit': 133,
  'nd-router-advert': 134,
  'nd-neighbor-solicit': 135,
  'nd-neighbor-advert': 136,
};

export const TCP_FLAGS: Readonly<Record<string, number>> = {
  fin: 0x01,
  syn: 0x02,
  rst: 0x04,
  psh: 0x08,
  ack: 0x10,
  urg: 0x20,
  ecn: 0x40,
  cwr: 0x80,
};

export const ETHER_TYPES: Readonly<Record<string, number>> = {
  ip: 0x0800,
  arp: 0x0806,
  ip6: 0x86dd,
  vlan: 0x8100,
};
