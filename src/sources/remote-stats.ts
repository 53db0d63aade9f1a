// The counters of one remote interface over all its sessions. Each session's tcpdump
// prints its own counts when it stops; they are added up here, and the packets of
// the session under way come on top, so `received` only grows across reconnects.
import type { InterfaceStats } from '../events/types.js';
import type { SessionEnd } from './remote-session.js';

export class RemoteCounters {
  readonly #interfaceId: number;
  /** counters of the sessions that ended */
  #receivedBase = 0;
  #droppedBase = 0;
  #ifDroppedBase: number | null = null;

  constructor(interfaceId: number) {
    this.#interfaceId = interfaceId;
  }

  /** Adds an ended session's counts; `warn` hears where they do not add up. */
  add(end: SessionEnd, label: string, warn: (message: string) => void): void {
    const r = end.report;
    // tcpdump's own count when it printed one (it includes packets the kernel dropped);
    // else what arrived here.
    this.#receivedBase += r.receivedByFilter ?? end.delivered;
    this.#droppedBase += r.droppedByKernel ?? 0;
    if (r.droppedByInterface !== null)
      this.#ifDroppedBase = (this.#ifDroppedBase ?? 0) + r.droppedByInterface;
    if (r.captured !== null && r.captured !== end.delivered) {
      warn(`${label}: tcpdump reported ${r.captured} packets captured, ${end.delivered} arrived`);
    }
    if (r.captured === null && end.delivered > 0 && !end.stopRequested) {
      // A session that died took its last buffered packets and its drop counts with it.
      warn(`${label}: session ended without tcpdump's counts; packets in flight may be lost`);
    }
  }

  /** The counters now, with `current` packets delivered by the session under way. */
  now(current: number, final: boolean): InterfaceStats {
    const stats: InterfaceStats = {
      interfaceId: this.#interfaceId,
      received: this.#receivedBase + current,
      dropped: this.#droppedBase,
      final,
    };
    if (this.#ifDroppedBase !== null) stats.ifDropped = this.#ifDroppedBase;
    return stats;
  }
}
