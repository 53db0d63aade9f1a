// DHCP (RFC 2131): discover → offer → request → ack, or a renewal's request → ack;
// a NAK ends it as an error. Key: the transaction id and the client's hardware
// address — a relay or NAT changes neither. Message types other than these (decline,
// release, inform) are no exchange.
import type { PacketRecord } from '../../decode/record.js';
import { DHCP_CLIENT_UDP_PORT, DHCP_SERVER_UDP_PORT } from '../../decode/udp.js';
import type { DhcpFlow } from '../../events/types.js';
import type { Classified } from '../classified.js';
import { finish, hashBytes, HASH_SEED, mix } from '../hash.js';
import type { KindSpec } from './kind-spec.js';

export const enum DhcpStage {
  Discover = 0,
  Offer = 1,
  Request = 2,
  Ack = 3,
  Nak = 4,
}

/** DHCP message type (option 53, RFC 2132 §9.6) → stage; -1: no stage. */
const STAGE_OF_MESSAGE_TYPE = [
  -1,
  DhcpStage.Discover, // 1 DHCPDISCOVER
  DhcpStage.Offer, // 2 DHCPOFFER
  DhcpStage.Request, // 3 DHCPREQUEST
  -1, // 4 DHCPDECLINE
  DhcpStage.Ack, // 5 DHCPACK
  DhcpStage.Nak, // 6 DHCPNAK
];

function dhcpKey(rec: PacketRecord): number {
  let h = mix(HASH_SEED ^ 0x444843, rec.dhcpXid);
  if (rec.dhcpChaddrOff >= 0)
    h = hashBytes(h, rec.bytes, rec.dhcpChaddrOff, rec.dhcpChaddrOff + Math.min(rec.dhcpHlen, 16));
  return finish(h);
}

/** Discover, offer, request, ack; a renewal (no discover) request, ack. */
const SEQUENCE_DORA = [DhcpStage.Discover, DhcpStage.Offer, DhcpStage.Request, DhcpStage.Ack];
const SEQUENCE_RA = [DhcpStage.Request, DhcpStage.Ack];

export const DHCP = {
  name: 'dhcp',
  stages: ['discover', 'offer', 'request', 'ack', 'nak'],
  opening: [
    { stage: DhcpStage.Discover, answeredBy: [DhcpStage.Offer, DhcpStage.Ack, DhcpStage.Nak] },
    { stage: DhcpStage.Request, answeredBy: [DhcpStage.Ack, DhcpStage.Nak] },
  ],
  asking: [
    [DhcpStage.Offer, DhcpStage.Discover],
    [DhcpStage.Request, DhcpStage.Offer],
    [DhcpStage.Ack, DhcpStage.Request],
  ],
  clockPairs: [
    [DhcpStage.Discover, DhcpStage.Offer],
    [DhcpStage.Request, DhcpStage.Ack],
  ],
  rttTo: 'final-answer',
  sequence: (stages) => (stages[DhcpStage.Discover] !== undefined ? SEQUENCE_DORA : SEQUENCE_RA),
  claims: { udp: [DHCP_SERVER_UDP_PORT, DHCP_CLIENT_UDP_PORT] },
  classify(rec: PacketRecord, out: Classified): number {
    const t = rec.dhcpMsgType;
    if (t <= 0 || rec.dhcpXid < 0 || t >= STAGE_OF_MESSAGE_TYPE.length) return -1;
    const stage = STAGE_OF_MESSAGE_TYPE[t];
    if (stage < 0) return -1;
    out.key = dhcpKey(rec);
    if (stage === DhcpStage.Nak) out.errorDetail = 'NAK';
    return stage;
  },
  keepKey(rec: PacketRecord, out: Classified): void {
    out.keyPart0 = rec.dhcpXid >>> 0;
    out.keySrcAt = rec.dhcpChaddrOff;
    out.addrKnown = rec.dhcpChaddrOff >= 0 ? 1 : 0;
  },
  quote: null,
  flow: { fields: { xid: 'part0', chaddr: 'mac' }, key: 'xid=0x{xid:hex8} chaddr={chaddr}' },
} satisfies KindSpec<DhcpFlow>;
