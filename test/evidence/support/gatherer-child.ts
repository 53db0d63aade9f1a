// The gatherer in a process of its own (run without privileges by a test): reads
// `{places, context}` as JSON from argv[3] (window bounds as decimal strings), explains
// the one verdict, prints `{cause, kernelUnavailable}` as JSON; stops either way.
import type { ExchangeRecord } from '../../../src/events/types.js';
import type { ExchangePacket, HopPlace } from '../../../src/evidence/context.js';
import { EvidenceGatherer } from '../../../src/evidence/gatherer.js';

interface Input {
  places: HopPlace[];
  exchange: ExchangeRecord;
  packet: ExchangePacket;
  lastSeen: HopPlace;
  next: HopPlace | null;
  path: HopPlace[];
  window: { startNs: string; endNs: string };
}

const input = JSON.parse(process.argv[3]) as Input;
const gatherer = new EvidenceGatherer();
try {
  await gatherer.start(input.places);
  const cause = await gatherer.explain({
    exchange: input.exchange,
    packet: input.packet,
    lastSeen: input.lastSeen,
    next: input.next,
    path: input.path,
    window: { startNs: BigInt(input.window.startNs), endNs: BigInt(input.window.endNs) },
    asker: null,
  });
  process.stdout.write(`${JSON.stringify({ cause, kernelUnavailable: gatherer.kernelUnavailable })}\n`);
} finally {
  await gatherer.stop();
}
