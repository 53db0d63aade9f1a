// Exchange records the tests of the views draw (the ladder, the HTML report): written
// as the correlator writes them.
import type { ExchangeRecord } from '../../src/events/types.js';

export interface Sighting {
  iface: string;
  ts: string;
  hopMs?: number;
}

/**
 * Sightings at `ts` unless told another time: `seen(iface, hopMs)` is a packet on
 * `iface`, `hopMs` after the sighting before it (none: the first of its stage).
 */
export function sightingsAt(ts: string): (iface: string, hopMs?: number, at?: string) => Sighting {
  return (iface, hopMs, at = ts) => ({ iface, ts: at, ...(hopMs !== undefined ? { hopMs } : {}) });
}

/**
 * nova-flat, the echo reply dropped on br100 (as the shipped recording has it): the
 * request at `requestTs` crosses vm/eth0, tap1, br100 and external eth0; the reply,
 * at `replyTs`, comes back as far as br100.
 */
export function replyLostOnBr100(requestTs: string, replyTs: string): ExchangeRecord {
  const seen = sightingsAt(requestTs);
  return {
    type: 'exchange',
    kind: 'icmp-echo',
    key: '10.0.0.10>203.0.113.10 id=1 seq=1',
    flow: { src: '10.0.0.10', dst: '203.0.113.10', id: 1, seq: 1 },
    status: 'lost',
    ts: requestTs,
    stages: [
      {
        name: 'request',
        packets: 1,
        seen: [
          seen('compute:vm/eth0'),
          seen('compute:tap1', 0.134),
          seen('compute:br100', 0),
          seen('external:eth0', 0.2),
        ],
      },
      {
        name: 'reply',
        packets: 1,
        seen: [seen('external:eth0', undefined, replyTs), seen('compute:br100', 0.007)],
      },
    ],
    lost: { stage: 'reply', lastSeen: 'compute:br100', missingOn: ['compute:tap1', 'compute:vm/eth0'] },
  };
}
