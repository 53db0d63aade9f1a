// ICMP timestamp (RFC 792 types 13/14): request → reply, an ICMP error quoting the
// request ending it at icmp-error. Key: identifier, sequence number and the originate
// timestamp, which the reply carries back unchanged (its receive and transmit
// timestamps are the replier's) — never addresses, so NAT keeps it.
import { ICMP_TIMESTAMP_REPLY, ICMP_TIMESTAMP_REQUEST } from '../../decode/icmp.js';
import type { PacketRecord } from '../../decode/record.js';
import type { IcmpFlow } from '../../events/types.js';
import type { Classified } from '../classified.js';
import { finish, hashBytes, HASH_SEED, mix } from '../hash.js';
import { ICMP_ID_SEQ_KEY, questionAndAnswer, type KindSpec } from './kind-spec.js';

/** questionAndAnswer's stage numbers */
export const enum TimestampStage {
  Request = 0,
  Reply = 1,
  IcmpError = 2,
}

/** The originate timestamp: the first 4 bytes after the 8-byte header. */
const ORIGINATE_BYTES = 4;

function timestampKey(id: number, seq: number, b: Uint8Array, originateOff: number, end: number): number {
  let h = mix(HASH_SEED ^ 0x5453, id);
  h = mix(h, seq);
  if (originateOff >= 0 && end > originateOff)
    h = hashBytes(h, b, originateOff, Math.min(end, originateOff + ORIGINATE_BYTES));
  return finish(h);
}

export const ICMP_TIMESTAMP = {
  name: 'icmp-timestamp',
  ...questionAndAnswer('request', 'reply'),
  ...ICMP_ID_SEQ_KEY,
  claims: {
    icmp: [
      [ICMP_TIMESTAMP_REQUEST, TimestampStage.Request],
      [ICMP_TIMESTAMP_REPLY, TimestampStage.Reply],
    ],
  },
  classify(rec: PacketRecord, out: Classified, claimed: number): number {
    if (rec.icmpId < 0) return -1;
    const end = rec.payloadOff >= 0 ? Math.min(rec.payloadOff + rec.payloadLen, rec.end) : -1;
    out.key = timestampKey(rec.icmpId, rec.icmpSeq, rec.bytes, rec.payloadOff, end);
    return claimed;
  },
  quote: {
    stage: TimestampStage.IcmpError,
    by: 'icmp',
    key(rec: PacketRecord, out: Classified, l4: number, end: number): boolean {
      if (rec.quotedIcmpId < 0 || rec.quotedIcmpSeq < 0) return false;
      out.key = timestampKey(rec.quotedIcmpId, rec.quotedIcmpSeq, rec.bytes, l4 + 8, end);
      return true;
    },
  },
} satisfies KindSpec<IcmpFlow>;
