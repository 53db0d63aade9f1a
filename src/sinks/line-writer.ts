// Buffered line output for stdout: printing a million packets one write() at a time
// would cost more than decoding them. Lines are gathered as bytes into ~64 KiB buffers
// and written in one call each: a line of text, or a JSON record (or a problem's report
// lines) its writer puts in the buffer itself (record(), endRecord(): no string made for
// it at all).
//
// A reader slower than hopscope (`hopscope replay big.pcap --json | jq`, a pipe not
// read at all) must not make the output queue grow without bound. Two ways out:
// - producers that can wait (replay) check `full` between chunks of their work and
//   await `drained()`: reading and decoding pause, and every line is delivered. The
//   stream then holds at most WAIT_ABOVE_BYTES plus what one chunk of work prints.
// - producers that must never wait (live capture) give `skipAboveBytes`: a line that
//   would take the queue past it is skipped and counted, and `onSkipped` is told how
//   many once the reader has caught up (or at `keepEverything()`).
// A closed pipe (`hopscope ... | head`) or a write error (a full disk) ends the output:
// later lines are dropped, `isClosed` tells producers they may stop, and waits end.
import type { Writable } from 'node:stream';
import { JsonBytes } from '../shared/json-bytes.js';

const FLUSH_AT = 64 * 1024;
/** A new buffer's size: the flush mark and room for the line that crosses it. */
const BUFFER_BYTES = FLUSH_AT + 16 * 1024;

/** What the stream may hold (bytes) before `full` asks waiting producers to wait. */
const WAIT_ABOVE_BYTES = 1024 * 1024;

export interface LineWriterOptions {
  /** Never wait: skip lines that would take the queue (stream and pending) past this many bytes. */
  skipAboveBytes?: number;
  /** Lines skipped since the last call: once the stream has drained, and at `keepEverything()`. */
  onSkipped?(lines: number): void;
}

