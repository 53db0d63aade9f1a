// The annotation pass over a live recording: once the capture has stopped and every
// exchange is judged, the recording is copied block by block into a new file in the
// same directory, with the comments of an AnnotationTable (annotations.ts) added to
// the Enhanced Packet Blocks of the packets of non-ok exchanges — found by their
// interface (the IDB's if_name, which is the label the verdicts name; for a capture of
// every device, the device its LINUX_SLL2 header names: framing/device-split.ts) and
// their exact time stamp. Every other block (section and interface headers,
// statistics blocks, whatever the file holds) and every option already there,
// comments included, are copied as they are; an annotated EPB gets its opt_comment
// options before its opt_endofopt.
//
// The new file is created O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, as `.NAME.annotating-XXXX`
// next to NAME, fsynced, and only when complete renamed over NAME in one step. Until
// then NAME is the recording as captured: a pass that fails (a full disk) removes its
// file and leaves NAME as it was; a pass killed (SIGKILL) leaves NAME as it was and the
// `.annotating-` file behind. A recording where no packet needs a comment is left
// untouched. What it costs: one read and one write of the whole recording, and as much
// free space as the recording takes while the two exist.
//
// Byte order is each section's (a hopscope recording's is little-endian); time stamps
// are converted as the reader converts them (framing's timestamp.ts), so they compare
// exactly with those a capture or a replay judged.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pad4, readI64, readU16, readU32 } from '../framing/bytes.js';
import { deviceLabel, knownDevices, sll2Ifindex, splitsByDevice } from '../framing/device-split.js';
import { BLOCK_EPB, BLOCK_IDB, BLOCK_ISB, BLOCK_SHB, BYTE_ORDER_MAGIC } from '../framing/pcapng-blocks.js';
import { makeTimestampConverter, unitsToTimestamp, type TimestampConverter } from '../framing/timestamp.js';
import { MAX_BLOCK_BYTES, type TimestampResolution } from '../framing/types.js';
import type { CaptureDevice } from '../events/types.js';
import type { AnnotationTable } from './annotations.js';
import { errnoCode, reason } from './recording-error.js';

const CHUNK_BYTES = 1 << 20;
const TEMP_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;

/** The pass could not annotate the file; the file is as it was. */
export class AnnotateError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly code: string | null,
  ) {
    super(message);
    this.name = 'AnnotateError';
  }
}

/** One interface of the section being copied. */
interface PassInterface {
  /** its index in the table, -1 when none of its packets is annotated */
  ix: number;
  conv: TimestampConverter;
  /**
   * A capture of every device (framing/device-split.ts): its packets are its devices'
   * sightings, so each one's table index is its device's (by ifindex, as found)
   */
  devices: {
    ix: Map<number, number>;
    of: (ifindex: number) => number;
    /** its devices' names by ifindex: the IDB's, and those its statistics blocks add */
    known: Map<number, CaptureDevice>;
  } | null;
}

const encoder = new TextEncoder();

/**
 * Annotates the recording at `path` in place (see the top of this file); returns the
 * packets annotated, or null when it is no regular file (a device, a FIFO: nothing to
 * copy). Throws AnnotateError, the recording left as it was.
 */
export function annotateRecording(path: string, table: AnnotationTable): number | null {
  let input: number;
  try {
    input = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw new AnnotateError(`cannot annotate ${path}: ${reason(err, path)}`, path, errnoCode(err));
  }
  let temp: string | null = null;
  let output: number | null = null;
  try {
    if (!fstatSync(input).isFile()) return null;
    temp = join(dirname(path), `.${basename(path)}.annotating-${randomBytes(4).toString('hex')}`);
    output = openSync(temp, TEMP_FLAGS, 0o600);
    fchmodSync(output, 0o600);
    const annotated = copyAnnotated(input, fdSink(output), table, path);
    if (annotated > 0) {
      fsyncSync(output);
      closeSync(output);
      output = null;
      renameSync(temp, path);
      temp = null;
    }
    return annotated;
  } catch (err) {
    if (err instanceof AnnotateError) throw err;
    throw new AnnotateError(`cannot annotate ${path}: ${reason(err, path)}`, path, errnoCode(err));
  } finally {
    closeSync(input);
    if (output !== null) closeSync(output);
    if (temp !== null) removeQuietly(temp);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // (the error that brought us here is the one to tell)
  }
}

/** Where the copy goes: a file descriptor, or a recording's file (`replay --annotate`). */
export interface CopySink {
  /** writes `bytes`, which the caller may reuse once this returns */
  write(bytes: Uint8Array): void;
}

/** Output gathered in one buffer, written when it fills. */
class Output {
  readonly #sink: CopySink;
  readonly #buf = new Uint8Array(CHUNK_BYTES);
  #used = 0;

  constructor(sink: CopySink) {
    this.#sink = sink;
  }

