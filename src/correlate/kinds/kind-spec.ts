// What makes an exchange kind (ICMP echo, TCP handshake, DNS, …): everything the
// correlator, the verdict and the records need to know about it, in one object per
// kind (kinds/<kind>.ts, each `satisfies KindSpec`), gathered in one exhaustive table
// (kinds/table.ts: a kind left out is a compile error). Outside kinds/ no kind is
// named — classify.ts dispatches packets through dense tables built from the specs'
// claims, the correlator and verdict.ts read tables built from their stages — but
// for DNS messages found in TCP streams (dns-tcp.ts, classify.ts classifyDnsMessage).
//
// Adding a kind: one file here, one `Kind` member and table entry in table.ts, one test
// file (and its decoder, when the protocol is new).
//
// The `flow` of each kind's exchange records (events/types.ts ExchangeFlow), its key's
// fields; addresses are the asking packet's at its first hop (as `key`), null when
// that packet did not hold them:
//   icmp-echo, icmpv6-echo, icmp-timestamp   IcmpFlow  {src, dst, id, seq}
//   tcp-handshake                            TcpFlow   {src, dst, sport, dport, isn}
//   dns                                      DnsFlow   {src, dst, id, qname, qtype, transport}
//                                                       qname null when unreadable; qtype a
//                                                       mnemonic (A, AAAA, TYPE65280);
//                                                       transport "udp" or "tcp" (of the query)
//   dhcp                                     DhcpFlow  {xid, chaddr}
//   arp                                      ArpFlow   {sender, target} (protocol addresses)
import type { PacketRecord } from '../../decode/record.js';
import type { ExchangeFlow, IcmpFlow } from '../../events/types.js';
import type { Classified } from '../classified.js';
import type { FlowSpec } from './flow-spec.js';
// (declared beside flow-spec's readers of it; the kinds' modules take it from here)
export type { KeptKey } from './flow-spec.js';

/** Stages per exchange at most (TCP and DHCP have five). */
export const MAX_STAGES = 5;

/**
 * Which packets the dispatcher (classify.ts) hands a kind: dense tables are built from
 * these when the module loads, so a new kind needs no edit there.
 */
export interface KindClaims {
  /** ARP requests and replies (one kind at most) */
  readonly arp?: boolean;
  /** ICMP (IPv4) types, each with the stage a packet of that type is */
  readonly icmp?: ReadonlyArray<readonly [type: number, stage: number]>;
  /** ICMPv6 types, each with its stage */
  readonly icmpv6?: ReadonlyArray<readonly [type: number, stage: number]>;
  /** TCP segments (one kind at most) */
  readonly tcp?: boolean;
  /** UDP ports: the destination port's kind, else the source port's (as the decoder dispatches) */
  readonly udp?: readonly number[];
}

/**
 * ICMP errors (and ICMPv6 ones) quoting a kind's packet join its exchange at its error
 * stage. How the quoted packet is recognised: ICMP of a type the kind claims (an error
 * about one of its answers is about the answer, not the question), any TCP segment, or
 * UDP to one of these destination ports.
 */
export interface QuoteClaims {
  readonly stage: number;
  readonly by: 'icmp' | 'tcp' | UdpQuote;
  /**
   * The exchange key of the quoted packet into out.key (its transport header at `l4`,
   * the quote ending at `end`); false when the quote does not hold enough of it.
   */
  key(rec: PacketRecord, out: Classified, l4: number, end: number, v6: boolean): boolean;
}

export interface UdpQuote {
  readonly udpDstPorts: readonly number[];
}

/** An opening stage and the answers that, seen where the question started, mean the asker got its answer. */
export interface Opening {
  readonly stage: number;
  readonly answeredBy: readonly number[];
}

