// ICMP echo (RFC 792 types 8/0) and ICMPv6 echo (RFC 4443 types 128/129): ping.
// request → reply; an ICMP error quoting the request (or the reply: the question was
// answered, the answer died) ends it at icmp-error. Key: identifier, sequence number
// and the first 8 payload bytes (ping's send time: it tells two pings with equal id
// and sequence apart) — never addresses, so NAT keeps it.
import { ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST } from '../../decode/icmp.js';
import { ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST } from '../../decode/icmpv6.js';
import type { PacketRecord } from '../../decode/record.js';
import type { IcmpFlow } from '../../events/types.js';
import type { Classified } from '../classified.js';
import { finish, hashBytes, HASH_SEED, mix } from '../hash.js';
import { ICMP_ID_SEQ_KEY, questionAndAnswer, type KindSpec } from './kind-spec.js';

/** questionAndAnswer's stage numbers */
export const enum EchoStage {
  Request = 0,
  Reply = 1,
  IcmpError = 2,
}

/** Payload bytes hashed into the key. */
const KEY_PAYLOAD_BYTES = 8;

function echoKey(
  id: number,
  seq: number,
  b: Uint8Array,
  payloadOff: number,
  payloadEnd: number,
  v6: boolean,
): number {
  let h = mix(HASH_SEED ^ (v6 ? 0x3636 : 0x3434), id);
  h = mix(h, seq);
  if (payloadOff >= 0 && payloadEnd > payloadOff)
    h = hashBytes(h, b, payloadOff, Math.min(payloadEnd, payloadOff + KEY_PAYLOAD_BYTES));
  return finish(h);
}

function classifyEcho(rec: PacketRecord, out: Classified, claimed: number, v6: boolean): number {
  if (rec.icmpId < 0) return -1;
  const payloadEnd = rec.payloadOff >= 0 ? rec.payloadOff + rec.payloadLen : -1;
  out.key = echoKey(rec.icmpId, rec.icmpSeq, rec.bytes, rec.payloadOff, Math.min(payloadEnd, rec.end), v6);
  return claimed;
}

function quoteKey(rec: PacketRecord, out: Classified, l4: number, end: number, v6: boolean): boolean {
  if (rec.quotedIcmpId < 0 || rec.quotedIcmpSeq < 0) return false;
  out.key = echoKey(rec.quotedIcmpId, rec.quotedIcmpSeq, rec.bytes, l4 + 8, end, v6);
  return true;
}

/** Ping over ICMP or ICMPv6 (`v6`: the key's seed differs), claiming its request and reply types. */
function echoSpec(name: string, v6: boolean, request: number, reply: number): KindSpec<IcmpFlow> {
  const types = [
    [request, EchoStage.Request],
    [reply, EchoStage.Reply],
  ] as const;
  return {
    name,
    ...questionAndAnswer('request', 'reply'),
    ...ICMP_ID_SEQ_KEY,
    claims: v6 ? { icmpv6: types } : { icmp: types },
    classify: (rec, out, claimed) => classifyEcho(rec, out, claimed, v6),
    quote: { stage: EchoStage.IcmpError, by: 'icmp', key: quoteKey },
  };
}

export const ICMP_ECHO = echoSpec('icmp-echo', false, ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY);
export const ICMPV6_ECHO = echoSpec('icmpv6-echo', true, ICMPV6_ECHO_REQUEST, ICMPV6_ECHO_REPLY);
