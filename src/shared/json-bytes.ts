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

/**
 * A constant piece of a line (a field's name with its punctuation, a whole `,"tcp":null`)
 * as the bytes JsonBytes.lit copies: cheaper per call than reading a string's
 * characters, and a run of constants becomes one copy. ASCII only (checked once here).
 */
export function literal(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || c < 0x20) throw new Error(`a JSON literal must be printable ASCII: ${JSON.stringify(s)}`);
    out[i] = c;
  }
  return out;
}

/** Each octet 0–255 as its decimal digits: OCTET_TEXT[4v] is the count, the next three the digits. */
const OCTET_TEXT = new Uint8Array(256 * 4);
for (let v = 0; v < 256; v++) {
  const t = String(v);
  OCTET_TEXT[v * 4] = t.length;
  for (let i = 0; i < t.length; i++) OCTET_TEXT[v * 4 + 1 + i] = t.charCodeAt(i);
}

/** 0–99 as two digits: DIGIT_PAIRS[2v], DIGIT_PAIRS[2v + 1] (half the divisions of one digit at a time). */
const DIGIT_PAIRS = new Uint8Array(200);
for (let v = 0; v < 100; v++) {
  DIGIT_PAIRS[2 * v] = 0x30 + Math.floor(v / 10);
  DIGIT_PAIRS[2 * v + 1] = 0x30 + (v % 10);
}

/** Writes `v` (0 ≤ v < 10^9, an integer) as nine digits, zero-padded, at b[p, p + 9). */
function nineDigits(b: Uint8Array, p: number, v: number): void {
  let n = v | 0;
  for (let i = p + 7; i > p; i -= 2) {
    const q = (n / 100) | 0;
    const r = (n - q * 100) << 1;
    b[i] = DIGIT_PAIRS[r];
    b[i + 1] = DIGIT_PAIRS[r + 1];
    n = q;
  }
  b[p] = 0x30 + n;
}

/** A buffer's worth of JSON lines being written; `pos` is where the next byte goes. */
export class JsonBytes {
  buf: Buffer;
  pos = 0;
  /** timestamp()'s last whole seconds, and their text with the opening quote */
  #sec = -1;
  #secText: Uint8Array = new Uint8Array(0);

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

  /** A constant piece of a line, made by literal(). */
  lit(piece: Uint8Array): void {
    this.copy(piece, 0, piece.length);
  }

  /** Bytes that are JSON text already (nothing in them to escape): src[start, end). */
  copy(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (this.pos + n > this.buf.length) this.room(n);
    const b = this.buf;
    let p = this.pos;
    // a loop costs about 2 ns a byte, set() about 25 ns a call whatever the length (measured)
    if (n > 16) {
      b.set(start === 0 && end === src.length ? src : src.subarray(start, end), p);
      this.pos = p + n;
      return;
    }
    for (let i = start; i < end; i++) b[p++] = src[i];
    this.pos = p;
  }

  /** lit() of a field's name with its punctuation, then its value by the call that follows (as key()). */
  field(piece: Uint8Array): this {
    this.lit(piece);
    return this;
  }

  /** `"a.b.c.d"`: the IPv4 address in the 4 bytes at `off`, in quotes (as format.ts's formatIpv4). */
  ipv4(from: Uint8Array, off: number): void {
    this.byte(0x22);
    this.ipv4Text(from, off);
    this.byte(0x22);
  }

  /** `a.b.c.d` without quotes (inside a string: an exchange's key text). */
  ipv4Text(from: Uint8Array, off: number): void {
    if (this.pos + 15 > this.buf.length) this.room(15);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < 4; i++) {
      if (i > 0) b[p++] = 0x2e;
      const t = from[off + i] * 4;
      const n = OCTET_TEXT[t];
      b[p++] = OCTET_TEXT[t + 1];
      if (n > 1) b[p++] = OCTET_TEXT[t + 2];
      if (n > 2) b[p++] = OCTET_TEXT[t + 3];
    }
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
    this.byte(0x22);
    this.strContent(s);
    this.byte(0x22);
  }

  /** A string's JSON text without its quotes (part of a string written piece by piece: str()'s escaping). */
  strContent(s: string): void {
    const n = s.length;
    if (this.pos + n > this.buf.length) this.room(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      // `"`, `\`, control characters and anything past ASCII: JSON.stringify decides
      if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7f) {
        const json = JSON.stringify(s);
        this.text(json.slice(1, json.length - 1));
        return;
      }
      b[p++] = c;
    }
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

  /**
   * `k / 1000` as num() writes it, for an integer `k` (a time in µs written in ms: rttMs,
   * hopMs): the integer part, then the thousandths with trailing zeros dropped. Below
   * 2^31 the quotient's shortest decimal is exactly that (k / 1000 is the double nearest
   * it, and no shorter decimal lies within half an ulp), so no String() is made per line.
   */
  thousandths(k: number): void {
    if (!(k > -0x80000000 && k < 0x80000000 && k === Math.floor(k))) {
      this.num(k / 1000);
      return;
    }
    let v = k | 0;
    if (v < 0) {
      this.byte(0x2d);
      v = -v;
    }
    const whole = (v / 1000) | 0;
    let frac = v - whole * 1000;
    this.#uint(whole);
    if (frac === 0) return;
    if (this.pos + 4 > this.buf.length) this.room(4);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x2e;
    let unit = 100;
    while (frac > 0) {
      const d = (frac / unit) | 0;
      b[p++] = 0x30 + d;
      frac -= d * unit;
      unit = (unit / 10) | 0;
    }
    this.pos = p;
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
    // `"` and the seconds' digits, kept from the last time stamp: lines come seconds apart
    if (sec !== this.#sec) {
      this.#sec = sec;
      const at = this.pos;
      this.byte(0x22);
      this.#uint(sec);
      this.#secText = new Uint8Array(this.buf.subarray(at, this.pos)); // a copy: the buffer is written on
    } else this.lit(this.#secText);
    if (this.pos + 11 > this.buf.length) this.room(11);
    const b = this.buf;
    const p = this.pos;
    b[p] = 0x2e;
    nineDigits(b, p + 1, nsec);
    b[p + 10] = 0x22;
    this.pos = p + 11;
  }

  #uint(n: number): void {
    // n < 2^32: its digit count by comparison, then two digits per division from the right
    let digits = 1;
    for (let ten = 10; digits < 10 && n >= ten; ten *= 10) digits++;
    if (this.pos + digits > this.buf.length) this.room(digits);
    const b = this.buf;
    let v = n;
    let i = this.pos + digits - 2;
    for (; i >= this.pos; i -= 2) {
      const q = Math.floor(v / 100);
      const r = (v - q * 100) << 1;
      b[i] = DIGIT_PAIRS[r];
      b[i + 1] = DIGIT_PAIRS[r + 1];
      v = q;
    }
    if (i === this.pos - 1) b[this.pos] = 0x30 + v;
    this.pos += digits;
  }
}
