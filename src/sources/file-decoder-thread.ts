// `replay` without pacing, TUI or packet lines of text: capture files read, decoded and
// classified on a second thread (which also writes the packets' JSON lines with
// --packets --json) (file-decoder-worker.ts) while this one correlates —
// the two halves of the pipeline each get a core. Records arrive through a slot ring
// (slot-ring.ts) in file order, so the correlator sees exactly what it would see
// reading the files itself (the same verdicts; test/cli/replay.test.ts compares).
import type { Classified } from '../correlate/classify.js';
import type { InterfaceStats } from '../events/types.js';
import type { CaptureFileInput } from '../framing/label.js';
import type { MergedInterface } from '../framing/merge.js';
import { DecodedRecordReader } from './decoded-records.js';
import { takeDecoderThread } from './decoder-thread-boot.js';
import { createSlotRing, SlotReader, type SlotRingBuffers } from './slot-ring.js';

export interface DecoderThreadInput {
  files: Array<string | CaptureFileInput>;
  ring: SlotRingBuffers;
  /** --packets --json: the thread writes each packet's JSON line (onLines) */
  packetLines: boolean;
  /** ns each file's clock is ahead of the reference clock (MergeOptions.clockAheadNs) */
  clockAheadNs?: number[];
}

/** What the replay needs of an interface: the merge's record without what the file said of it. */
export type ThreadInterface = Omit<MergedInterface, 'capture'>;

export type DecoderEvent =
  /** interfaces found one after another, in id order, before any packet of theirs */
  | { type: 'interfaces'; list: ThreadInterface[] }
  | { type: 'section'; comments: string[] }
  | { type: 'stats'; stats: InterfaceStats }
  | { type: 'warning'; message: string }
  | {
      type: 'end';
      packets: number;
      /** packets per interface id */
      counts: number[];
      /** the last packet's time stamp (0 when none) */
      lastSec: number;
      lastNsec: number;
      /**
       * a damaged or unreadable file's message (CaptureFormatError, CaptureReadError),
       * after every packet before the fault
       */
      failure: string | null;
      /** why a file's interfaces cannot be named as its argument asks (InterfaceLabelError) */
      refused: string | null;
    };

export type DecodedFilesEnd = Extract<DecoderEvent, { type: 'end' }>;

export interface DecodedFilesHandlers {
  onInterface(iface: ThreadInterface): void;
  /** a packet of an exchange; `c` is reused after the call */
  onPacket(c: Classified, iface: number, sec: number, nsec: number): void;
  onSection(comments: string[]): void;
  onStats(stats: InterfaceStats): void;
  onWarning(message: string): void;
  onProgress?(bytesRead: number): void;
  /**
   * With `packetLines`: output bytes (whole packet lines, or part of a run of them) to
   * print as they are, u8[start, end) — valid during the call only.
   */
  onLines?(u8: Uint8Array, start: number, end: number): void;
  /**
   * Called after each slot of records: a consumer whose output fell behind (stdout
   * into a slow reader) returns a promise and the ring is not read until it settles;
   * the decoder thread then fills the ring and sleeps (Atomics.wait) until a slot is
   * handed back. Rejecting stops the read (the thread is terminated).
   */
  betweenSlots?(): Promise<void> | undefined;
}

/** Reads `files` on a decoder thread, calling the handlers here in file order. */
export async function decodeFilesOnThread(
  files: ReadonlyArray<string | CaptureFileInput>,
  h: DecodedFilesHandlers,
  options: { packetLines?: boolean; clockAheadNs?: readonly number[] } = {},
): Promise<DecodedFilesEnd> {
  // 8 MiB of records (~70k packets): while this thread is still cold and opening the
  // first second's exchanges, the decoder thread reads on instead of waiting for slots.
  const ring = createSlotRing(32, 256 * 1024);
  const input: DecoderThreadInput = { files: [...files], ring, packetLines: options.packetLines ?? false };
  if (options.clockAheadNs !== undefined) input.clockAheadNs = [...options.clockAheadNs];
  const thread = takeDecoderThread();
  const worker = thread.worker;
  const reader = new SlotReader(ring);
  const records = new DecodedRecordReader(reader);
  let crash: Error | null = thread.failure;
  worker.on('error', (err) => {
    crash = err;
    reader.abort();
  });
  // An exit before the end record (killed, out of memory) ends the wait too.
  worker.on('exit', () => reader.abort());
  if (thread.exited) reader.abort();
  else worker.postMessage(input);
  let end: DecodedFilesEnd | null = null;
  let previous = 0;
  const handlers = {
    packet: h.onPacket,
    lines: (u8: Uint8Array, start: number, end: number): void => h.onLines?.(u8, start, end),
    progress: (bytes: number): void => {
      h.onProgress?.(bytes - previous);
      previous = bytes;
    },
    // the worker sends its events in batches, in order (see file-decoder-worker.ts)
    event: (batch: unknown): void => {
      for (const event of batch as DecoderEvent[]) handleEvent(event);
    },
  };
  const handleEvent = (event: DecoderEvent): void => {
    switch (event.type) {
      case 'interfaces':
        for (const iface of event.list) h.onInterface(iface);
        break;
      case 'section':
        h.onSection(event.comments);
        break;
      case 'stats':
        h.onStats(event.stats);
        break;
      case 'warning':
        h.onWarning(event.message);
        break;
      case 'end':
        end = event;
        break;
    }
  };
  try {
    while (end === null) {
      const slot = await reader.next();
      if (slot === null) break;
      records.read(slot.start, slot.end, handlers);
      reader.release();
      const wait = h.betweenSlots?.();
      if (wait !== undefined) await wait;
    }
  } finally {
    if (end === null) await worker.terminate();
  }
  if (end === null)
    throw crash ?? new Error('replay: the decoder thread stopped before the end of the files');
  return end;
}
