// JSON written straight into bytes, for the records printed by the hundred thousand
// (`exchange`, `packet`: shared/record-json.ts, decode/packet-json.ts). Building them as
// strings cost more than deciding what they hold: JSON.stringify walks every object
// generically, and a line concatenated from pieces is a rope of small strings the
// garbage collector visits and the write flattens again. Here a line's bytes go into
// one buffer the output writes as it is (sinks/line-writer.ts).
//
// What is written is byte for byte what JSON.stringify writes for the same values,
// encoded as UTF-8: strings escaped as it escapes them (any string with a character it
// escapes, or one outside ASCII, goes through it), numbers as String(n) does, NaN and
// ±Infinity as null.
import { formatTimestamp } from './timestamp-text.js';

/** A buffer's worth of JSON lines being written; `pos` is where the next byte goes. */
export class JsonBytes {
  buf: Buffer;
  pos = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** Room for `n` more bytes (the buffer grows, keeping what it holds). */
  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  /** Goes on in `next` (empty), handing back the buffer written so far: its bytes are [0, pos) before the call. */
  swap(next: Buffer): Buffer {
    const full = this.buf;
    this.buf = next;
    this.pos = 0;
    return full;
  }

  /** Text the caller knows is ASCII needing no escape (punctuation, field names, number text). */
  ascii(s: string): void {
    const n = s.length;
    if (this.pos + n > this.buf.length) this.room(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /**
   * A field's name with its punctuation (`,"seq":`, `{"id":`), ASCII, then its value by
   * the call that follows: `w.key(',"seq":').num(seq)` writes a field a line.
   */
  key(head: string): this {
    this.ascii(head);
    return this;
  }

  /** One ASCII character by its code. */
  byte(c: number): void {
    if (this.pos >= this.buf.length) this.room(1);
    this.buf[this.pos++] = c;
  }

  /** Any text as it is, UTF-8 (a whole line of the text report). */
  text(s: string): void {
    this.room(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** A string as JSON: copied between quotes while it is plain ASCII, else JSON.stringify's. */
  str(s: string): void {
    const n = s.length;
    if (this.pos + n + 2 > this.buf.length) this.room(n + 2);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      // `"`, `\`, control characters and anything past ASCII: JSON.stringify decides
      if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7f) {
        this.text(JSON.stringify(s));
        return;
      }
      b[p++] = c;
    }
    b[p++] = 0x22;
    this.pos = p;
  }

  strOrNull(s: string | null): void {
    if (s === null) this.ascii('null');
    else this.str(s);
  }

  /** A number as JSON.stringify writes it; integers below 2^32 digit by digit. */
  num(n: number): void {
    if (n >= 0 && n <= 0xffffffff && n === Math.floor(n)) this.#uint(n);
    else this.ascii(Number.isFinite(n) ? String(n) : 'null');
  }

  numOrNull(n: number | null): void {
    if (n === null) this.ascii('null');
    else this.num(n);
  }

  bool(v: boolean): void {
    this.ascii(v ? 'true' : 'false');
  }

  /** `sec.nnnnnnnnn`, as formatTimestamp (shared/timestamp-text.ts) writes it, in quotes. */
  timestamp(sec: number, nsec: number): void {
    if (!(
      sec >= 0 &&
      sec <= 0xffffffff &&
      sec === Math.floor(sec) &&
      nsec >= 0 &&
      nsec < 1e9 &&
      nsec === Math.floor(nsec)
    )) {
      this.str(formatTimestamp(sec, nsec));
      return;
    }
    this.byte(0x22);
    this.#uint(sec);
    if (this.pos + 11 > this.buf.length) this.room(11);
    const b = this.buf;
    const p = this.pos;
    b[p] = 0x2e;
    let v = nsec;
    for (let i = 9; i >= 1; i--) {
      const q = Math.floor(v / 10);
      b[p + i] = 0x30 + (v - q * 10);
      v = q;
    }
    b[p + 10] = 0x22;
    this.pos = p + 11;
  }

  #uint(n: number): void {
    let digits = 1;
    for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
    if (this.pos + digits > this.buf.length) this.room(digits);
    const b = this.buf;
    let v = n;
    for (let i = this.pos + digits - 1; i >= this.pos; i--) {
      const q = Math.floor(v / 10);
      b[i] = 0x30 + (v - q * 10);
      v = q;
    }
    this.pos += digits;
  }
}
