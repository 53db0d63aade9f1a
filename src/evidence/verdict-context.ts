// What the gatherer is told about a verdict, built from the records a run writes:
// the exchange record and the decoder's view of the packets it names (`--packets`
// records, or the correlator's sightings). For the pipeline's wiring and for replay:
// the packet of each sighting is found by its interface and time stamp.
//
//   lost        the lost stage's packet at its last sighting; next = missingOn[0]
//   unanswered  the question's packet where it was seen last; no next
//   error       the question's packet at its last sighting; no next
// The path is the interfaces the packet was seen on, in path order; aliases the
// other addresses it had there (NAT); the window runs from the exchange's first
// sighting to `timeoutMs` after its last. The asker's view: the question, its answer
// and its error as the interface where the question started saw them.
import type { ExchangeRecord, PacketView } from '../events/types.js';
import { placeOf, tsToNs, type AskerView, type ExchangePacket, type VerdictContext } from './context.js';
import { packetFromView } from './packet-fields.js';

/** A packet as a lookup finds it: the decoder's view, and the IP header's DF bit the view (a `--packets` record) leaves out. */
export interface SightedPacket {
  view: PacketView;
  dontFragment: boolean;
  /**
   * bytes of the frame before its innermost IP header (link layer, VLAN tags, a
   * tunnel's outer headers), -1 when it has none: its IP length is the rest
   */
  ipOffset: number;
}

/** The decoded packet seen on `iface` at `ts` (the sighting's time stamp), or null. */
export type PacketLookup = (iface: string, ts: string) => SightedPacket | null;

export function verdictContext(ex: ExchangeRecord, lookup: PacketLookup, timeoutMs = 1000): VerdictContext {
  const stageName = ex.status === 'lost' ? ex.lost?.stage : ex.stages[0]?.name;
  const stage = ex.stages.find((s) => s.name === stageName) ?? ex.stages[0];
  const seen = stage?.seen ?? [];
  const lastLabel =
    ex.status === 'lost' || ex.status === 'unanswered'
      ? (ex.lost?.lastSeen ?? null)
      : (seen[seen.length - 1]?.iface ?? null);
  const last = [...seen].reverse().find((s) => s.iface === lastLabel) ?? seen[seen.length - 1];
  const found = seen.map((s) => lookup(s.iface, s.ts));
  const views = found.map((f) => f?.view ?? null);
  const aliases = new Set<string>();
  for (const v of views) {
    if (v?.src) aliases.add(v.src);
    if (v?.dst) aliases.add(v.dst);
  }
  const lastFound = last !== undefined ? (found[seen.indexOf(last)] ?? null) : null;
  const packet =
    lastFound !== null ? packetFromView(lastFound.view, lastFound.dontFragment, lastFound.ipOffset) : null;
  if (packet !== null) packet.aliases = [...aliases].filter((a) => a !== packet.src && a !== packet.dst);
  const all = ex.stages.flatMap((s) => s.seen.map((x) => tsToNs(x.ts)));
  const lastNs = all.reduce((a, b) => (b > a ? b : a), tsToNs(ex.ts));
  const next = ex.status === 'lost' ? (ex.lost?.missingOn[0] ?? null) : null;
  return {
    exchange: ex,
    packet,
    lastSeen: lastLabel !== null ? placeOf(lastLabel) : null,
    next: next !== null ? placeOf(next) : null,
    path: seen.map((s) => placeOf(s.iface)),
    window: { startNs: tsToNs(ex.ts), endNs: lastNs + BigInt(timeoutMs) * 1_000_000n },
    asker: askerView(ex, lookup),
  };
}

/** Stages that are errors about the question, not its answer (correlate/kinds/). */
const ERROR_STAGES = new Set(['rst', 'icmp-error', 'nak']);

/** See AskerView. ARP and DHCP ask from addresses the answer need not mirror: none. */
function askerView(ex: ExchangeRecord, lookup: PacketLookup): AskerView | null {
  if (ex.kind === 'arp' || ex.kind === 'dhcp') return null;
  const packetAt = (iface: string, ts: string): ExchangePacket | null => {
    const found = lookup(iface, ts);
    return found === null ? null : packetFromView(found.view, found.dontFragment, found.ipOffset);
  };
  const asked = ex.stages[0];
  const origin = asked?.seen[0];
  if (origin === undefined) return null;
  const question = packetAt(origin.iface, origin.ts);
  if (question === null || question.family === 'arp') return null;
  const answerStage = ex.stages.find((s, i) => i > 0 && !ERROR_STAGES.has(s.name));
  const answerThere = answerStage?.seen.find((s) => s.iface === origin.iface);
  const errorFirst = ex.stages.find((s) => ERROR_STAGES.has(s.name))?.seen[0];
  const error = errorFirst !== undefined ? packetAt(errorFirst.iface, errorFirst.ts) : null;
  let translatedAt = null;
  for (const s of asked.seen.slice(1)) {
    const p = packetAt(s.iface, s.ts);
    if (p !== null && p.dst !== question.dst) {
      translatedAt = placeOf(s.iface);
      break;
    }
  }
  return {
    origin: placeOf(origin.iface),
    question,
    questionStage: asked.name,
    answer: answerThere !== undefined ? packetAt(answerThere.iface, answerThere.ts) : null,
    answerStage: answerStage?.name ?? null,
    errorFromAsker: error !== null && error.family === question.family && error.src === question.src,
    translatedAt,
  };
}
