// Several capture files read as one stream ordered by timestamp (`hopscope replay a b c`):
// a k-way merge over per-file cursors.
//
// Memory is bounded: every file is read a chunk at a time, and a file's next chunk is
// read only when every packet of its previous one has been handed on. Because readers
// reuse their buffers, the packets of a chunk are copied into the file's queue (one
// byte arena + typed arrays of fields, reused from chunk to chunk), so a file holds at
// most one chunk's worth of packets: chunkSize / 16 records at the very worst. A single
// file read without pacing has nothing to merge: after its first chunk its packets go
// straight from the reader to the consumer. A consumer whose own output falls behind
// is waited for before each chunk (`betweenChunks`), so its output is bounded too.
//
// Order: by (seconds, nanoseconds), then by file position on the command line, then by
// order within the file — equal timestamps come out stably. Each file is assumed to be
// in time order itself (as captures are); one that is not is merged as it stands,
// like mergecap does. Files from hosts whose clocks disagree are merged on one clock
// when told how far each file's clock is ahead (`clockAheadNs`): its packets keep their
// own time stamps, and are ordered as if stamped that much earlier.
//
// Interfaces get ids across all files in the order they are found (file by file at
// start) and labels (docs/spec-grammar.md "Replay's files"): the recorded if_name (parsed as
// `[HOST:][NETNS/]NAME`), else the file's base name, or `<base>#<idx>` when the file
// has several unnamed interfaces. A file's interfaces are announced once it has been
// read up to its first packet, so that "several" is known; an unnamed interface found
// later in a file that already has one (a new section) is `<base>#<idx>`. A file given
// as `LABEL=FILE` or `HOST:=FILE` (CaptureFileInput) is named so (givenInterfaceLabel);
// every file's interfaces up to its first packet are named before any is announced, so
// a file that cannot be named as asked stops the merge before anything is handed on.
// A capture of every device (`tcpdump -i any`) is announced as its devices instead,
// each when its first packet comes, with the next id (device-split.ts).
//
// Bounds: the files' readers share one budget (budget.ts): MAX_INTERFACES interfaces
// and MAX_KEPT_TEXT_BYTES of their text over all the files. Statistics blocks met
// before a file's first packet are held back with its interfaces, at most
// MAX_PENDING_STATS of them: past that, the interfaces found so far are announced (as
// if a packet had come) and the blocks handed on.

import type { FramedPacket, InterfaceDescriptor, InterfaceStats } from '../events/types.js';
import { copyBytes } from './bytes.js';
import { ReaderBudget } from './budget.js';
import { isCaptureInputError, type CaptureFormatError, type CaptureReadError } from './errors.js';
import { DeviceSplit, knownDevices, splitsByDevice } from './device-split.js';
import { CaptureFileReader, type ReadFileSummary } from './file-source.js';
import {
  fileBaseLabel,
  fileInterfaceLabel,
  givenInterfaceLabel,
  InterfaceLabelError,
  type CaptureFileInput,
} from './label.js';
import { parseLabel } from '../shared/label.js';
import { reusedFramedPacket } from './reused-packet.js';
import { resolutionNs } from './timestamp.js';
import type { CaptureInterface, CapturePacket, CaptureReaderOptions, CaptureSection } from './types.js';

export interface MergedInterface extends InterfaceDescriptor {
  /** the file it was read from, as given */
  file: string;
  /** its id within that file (CaptureInterface.id) */
  fileInterfaceId: number;
  /** everything the file said about it */
  capture: CaptureInterface;
}