export class LineWriter {
  /** the lines not written yet, as bytes */
  readonly #pending = new JsonBytes(BUFFER_BYTES);
  /** whether written buffers may be written into again: only stdout's (see flush) */
  readonly #reuse: boolean;
  /** a written buffer, to be written into again (at most one: it is taken at the next flush) */
  readonly #spare: Buffer[] = [];
  #closed = false;
  #full = false;
  /** write() calls whose callback has not come yet */
  #inFlight = 0;
  #skipAbove: number;
  #skipped = 0;
  readonly #onSkipped: ((lines: number) => void) | undefined;
  #waiters: Array<{ done: () => boolean; resolve: () => void }> = [];
  #closeListeners: Array<() => void> = [];
  readonly #written = (err?: Error | null): void => {
    this.#inFlight--;
    if (err) this.#stop();
    this.#wake();
  };

  constructor(
    private readonly out: Writable = process.stdout,
    options: LineWriterOptions = {},
  ) {
    this.#reuse = out === process.stdout;
    this.#skipAbove = options.skipAboveBytes ?? Infinity;
    this.#onSkipped = options.onSkipped;
    // What the error was is the CLI's to say (cli/std-streams.ts); here the output just ends.
    out.on('error', () => this.#stop());
    out.on('close', () => this.#stop());
    out.on('drain', () => {
      this.#full = false;
      this.#reportSkipped();
      this.#wake();
    });
  }

  /** True once the output ended (the reader went away, or a write failed): producers may stop. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Calls `listener` once the output ends (at once when it has): a producer that never looks may stop. */
  whenClosed(listener: () => void): void {
    if (this.#closed) listener();
    else this.#closeListeners.push(listener);
  }

  /** The stream holds WAIT_ABOVE_BYTES or more: a producer that can wait should await `drained()`. */
  get full(): boolean {
    return this.#full;
  }

  /** Live output only: the queue is at its bound, the next line would be skipped. */
  get saturated(): boolean {
    return this.#skipAbove !== Infinity && this.#queued() >= this.#skipAbove;
  }

  /** Counts a line skipped without being made (its producer saw `saturated`). */
  skip(): void {
    if (!this.#closed) this.#skipped++;
  }

  line(text: string): void {
    if (this.#closed) return;
    if (this.#skipAbove !== Infinity && this.#queued() + text.length >= this.#skipAbove) {
      this.#skipped++;
      return;
    }
    const w = this.#pending;
    w.text(text);
    w.byte(0x0a);
    if (w.pos >= FLUSH_AT) this.flush();
  }

  /**
   * Bytes that are lines already (the decoder thread's packet lines), as they are:
   * src[start, end). A replay's output only: no line is skipped here.
   */
  bytes(src: Uint8Array, start: number, end: number): void {
    if (this.#closed) return;
    const w = this.#pending;
    const n = end - start;
    w.room(n);
    // (memcpy: the replay's packet lines are hundreds of MB, a byte loop cost a core-second)
    w.buf.set(src.subarray(start, end), w.pos);
    w.pos += n;
    if (w.pos >= FLUSH_AT) this.flush();
  }

  /**
   * Where a JSON record is written as bytes: the caller writes one record into it, then
   * calls endRecord(with what this returned). Returns null when the output has ended.
   */
  record(): JsonBytes | null {
    return this.#closed ? null : this.#pending;
  }

  /** The record written since `start` (record()'s `pos`) is a line, or is skipped as line() would. */
  endRecord(start: number): void {
    const w = this.#pending;
    w.byte(0x0a);
    // line()'s bound, its newline counted: skip what would take the queue past it
    if (this.#skipAbove !== Infinity && this.out.writableLength + w.pos > this.#skipAbove) {
      w.pos = start;
      this.#skipped++;
      return;
    }
    if (w.pos >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.#closed || this.#pending.pos === 0) return;
    this.#inFlight++;
    // The stream keeps the buffer until it is written: the next lines go into another.
    // One that stdout wrote at once (a file; a pipe or terminal with room: nothing is
    // queued after the call) is used again — a new buffer per flush is garbage outside
    // the heap, left for the collector by the tens of MB. Any other stream may keep the
    // chunk it was given (a test's collector does), so its buffers are never reused.
    const len = this.#pending.pos;
    const full = this.#pending.swap(this.#spare.pop() ?? Buffer.allocUnsafe(BUFFER_BYTES));
    this.out.write(full.subarray(0, len), this.#written);
    if (this.#reuse && this.out.writableLength === 0 && full.length === BUFFER_BYTES) this.#spare.push(full);
    // A write that failed at once (EPIPE, ENOSPC) is known now; its callback and 'error'
    // come on a later tick, which a producer that never yields to the event loop would not reach.
    if (this.out.errored !== null) this.#stop();
    else if (this.out.writableLength >= WAIT_ABOVE_BYTES) this.#full = true;
  }

  /** Resolves once the stream is no longer `full` (or the output ended). */
  drained(): Promise<void> {
    return this.#wait(() => !this.#full);
  }

  /**
   * From here on no line is skipped (the end of a live capture: it has stopped, and its
   * final verdicts and counters wait for the reader); lines skipped so far are reported first.
   */
  keepEverything(): void {
    this.#skipAbove = Infinity;
    this.#reportSkipped();
  }

  /** Writes what is pending and resolves once the stream has taken all of it (or the output ended). */
  async end(): Promise<void> {
    this.flush();
    await this.#wait(() => this.#inFlight === 0);
  }

  #queued(): number {
    return this.out.writableLength + this.#pending.pos;
  }

  #reportSkipped(): void {
    if (this.#skipped === 0 || this.#closed) return;
    const n = this.#skipped;
    this.#skipped = 0;
    this.#onSkipped?.(n);
  }

  #stop(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending.pos = 0;
    this.#wake();
    for (const listener of this.#closeListeners.splice(0)) listener();
  }

  #wait(done: () => boolean): Promise<void> {
    if (this.#closed || done()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ done, resolve }));
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    const still = [];
    for (const w of this.#waiters) {
      if (this.#closed || w.done()) w.resolve();
      else still.push(w);
    }
    this.#waiters = still;
  }
}
