// The answer an unanswered exchange expected: the question turned around, as the
// server would have sent it (addresses and ports swapped, the answer's ICMP type or
// TCP flags). What a rule that dropped it, or a route that could not carry it back,
// is looked for with. Pure.
import type { ExchangePacket } from './context.js';

const ICMP_ECHO_REQUEST = 8;
const ICMP_ECHO_REPLY = 0;
const ICMPV6_ECHO_REQUEST = 128;
const ICMPV6_ECHO_REPLY = 129;
const TCP_SYN_ACK = 0x12;

export function answerOf(question: ExchangePacket): ExchangePacket | null {
  const base: ExchangePacket = {
    ...question,
    src: question.dst,
    dst: question.src,
    sport: question.dport,
    dport: question.sport,
    ipId: null,
    ipLength: 0,
    tcpSeq: null,
    dontFragment: false,
    aliases: [...question.aliases],
  };
  if (question.family === 'arp') {
    // who-has TPA tell SPA → TPA is-at …, sent to SPA
    return question.icmpType === 1 ? { ...base, icmpType: 2 } : null;
  }
  switch (question.proto) {
    case 1:
      return question.icmpType === ICMP_ECHO_REQUEST ? { ...base, icmpType: ICMP_ECHO_REPLY } : null;
    case 58:
      return question.icmpType === ICMPV6_ECHO_REQUEST ? { ...base, icmpType: ICMPV6_ECHO_REPLY } : null;
    case 6:
      return question.tcpFlags === 0x02 ? { ...base, tcpFlags: TCP_SYN_ACK } : null;
    case 17:
      return base;
    default:
      return null;
  }
}
