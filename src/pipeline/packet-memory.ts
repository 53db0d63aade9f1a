// The packets of exchanges, remembered for a while when causes are gathered: the
// gatherer needs the missing packet as it was at its last sighting (addresses, IP id,
// L4 ids: src/evidence/context.ts ExchangePacket), which an exchange record does not
// hold. Only a capture that gathers makes one (a replay, or `--no-cause`, never does).
//
// A ring of SLOTS slots, each the first SNAP_BYTES bytes of one packet the correlator
// took as part of an exchange, with its interface and raw time stamp: one plain byte
// loop per such packet, nothing allocated (docs/architecture.md "Buffers": this is the
// one place that copies packet bytes for the causes). The headers are all it needs —
// VXLAN around IPv6 around TCP is 124 bytes. A verdict looks its sightings up by
// interface and time stamp (a remote host's, moved back by its clock offset), and the
// packet is decoded again then: only for lost, unanswered and error verdicts.
import { decodePacket } from '../decode/decode-packet.js';
import { describePacket } from '../decode/packet-view.js';
import { PacketRecord } from '../decode/record.js';
import type { ExchangeRecord, FramedPacket, InterfaceDescriptor, PacketView } from '../events/types.js';
import type { SightedPacket } from '../evidence/verdict-context.js';
import { formatTimestamp } from '../framing/timestamp.js';

/** Packets remembered: at 10,000 exchange packets a second, the last 6.5 seconds. */
export const PACKET_MEMORY_SLOTS = 65_536;
/** Bytes kept of each (headers up to VXLAN + IPv6 + TCP, and a DHCP message's fixed part). */
export const SNAP_BYTES = 192;
/** A sighting on a remote host's clock is looked for this far either side of its offset-corrected time. */
const REMOTE_NEAR_NS = 50_000_000;

export class PacketMemory {
  readonly #bytes = new Uint8Array(PACKET_MEMORY_SLOTS * SNAP_BYTES);
  readonly #iface = new Int32Array(PACKET_MEMORY_SLOTS).fill(-1);
  readonly #sec = new Float64Array(PACKET_MEMORY_SLOTS);
  readonly #nsec = new Int32Array(PACKET_MEMORY_SLOTS);
  readonly #caplen = new Int32Array(PACKET_MEMORY_SLOTS);
  readonly #len = new Int32Array(PACKET_MEMORY_SLOTS);
  #next = 0;
  readonly #rec = new PacketRecord();
  /** interfaces by id, and ids by label */
  readonly #interfaces: InterfaceDescriptor[] = [];
  readonly #ids = new Map<string, number>();
  /** host → its clock minus the reference clock, ns (the latest clock record) */
  readonly #offsetNs = new Map<string, number>();

  interface(iface: InterfaceDescriptor): void {
    this.#interfaces[iface.id] = iface;
    this.#ids.set(iface.label, iface.id);
  }

  /** A host's clock offset as the correlator estimated it (docs/verdicts.md "Clocks"). */
  clock(host: string, offsetMs: number): void {
    this.#offsetNs.set(host, Math.round(offsetMs * 1e6));
  }

  /** The hot path: one exchange packet's first bytes into the next slot. */
  keep(p: FramedPacket, iface: number): void {
    const slot = this.#next;
    this.#next = slot + 1 === PACKET_MEMORY_SLOTS ? 0 : slot + 1;
    const n = p.caplen < SNAP_BYTES ? p.caplen : SNAP_BYTES;
    const to = slot * SNAP_BYTES;
    const from = p.offset;
    const src = p.data;
    const dst = this.#bytes;
    for (let i = 0; i < n; i++) dst[to + i] = src[from + i];
    this.#iface[slot] = iface;
    this.#sec[slot] = p.tsSec;
    this.#nsec[slot] = p.tsNsec;
    this.#caplen[slot] = n;
    this.#len[slot] = p.len;
  }

  /**
   * The packet seen on `label` at `ts` (a sighting of `ex`, on the reference clock), as
   * the decoder describes it; null when it is no longer remembered. On this machine's
   * clock the time stamp is the packet's own; on another host's, the nearest packet of
   * the exchange within REMOTE_NEAR_NS of it (an offset is an estimate).
   */
  find(label: string, ts: string, ex: ExchangeRecord): SightedPacket | null {
    const id = this.#ids.get(label);
    if (id === undefined) return null;
    const iface = this.#interfaces[id];
    const [secText, fracText = ''] = ts.split('.');
    // (clock records call this machine `local`)
    const offset = this.#offsetNs.get(iface.host ?? 'local') ?? 0;
    // ns since the sighting's second, on its host's clock (the offset moved back)
    const wantSec = Number(secText);
    const wantNs = Number(fracText.padEnd(9, '0').slice(0, 9)) + offset;
    // First the packets stamped exactly so (a sighting on this machine's clock): only
    // they are decoded. The nearest within REMOTE_NEAR_NS is looked for only after —
    // under a flood of other exchange packets, thousands are that near, and decoding
    // each held the event loop for a burst of verdicts.
    for (let slot = 0; slot < PACKET_MEMORY_SLOTS; slot++) {
      if (this.#iface[slot] !== id || (this.#sec[slot] - wantSec) * 1e9 + this.#nsec[slot] !== wantNs)
        continue;
      const found = this.#decoded(slot, iface);
      if (belongsTo(found.view, ex)) return found;
    }
    let best: SightedPacket | null = null;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (let slot = 0; slot < PACKET_MEMORY_SLOTS; slot++) {
      if (this.#iface[slot] !== id) continue;
      const d = Math.abs((this.#sec[slot] - wantSec) * 1e9 + this.#nsec[slot] - wantNs);
      if (d === 0 || d > REMOTE_NEAR_NS || d >= bestDistance) continue;
      const found = this.#decoded(slot, iface);
      if (!belongsTo(found.view, ex)) continue;
      best = found;
      bestDistance = d;
    }
    return best;
  }

  #decoded(slot: number, iface: InterfaceDescriptor): SightedPacket {
    const rec = this.#rec;
    const at = slot * SNAP_BYTES;
    decodePacket(this.#bytes, at, at + this.#caplen[slot], iface.linktype, this.#len[slot], rec);
    const view = describePacket(
      rec,
      0,
      iface.label,
      formatTimestamp(this.#sec[slot], this.#nsec[slot]),
      this.#caplen[slot],
      this.#len[slot],
    );
    return { view, dontFragment: rec.dontFragment, ipOffset: rec.l3Off >= 0 ? rec.l3Off - at : -1 };
  }
}

/** Whether a remembered packet is one of the exchange's (its ids; addresses may be translated). */
function belongsTo(view: PacketView, ex: ExchangeRecord): boolean {
  const flow = ex.flow as unknown as Record<string, unknown>;
  switch (ex.kind) {
    case 'icmp-echo':
    case 'icmpv6-echo':
    case 'icmp-timestamp':
      // NAT may rewrite the echo id; the sequence number it leaves
      return view.icmp !== null && (view.icmp.seq === null || view.icmp.seq === flow.seq);
    case 'tcp-handshake': {
      if (view.tcp === null) return false;
      const isn = flow.isn as number;
      const next = (isn + 1) >>> 0;
      return view.tcp.seq === isn || view.tcp.ack === next || view.tcp.seq === next;
    }
    case 'dns':
      return view.dns === null || view.dns.id === flow.id;
    case 'dhcp':
      return view.dhcp === null || view.dhcp.xid === flow.xid;
    case 'arp':
      return view.arp !== null;
    default:
      return true;
  }
}