export interface MergeOptions extends CaptureReaderOptions {
  /** bytes read from a file at a time, and so the bound of its queue (default 1 MiB) */
  chunkSize?: number;
  /** read files with blocking calls (a thread that does nothing else; see ReadFileOptions) */
  blocking?: boolean;
  /** statistics blocks, with interfaceId the merged id */
  onStats?(stats: InterfaceStats): void;
  /**
   * ns each file's clock is ahead of the clock to merge on, by position in `paths`
   * (missing: 0). Pacing follows the merged clock.
   */
  clockAheadNs?: readonly number[];
  /** each file's sections, before the interfaces they describe */
  onSection?(section: CaptureSection, path: string): void;
  /** reader warnings, prefixed by the file's path; duplicate labels */
  onWarning?(message: string): void;
  /**
   * Called before each packet with its time stamp when given: a replay paced to the
   * recording's time (the TUI's --speed) waits here. Unpaced reads never await it.
   */
  pace?(tsSec: number, tsNsec: number): Promise<void> | undefined;
  /**
   * Called before each chunk of a file is read: a consumer whose output fell behind
   * (stdout into a slow reader) returns a promise, and reading waits until it settles.
   * Rejecting stops the read with that error.
   */
  betweenChunks?(): Promise<void> | undefined;
}

export interface MergeSummary {
  packets: number;
  interfaces: number;
  files: Array<ReadFileSummary & { path: string }>;
}

export const DEFAULT_MERGE_CHUNK_BYTES = 1024 * 1024;

/** Statistics blocks held back before a file's first packet (see the header). */
export const MAX_PENDING_STATS = 4096;

/** Copies of one chunk's packets, in typed arrays reused from chunk to chunk. */
class PacketQueue {
  bytes = new Uint8Array(DEFAULT_MERGE_CHUNK_BYTES);
  used = 0;
  count = 0;
  head = 0;
  // Integers where they fit (nanoseconds, captured lengths, offsets): read back from a
  // Float64Array they would be doubles, and a double stored once into a packet's offset
  // field makes V8 keep every offset derived from it (the decoders') as a double, for
  // the rest of the run. Seconds and wire lengths are unsigned 32-bit: doubles.
  iface = new Int32Array(256);
  sec = new Float64Array(256);
  nsec = new Int32Array(256);
  caplen = new Int32Array(256);
  len = new Float64Array(256);
  offset = new Int32Array(256);
  direction = new Uint8Array(256);

  reset(): void {
    this.used = 0;
    this.count = 0;
    this.head = 0;
  }

  add(p: FramedPacket): void {
    const i = this.count;
    if (i === this.iface.length) this.growFields();
    if (this.used + p.caplen > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.used + p.caplen, this.bytes.length * 2));
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    copyBytes(this.bytes, this.used, p.data, p.offset, p.caplen);
    this.iface[i] = p.interfaceId;
    this.sec[i] = p.tsSec;
    this.nsec[i] = p.tsNsec;
    this.caplen[i] = p.caplen;
    this.len[i] = p.len;
    this.offset[i] = this.used;
    this.direction[i] = p.direction;
    this.used += p.caplen;
    this.count = i + 1;
  }

  private growFields(): void {
    const n = this.iface.length * 2;
    const grow = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.iface = grow(this.iface, (k) => new Int32Array(k));
    this.sec = grow(this.sec, (k) => new Float64Array(k));
    this.nsec = grow(this.nsec, (k) => new Int32Array(k));
    this.caplen = grow(this.caplen, (k) => new Int32Array(k));
    this.len = grow(this.len, (k) => new Float64Array(k));
    this.offset = grow(this.offset, (k) => new Int32Array(k));
    this.direction = grow(this.direction, (k) => new Uint8Array(k));
  }
}

class FileCursor {
  readonly queue = new PacketQueue();
  reader!: CaptureFileReader;
  /** file interface id → merged id */
  readonly globalIds: number[] = [];
  /** found before the first packet, announced together once it is known how many are unnamed */
  pending: CaptureInterface[] | null = [];
  pendingStats: InterfaceStats[] = [];
  unnamed = 0;
  /** the file's fault, thrown once the packets read before it are delivered */
  failure: CaptureFormatError | CaptureReadError | InterfaceLabelError | null = null;

  readonly base: string;
  /** how far the file's clock is ahead, split as a time stamp is (0 ≤ aheadNsec < 1e9); `ahead` when not 0 */
  ahead = false;
  aheadSec = 0;
  aheadNsec = 0;

  constructor(
    readonly index: number,
    readonly path: string,
    /** how the command line named the file's interfaces; null: as the file does */
    readonly given: CaptureFileInput | null,
  ) {
    this.base = fileBaseLabel(path);
  }
}

