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
// connections holds many), every new exchange asks for its key. Rows of typed arrays
// and a pool of Classified copies, a bucket array of chains by key slot: nothing is
// allocated per answer.
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

/** What an answer holds for the packet path (an answer carries no key bytes: `hasKey` is the question's). */
function copyAnswer(to: Classified, from: Classified): void {
  to.fingerprint = from.fingerprint;
  to.kind = from.kind;
  to.stage = from.stage;
  to.key = from.key;
  to.keySlot = from.keySlot;
  to.keyCheck = from.keyCheck;
  to.keep = from.keep;
  to.mustMatch = from.mustMatch;
  to.errorDetail = from.errorDetail;
  to.errorAboutAnswer = from.errorAboutAnswer;
  to.l2Src = from.l2Src;
  to.l2Dst = from.l2Dst;
  to.srcHash = from.srcHash;
  to.dstHash = from.dstHash;
  to.broadcast = from.broadcast;
  to.tunnel = from.tunnel;
  to.ttl = from.ttl;
  to.nameLen = from.nameLen;
  to.hasKey = false;
}

export class EarlyAnswers {
  readonly #packets: Classified[] = [];
  readonly #iface = new Int32Array(EARLY_ANSWERS);
  readonly #sec = new Float64Array(EARLY_ANSWERS);
  readonly #nsec = new Int32Array(EARLY_ANSWERS);
  /** the answer's time on the reference clock, plus how far its host's clock may be off */
  readonly #latestRel = new Float64Array(EARLY_ANSWERS);
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
    for (let k = 0; k < EARLY_ANSWERS; k++) this.#packets.push(new Classified());
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
    copyAnswer(this.#packets[k], c);
    this.#iface[k] = iface;
    this.#sec[k] = this.sec;
    this.#nsec[k] = this.nsec;
    this.#latestRel[k] = this.latestRel;
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
      if (this.#check[r] !== check || this.#latestRel[r] < earliestRel) continue;
      copyAnswer(this.#out, this.#packets[r]);
      sink(this.#out, this.#iface[r], this.#sec[r], this.#nsec[r]);
    }
  }
}
