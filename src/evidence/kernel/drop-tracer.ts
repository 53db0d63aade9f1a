// The kernel's drop reasons on this machine (docs/json-lines.md `cause`): the addon's BPF program on
// skb:kfree_skb (native/drop_tracer.h), watching the namespaces being captured.
//
// Why BPF and not a tracefs instance here: tracefs's kfree_skb event carries the
// reason, the location and the EtherType, nothing of the packet; a drop could only be
// matched to an exchange by time, and on a busy host one drop looks like another. The
// BPF program reads the packet's own fields (addresses, IP id, L4 ids) and the
// namespace and device, and filters in the kernel to the namespaces captured, so
// nothing of other namespaces is copied out. Over ssh there is no addon: that side is
// tracefs (tracefs-drops.ts), time-matched and marked so.
//
// Lifetime: open() when the capture starts, close() when it stops; the BPF link
// belongs to this process's file descriptor, so a Ctrl-C, a crash or a SIGKILL
// removes it with the process (nothing is pinned). Reading: every POLL_MS on a timer
// that does not keep the process alive, the records the addon's reader thread
// queued are copied into the DropStore.
import { statSync } from 'node:fs';
import { loadNativeAddon } from '../../sources/native-addon.js';
import type { ExchangePacket } from '../context.js';
import { DropStore, type DropQueryResult } from './drop-store.js';
import { DROP_RECORD_BYTES } from './drop-record.js';

export interface NativeDropTracer {
  watch(netnsInode: number): void;
  unwatch(netnsInode: number): void;
  /** `now`: what the kernel's ring holds too, not only what the reader thread's last round took */
  read(now?: boolean): { buffer: ArrayBuffer; count: number; byteLength: number; lost: number };
  close(): void;
  readonly closed: boolean;
}

interface DropTracerAddon {
  openDropTracer(options?: { reasons?: number[]; queueRecords?: number; roundMs?: number }): NativeDropTracer;
  dropReasonNames(): string[];
  dropTracerBuilt: boolean;
  dropRecordBytes: number;
}

export const DROP_TRACER_DEFAULTS = {
  /** how often queued drops are taken from the addon */
  pollMs: 200,
  /** how often the addon's reader thread takes the kernel's ring when nothing wakes it */
  roundMs: 100,
  storeCapacity: 65_536,
} as const;

/** Why the local tracer is not running, in a few words for an evidence item. */
export class DropTracerUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DropTracerUnavailable';
  }
}

function addon(): DropTracerAddon {
  let loaded: unknown;
  try {
    loaded = loadNativeAddon();
  } catch (err) {
    throw new DropTracerUnavailable(err instanceof Error ? err.message : String(err));
  }
  const a = loaded as Partial<DropTracerAddon>;
  if (
    a.dropTracerBuilt !== true ||
    typeof a.openDropTracer !== 'function' ||
    typeof a.dropReasonNames !== 'function'
  )
    throw new DropTracerUnavailable(
      'the native addon was built without the drop tracer (no clang or libbpf-dev then)',
    );
  if (a.dropRecordBytes !== DROP_RECORD_BYTES)
    throw new DropTracerUnavailable('the native addon is out of date (rebuild it: npm run install)');
  return a as DropTracerAddon;
}

/** The inode of a namespace: `/run/netns/NAME`, or this process's own for null. */
export function namespaceInode(netnsPath: string | null): number {
  return statSync(netnsPath ?? '/proc/self/ns/net').ino;
}

export class LocalDropTracer {
  readonly #native: NativeDropTracer;
  readonly #store: DropStore;
  readonly #names: readonly string[];
  readonly #timer: NodeJS.Timeout;
  readonly #watched = new Map<number, number>();
  #lost = 0;
  #reported = 0;

  private constructor(
    native: NativeDropTracer,
    names: readonly string[],
    options: { pollMs: number; storeCapacity: number },
  ) {
    this.#native = native;
    this.#names = names;
    this.#store = new DropStore(options.storeCapacity);
    this.#timer = setInterval(() => this.poll(), options.pollMs);
    this.#timer.unref();
  }

  /** Loads and attaches the program; throws DropTracerUnavailable saying why it cannot run. */
  static open(options: Partial<Record<keyof typeof DROP_TRACER_DEFAULTS, number>> = {}): LocalDropTracer {
    const a = addon();
    const settings = { ...DROP_TRACER_DEFAULTS, ...options };
    let names: string[];
    let native: NativeDropTracer;
    try {
      names = a.dropReasonNames();
      native = a.openDropTracer({ roundMs: settings.roundMs });
    } catch (err) {
      throw new DropTracerUnavailable(err instanceof Error ? err.message : String(err));
    }
    return new LocalDropTracer(native, names, settings);
  }

  /** Reports drops in the namespace at `netnsPath` (null: this process's); returns its inode. Counted: watch twice, unwatch twice. */
  watch(netnsPath: string | null): number {
    const inode = namespaceInode(netnsPath);
    const n = this.#watched.get(inode) ?? 0;
    if (n === 0) this.#native.watch(inode);
    this.#watched.set(inode, n + 1);
    return inode;
  }

  unwatch(inode: number): void {
    const n = this.#watched.get(inode) ?? 0;
    if (n <= 1) {
      this.#watched.delete(inode);
      if (!this.#native.closed) this.#native.unwatch(inode);
    } else this.#watched.set(inode, n - 1);
  }

  /**
   * Takes what the addon queued (the timer does this); `now`: what the kernel's ring
   * holds too (a query does this first: the packet it asks about may have died a few
   * ms ago, and the reader thread takes the ring only every 100 ms).
   */
  poll(now = false): void {
    if (this.#native.closed) return;
    const batch = this.#native.read(now);
    this.#lost += batch.lost;
    this.#reported += batch.count;
    if (batch.count > 0) this.#store.push(batch.buffer, batch.count);
  }

  /**
   * The drops of `packet` in the window and namespaces, and at most `timeMatched` other
   * drops of theirs. None by default: the evidence of a verdict is its packet's own
   * drops, and asking for others in a namespace the flood is not in walked every record
   * kept (the store's comment), per hop of each problem's verdict.
   */
  query(
    netns: ReadonlySet<number>,
    window: { startNs: bigint; endNs: bigint },
    packet: ExchangePacket | null,
    timeMatched = 0,
  ): DropQueryResult {
    this.poll(true);
    return this.#store.query({ netns, ...window, packet }, timeMatched);
  }

  /** skb_drop_reason value → name (NETFILTER_DROP); the number as text when the kernel has no name for it. */
  reasonName(reason: number): string {
    return (
      this.#names[reason] ??
      (reason > 0xffff ? `SUBSYSTEM_${(reason >>> 16).toString(16)}_${reason & 0xffff}` : String(reason))
    );
  }

  /** Drops reported so far. */
  get reported(): number {
    return this.#reported;
  }

  /** Drops not reported: the kernel ring or the addon's queue was full. */
  get lost(): number {
    return this.#lost;
  }

  get overwritten(): number {
    return this.#store.overwritten;
  }

  close(): void {
    clearInterval(this.#timer);
    this.#native.close();
  }
}
