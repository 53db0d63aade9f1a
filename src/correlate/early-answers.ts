// Answers read before their question (docs/verdicts.md "Exchanges and their stages").
// Live, every interface hands its packets over in batches of its own: a router's
// capture may deliver the SYN-ACK it forwarded before the client's and the server's
// captures deliver the SYN, and a recording keeps that order; some files hold it too.
// In a replay of several hosts' files, a host whose clock is behind puts a later hop
// first. An answer whose exchange is not open yet waits here; when its question opens
// the exchange, the answers that waited for its key join it, in the order they were
// read. An answer whose question never comes (the capture started after it was asked)
// is forgotten once EARLY_ANSWERS later ones waited.
//
// On the packet path: every answer without its exchange waits (a capture begun amid
// connections holds many), every new exchange asks for its key. The answers are rows of
// typed arrays (a pool of Classified objects cost 2 % more on the bench's mix, one
// packet in eight a SYN-ACK without its SYN), chained by key slot in a bucket array:
// nothing is allocated per answer.
import { UNSIGNED_32 } from '../decode/record.js';
import { Classified } from './classified.js';

/** Answers waiting for their question at most at once. */
export const EARLY_ANSWERS = 1024;
/**
 * Buckets of key slots (a power of two, many per row: chains stay short, and most new
 * exchanges find their bucket empty without a call).
 */
const BUCKETS = 16384;

/** An answer that joins the exchange its question opened: the correlator's packet path. */
export type AnswerSink = (c: Classified, iface: number, sec: number, nsec: number) => void;

/** Per row: an answer's whole numbers (Classified fields that fit 32 bits signed), then its interface and nsec. */
const enum A {
  Kind,
  Stage,
  L2Src,
  L2Dst,
  SrcHash,
  DstHash,
  Tunnel,
  Ttl,
  NameLen,
  Flags,
  Iface,
  Nsec,
}
const A_INTS = 12;
/** Per row: the numbers that may not (32-bit unsigned hashes, the kind's own numbers), and its times. */
const enum D {
  Fingerprint,
  Key,
  Keep,
  MustMatch,
  Sec,
  LatestRel,
}
const A_DOUBLES = 6;
const ERROR_ABOUT_ANSWER = 1;
const BROADCAST = 2;

export class EarlyAnswers {
  /** the answers (A, D: its time stamp, and its time on the reference clock plus how far its host's clock may be off) */
  readonly #ints = new Int32Array(EARLY_ANSWERS * A_INTS);
  readonly #doubles = new Float64Array(EARLY_ANSWERS * A_DOUBLES);
  /** an error answer's text ('' for none) */
  readonly #errorDetail: string[] = new Array<string>(EARLY_ANSWERS).fill('');
  /** the exchange key's slot and check; slot -1: the row waits no more */
  readonly #slot = new Int32Array(EARLY_ANSWERS).fill(-1);
  readonly #check = new Int32Array(EARLY_ANSWERS);
  /** the row's write number (a row overwritten since a chain linked to it has another) */
  readonly #written = new Float64Array(EARLY_ANSWERS);
  /** the next older row of the same bucket, and its write number then (-1: none) */
  readonly #older = new Int32Array(EARLY_ANSWERS);
  readonly #olderWritten = new Float64Array(EARLY_ANSWERS);
  /** bucket of a key slot → its newest row, and that row's write number (0: none) */
  readonly #newest = new Int32Array(BUCKETS).fill(-1);
  readonly #newestWritten = new Float64Array(BUCKETS);
  /** bucket → its rows still waiting */
  readonly #bucketWaiting = new Int32Array(BUCKETS);
  /** the rows one release takes, oldest last */
  readonly #taken = new Int32Array(EARLY_ANSWERS);
  /** what a released answer is handed on in (the sink may make another answer wait) */
  readonly #out = new Classified();
  #writes = 0;
  /**
   * The answer park() is given next: its time stamp on its host's clock, and its time on
   * the reference clock plus how far that clock may be off. (Fields, not parameters: a
   * time passed in a call is a boxed double, and every answer without its exchange
   * comes here.)
   */
  sec = UNSIGNED_32;
  nsec = 0;
  latestRel = UNSIGNED_32;
  /** The question release() is given next: its time on the reference clock less how far its clock may be off. */
  earliestRel = UNSIGNED_32;

  constructor() {
    // (the time fields hold doubles from the start: see UNSIGNED_32)
    this.sec = 0;
    this.latestRel = 0;
    this.earliestRel = 0;
  }

  /** Whether an answer may wait for key slot `slot` (the packet path asks at each new exchange). */
  waitingFor(slot: number): boolean {
    return this.#bucketWaiting[slot & (BUCKETS - 1)] > 0;
  }

