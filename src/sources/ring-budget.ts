// How much kernel ring memory the local captures of one run take, in all.
//
// Every local capture has a TPACKET_V3 ring that libpcap maps into this process when
// the capture opens: all of it counts in hopscope's RSS at once, traffic or not. At the
// default 8 MiB per interface, `-i '*/*'` over 146 interfaces took 1.28 GB. So without
// -B the rings share RING_TOTAL_BYTES: each gets the default while that fits, less when
// many interfaces are captured, never below RING_FLOOR_BYTES. An explicit -B is per
// interface, like tcpdump's; a total above the cap is then only said.
//
// Interfaces opened later (a new glob match, one coming back) are never a reason to
// re-open the others (that would lose their packets): each gets the start's size while
// the rings open then leave room for it within the total, less when they do not, and
// the floor at least.

const KiB = 1024;
const MiB = 1024 * KiB;

/** All local rings together, without -B. */
export const RING_TOTAL_BYTES = 256 * MiB;
/** Per interface while the total allows: one process drains every ring, a GC pause must not cost packets. */
export const RING_DEFAULT_BYTES = 8 * MiB;
/** The least a ring is scaled down to: four blocks (a 4000-packet flood-ping burst on a veth lost none with it). */
export const RING_FLOOR_BYTES = 1 * MiB;
/**
 * libpcap (1.10) builds a TPACKET_V3 ring from blocks of 256 KiB (its frame size is
 * MAXIMUM_SNAPLEN whatever the snaplen), as many as cover the size asked for: the
 * memory a ring maps is the size rounded up to whole blocks. Sizes chosen here are
 * whole blocks, so the RSS is what the notice says.
 */
export const RING_BLOCK_BYTES = 256 * KiB;

/** The bytes a ring asked for with `bytes` maps. */
export function mappedRingBytes(bytes: number): number {
  return Math.ceil(bytes / RING_BLOCK_BYTES) * RING_BLOCK_BYTES;
}

/** "1.75 MiB", "255.5 MiB", "512 KiB". */
export function formatRingBytes(bytes: number): string {
  if (bytes < MiB) return `${Math.round(bytes / KiB)} KiB`;
  return `${Number((bytes / MiB).toFixed(2))} MiB`;
}

export class RingBudget {
  /** bytes per interface as the user gave them (-B), or undefined */
  readonly #explicit: number | undefined;
  /** what each interface gets while the total allows (set by plan) */
  #perInterface: number;
  /** a notice about interfaces opened later was given (once per run) */
  #toldLater = false;

  constructor(explicitBytes: number | undefined) {
    this.#explicit = explicitBytes;
    this.#perInterface = explicitBytes ?? RING_DEFAULT_BYTES;
  }

  get perInterface(): number {
    return this.#perInterface;
  }

  /**
   * Sizes the rings of the `count` local interfaces a capture starts with. Returns the
   * line to tell the user (the rings are scaled down, or -B makes them exceed the
   * total), or null.
   */
  plan(count: number): string | null {
    const cap = formatRingBytes(RING_TOTAL_BYTES);
    if (this.#explicit !== undefined) {
      const total = count * mappedRingBytes(this.#explicit);
      if (total <= RING_TOTAL_BYTES) return null;
      this.#toldLater = true;
      return (
        `warning: ${count} interfaces: kernel buffer ${formatRingBytes(mappedRingBytes(this.#explicit))} each (-B) ` +
        `is ${formatRingBytes(total)} in all, over the ${cap} hopscope takes without -B`
      );
    }
    if (count === 0) return null;
    const share = Math.floor(RING_TOTAL_BYTES / count / RING_BLOCK_BYTES) * RING_BLOCK_BYTES;
    this.#perInterface = Math.min(RING_DEFAULT_BYTES, Math.max(RING_FLOOR_BYTES, share));
    if (this.#perInterface === RING_DEFAULT_BYTES) return null;
    const total = count * this.#perInterface;
    const each = formatRingBytes(this.#perInterface);
    if (total <= RING_TOTAL_BYTES) {
      return `${count} interfaces: kernel buffer ${each} each (${formatRingBytes(total)} in all, within ${cap}; -B to change)`;
    }
    return (
      `${count} interfaces: kernel buffer ${each} each, the least it is scaled to ` +
      `(${formatRingBytes(total)} in all, over ${cap}; -B to change)`
    );
  }

  /**
   * The ring for an interface opened now, while the rings of `openCount` others map
   * `openBytes`; and a line to tell the user, until told() — the first time such an
   * interface gets less than the start's size (or, with -B, takes the total over the cap).
   */
  sizeFor(openCount: number, openBytes: number): { bytes: number; notice: string | null } {
    const cap = formatRingBytes(RING_TOTAL_BYTES);
    if (this.#explicit !== undefined) {
      const after = openBytes + mappedRingBytes(this.#explicit);
      if (after <= RING_TOTAL_BYTES || this.#toldLater) return { bytes: this.#explicit, notice: null };
      return {
        bytes: this.#explicit,
        notice:
          `warning: ${openCount + 1} interfaces: kernel buffer ${formatRingBytes(mappedRingBytes(this.#explicit))} ` +
          `each (-B) is now ${formatRingBytes(after)} in all, over the ${cap} hopscope takes without -B`,
      };
    }
    const room = Math.floor((RING_TOTAL_BYTES - openBytes) / RING_BLOCK_BYTES) * RING_BLOCK_BYTES;
    const bytes = Math.min(this.#perInterface, Math.max(RING_FLOOR_BYTES, room));
    if (bytes >= this.#perInterface || this.#toldLater) return { bytes, notice: null };
    return {
      bytes,
      notice:
        `${openCount + 1} interfaces: kernel buffer ${formatRingBytes(bytes)} for this one and others ` +
        `attached while the ${cap} in all is taken (the first ones keep ${formatRingBytes(this.#perInterface)}; -B to change)`,
    };
  }

  /** The notice of sizeFor was given (once it opened with that size): not again. */
  told(): void {
    this.#toldLater = true;
  }
}
