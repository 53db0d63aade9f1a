// Causes joined to verdicts (docs/json-lines.md `cause`), between the
// correlator and the sinks:
//
//   verdict ─► VerdictOrder ─(problem: waits for its cause)─► sinks, in verdict order
//                  └─ CauseProvider: live, the evidence gatherer (GatheredCauses);
//                     a replay, the causes its recording carries (RecordedCauses)
//
// A lost, unanswered or error verdict waits for its cause; the verdicts after it wait
// behind it, so records come out in the order of their verdicts. The wait is bounded:
// live by CAUSE_WAIT_MS (REMOTE_CAUSE_WAIT_MS for a hop on a remote host; then the
// cause is `unknown`, its evidence saying what had not been read), a replay by packet time (RECORDED_CAUSE_SLACK_S past the exchange), and
// both by MAX_WAITING verdicts behind a cause. Nothing here is on the packet path:
// verdicts only, and gathering runs on the event loop, off the capture.
import type { Cause, EvidenceItem, EvidenceSource, ExchangeRecord } from '../events/types.js';
import type { VerdictContext } from '../evidence/context.js';
import type { EvidenceGatherer, ExplainProgress } from '../evidence/gatherer.js';
import { causeKey, decodeCauseComment } from '../evidence/recording.js';
import { verdictContext } from '../evidence/verdict-context.js';
import type { JudgedExchange } from '../shared/judged-exchange.js';
import type { PacketMemory } from './packet-memory.js';

/** Longest a verdict's record waits for its cause, live (ms): broken on this machine … */
export const CAUSE_WAIT_MS = 2000;
/** … and on a remote host (an ssh session per reading, and its kernel trace a tick behind). */
export const REMOTE_CAUSE_WAIT_MS = 6000;
/** Verdicts held behind a cause at most: beyond, the oldest gives up waiting. */
export const MAX_WAITING = 20_000;
/** Problems explained a second at most; beyond, a break at the same hop gets the cause found there. */
export const EXPLAINED_PER_SECOND = 50;
/** A cause found at a hop answers for the same break there this long (ms) once over the bound. */
const SAME_BREAK_MS = 5000;
/**
 * A cause begun for an overdue exchange waits this long (ms) for its verdict, at most
 * MAX_ANTICIPATED of them: the hold (2.5 s with remote hosts) and then some. One whose
 * verdict came out otherwise (its answer arrived late) is dropped unused.
 */
const ANTICIPATED_KEEP_MS = 10_000;
const MAX_ANTICIPATED = 4096;
/** A replay gives up on a recorded cause once packets this far past the exchange are read (s). */
export const RECORDED_CAUSE_SLACK_S = 20;
/** Causes read from a recording before their verdicts, kept at most. */
const MAX_EARLY_CAUSES = 65_536;

export function isProblem(status: ExchangeRecord['status']): boolean {
  return status === 'lost' || status === 'unanswered' || status === 'error';
}

/** Where verdicts get their causes from. */
export interface CauseProvider {
  /**
   * A verdict's cause: a Cause now, a promise of one (null: none came), or null when
   * none will come (an ok verdict, nothing to read from).
   */
  causeOf(ex: ExchangeRecord): Cause | Promise<Cause | null> | null;
  /** Whether a verdict of this status may get a cause (false: causeOf would say null). */
  mayHaveCause(status: ExchangeRecord['status']): boolean;
  /** The order can hold it no longer (MAX_WAITING verdicts behind it): its cause now, if any. */
  giveUp(ex: ExchangeRecord): Cause | null;
  /**
   * Live: an exchange overdue but not yet judged (its hold lasts), as it would be judged
   * now (Correlator lookAhead). A provider may start on the cause of a problem, for the
   * verdict to find it when it is judged the same way.
   */
  anticipate?(overdue: JudgedExchange): void;
}

interface Waiting {
  ex: ExchangeRecord;
  output: boolean;
  records: boolean;
  done: boolean;
}

/** Verdict records to the sinks in verdict order, each problem with its cause. */
export class VerdictOrder {
  readonly #provider: CauseProvider;
  readonly #deliver: (ex: ExchangeRecord, output: boolean, records: boolean) => void;
  readonly #queue: Waiting[] = [];
  #head = 0;
  #settled: Array<() => void> = [];

  constructor(
    provider: CauseProvider,
    deliver: (ex: ExchangeRecord, output: boolean, records: boolean) => void,
  ) {
    this.#provider = provider;
    this.#deliver = deliver;
  }

