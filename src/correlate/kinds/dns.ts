// DNS (RFC 1035): query → response, over UDP (ports 53, 5353 mDNS, 5355 LLMNR, as the
// decoder reads them) or TCP (dns-tcp.ts finds the messages; classify.ts
// classifyDnsMessage). A response with an rcode other than NOERROR, or an ICMP error
// quoting the query, ends it as an error. Only standard queries (opcode 0) are
// exchanges. Key: the message id and question (name case-folded, type) — never
// addresses or ports, so NAT keeps it.
import { dnsTypeName } from '../../decode/dns.js';
import { Layer, type PacketRecord } from '../../decode/record.js';
import { DNS_UDP_PORT, LLMNR_UDP_PORT, MDNS_UDP_PORT } from '../../decode/udp.js';
import type { DnsFlow } from '../../events/types.js';
import type { Classified } from '../classified.js';
import { finish, hashFoldedBytes, HASH_SEED, mix } from '../hash.js';
import { KEY_NAME_BYTES } from '../tables.js';
import { keepIpAddresses, questionAndAnswer, type KeptKey, type KindSpec } from './kind-spec.js';

/** questionAndAnswer's stage numbers */
export const enum DnsStage {
  Query = 0,
  Response = 1,
  IcmpError = 2,
}

/** The transport of the query a key was kept from (its third number): the IP protocol. */
export const DNS_OVER_UDP = 17;
export const DNS_OVER_TCP = 6;

/** Bytes of a DNS name hashed, at most (a name is at most 255 bytes). */
const MAX_DNS_NAME_BYTES = 255;

const DNS_RCODES = [
  'NOERROR',
  'FORMERR',
  'SERVFAIL',
  'NXDOMAIN',
  'NOTIMP',
  'REFUSED',
  'YXDOMAIN',
  'YXRRSET',
  'NXRRSET',
  'NOTAUTH',
  'NOTZONE',
];

/** Hash of a DNS message's question (id, name case-folded, type) at `dnsOff`; 0 when unreadable. */
export function dnsQuestionKey(b: Uint8Array, dnsOff: number, end: number): number {
  if (dnsOff < 0 || dnsOff + 12 > end) return 0;
  const id = (b[dnsOff] << 8) | b[dnsOff + 1];
  const qd = (b[dnsOff + 4] << 8) | b[dnsOff + 5];
  let h = mix(HASH_SEED ^ 0x444e53, id);
  if (qd === 0) return finish(h) || 1;
  const name = dnsOff + 12;
  let p = name;
  const limit = Math.min(end, p + MAX_DNS_NAME_BYTES);
  // Labels up to the root label or a compression pointer; every step moves p forward.
  while (p < limit) {
    const len = b[p];
    if (len === 0 || len >= 0xc0) break;
    if (len > 63 || p + 1 + len > limit) break;
    p += 1 + len;
  }
  // The whole labels as on the wire (length bytes are below 0x41: folding leaves them).
  h = hashFoldedBytes(h, b, name, p);
  if (p < end && b[p] === 0 && p + 3 < end) h = mix(h, (b[p + 1] << 8) | b[p + 2]);
  return finish(h) || 1;
}

/**
 * A decoded DNS message (a UDP datagram's, or one dns-tcp.ts found in a TCP stream):
 * its key into out.key, an error response's rcode into out.errorDetail; its stage, or
 * -1 when it is no exchange (not a standard query or response, malformed, unreadable).
 */
export function classifyDns(rec: PacketRecord, out: Classified): number {
  if (rec.dnsOff < 0 || rec.dnsOpcode !== 0 || rec.malformedLayer === Layer.Dns) return -1;
  const key = dnsQuestionKey(rec.bytes, rec.dnsOff, rec.dnsEnd > 0 ? rec.dnsEnd : rec.end);
  if (key === 0) return -1;
  out.key = key;
  if (rec.dnsQr && rec.dnsRcode !== 0) {
    const rcode = rec.dnsExtRcode >= 0 ? rec.dnsExtRcode : rec.dnsRcode;
    out.errorDetail = DNS_RCODES[rcode] ?? `RCODE${rcode}`;
  }
  return rec.dnsQr ? DnsStage.Response : DnsStage.Query;
}

/**
 * Bytes of the DNS name at `off` as on the wire: its labels up to the root label or a
 * compression pointer, at most KEY_NAME_BYTES and never past `end`.
 */
function nameWireBytes(b: Uint8Array, off: number, end: number): number {
  const limit = Math.min(end, off + KEY_NAME_BYTES);
  let p = off;
  // every step moves p forward
  while (p < limit) {
    const len = b[p];
    if (len === 0) return p + 1 - off;
    if (len >= 0xc0) return Math.min(p + 2, limit) - off;
    p += 1 + len;
  }
  return Math.min(p, limit) - off;
}

/** A query's key numbers and name (in rec.bytes, which must be out.keySource), carried by `transport`. */
export function keepDnsKey(rec: PacketRecord, out: Classified, transport: number): void {
  out.keyPart0 = rec.dnsId;
  out.keyPart1 = rec.dnsQtype;
  out.keyPart2 = transport;
  out.nameLen = -1;
  if (rec.dnsQnameOff >= 0) {
    const len = nameWireBytes(rec.bytes, rec.dnsQnameOff, rec.dnsEnd > 0 ? rec.dnsEnd : rec.end);
    if (len > 0) {
      out.keyNameAt = rec.dnsQnameOff;
      out.nameLen = len;
    }
  }
}

export const DNS = {
  name: 'dns',
  ...questionAndAnswer('query', 'response'),
  answerFromAsked: true,
  // (a stub resolver asks again with the same id when its own firewall dropped the response)
  notTakenWhenAskedAgain: { stage: DnsStage.Query },
  claims: { udp: [DNS_UDP_PORT, MDNS_UDP_PORT, LLMNR_UDP_PORT] },
  classify: classifyDns,
  keepKey(rec: PacketRecord, out: Classified): void {
    keepIpAddresses(rec, out);
    keepDnsKey(rec, out, DNS_OVER_UDP);
  },
  quote: {
    stage: DnsStage.IcmpError,
    by: { udpDstPorts: [DNS_UDP_PORT, MDNS_UDP_PORT] },
    key(rec: PacketRecord, out: Classified, l4: number, end: number): boolean {
      const key = dnsQuestionKey(rec.bytes, l4 + 8, end);
      if (key === 0) return false;
      out.key = key;
      return true;
    },
  },
  flow: {
    fields: {
      src: 'src',
      dst: 'dst',
      id: 'part0',
      qname: 'name',
      qtype: (k: KeptKey): string => dnsTypeName(k.part1),
      transport: (k: KeptKey): string => (k.part2 === DNS_OVER_TCP ? 'tcp' : 'udp'),
    },
    key: '{src}>{dst} id={id} {qname} {qtype}',
  },
} satisfies KindSpec<DnsFlow>;
