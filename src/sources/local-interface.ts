// A local interface of a capture session (capture-session.ts): its capture while open,
// its state, and its kernel counters added up over every capture of it — an interface
// that goes and comes back is opened again, and the user sees one interface whose
// counters only grow.
import type { InterfaceDescriptor, InterfaceState, InterfaceStats } from '../events/types.js';
import type { LiveCapture } from './live-capture.js';
import type { CaptureTarget } from './spec.js';

export class LocalInterface {
  readonly kind = 'local';
  readonly target: CaptureTarget;
  readonly id: number;
  descriptor: InterfaceDescriptor | null = null;
  /** its addresses as last listed (the descriptor's once it is opened) */
  addresses: string[];
  capture: LiveCapture | null = null;
  /** bytes the open capture's kernel ring maps (0 while closed) */
  ringBytes = 0;
  state: InterfaceState = 'stopped';
  /**
   * Epoch seconds of the last packet handed over when its capture's last batch ended
   * full (the ring may hold later ones, unread: the loop's turn came first); -1 when
   * the ring was read to its end.
   */
  unreadAfterS = -1;
  /** counters of captures of this interface that ended (before a re-attach) */
  #baseReceived = 0;
  #baseDropped = 0;
  /** the counters last reported (-1: none yet, so the first reading is reported) */
  #lastReceived = -1;
  #lastDropped = 0;

  constructor(target: CaptureTarget, id: number) {
    this.target = target;
    this.id = id;
    this.addresses = target.addresses;
  }

  /** Its capture is `capture`, whose ring maps `ringBytes`. */
  attach(capture: LiveCapture, ringBytes: number): void {
    this.capture = capture;
    this.ringBytes = ringBytes;
  }

  /** Closes its capture, keeping its counters for the next one. */
  retire(): void {
    const c = this.capture;
    if (c === null) return;
    c.close();
    try {
      const s = c.stats();
      this.#baseReceived += s.received;
      this.#baseDropped += s.dropped;
    } catch {
      // no counters from a broken socket: what was reported last stands
    }
    this.capture = null;
    this.ringBytes = 0;
    // a closed ring holds nothing more to read
    this.unreadAfterS = -1;
  }

  /** Its counters now, over every capture of it. */
  stats(final: boolean): InterfaceStats {
    let received = this.#baseReceived;
    let dropped = this.#baseDropped;
    if (this.capture !== null) {
      try {
        const s = this.capture.stats();
        received += s.received;
        dropped += s.dropped;
      } catch {
        // counted at retire
      }
    }
    return { interfaceId: this.id, received, dropped, final };
  }

  /**
   * Its counters when they changed since they were last given here — with `dropsOnly`,
   * when its drop counter did — else null. Null too before it was ever opened: no
   * counters to speak of.
   */
  changedStats(dropsOnly: boolean): InterfaceStats | null {
    if (this.descriptor === null) return null;
    const s = this.stats(false);
    if (s.dropped === this.#lastDropped && (dropsOnly || s.received === this.#lastReceived)) return null;
    this.#lastReceived = s.received;
    this.#lastDropped = s.dropped;
    return s;
  }
}