  /** Verdicts waiting (for their cause, or behind one). */
  get waiting(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * Whether a verdict of this status would go to the sinks at once, as it is: one that
   * has no cause to find (not a problem; a replay of a recording without causes) while
   * none waits ahead of it. The pipeline then hands it on as judged, without building
   * its record for add().
   */
  passesAtOnce(status: ExchangeRecord['status']): boolean {
    return this.waiting === 0 && !this.#provider.mayHaveCause(status);
  }

  /** A verdict: to the output and/or the other sink of records, once its cause is known. */
  add(ex: ExchangeRecord, output: boolean, records: boolean): void {
    const cause = isProblem(ex.status) ? this.#provider.causeOf(ex) : null;
    if (cause === null || !(cause instanceof Promise)) {
      if (cause !== null) ex.cause = cause;
      if (this.waiting === 0) {
        this.#deliver(ex, output, records);
        return;
      }
      this.#queue.push({ ex, output, records, done: true });
    } else {
      const w: Waiting = { ex, output, records, done: false };
      this.#queue.push(w);
      void cause.then(
        (c) => this.#resolved(w, c),
        () => this.#resolved(w, null),
      );
    }
    if (this.waiting > MAX_WAITING) {
      const head = this.#queue[this.#head];
      if (!head.done) this.#resolved(head, this.#provider.giveUp(head.ex));
    }
  }

  /** Resolves once every verdict given so far has gone to the sinks. */
  settled(): Promise<void> {
    if (this.waiting === 0) return Promise.resolve();
    return new Promise((resolve) => this.#settled.push(resolve));
  }

  #resolved(w: Waiting, cause: Cause | null): void {
    if (w.done) return;
    w.done = true;
    if (cause !== null) w.ex.cause = cause;
    this.#flush();
  }

  #flush(): void {
    while (this.#head < this.#queue.length && this.#queue[this.#head].done) {
      const w = this.#queue[this.#head++];
      this.#deliver(w.ex, w.output, w.records);
    }
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
      const settled = this.#settled;
      this.#settled = [];
      for (const resolve of settled) resolve();
    } else if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
  }
}

/** The hop's state sources, as a timed-out reading leaves them unread. */
const STATE_SOURCES: readonly EvidenceSource[] = [
  'nftables',
  'iptables',
  'neighbour',
  'route',
  'sysctl',
  'link',
  'conntrack',
  'socket',
];

export interface GatheredCausesOptions {
  waitMs?: number;
  remoteWaitMs?: number;
}

/** A cause begun for an overdue exchange (GatheredCauses.anticipate). */
interface Begun {
  breakKey: string;
  /** its context, with the packets found then; null: not looked into (over the bound) */
  ctx: VerdictContext | null;
  cause: Promise<Cause | null>;
  ms: number;
}

/** Live: the evidence gatherer explains each problem, with the packet the memory kept. */
export class GatheredCauses implements CauseProvider {
  readonly #gatherer: EvidenceGatherer;
  readonly #memory: PacketMemory;
  readonly #waitMs: number;
  readonly #remoteWaitMs: number;
  #second = 0;
  #thisSecond = 0;
  /** the latest cause found per break (kind, status, stage, last seen, next), with when */
  readonly #byBreak = new Map<string, { cause: Cause; ms: number }>();
  /**
   * Causes begun before their verdicts (anticipate), by exchange (kind, key, first time
   * stamp), in the order begun: the break each was begun for, the context read then
   * (its packets: the memory moves on), and the cause found then.
   */
  readonly #anticipated = new Map<string, Begun>();
  /** verdicts that found their cause begun already (the rest are read when judged) */
  anticipatedUsed = 0;

  constructor(gatherer: EvidenceGatherer, memory: PacketMemory, options: GatheredCausesOptions = {}) {
    this.#gatherer = gatherer;
    this.#memory = memory;
    this.#waitMs = options.waitMs ?? CAUSE_WAIT_MS;
    this.#remoteWaitMs = options.remoteWaitMs ?? REMOTE_CAUSE_WAIT_MS;
  }

  mayHaveCause(status: ExchangeRecord['status']): boolean {
    return isProblem(status);
  }

  anticipate(overdue: JudgedExchange): void {
    if (!isProblem(overdue.status)) return;
    const ex = overdue.record();
    const now = Date.now();
    const anticipated = this.#anticipated;
    for (const [k, a] of anticipated) {
      if (anticipated.size < MAX_ANTICIPATED && now - a.ms < ANTICIPATED_KEEP_MS) break;
      anticipated.delete(k);
    }
    const key = causeKey(ex);
    const breakKey = breakKeyOf(ex);
    // the same break looked at already (an exchange's deadline moved, its break did not)
    if (anticipated.get(key)?.breakKey === breakKey) return;
    anticipated.delete(key);
    const admitted = this.#admit(ex, breakKey, now);
    anticipated.set(
      key,
      admitted instanceof Promise
        ? { breakKey, ctx: null, cause: admitted, ms: now }
        : {
            breakKey,
            ctx: admitted,
            // (a cause never asked for must not become an unhandled rejection)
            cause: this.#explain(ex, admitted, breakKey).catch(() => null),
            ms: now,
          },
    );
  }