/**
 * Reads `paths` as one stream ordered by time. onInterface is called for every
 * interface before its first packet; onPacket's packet (and its bytes) are reused
 * after the callback returns. Rejects with CaptureFormatError (naming the file) when
 * one of them is damaged, or CaptureReadError when one cannot be opened or read, after
 * the packets before the fault.
 */
export async function mergeCaptureFiles(
  paths: readonly (string | CaptureFileInput)[],
  onInterface: (iface: MergedInterface) => void,
  onPacket: (packet: FramedPacket) => void,
  options: MergeOptions = {},
): Promise<MergeSummary> {
  const chunkSize = options.chunkSize ?? DEFAULT_MERGE_CHUNK_BYTES;
  const cursors = paths.map((p, i) =>
    typeof p === 'string' ? new FileCursor(i, p, null) : new FileCursor(i, p.path, p),
  );
  for (const c of cursors) {
    const ns = Math.round(options.clockAheadNs?.[c.index] ?? 0);
    if (ns === 0 || !Number.isFinite(ns)) continue;
    c.ahead = true;
    c.aheadSec = Math.floor(ns / 1e9);
    c.aheadNsec = ns - c.aheadSec * 1e9;
  }
  /** label → the first interface with it: its merged id and file (not the whole record: 65k of those add up) */
  const labels = new Map<string, { id: number; file: string }>();
  const budget =
    options.budget ?? new ReaderBudget(paths.length > 1 ? `in the ${paths.length} files together` : null);
  let nextId = 0;
  const devices = new DeviceSplit<MergedInterface>(
    () => nextId++,
    (device, _capture, stats) => {
      announceLabelled(device);
      for (const s of stats) options.onStats?.(s);
    },
  );

  const labelOf = (c: FileCursor, ci: CaptureInterface, severalUnnamed: boolean): string => {
    const own = fileInterfaceLabel(ci.name, c.base, ci.id, severalUnnamed);
    return c.given === null ? own : givenInterfaceLabel(c.given, own, c.globalIds.length);
  };
  const onStats = (s: InterfaceStats): void => {
    if (!devices.active) options.onStats?.(s);
    else {
      // (a device a live capture found later is named in a block before its first packet)
      if (s.comments !== undefined) devices.learn(s.interfaceId, knownDevices(s.comments));
      for (const d of devices.stats(s)) options.onStats?.(d);
    }
  };
  const announce = (c: FileCursor, id: number, ci: CaptureInterface, label: string): void => {
    const iface = describe(id, label, c.path, ci);
    // A capture of every device (`tcpdump -i any`): its devices are announced as its
    // packets show them — unless LABEL=FILE names it one interface other than `any`.
    if (splitsByDevice(ci.linktype, c.given?.label ?? ci.name)) devices.add(iface);
    else announceLabelled(iface);
  };
  const announceLabelled = (iface: MergedInterface): void => {
    const clash = labels.get(iface.label);
    if (clash !== undefined) {
      // Two files of one name in different folders (a tcpdump per machine): their hosts tell them apart.
      const hint = clash.file !== iface.file ? ': name them with LABEL=FILE or HOST:=FILE' : '';
      options.onWarning?.(
        `interfaces ${clash.id} (${clash.file}) and ${iface.id} (${iface.file}) are both labelled "${iface.label}"${hint}`,
      );
    } else labels.set(iface.label, { id: iface.id, file: iface.file });
    onInterface(iface);
  };

  /**
   * The file's interfaces up to now are named (how many are unnamed is known): announce
   * them. (Files are named together before any is announced — see the loop below — but
   * a file that holds back more than MAX_PENDING_STATS statistics blocks first is
   * announced on its own, then.)
   */
  const announcePending = (c: FileCursor): void => {
    const pending = c.pending ?? [];
    c.pending = null;
    for (const ci of pending) announce(c, c.globalIds[ci.id], ci, labelOf(c, ci, c.unnamed > 1));
    for (const s of c.pendingStats) onStats(s);
    c.pendingStats = [];
  };

  const openCursor = async (c: FileCursor): Promise<void> => {
    c.reader = await CaptureFileReader.open(
      c.path,
      {
        onInterface(ci: CaptureInterface): void {
          const id = nextId++;
          c.globalIds[ci.id] = id;
          const unnamed = ci.name === null || ci.name.length === 0;
          if (c.pending !== null) c.pending.push(ci);
          // Found after the first packet: the #idx form if the file has an unnamed one already.
          else announce(c, id, ci, labelOf(c, ci, unnamed && c.unnamed > 0));
          if (unnamed) c.unnamed++;
        },
        onSection(section: CaptureSection): void {
          options.onSection?.(section, c.path);
        },
        onPacket(p: CapturePacket): void {
          if (direct) deliverDirect(c, p);
          else c.queue.add(p);
        },
        onStats(s: InterfaceStats): void {
          const mapped = { ...s, interfaceId: c.globalIds[s.interfaceId] };
          if (c.pending === null) onStats(mapped);
          else if (c.pendingStats.push(mapped) >= MAX_PENDING_STATS) announcePending(c);
        },
        onWarning(message: string): void {
          options.onWarning?.(`${c.path}: ${message}`);
        },
      },
      { ...options, chunkSize, budget },
    );
  };

  /**
   * Refill an emptied queue with the file's next chunk(s) holding packets; false at end
   * of file. A fault part-way through a chunk is held until the packets read before it
   * have been delivered (nothing before the fault is lost).
   */
  const fill = async (c: FileCursor): Promise<boolean> => {
    c.queue.reset();
    try {
      while (c.queue.count === 0) {
        await waitForConsumer();
        if (!(await c.reader.readChunk())) break;
      }
    } catch (err) {
      const held = isCaptureInputError(err) || err instanceof InterfaceLabelError;
      if (!held || c.queue.count === 0) throw err;
      c.failure = err;
    }
    return c.queue.count > 0;
  };

  const out: FramedPacket = reusedFramedPacket();
  let packets = 0;
  /**
   * One file, read without pacing: once its first chunk has been handed on there is
   * nothing to merge, and its reader's packets go straight on (no copy into the queue).
   */
  let direct = false;
  const deliverDirect = (c: FileCursor, p: CapturePacket): void => {
    out.interfaceId = c.globalIds[p.interfaceId];
    out.tsSec = p.tsSec;
    out.tsNsec = p.tsNsec;
    out.caplen = p.caplen;
    out.len = p.len;
    out.data = p.data;
    out.offset = p.offset;
    out.direction = p.direction;
    if (devices.active) out.interfaceId = devices.route(out.interfaceId, p.data, p.offset, p.caplen);
    onPacket(out);
    packets++;
  };

  const waitForConsumer = (): Promise<void> | undefined => options.betweenChunks?.();

  const heap: FileCursor[] = [];
  try {
    const named: Array<Array<[CaptureInterface, string]>> = [];
    const hasPackets: boolean[] = [];
    for (const c of cursors) {
      await openCursor(c);
      hasPackets.push(await fill(c));
      // Now the file's interfaces up to its first packet are known: name them.
      named.push((c.pending ?? []).map((ci) => [ci, labelOf(c, ci, c.unnamed > 1)]));
      c.pending = null;
    }
    for (const c of cursors) {
      for (const [ci, label] of named[c.index]) announce(c, c.globalIds[ci.id], ci, label);
      // (let go: this frame lasts the whole read, and a file may name 65,536 interfaces here)
      named[c.index] = [];
      for (const s of c.pendingStats) onStats(s);
      c.pendingStats = [];
      if (hasPackets[c.index]) heapPush(heap, c);
    }

    while (heap.length > 0) {
      const c = heap[0];
      const q = c.queue;
      const i = q.head;
      out.interfaceId = c.globalIds[q.iface[i]];
      out.tsSec = q.sec[i];
      out.tsNsec = q.nsec[i];
      out.caplen = q.caplen[i];
      out.len = q.len[i];
      out.data = q.bytes;
      out.offset = q.offset[i];
      out.direction = q.direction[i];
      if (devices.active) out.interfaceId = devices.route(out.interfaceId, q.bytes, out.offset, out.caplen);
      if (options.pace !== undefined) {
        const wait = c.ahead
          ? options.pace(mergedSec(c, out.tsSec, out.tsNsec), mergedNsec(c, out.tsNsec))
          : options.pace(out.tsSec, out.tsNsec);
        if (wait !== undefined) await wait;
      }
      onPacket(out);
      packets++;
      q.head = i + 1;
      if (q.head < q.count) heapSiftDown(heap, 0);
      else if (c.failure !== null) throw c.failure;
      else if (cursors.length === 1 && options.pace === undefined) {
        direct = true;
        // every packet of a chunk goes to onPacket as it is read
        for (;;) {
          await waitForConsumer();
          if (!(await c.reader.readChunk())) break;
        }
        heapPopTop(heap);
      } else if (await fill(c)) heapSiftDown(heap, 0);
      else heapPopTop(heap);
    }

    return {
      packets,
      interfaces: nextId,
      files: cursors.map((c) => ({
        path: c.path,
        format: c.reader.format,
        packets: c.reader.packetCount,
        bytes: c.reader.bytesRead,
      })),
    };
  } finally {
    await Promise.all(cursors.map((c) => (c.reader !== undefined ? c.reader.close() : undefined)));
  }
}

