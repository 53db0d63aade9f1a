// The answer as its asker got it (VerdictContext.asker). An answer that comes back from
// another address or port than its question went to never reaches the asker's socket:
// TCP resets it, a connected UDP socket answers port unreachable, a resolver drops it.
// That is what an answer does that went around the NAT its question went through — a
// DNAT'd server answering its client straight back on their shared link (hairpin NAT
// without SNAT), a reply taking another router than the one holding the conntrack
// entry — and the packets themselves show it: infer.ts takes it before any finding of
// the state read, which can say no more. A reset or ICMP error the asker sent itself is
// no sign that nothing listens at the far end (infer.ts).
import type { Cause, ExchangeRecord } from '../../events/types.js';
import type { AskerView, ExchangePacket, HopPlace } from '../context.js';

/** `10.0.0.3 port 8080` (ICMP: the address alone). */
function endpoint(address: string, port: number | null): string {
  return port === null ? address : `${address} port ${port}`;
}

function namespaceOf(p: HopPlace): string {
  const ns = p.netns ?? 'the root namespace';
  return p.host === null ? ns : `${ns} on ${p.host}`;
}

/** Whether `answer` is not `question` mirrored: from its destination, to its source. */
function misaddressed(question: ExchangePacket, answer: ExchangePacket): boolean {
  if (answer.family !== question.family || answer.proto !== question.proto) return false;
  if (answer.src !== question.dst || answer.dst !== question.src) return true;
  return question.dport !== null && answer.sport !== null && answer.sport !== question.dport;
}

/** The `nat-bypassed` cause of `ex`, when its answer reached the asker misaddressed; else null. */
export function bypassedNatCause(ex: ExchangeRecord, asker: AskerView): Cause | null {
  const { question: q, answer: a } = asker;
  if (a === null || !misaddressed(q, a)) return null;
  const asked = asker.questionStage;
  const answerName = asker.answerStage ?? 'answer';
  const reaction =
    ex.detail === 'RST'
      ? 'resets it'
      : ex.detail === 'port-unreachable'
        ? 'answers it port unreachable'
        : 'does not take it for the answer';
  const from =
    a.src !== q.dst || a.sport !== q.dport
      ? `from ${endpoint(a.src, a.sport)}, not from ${endpoint(q.dst, q.dport)} where the ${asked} was sent`
      : `to ${endpoint(a.dst, a.dport)}, not to ${endpoint(q.src, q.sport)} that sent the ${asked}`;
  const why =
    asker.translatedAt !== null
      ? `the ${asked} was translated (DNAT) in ${namespaceOf(asker.translatedAt)}, and the ${answerName} did not pass back through it to be translated back`
      : `the ${answerName} was not translated back by the NAT the ${asked} went through`;
  return {
    code: 'nat-bypassed',
    summary: `the ${answerName} reached ${q.src} ${from}, so ${q.src} ${reaction}: ${why}`,
    at: (asker.translatedAt ?? asker.origin).label,
    evidence: [],
  };
}
