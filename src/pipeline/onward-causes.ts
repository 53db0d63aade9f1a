// A question its server could not answer because the server's own question onward
// failed: a DNS forwarder (dnsmasq in a qdhcp namespace, a node's stub resolver) asks
// the same question upstream, and when that query is lost, unanswered or refused, the
// client's query goes unanswered (or gets SERVFAIL) at a server that is itself fine. The
// hop where the client's query broke shows nothing wrong; the onward query's verdict,
// and its own cause, say why (docs/json-lines.md `cause`, `upstream-failed`).
//
// A CauseProvider around another (live: the evidence gatherer): every problem verdict
// of a DNS query is kept a while as a possible onward query; a problem DNS query whose
// own cause is `unknown` (or none: an rcode) looks among them for the same question
// asked from the namespace its query reached, after it arrived there. The onward
// query's deadline often comes a moment after the client's, so its verdict is waited
// for, within the same bound as any cause — when there is one to wait for: a query with
// that question that began there after and was not judged yet (QueriesSince). A server
// that asks nobody (it answers from its own zone, or it is not running) holds no verdict
// back; when every query waited, each unanswered one held its own record and every
// record behind it for the whole bound (2.7 s from deadline to record, not 0.7).
import type {
  Cause,
  DnsFlow,
  EvidenceItem,
  ExchangeEvidence,
  ExchangeFlow,
  ExchangeRecord,
  StageSighting,
} from '../events/types.js';
import { MAX_EVIDENCE_ITEMS } from '../evidence/recording.js';
import type { JudgedExchange } from '../shared/judged-exchange.js';
import { CAUSE_WAIT_MS, type CauseProvider, isProblem } from './causes.js';

/** Where an interface is: its host and namespace, as a key (null: not known). */
export type NamespaceOf = (
  label: string,
) => { key: string; host: string | null; netns: string | null } | null;

/**
 * The DNS queries that began at or after (sec, nsec) (a record's time stamp) and are not
 * judged yet: each one's first sighting's label and its flow (made when asked for) to
 * `visit`, which returns true to stop; false when that could not be told (too many to
 * look through). Live: the correlator's (correlate/recent-exchanges.ts). Verdicts reach
 * causeOf as they are judged, so a query judged already was kept, when it was a problem.
 */
export type QueriesSince = (
  sec: number,
  nsec: number,
  visit: (firstLabel: string, flow: () => ExchangeFlow) => boolean,
) => boolean;

/** Problem DNS verdicts kept as possible onward queries: this long (ms) … */
const KEEP_MS = 10_000;
/** … and this many at most. */
const MAX_KEPT = 4096;

interface Kept {
  ex: ExchangeRecord;
  /** where its query started */
  from: string | null;
  startNs: number;
  cause: Cause | Promise<Cause | null> | null;
  ms: number;
}

/** A problem query whose server's namespace is known: what an onward query of it must match. */
interface Asked {
  ex: ExchangeRecord;
  /** the namespace its query reached (its last sighting's) */
  at: string;
  /** when it reached it */
  arrivedNs: number;
  /** the same, as the record's time stamp has it: seconds and nanoseconds */
  arrivedSec: number;
  arrivedNsec: number;
}

interface Pending {
  asked: Asked;
  found: (kept: Kept | null) => void;
}

export class OnwardCauses implements CauseProvider {
  readonly #inner: CauseProvider;
  readonly #namespaceOf: NamespaceOf;
  readonly #queriesSince: QueriesSince | null;
  readonly #waitMs: number;
  readonly #kept: Kept[] = [];
  readonly #pending = new Set<Pending>();

  /** `queriesSince` null: any query may still come, so each waits the whole bound. */
  constructor(
    inner: CauseProvider,
    namespaceOf: NamespaceOf,
    queriesSince: QueriesSince | null = null,
    waitMs = CAUSE_WAIT_MS,
  ) {
    this.#inner = inner;
    this.#namespaceOf = namespaceOf;
    this.#queriesSince = queriesSince;
    this.#waitMs = waitMs;
  }

  mayHaveCause(status: ExchangeRecord['status']): boolean {
    return this.#inner.mayHaveCause(status);
  }

  giveUp(ex: ExchangeRecord): Cause | null {
    return this.#inner.giveUp(ex);
  }

  anticipate(overdue: JudgedExchange): void {
    this.#inner.anticipate?.(overdue);
  }

  causeOf(ex: ExchangeRecord): Cause | Promise<Cause | null> | null {
    const own = this.#inner.causeOf(ex);
    if (ex.kind !== 'dns' || !isProblem(ex.status)) return own;
    this.#keep(ex, own);
    const asked = this.#asked(ex);
    if (asked === null) return own;
    const looking = this.#onwardOf(asked);
    return Promise.resolve(own).then(async (cause) => {
      if (cause !== null && cause.code !== 'unknown') return cause;
      const onward = await looking;
      if (onward === null) return cause;
      return onwardCause(
        ex,
        onward.ex,
        await onward.cause,
        this.#namespaceOf(firstSighting(onward.ex)?.iface ?? ''),
      );
    });
  }

  /** Kept as a possible onward query; the queries waiting for one like it are told. */
  #keep(ex: ExchangeRecord, cause: Cause | Promise<Cause | null> | null): void {
    const first = firstSighting(ex);
    if (first === undefined) return;
    const now = Date.now();
    const kept = this.#kept;
    let old = 0;
    while (old < kept.length && (kept.length - old >= MAX_KEPT || now - kept[old].ms > KEEP_MS)) old++;
    if (old > 0) kept.splice(0, old);
    const k: Kept = {
      ex,
      from: this.#namespaceOf(first.iface)?.key ?? null,
      startNs: tsNs(first.ts),
      // (a cause never asked for must not become an unhandled rejection)
      cause: cause instanceof Promise ? cause.catch(() => null) : cause,
      ms: now,
    };
    kept.push(k);
    for (const p of this.#pending)
      if (asksOnward(p.asked, k)) {
        this.#pending.delete(p);
        p.found(k);
      }
  }

