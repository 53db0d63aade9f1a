// SRC and DST as `hopscope path` and `capture --path` take them: an address, and for
// DST optionally a port (`198.51.100.1:80`, `[2001:db8::1]:443`) — what a port
// forward matches on. The protocol is tcp when a port is given, else icmp, unless
// named.
import { parseAddress, type Address } from './address.js';

export type Proto = 'icmp' | 'tcp' | 'udp';

export interface PathQuery {
  src: Address;
  dst: Address;
  proto: Proto;
  /** destination port (tcp, udp); what a port forward matches on */
  dport: number | null;
}

/** A question the user caused (an address that is none, SRC held nowhere or in several places): one line. */
export class PathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PathError';
  }
}

const PROTOS: readonly Proto[] = ['icmp', 'tcp', 'udp'];

function splitPort(text: string): { addr: string; port: number | null } {
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (v6 !== null) return { addr: v6[1], port: Number(v6[2]) };
  const v4 = /^([^:]+):(\d+)$/.exec(text);
  if (v4 !== null) return { addr: v4[1], port: Number(v4[2]) };
  return { addr: text, port: null };
}

/** The query of `path SRC DST [--proto P]`; a PathError says what is wrong in one line. */
export function parsePathQuery(srcText: string, dstText: string, protoText?: string): PathQuery {
  const src = parseAddress(srcText);
  if (src === null)
    throw new PathError(`SRC must be an IPv4 or IPv6 address (a VM's or a pod's), got '${srcText}'`);
  const { addr, port } = splitPort(dstText);
  const dst = parseAddress(addr);
  if (dst === null)
    throw new PathError(`DST must be an address, optionally with a port (198.51.100.1:80), got '${dstText}'`);
  if (port !== null && (!Number.isInteger(port) || port < 1 || port > 65535))
    throw new PathError(`DST's port must be 1 to 65535, got ${port}`);
  if (src.family !== dst.family)
    throw new PathError(`SRC ${src.text} and DST ${dst.text} are not of one address family`);
  let proto: Proto = port !== null ? 'tcp' : 'icmp';
  if (protoText !== undefined) {
    if (!(PROTOS as readonly string[]).includes(protoText))
      throw new PathError(`--proto must be one of ${PROTOS.join(', ')}, got '${protoText}'`);
    proto = protoText as Proto;
  }
  if (proto === 'icmp' && port !== null) throw new PathError(`icmp has no ports: DST ${dstText}`);
  return { src, dst, proto, dport: port };
}
