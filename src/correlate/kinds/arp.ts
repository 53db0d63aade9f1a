// ARP (RFC 826): who-has request → reply. Gratuitous ARP and probes (sender 0.0.0.0,
// or asking for its own address) ask nobody: no exchange. Key: the asker's and the
// asked-for protocol address (a reply swaps them).
import type { PacketRecord } from '../../decode/record.js';
import type { ArpFlow } from '../../events/types.js';
import type { Classified } from '../classified.js';
import { finish, hashBytes, HASH_SEED } from '../hash.js';
import type { KindSpec } from './kind-spec.js';

export const enum ArpStage {
  Request = 0,
  Reply = 1,
}

/** ARP operation codes (RFC 826). */
const ARP_REQUEST = 1;

function arpKey(b: Uint8Array, requesterOff: number, targetOff: number): number {
  let h = hashBytes(HASH_SEED ^ 0x415250, b, requesterOff, requesterOff + 4);
  h = hashBytes(h, b, targetOff, targetOff + 4);
  return finish(h);
}

function ipv4At(b: Uint8Array, off: number): number {
  return (b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3];
}

const SEQUENCE = [ArpStage.Request, ArpStage.Reply];

export const ARP = {
  name: 'arp',
  stages: ['request', 'reply'],
  opening: [{ stage: ArpStage.Request, answeredBy: [ArpStage.Reply] }],
  asking: [[ArpStage.Reply, ArpStage.Request]],
  clockPairs: [[ArpStage.Request, ArpStage.Reply]],
  rttTo: 'first-answer',
  sequence: () => SEQUENCE,
  // requests and replies with their sender and target protocol addresses (classify.ts checks)
  claims: { arp: true },
  classify(rec: PacketRecord, out: Classified): number {
    const b = rec.bytes;
    const spa = ipv4At(b, rec.arpSpaOff);
    if (spa === 0 || spa === ipv4At(b, rec.arpTpaOff)) return -1;
    if (rec.arpOp === ARP_REQUEST) {
      out.key = arpKey(b, rec.arpSpaOff, rec.arpTpaOff);
      return ArpStage.Request;
    }
    out.key = arpKey(b, rec.arpTpaOff, rec.arpSpaOff);
    return ArpStage.Reply;
  },
  keepKey(rec: PacketRecord, out: Classified): void {
    out.addrVersion = 4;
    out.keySrcAt = rec.arpSpaOff;
    out.keyDstAt = rec.arpTpaOff;
    out.addrKnown = (rec.arpSpaOff >= 0 ? 1 : 0) | (rec.arpTpaOff >= 0 ? 2 : 0);
  },
  quote: null,
  flow: { fields: { sender: 'src', target: 'dst' }, key: 'who-has {target} tell {sender}' },
} satisfies KindSpec<ArpFlow>;