  causeOf(ex: ExchangeRecord): Promise<Cause | null> | null {
    if (!isProblem(ex.status)) return null;
    const breakKey = breakKeyOf(ex);
    if (this.#anticipated.size > 0) {
      const key = causeKey(ex);
      const begun = this.#anticipated.get(key);
      if (begun !== undefined) {
        this.#anticipated.delete(key);
        if (begun.breakKey === breakKey) {
          this.anticipatedUsed++;
          const ctx = begun.ctx;
          if (ctx === null) return begun.cause;
          // Explained again once the reading begun is done, on the packets found then:
          // the hop's readings are shared and cached, so this costs little, and the
          // cause is the verdict's (what the kernel reported since, the record itself).
          return begun.cause.then(() => this.#explain(ex, { ...ctx, exchange: ex }, breakKey));
        }
      }
    }
    const admitted = this.#admit(ex, breakKey, Date.now());
    return admitted instanceof Promise ? admitted : this.#explain(ex, admitted, breakKey);
  }

  /**
   * A problem's context (its packets looked up now: the memory moves on), or, beyond
   * EXPLAINED_PER_SECOND, the cause found at the same break lately (else `unknown`).
   */
  #admit(ex: ExchangeRecord, key: string, now: number): VerdictContext | Promise<Cause> {
    const second = Math.floor(now / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#thisSecond = 0;
    }
    if (++this.#thisSecond > EXPLAINED_PER_SECOND) {
      const same = this.#byBreak.get(key);
      const cause: Cause =
        same !== undefined && now - same.ms < SAME_BREAK_MS
          ? same.cause
          : {
              code: 'unknown',
              summary: `not looked into: more than ${EXPLAINED_PER_SECOND} broken exchanges a second, and none explained at this hop in the last ${SAME_BREAK_MS / 1000} s`,
              at: ex.lost?.lastSeen ?? '',
              evidence: [],
            };
      return Promise.resolve(cause);
    }
    return verdictContext(ex, (iface, ts) => this.#memory.find(iface, ts, ex));
  }

  /** The gatherer's cause for a problem, within CAUSE_WAIT_MS (REMOTE_CAUSE_WAIT_MS). */
  #explain(ex: ExchangeRecord, ctx: VerdictContext, key: string): Promise<Cause | null> {
    const progress: ExplainProgress = { step: null };
    const remote = ctx.lastSeen?.host != null || ctx.next?.host != null;
    const waitMs = remote ? this.#remoteWaitMs : this.#waitMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<Cause>((resolve) => {
      timer = setTimeout(() => resolve(timeoutCause(ex, progress, waitMs)), waitMs);
    });
    return Promise.race([this.#gatherer.explain(ctx, progress), timedOut]).then((cause) => {
      clearTimeout(timer);
      if (cause !== null) {
        this.#byBreak.set(key, { cause, ms: Date.now() });
        if (this.#byBreak.size > 1024) this.#byBreak.delete(this.#byBreak.keys().next().value as string);
      }
      return cause;
    });
  }

  giveUp(ex: ExchangeRecord): Cause {
    return {
      code: 'unknown',
      summary: `not waited for: ${MAX_WAITING} verdicts came while its evidence was read`,
      at: ex.lost?.lastSeen ?? '',
      evidence: [],
    };
  }
}

/** A problem's break: kind, status, stage, last seen, next (a cause found for one answers for the same). */
function breakKeyOf(ex: ExchangeRecord): string {
  return `${ex.kind}\u0000${ex.status}\u0000${ex.lost?.stage ?? ''}\u0000${ex.lost?.lastSeen ?? ''}\u0000${ex.lost?.missingOn[0] ?? ''}`;
}