export interface KindSpec<F extends ExchangeFlow = ExchangeFlow> {
  /** `kind` of its exchange records */
  readonly name: string;
  /** `stages[].name` of its records, by stage number: protocol order, error stages last */
  readonly stages: readonly string[];
  /** the stages that may open an exchange (the asking side) */
  readonly opening: readonly Opening[];
  /** answer stage → the stage it answers: its packets go back the way that one came */
  readonly asking: ReadonlyArray<readonly [answer: number, asking: number]>;
  /** asking → answering stage pairs whose sightings on two hosts sample their clocks' offset */
  readonly clockPairs: ReadonlyArray<readonly [asking: number, answer: number]>;
  /** an ok exchange's RTT runs from its first packet to its first answer, or to its final one (DHCP's ack) */
  readonly rttTo: 'first-answer' | 'final-answer';
  /**
   * The asker takes an answer only from where its question went, to where it came from
   * (a TCP socket; a resolver): an answer seen where the question started with other
   * addresses is no answer to it (verdict.ts, `misaddressed`). Default false: a ping
   * takes a reply from anywhere, a DHCP or ARP question is not to one address.
   */
  readonly answerFromAsked?: boolean;
  /**
   * An asker that asks the same question again after its answer reached it, before its
   * next step (`unlessSeen`; none when the answer ends the exchange) was seen, did not
   * take that answer: a TCP client sends its SYN again when its own firewall dropped the
   * SYN-ACK its interface got, a stub resolver its query. The question joins its
   * exchange (waiting for the next try: each comes twice as late), and the answer is
   * lost where it reached the asker, missing nowhere further (verdict.ts, NOT_TAKEN) —
   * unless the answer was an error (an asker tries again after one), the question was
   * flooded (asked again by routine: mDNS), or asked again another way (the key's third
   * number differs: a DNS query over TCP after a truncated answer). Absent: asking again
   * begins a new exchange (ARP refreshing, a new DHCP transaction with the old xid).
   */
  readonly notTakenWhenAskedAgain?: { readonly stage: number; readonly unlessSeen?: number };
  /**
   * The stages it goes through given which were seen (`stages[i]` defined: stage i
   * was), first to last; its last stage seen decides the verdict (verdict.ts).
   * Returns shared arrays: read only.
   */
  sequence(stages: ReadonlyArray<object | undefined>): readonly number[];
  readonly claims: KindClaims;
  /**
   * A packet the dispatcher handed it (`claimed`: the stage its ICMP type claims, else
   * -1): writes out.key (and out.errorDetail for an error answer) and returns its
   * stage, or -1 when it is none of this kind's exchanges after all. A kind that must
   * remember a number from one stage to check a packet of another sets out.keep and
   * out.mustMatch (Classified): its own number, whose meaning it says.
   */
  classify(rec: PacketRecord, out: Classified, claimed: number): number;
  /** An opening packet: what its key text and flow are written from (beginKey has reset it). */
  keepKey(rec: PacketRecord, out: Classified): void;
  readonly quote: QuoteClaims | null;
  /** The record's `flow` and `key` text, from the key kept (flow-spec.ts). */
  readonly flow: FlowSpec<F>;
}

/** What an opening packet keeps starts empty: no numbers, addresses or name. */
export function beginKey(rec: PacketRecord, out: Classified): void {
  out.hasKey = true;
  out.keySource = rec.bytes;
  out.nameLen = -1;
  out.keyPart0 = 0;
  out.keyPart1 = 0;
  out.keyPart2 = 0;
  out.addrVersion = 0;
  out.addrKnown = 0;
}

/** An IP packet's source and destination address, for the key. */
export function keepIpAddresses(rec: PacketRecord, out: Classified): void {
  out.addrVersion = rec.ipVersion;
  out.keySrcAt = rec.srcAddrOff;
  out.keyDstAt = rec.dstAddrOff;
  out.addrKnown = (rec.srcAddrOff >= 0 ? 1 : 0) | (rec.dstAddrOff >= 0 ? 2 : 0);
}

const QUESTION_THEN_ANSWER: readonly number[] = [0, 1];

/**
 * The stages of a kind that is one question and its answer, an ICMP error quoting
 * either ending it (ping, ICMP timestamp, DNS): stage 0 the question, 1 the answer,
 * 2 the error. The pair samples the hosts' clocks; the RTT runs to the answer.
 */
export function questionAndAnswer(
  question: string,
  answer: string,
): Pick<KindSpec, 'stages' | 'opening' | 'asking' | 'clockPairs' | 'rttTo' | 'sequence'> {
  return {
    stages: [question, answer, 'icmp-error'],
    opening: [{ stage: 0, answeredBy: [1] }],
    asking: [[1, 0]],
    clockPairs: [[0, 1]],
    rttTo: 'first-answer',
    sequence: () => QUESTION_THEN_ANSWER,
  };
}

/**
 * ICMP kinds keyed by identifier and sequence (echo, timestamp): what an opening packet
 * keeps (its addresses, identifier and sequence), and the flow and key text made of it.
 */
export const ICMP_ID_SEQ_KEY = {
  keepKey(rec: PacketRecord, out: Classified): void {
    keepIpAddresses(rec, out);
    out.keyPart0 = rec.icmpId;
    out.keyPart1 = rec.icmpSeq;
  },
  flow: {
    fields: { src: 'src', dst: 'dst', id: 'part0', seq: 'part1' },
    key: '{src}>{dst} id={id} seq={seq}',
  },
} satisfies Pick<KindSpec<IcmpFlow>, 'keepKey' | 'flow'>;
