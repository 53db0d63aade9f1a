// An interface's own addresses in a pcapng Interface Description Block
// (draft-ietf-opsawg-pcapng, IDB options), one option per address:
//
//   if_IPv4addr  code 4, 8 bytes:   address (4) | netmask (4)   192 168 1 1 255 255 255 0
//   if_IPv6addr  code 5, 17 bytes:  address (16) | prefix length (1)
//
//   if_MACaddr   code 6, 6 bytes:   the Ethernet address (InterfaceDescriptor.mac)
//
// both in network byte order whatever the section's. In hopscope they are text as
// `ip -j addr` gives them (InterfaceDescriptor.addresses): `10.0.0.1/24`, `fe80::1/64`
// — the address text of decode/format.ts (RFC 5952 for IPv6), so an interface's
// addresses read as a packet's do. Not on any per-packet path.
import { formatIpv4, formatIpv6, parseIp } from '../decode/format.js';

export const OPT_IF_IPV4ADDR = 4;
export const OPT_IF_IPV6ADDR = 5;
export const IF_IPV4ADDR_BYTES = 8;
export const IF_IPV6ADDR_BYTES = 17;
/** if_MACaddr, code 6: the interface's Ethernet address, 6 bytes */
export const OPT_IF_MACADDR = 6;
export const IF_MACADDR_BYTES = 6;

/** The if_MACaddr value of `fa:16:3e:00:00:01`; null when it is not a MAC address. */
export function macOption(text: string): Uint8Array | null {
  const parts = text.split(':');
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) return null;
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

/**
 * The option code and value for `text` (an address, `/prefix` optional: without one it
 * is the address alone, /32 or /128); null when it is not an address with a prefix in
 * range.
 */
export function addressOption(text: string): { code: number; value: Uint8Array } | null {
  const bytes = parseIp(text);
  if (bytes === null) return null;
  const bits = bytes.length * 8;
  const slash = text.indexOf('/');
  const prefixText = slash >= 0 ? text.slice(slash + 1) : String(bits);
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > bits) return null;
  if (bytes.length === 4) {
    const value = new Uint8Array(IF_IPV4ADDR_BYTES);
    value.set(bytes, 0);
    for (let i = 0; i < 4; i++) {
      const ones = Math.min(8, Math.max(0, prefix - 8 * i));
      value[4 + i] = (0xff00 >> ones) & 0xff;
    }
    return { code: OPT_IF_IPV4ADDR, value };
  }
  const value = new Uint8Array(IF_IPV6ADDR_BYTES);
  value.set(bytes, 0);
  value[16] = prefix;
  return { code: OPT_IF_IPV6ADDR, value };
}

/**
 * `a.b.c.d/len` of an if_IPv4addr value at b[off] (8 bytes); a netmask that is no
 * prefix (ones, then zeros) gives the address alone.
 */
export function ipv4AddressText(b: Uint8Array, off: number): string {
  const mask = ((b[off + 4] << 24) | (b[off + 5] << 16) | (b[off + 6] << 8) | b[off + 7]) >>> 0;
  const prefix = prefixOfMask(mask);
  const address = formatIpv4(b, off);
  return prefix === null ? address : `${address}/${prefix}`;
}

/** `addr/len` of an if_IPv6addr value at b[off] (17 bytes); a prefix over 128 gives the address alone. */
export function ipv6AddressText(b: Uint8Array, off: number): string {
  const address = formatIpv6(b, off);
  const prefix = b[off + 16];
  return prefix <= 128 ? `${address}/${prefix}` : address;
}

/** Leading ones of a 32-bit netmask, or null when ones follow a zero. */
function prefixOfMask(mask: number): number | null {
  let prefix = 0;
  while (prefix < 32 && ((mask >>> (31 - prefix)) & 1) === 1) prefix++;
  const rest = prefix === 32 ? 0 : (mask << prefix) >>> 0;
  return rest === 0 ? prefix : null;
}
