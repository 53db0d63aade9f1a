// The TCP three-way handshake (RFC 9293 §3.5): syn → syn-ack → ack; a RST answering
// the SYN (it acknowledges ISN + 1: RFC 9293 §3.5.2, reset generation) or an ICMP
// error quoting it ends it as an error. Key: the client's ISN — every packet of the
// handshake carries it or ISN + 1; never addresses or ports, so NAT keeps it.
//
// The ACK is only judged when seen (data may ride on it: its absence proves nothing),
// and a bare ACK is only the handshake's when it acknowledges the server's ISN: the
// exchange keeps that number from the SYN-ACK (Classified.keep) and a bare ACK
// belongs to it only when it matches (Classified.mustMatch).
import { TCP_ACK, TCP_RST, TCP_SYN } from '../../decode/tcp.js';
import type { PacketRecord } from '../../decode/record.js';
import type { TcpFlow } from '../../events/types.js';
import type { Classified } from '../classified.js';
import { finish, HASH_SEED, mix } from '../hash.js';
import { keepIpAddresses, type KindSpec } from './kind-spec.js';

export const enum TcpStage {
  Syn = 0,
  SynAck = 1,
  Ack = 2,
  Rst = 3,
  IcmpError = 4,
}

function tcpKey(isn: number): number {
  return finish(mix(HASH_SEED ^ 0x544350, isn));
}

const SEQUENCE = [TcpStage.Syn, TcpStage.SynAck];
const SEQUENCE_WITH_ACK = [TcpStage.Syn, TcpStage.SynAck, TcpStage.Ack];

export const TCP_HANDSHAKE = {
  name: 'tcp-handshake',
  stages: ['syn', 'syn-ack', 'ack', 'rst', 'icmp-error'],
  opening: [{ stage: TcpStage.Syn, answeredBy: [TcpStage.SynAck] }],
  asking: [
    [TcpStage.SynAck, TcpStage.Syn],
    [TcpStage.Ack, TcpStage.SynAck],
  ],
  clockPairs: [[TcpStage.Syn, TcpStage.SynAck]],
  rttTo: 'first-answer',
  answerFromAsked: true,
  // (the same ISN again, with no ACK: the SYN-ACK that reached the client was not taken)
  notTakenWhenAskedAgain: { stage: TcpStage.Syn, unlessSeen: TcpStage.Ack },
  sequence: (stages) => (stages[TcpStage.Ack] !== undefined ? SEQUENCE_WITH_ACK : SEQUENCE),
  claims: { tcp: true },
  classify(rec: PacketRecord, out: Classified): number {
    const flags = rec.tcpFlags;
    if ((flags & TCP_SYN) !== 0 && (flags & TCP_ACK) === 0) {
      out.key = tcpKey(rec.tcpSeq);
      return TcpStage.Syn;
    }
    if ((flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) {
      out.key = tcpKey((rec.tcpAck - 1) >>> 0);
      out.keep = rec.tcpSeq;
      return TcpStage.SynAck;
    }
    if ((flags & TCP_RST) !== 0) {
      // A RST answering a SYN acknowledges ISN + 1 (RFC 9293 §3.5.2).
      out.key = tcpKey((flags & TCP_ACK) !== 0 ? (rec.tcpAck - 1) >>> 0 : (rec.tcpSeq - 1) >>> 0);
      out.errorDetail = 'RST';
      return TcpStage.Rst;
    }
    if (flags === TCP_ACK && rec.payloadLen === 0) {
      // Possibly the handshake's last ACK: seq = ISN + 1, ack = the server's ISN + 1.
      out.key = tcpKey((rec.tcpSeq - 1) >>> 0);
      out.mustMatch = (rec.tcpAck - 1) >>> 0;
      return TcpStage.Ack;
    }
    return -1;
  },
  keepKey(rec: PacketRecord, out: Classified): void {
    keepIpAddresses(rec, out);
    out.keyPart0 = rec.srcPort;
    out.keyPart1 = rec.dstPort;
    out.keyPart2 = rec.tcpSeq >>> 0;
  },
  quote: {
    stage: TcpStage.IcmpError,
    by: 'tcp',
    key(rec: PacketRecord, out: Classified): boolean {
      out.key = tcpKey(rec.quotedTcpSeq >>> 0);
      return true;
    },
  },
  flow: {
    fields: { src: 'src', dst: 'dst', sport: 'part0', dport: 'part1', isn: 'part2' },
    key: '{src}:{sport}>{dst}:{dport} isn={isn}',
  },
} satisfies KindSpec<TcpFlow>;