  /** The query's server namespace and when it got there, when its query reached a known one. */
  #asked(ex: ExchangeRecord): Asked | null {
    const query = ex.stages.find((s) => s.name === 'query');
    const last = query?.seen[query.seen.length - 1];
    if (last === undefined || ex.flow === undefined || !('qname' in ex.flow) || ex.flow.qname === null)
      return null;
    const at = this.#namespaceOf(last.iface);
    if (at === null) return null;
    const [arrivedSec, arrivedNsec] = tsParts(last.ts);
    return { ex, at: at.key, arrivedNs: arrivedSec * 1e9 + arrivedNsec, arrivedSec, arrivedNsec };
  }

  /**
   * Whether an onward query of `asked` may still be judged: one with its question began
   * in its server's namespace after it got there and is not judged yet — or that cannot
   * be told. (One judged already was kept, when it was a problem; an answered one
   * explains nothing.)
   */
  #mayCome(asked: Asked): boolean {
    if (this.#queriesSince === null) return true;
    let found = false;
    const told = this.#queriesSince(asked.arrivedSec, asked.arrivedNsec, (first, flow) => {
      found = this.#namespaceOf(first)?.key === asked.at && sameQuestion(asked, flow());
      return found;
    });
    return found || !told;
  }

  /** The onward query kept or judged within the wait, or null. */
  #onwardOf(asked: Asked): Promise<Kept | null> {
    for (let i = this.#kept.length - 1; i >= 0; i--)
      if (asksOnward(asked, this.#kept[i])) return Promise.resolve(this.#kept[i]);
    if (!this.#mayCome(asked)) return Promise.resolve(null);
    return new Promise((resolve) => {
      const p: Pending = {
        asked,
        found: (k) => {
          clearTimeout(timer);
          resolve(k);
        },
      };
      const timer = setTimeout(() => {
        this.#pending.delete(p);
        resolve(null);
      }, this.#waitMs);
      this.#pending.add(p);
    });
  }
}

/** Whether `flow` is the question `asked`, asked again by another asker: `asked`'s own exchange is not. */
function sameQuestion(asked: Asked, flow: ExchangeFlow): boolean {
  const a = asked.ex.flow as DnsFlow;
  const b = flow as Partial<DnsFlow>;
  if (b.qname !== a.qname || b.qtype !== a.qtype) return false;
  return b.src !== a.src || b.dst !== a.dst || b.id !== a.id;
}

/** Whether `k` is the question `asked`'s server asked in turn: the same question, from there, after. */
function asksOnward(asked: Asked, k: Kept): boolean {
  const ex = asked.ex;
  if (k.ex === ex || k.from !== asked.at || k.startNs < asked.arrivedNs) return false;
  return sameQuestion(asked, k.ex.flow);
}

/** The cause of `ex`: its server's onward query `onward`, as judged, with that query's own cause. */
function onwardCause(
  ex: ExchangeRecord,
  onward: ExchangeRecord,
  cause: Cause | null,
  where: ReturnType<NamespaceOf>,
): Cause {
  const asked = ex.flow as { dst: string | null; qname: string | null; qtype: string };
  const upstream = (onward.flow as { dst: string | null }).dst ?? '?';
  const outcome =
    onward.status === 'error'
      ? `was answered with ${onward.detail ?? 'an error'}`
      : onward.status === 'lost'
        ? `was lost after ${onward.lost?.lastSeen ?? '?'}`
        : `got no answer (it reached ${onward.lost?.lastSeen ?? '?'})`;
  const item: ExchangeEvidence = {
    source: 'exchange',
    ...(where?.host != null ? { host: where.host } : {}),
    ...(where?.netns != null ? { netns: where.netns } : {}),
    kind: onward.kind,
    key: onward.key,
    status: onward.status,
    ...(onward.detail !== undefined ? { detail: onward.detail } : {}),
    ts: onward.ts,
  };
  const evidence: EvidenceItem[] = [item, ...(cause?.evidence ?? [])].slice(0, MAX_EVIDENCE_ITEMS);
  return {
    code: 'upstream-failed',
    summary: `the server ${asked.dst ?? '?'} asked ${upstream} in turn for ${asked.qname ?? '?'} ${asked.qtype}, and that query ${outcome}${
      cause !== null && cause.code !== 'unknown' ? `: ${cause.summary}` : ''
    }`,
    // (where the onward query broke; answered with an error, where it was answered)
    at: cause?.at ?? onward.lost?.lastSeen ?? onward.stages[0]?.seen.at(-1)?.iface ?? '',
    evidence,
  };
}

function firstSighting(ex: ExchangeRecord): StageSighting | undefined {
  return ex.stages[0]?.seen[0];
}

/** A record's time stamp (`sec.nsec`) in ns, as a double: close enough to order hops µs apart. */
function tsNs(ts: string): number {
  const [sec, nsec] = tsParts(ts);
  return sec * 1e9 + nsec;
}

/** A record's time stamp (`sec.nsec`) as seconds and nanoseconds. */
function tsParts(ts: string): [number, number] {
  const dot = ts.indexOf('.');
  if (dot < 0) return [Number(ts), 0];
  return [
    Number(ts.slice(0, dot)),
    Number(
      ts
        .slice(dot + 1)
        .padEnd(9, '0')
        .slice(0, 9),
    ),
  ];
}
