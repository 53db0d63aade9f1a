// What the evidence gatherer is told about a broken exchange (docs/json-lines.md `cause`): the
// verdict, the packet that went missing as it was seen last, the hops on both sides
// of the break, and the time window. Types only, plus the label → place helper.
import type { ExchangeRecord } from '../events/types.js';
import { parseLabel } from '../shared/label.js';

/** One captured interface, where it lives. */
export interface HopPlace {
  /** the interface's label, `[HOST:][NETNS/]NAME` (docs/json-lines.md "Labels") */
  label: string;
  /** ssh destination; null for this machine */
  host: string | null;
  /** named namespace; null for the root namespace */
  netns: string | null;
  iface: string;
}

/** The fields of the missing packet that identify it wherever it is (what the decoder read at its last sighting). */
export interface ExchangePacket {
  /** 4, 6, or 'arp' (src/dst are then the sender and target protocol addresses) */
  family: 4 | 6 | 'arp';
  src: string;
  dst: string;
  /** IP protocol number (1 ICMP, 6 TCP, 17 UDP, 58 ICMPv6); 0 for ARP */
  proto: number;
  /** IPv4 identification; null for IPv6 and ARP */
  ipId: number | null;
  /** IP total length (IPv6: payload + 40); the ARP payload's 28 for ARP */
  ipLength: number;
  sport: number | null;
  dport: number | null;
  icmpType: number | null;
  icmpId: number | null;
  icmpSeq: number | null;
  tcpSeq: number | null;
  /** TCP flags byte (0x02 SYN, 0x12 SYN-ACK, 0x04 RST, 0x10 ACK) */
  tcpFlags: number | null;
  /** IPv4 "don't fragment" */
  dontFragment: boolean;
  /** IPv4 TTL, IPv6 hop limit, as sighted; null when not known (ARP) */
  ttl: number | null;
  /** the other addresses it had on its path (before or after NAT) */
  aliases: string[];
}

/**
 * The exchange as its asker saw it, on the interface where its question started: what
 * tells an answer that came back with other addresses than the question went to (a NAT
 * it went around) and an error the asker sent itself (its reset of such an answer).
 */
export interface AskerView {
  /** the question's first sighting */
  origin: HopPlace;
  /** the question there, and its stage's name (`syn`) */
  question: ExchangePacket;
  questionStage: string;
  /** the answer there, or null when it was not seen there; its stage's name (`syn-ack`) */
  answer: ExchangePacket | null;
  answerStage: string | null;
  /** the error (a RST, an ICMP error) came from the question's own source: the asker sent it */
  errorFromAsker: boolean;
  /** where the question's destination was changed on its way (DNAT): its first sighting with another */
  translatedAt: HopPlace | null;
}

/** What the gatherer needs about one lost, unanswered or error exchange. */
export interface VerdictContext {
  exchange: ExchangeRecord;
  /** the missing stage's packet at its last sighting; null when no sighting decoded (rare) */
  packet: ExchangePacket | null;
  /** where the missing stage's packet was seen last (ExchangeRecord lost.lastSeen) */
  lastSeen: HopPlace | null;
  /** the next interface where it was expected (lost.missingOn[0]); null for unanswered */
  next: HopPlace | null;
  /** every interface the lost stage's packet was seen on, in path order (NAT hops among them) */
  path: HopPlace[];
  /** first sighting of the exchange to the end of its timeout, ns since 1970 (capture clock) */
  window: { startNs: bigint; endNs: bigint };
  /** the exchange at its asker; null for ARP and DHCP, or when the question's first sighting is not known */
  asker: AskerView | null;
}

/** A label's host, namespace and interface (parseLabel). */
export function placeOf(label: string): HopPlace {
  const loc = parseLabel(label);
  return { label, host: loc.host, netns: loc.netns, iface: loc.name };
}

/** One namespace of one machine: where a hop's state is read. */
export interface NamespaceKey {
  host: string | null;
  netns: string | null;
}

export function namespaceKey(place: NamespaceKey): string {
  return `${place.host ?? ''}\u0000${place.netns ?? ''}`;
}

export function sameNamespace(a: NamespaceKey, b: NamespaceKey): boolean {
  return a.host === b.host && a.netns === b.netns;
}

/** Decimal seconds with nanosecond digits (docs/json-lines.md "Time stamps"). */
export function nsToTs(ns: bigint): string {
  const sec = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  return `${sec}.${frac.toString().padStart(9, '0')}`;
}

/** `1700000000.123456789` → ns since 1970. */
export function tsToNs(ts: string): bigint {
  const [sec, frac = ''] = ts.split('.');
  return BigInt(sec) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9));
}