/** `unknown`, its evidence naming what had not been read when the wait ended. */
function timeoutCause(ex: ExchangeRecord, progress: ExplainProgress, waitMs: number): Cause {
  const step = progress.step;
  const unread = `not read within ${waitMs / 1000} s`;
  const where = (p: { host: string | null; netns: string | null }): { host?: string; netns?: string } => ({
    ...(p.host !== null ? { host: p.host } : {}),
    ...(p.netns !== null ? { netns: p.netns } : {}),
  });
  const evidence: EvidenceItem[] =
    step === null
      ? []
      : step.kind === 'trace'
        ? [
            {
              source: 'kernel',
              host: step.host,
              unreadable: `${unread}: the host's kernel trace had not caught up`,
            },
          ]
        : step.places.flatMap((p) =>
            STATE_SOURCES.map((source) => ({
              source,
              ...where(p),
              unreadable: `${unread}: the hop's state`,
            })),
          );
  return {
    code: 'unknown',
    summary:
      step === null
        ? `no cause within ${waitMs / 1000} s`
        : step.kind === 'trace'
          ? `no cause within ${waitMs / 1000} s: waiting for the kernel trace of ${step.host}`
          : `no cause within ${waitMs / 1000} s: reading the state of ${step.places
              .map((p) => `${p.netns ?? 'the root namespace'}${p.host !== null ? ` on ${p.host}` : ''}`)
              .join(', ')}`,
    at: ex.lost?.lastSeen ?? ex.stages[0]?.seen.at(-1)?.iface ?? '',
    evidence,
  };
}

/**
 * A replay: the causes a recording carries (statistics block comments,
 * evidence/recording.ts), joined to the verdicts by kind, key and first time stamp.
 * Only a recording that says it carries them (its section comment) makes verdicts wait.
 */
export class RecordedCauses implements CauseProvider {
  /** a section said its recording carries causes */
  carried = false;
  /** problem verdicts that got a recorded cause */
  found = 0;
  /** comments that could not be used, and why (the first) */
  damaged = 0;
  firstDamage: string | null = null;
  /**
   * By kind, key and first time stamp, in the order they came: two verdicts may share
   * them (a DNS query repeated with its id, judged as two exchanges).
   */
  readonly #early = new Map<string, Cause[]>();
  #earlyCount = 0;
  readonly #waiting = new Map<string, Array<{ resolve: (c: Cause | null) => void; sec: number }>>();
  #packetSec = 0;

  /** A statistics block's comments (only cause comments are taken). */
  comments(comments: readonly string[]): void {
    for (const text of comments) {
      const d = decodeCauseComment(text);
      if (d === null) continue;
      if (!d.ok) {
        this.damaged++;
        this.firstDamage ??= d.reason;
        continue;
      }
      const key = causeKey(d.value);
      const waiting = this.#waiting.get(key);
      const first = waiting?.shift();
      if (waiting !== undefined && waiting.length === 0) this.#waiting.delete(key);
      if (first !== undefined) {
        this.found++;
        first.resolve(d.value.cause);
        continue;
      }
      const list = this.#early.get(key) ?? [];
      list.push(d.value.cause);
      this.#early.set(key, list);
      if (++this.#earlyCount > MAX_EARLY_CAUSES) {
        // the oldest key's causes go
        const [oldest, causes] = this.#early.entries().next().value as [string, Cause[]];
        this.#earlyCount -= causes.length;
        this.#early.delete(oldest);
      }
    }
  }

  /** The replay read a packet of this time (its host's clock, seconds): older waits give up. */
  advance(sec: number): void {
    if (sec <= this.#packetSec) return;
    this.#packetSec = sec;
    if (this.#waiting.size === 0) return;
    for (const [key, list] of this.#waiting) {
      while (list.length > 0 && list[0].sec + RECORDED_CAUSE_SLACK_S < sec) list.shift()?.resolve(null);
      if (list.length === 0) this.#waiting.delete(key);
    }
  }

  mayHaveCause(status: ExchangeRecord['status']): boolean {
    return this.carried && isProblem(status);
  }

  causeOf(ex: ExchangeRecord): Cause | Promise<Cause | null> | null {
    if (!isProblem(ex.status) || !this.carried) return null;
    const key = causeKey(ex);
    const early = this.#early.get(key);
    const cause = early?.shift();
    if (early !== undefined && early.length === 0) this.#early.delete(key);
    if (cause !== undefined) {
      this.#earlyCount--;
      this.found++;
      return cause;
    }
    const last = ex.stages.flatMap((s) => s.seen.map((x) => Number(x.ts.split('.')[0])));
    const sec = last.reduce((a, b) => (b > a ? b : a), Number(ex.ts.split('.')[0]));
    return new Promise((resolve) => {
      const list = this.#waiting.get(key) ?? [];
      list.push({ resolve, sec });
      this.#waiting.set(key, list);
    });
  }

  giveUp(ex: ExchangeRecord): null {
    const key = causeKey(ex);
    const list = this.#waiting.get(key);
    list?.shift()?.resolve(null);
    if (list !== undefined && list.length === 0) this.#waiting.delete(key);
    return null;
  }

  /** The recording is read to its end: what still waits has no recorded cause. */
  end(): void {
    for (const list of this.#waiting.values()) for (const w of list) w.resolve(null);
    this.#waiting.clear();
  }
}