function describe(id: number, label: string, file: string, ci: CaptureInterface): MergedInterface {
  const loc = parseLabel(label);
  const iface: MergedInterface = {
    id,
    label,
    host: loc.host,
    netns: loc.netns,
    name: loc.name,
    linktype: ci.linktype,
    snaplen: ci.snaplen,
    tsResolutionNs: resolutionNs(ci.tsResolution),
    addresses: ci.addresses,
    ...(ci.mac !== null ? { mac: ci.mac } : {}),
    file,
    fileInterfaceId: ci.id,
    capture: ci,
  };
  if (ci.description !== null) iface.description = ci.description;
  const named = knownDevices(ci.comments);
  if (named.length > 0) iface.devices = named;
  return iface;
}

// A binary min-heap of cursors keyed by their head packet's time, then file order.

function before(a: FileCursor, b: FileCursor): boolean {
  const qa = a.queue;
  const qb = b.queue;
  let sa = qa.sec[qa.head];
  let sb = qb.sec[qb.head];
  let na = qa.nsec[qa.head];
  let nb = qb.nsec[qb.head];
  if (a.ahead) {
    sa = mergedSec(a, sa, na);
    na = mergedNsec(a, na);
  }
  if (b.ahead) {
    sb = mergedSec(b, sb, nb);
    nb = mergedNsec(b, nb);
  }
  if (sa !== sb) return sa < sb;
  if (na !== nb) return na < nb;
  return a.index < b.index;
}

/** A time stamp of the cursor's file on the merged clock: its seconds … */
function mergedSec(c: FileCursor, sec: number, nsec: number): number {
  return sec - c.aheadSec - (nsec < c.aheadNsec ? 1 : 0);
}

/** … and nanoseconds. */
function mergedNsec(c: FileCursor, nsec: number): number {
  return nsec < c.aheadNsec ? nsec + 1e9 - c.aheadNsec : nsec - c.aheadNsec;
}

function heapPush(heap: FileCursor[], c: FileCursor): void {
  heap.push(c);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i], heap[parent])) break;
    const t = heap[i];
    heap[i] = heap[parent];
    heap[parent] = t;
    i = parent;
  }
}

function heapPopTop(heap: FileCursor[]): void {
  const last = heap.pop();
  if (heap.length > 0 && last !== undefined) {
    heap[0] = last;
    heapSiftDown(heap, 0);
  }
}

function heapSiftDown(heap: FileCursor[], i: number): void {
  const n = heap.length;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < n && before(heap[l], heap[m])) m = l;
    if (r < n && before(heap[r], heap[m])) m = r;
    if (m === i) return;
    const t = heap[i];
    heap[i] = heap[m];
    heap[m] = t;
    i = m;
  }
}