  put(b: Uint8Array, from: number, length: number): void {
    if (length > this.#buf.length - this.#used) this.flush();
    if (length > this.#buf.length) {
      this.#sink.write(b.subarray(from, from + length));
      return;
    }
    this.#buf.set(b.subarray(from, from + length), this.#used);
    this.#used += length;
  }

  flush(): void {
    if (this.#used > 0) this.#sink.write(this.#buf.subarray(0, this.#used));
    this.#used = 0;
  }
}

function fdSink(fd: number): CopySink {
  return {
    write(b: Uint8Array): void {
      let done = 0;
      while (done < b.length) done += writeSync(fd, b, done, b.length - done);
    },
  };
}

/**
 * Copies every block of the pcapng file open as `input` (`path`) to `sink`, annotating;
 * returns the packets annotated. Interfaces are looked up in the table by their if_name,
 * or, when `labels` is given, the k-th interface block of the file (over all its
 * sections) by labels[k] (a replay's labels). Throws AnnotateError on a damaged block frame.
 */
export function copyAnnotated(
  input: number,
  sink: CopySink,
  table: AnnotationTable,
  path: string,
  labels?: readonly string[],
): number {
  const out = new Output(sink);
  let idbs = 0;
  let buf = new Uint8Array(CHUNK_BYTES);
  let start = 0;
  let end = 0;
  let eof = false;
  let le = true;
  let interfaces: PassInterface[] = [];
  const time = { tsSec: 0, tsNsec: 0 };
  const encoded = new Map<string, Uint8Array>();
  let annotated = 0;
  let position = 0;
  const damaged = (what: string): AnnotateError =>
    new AnnotateError(`cannot annotate ${path}: ${what} at byte ${position}`, path, null);

  /** At least `n` bytes from `start` in the buffer, unless the file ends first. */
  const want = (n: number): boolean => {
    if (end - start >= n) return true;
    if (eof) return false;
    if (start > 0) {
      buf.copyWithin(0, start, end);
      end -= start;
      start = 0;
    }
    if (n > buf.length) {
      const grown = new Uint8Array(n);
      grown.set(buf.subarray(0, end));
      buf = grown;
    }
    while (end < n && !eof) {
      const got = readSync(input, buf, end, buf.length - end, null);
      if (got === 0) eof = true;
      end += got;
    }
    return end - start >= n;
  };

  while (want(8)) {
    const type = readU32(buf, start, le);
    if (type === BLOCK_SHB) {
      if (!want(12)) break;
      const magic = readU32(buf, start + 8, true);
      if (magic === BYTE_ORDER_MAGIC) le = true;
      else if (readU32(buf, start + 8, false) === BYTE_ORDER_MAGIC) le = false;
      else throw damaged('a section header with no byte-order magic');
      interfaces = [];
    }
    const length = readU32(buf, start + 4, le);
    if (length < 12 || length % 4 !== 0 || length > MAX_BLOCK_BYTES)
      throw damaged(`a block of ${length} bytes`);
    if (!want(length)) break;
    const o = start;
    if (type === BLOCK_IDB) interfaces.push(passInterface(buf, o, length, le, table, labels?.[idbs++]));
    // (a device found after the IDB is named in a statistics block before its first packet)
    if (type === BLOCK_ISB && length >= 24) {
      const devices = interfaces[readU32(buf, o + 8, le)]?.devices;
      if (devices != null)
        for (const d of knownDevices(optionComments(buf, o + 20, o + length - 4, le)))
          devices.known.set(d.ifindex, d);
    }
    let copied = false;
    if (type === BLOCK_EPB && length >= 32) {
      const iface = interfaces[readU32(buf, o + 8, le)];
      // (the EPB's packet data starts 28 bytes in; its LINUX_SLL2 header's ifindex 4 bytes later)
      if (iface?.devices != null)
        iface.ix = deviceIx(iface.devices, sll2Ifindex(buf, o + 28, readU32(buf, o + 20, le)));
      if (iface !== undefined && iface.ix >= 0) {
        const hi = readU32(buf, o + 12, le);
        const lo = readU32(buf, o + 16, le);
        const n = unitsToTimestamp(iface.conv, hi, lo, time)
          ? table.match(iface.ix, time.tsSec, time.tsNsec)
          : 0;
        if (n > 0) {
          writeCommented(out, buf, o, length, le, table, iface.ix, n, encoded);
          annotated++;
          copied = true;
        }
      }
    }
    if (!copied) out.put(buf, o, length);
    start += length;
    position += length;
  }
  // A tail shorter than a block (none in a recording hopscope closed) is kept as it is.
  if (end > start) out.put(buf, start, end - start);
  out.flush();
  return annotated;
}

/** An IDB's interface: its table index by if_name, its time stamp unit and offset. */
function passInterface(
  b: Uint8Array,
  o: number,
  length: number,
  le: boolean,
  table: AnnotationTable,
  label: string | undefined,
): PassInterface {
  let name: string | null = label ?? null;
  let recorded = null as string | null;
  let resolution: TimestampResolution = { base: 10, exponent: 6 };
  let offsetSec = 0n;
  forEachOption(b, o + 16, o + length - 4, le, (code, at, len) => {
    if (code === 2) {
      recorded = new TextDecoder().decode(b.subarray(at, at + len));
      if (label === undefined) name = recorded;
    } else if (code === 9 && len === 1)
      resolution = (b[at] & 0x80) !== 0 ? { base: 2, exponent: b[at] & 0x7f } : { base: 10, exponent: b[at] };
    else if (code === 14 && len === 8) offsetSec = readI64(b, at, le);
  });
  const conv = makeTimestampConverter(resolution, offsetSec);
  // A capture of every device is labelled by its recorded name (a replay's label of it
  // is its first device's); one without a name is not annotated here.
  const captureLabel: string | null = recorded;
  if (splitsByDevice(readU16(b, o + 8, le), captureLabel)) {
    if (captureLabel === null) return { ix: -1, conv, devices: null };
    const comments = optionComments(b, o + 16, o + length - 4, le);
    const known = new Map(knownDevices(comments).map((d) => [d.ifindex, d]));
    const of = (ifindex: number): number =>
      table.interfaceIndex(deviceLabel(captureLabel, ifindex, known).label);
    return { ix: -1, conv, devices: { ix: new Map(), of, known } };
  }
  return { ix: name === null ? -1 : table.interfaceIndex(name), conv, devices: null };
}

/** The table index of a device's packets (looked up once per device). */
function deviceIx(devices: NonNullable<PassInterface['devices']>, ifindex: number): number {
  let ix = devices.ix.get(ifindex);
  if (ix === undefined) {
    ix = devices.of(ifindex);
    devices.ix.set(ifindex, ix);
  }
  return ix;
}

/** Calls `each` for every option in b[from, to) up to opt_endofopt; returns where the options end. */
/** The opt_comment texts among the options at b[from, to). */
function optionComments(b: Uint8Array, from: number, to: number, le: boolean): string[] {
  const comments: string[] = [];
  forEachOption(b, from, to, le, (code, at, len) => {
    if (code === OPT_COMMENT) comments.push(new TextDecoder().decode(b.subarray(at, at + len)));
  });
  return comments;
}

function forEachOption(
  b: Uint8Array,
  from: number,
  to: number,
  le: boolean,
  each?: (code: number, at: number, len: number) => void,
): number {
  let o = from;
  while (to - o >= 4) {
    const code = readU16(b, o, le);
    if (code === OPT_ENDOFOPT) return o;
    const len = readU16(b, o + 2, le);
    if (o + 4 + len > to) return o;
    each?.(code, o + 4, len);
    o += 4 + pad4(len);
  }
  return Math.min(o, to);
}

/**
 * The EPB at b[o, o + length) with its `n` comments (table.comment(ix, matchFrom …))
 * added after the options it has: header, fixed fields, data and options as they were,
 * the comments, opt_endofopt, the new length.
 */
function writeCommented(
  out: Output,
  b: Uint8Array,
  o: number,
  length: number,
  le: boolean,
  table: AnnotationTable,
  ix: number,
  n: number,
  encoded: Map<string, Uint8Array>,
): void {
  const caplen = readU32(b, o + 20, le);
  const optionsFrom = Math.min(o + 28 + pad4(caplen), o + length - 4);
  const optionsEnd = forEachOption(b, optionsFrom, o + length - 4, le);
  const comments: Uint8Array[] = [];
  let previous: string | null = null;
  for (let i = 0; i < n; i++) {
    const text = table.comment(ix, table.matchFrom + i);
    if (text === previous) continue;
    previous = text;
    let bytes = encoded.get(text);
    if (bytes === undefined) {
      bytes = encoder.encode(text).subarray(0, 0xffff);
      encoded.set(text, bytes);
    }
    comments.push(bytes);
  }
  const added = comments.reduce((sum, c) => sum + 4 + pad4(c.length), 0);
  const total = optionsEnd - o + added + 4 + 4;
  const block = new Uint8Array(total);
  block.set(b.subarray(o, optionsEnd), 0);
  const view = new DataView(block.buffer);
  view.setUint32(4, total, le);
  let w = optionsEnd - o;
  for (const c of comments) {
    view.setUint16(w, OPT_COMMENT, le);
    view.setUint16(w + 2, c.length, le);
    block.set(c, w + 4);
    w += 4 + pad4(c.length);
  }
  view.setUint32(w, OPT_ENDOFOPT, le); // opt_endofopt
  view.setUint32(w + 4, total, le);
  out.put(block, 0, total);
}