  /** Answer `c`, read on `iface` at (this.sec, this.nsec), found no open exchange: it waits for its question. */
  park(c: Classified, iface: number): void {
    const k = this.#writes % EARLY_ANSWERS;
    // the oldest row goes (a chain that reaches it sees its new write number, and stops)
    if (this.#slot[k] >= 0) this.#bucketWaiting[this.#slot[k] & (BUCKETS - 1)]--;
    const i = k * A_INTS;
    const n = this.#ints;
    n[i + A.Kind] = c.kind;
    n[i + A.Stage] = c.stage;
    n[i + A.L2Src] = c.l2Src;
    n[i + A.L2Dst] = c.l2Dst;
    n[i + A.SrcHash] = c.srcHash;
    n[i + A.DstHash] = c.dstHash;
    n[i + A.Tunnel] = c.tunnel;
    n[i + A.Ttl] = c.ttl;
    n[i + A.NameLen] = c.nameLen;
    n[i + A.Flags] = (c.errorAboutAnswer ? ERROR_ABOUT_ANSWER : 0) | (c.broadcast ? BROADCAST : 0);
    n[i + A.Iface] = iface;
    n[i + A.Nsec] = this.nsec;
    const d = k * A_DOUBLES;
    const f = this.#doubles;
    f[d + D.Fingerprint] = c.fingerprint;
    f[d + D.Key] = c.key;
    f[d + D.Keep] = c.keep;
    f[d + D.MustMatch] = c.mustMatch;
    f[d + D.Sec] = this.sec;
    f[d + D.LatestRel] = this.latestRel;
    this.#errorDetail[k] = c.errorDetail;
    this.#slot[k] = c.keySlot;
    this.#check[k] = c.keyCheck;
    const written = ++this.#writes;
    this.#written[k] = written;
    const b = c.keySlot & (BUCKETS - 1);
    this.#older[k] = this.#newest[b];
    this.#olderWritten[k] = this.#newestWritten[b];
    this.#newest[b] = k;
    this.#newestWritten[b] = written;
    this.#bucketWaiting[b]++;
  }

  /**
   * A question of key (slot, check) opened its exchange, stamped this.earliestRel: the
   * answers of that key that may have come after it (each with its own clock's
   * uncertainty) go to `sink`, in the order they were read; the others answered an
   * earlier question, and are forgotten.
   */
  release(slot: number, check: number, sink: AnswerSink): void {
    const earliestRel = this.earliestRel;
    const b = slot & (BUCKETS - 1);
    let n = 0;
    let k = this.#newest[b];
    let written = this.#newestWritten[b];
    // the bucket's chain, newest first, up to a row overwritten since it was linked
    while (k >= 0 && this.#written[k] === written) {
      if (this.#slot[k] === slot) {
        this.#taken[n++] = k;
        this.#slot[k] = -1;
        this.#bucketWaiting[b]--;
      }
      written = this.#olderWritten[k];
      k = this.#older[k];
    }
    for (let i = n - 1; i >= 0; i--) {
      const r = this.#taken[i];
      if (this.#check[r] !== check || this.#doubles[r * A_DOUBLES + D.LatestRel] < earliestRel) continue;
      sink(
        this.#answer(r, slot, check),
        this.#ints[r * A_INTS + A.Iface],
        this.#doubles[r * A_DOUBLES + D.Sec],
        this.#ints[r * A_INTS + A.Nsec],
      );
    }
  }

  /** Row r's answer in #out (an answer carries no key bytes: `hasKey` is the question's). */
  #answer(r: number, slot: number, check: number): Classified {
    const c = this.#out;
    const i = r * A_INTS;
    const n = this.#ints;
    const d = r * A_DOUBLES;
    const f = this.#doubles;
    c.kind = n[i + A.Kind];
    c.stage = n[i + A.Stage];
    c.l2Src = n[i + A.L2Src];
    c.l2Dst = n[i + A.L2Dst];
    c.srcHash = n[i + A.SrcHash];
    c.dstHash = n[i + A.DstHash];
    c.tunnel = n[i + A.Tunnel];
    c.ttl = n[i + A.Ttl];
    c.nameLen = n[i + A.NameLen];
    c.errorAboutAnswer = (n[i + A.Flags] & ERROR_ABOUT_ANSWER) !== 0;
    c.broadcast = (n[i + A.Flags] & BROADCAST) !== 0;
    c.fingerprint = f[d + D.Fingerprint];
    c.key = f[d + D.Key];
    c.keySlot = slot;
    c.keyCheck = check;
    c.keep = f[d + D.Keep];
    c.mustMatch = f[d + D.MustMatch];
    c.errorDetail = this.#errorDetail[r];
    c.hasKey = false;
    return c;
  }
}
