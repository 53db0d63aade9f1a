// Reads the state of hops (hop-script.ts) — locally one `ip netns exec` per namespace,
// over ssh one batched command per host for all its namespaces — with a cache and a
// bound, so a burst of verdicts broken at the same hop reads it once:
//
//   - a namespace read within `cacheMs` (1 s) is answered from that reading when it
//     covered what is asked (same route lookups or fewer, same sources or fewer), and
//     one being read (or waiting its turn) from the reading under way when it covers it;
//   - at most `perSecond` (8) readings start per second; beyond, a reading waits its
//     turn, and when `maxWaiting` (64) already wait it is not made: its sources are
//     reported unreadable ("not read: more than 8 hop readings a second");
//   - each reading is killed after `timeoutMs` (10 s locally, 20 s over ssh).
// Off the capture path: child processes started by the command helper
// (shared/command-launcher.ts: this process never forks for them), awaited on the event loop.
import { launch, type LaunchedCommandResult } from '../../shared/command-launcher.js';
import { sshArgv } from '../../sources/ssh.js';
import { acquireSshStart, SSH_REFUSED_AT_STARTUP } from '../../sources/ssh-start-gate.js';
import { splitHostOutput, splitSections } from './hop-output.js';
import { hopFacts, unenterableFacts, type HopFacts } from './hop-facts.js';
import { hostCommand, localArgv, type HopScriptRequest, type RouteQuery } from './hop-script.js';

/** Output of one reading kept at most (a namespace's ruleset and sockets fit many times). */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export const HOP_READER_DEFAULTS = {
  cacheMs: 1000,
  perSecond: 8,
  maxWaiting: 64,
  localTimeoutMs: 10_000,
  sshTimeoutMs: 20_000,
} as const;

export interface HopReaderOptions {
  /** `ssh -F FILE` for remote hosts (the lab writes one) */
  sshConfig?: string;
  sshProgram?: readonly string[];
  cacheMs?: number;
  perSecond?: number;
  maxWaiting?: number;
  localTimeoutMs?: number;
  sshTimeoutMs?: number;
  now?: () => number;
}

export interface HopReadRequest {
  netns: string | null;
  request: HopScriptRequest;
}

/** A reading that said nothing on stderr: why it failed. */
function whyFailed(r: LaunchedCommandResult): string {
  if (r.error !== null) return r.error;
  if (r.timedOut) return 'timed out';
  return r.exitCode !== null ? `exit status ${r.exitCode}` : `killed by ${r.signal ?? 'a signal'}`;
}

function routeKey(r: RouteQuery): string {
  return `${r.dst}|${r.from ?? ''}|${r.iif ?? ''}`;
}

/** Whether a reading made for `had` answers `want`. */
function covers(had: HopScriptRequest, want: HopScriptRequest): boolean {
  const routes = new Set(had.routes.map(routeKey));
  return (
    (had.links || !want.links) &&
    (had.sockets || !want.sockets) &&
    (had.conntrack || !want.conntrack) &&
    (had.firewall || !want.firewall) &&
    want.routes.every((r) => routes.has(routeKey(r))) &&
    want.sysctlDevices.every((d) => had.sysctlDevices.includes(d))
  );
}

function placeKey(host: string | null, netns: string | null): string {
  return `${host ?? ''}\u0000${netns ?? ''}`;
}

/** The union of two requests (a reading for both). */
export function mergeRequests(a: HopScriptRequest, b: HopScriptRequest): HopScriptRequest {
  const routes = [...a.routes];
  for (const r of b.routes) if (!routes.some((x) => routeKey(x) === routeKey(r))) routes.push(r);
  return {
    links: a.links || b.links,
    routes,
    sysctlDevices: [...new Set([...a.sysctlDevices, ...b.sysctlDevices])],
    sockets: a.sockets || b.sockets,
    conntrack: a.conntrack || b.conntrack,
    firewall: a.firewall || b.firewall,
  };
}

export class HopReader {
  readonly #options: Required<Omit<HopReaderOptions, 'sshConfig' | 'sshProgram'>> &
    Pick<HopReaderOptions, 'sshConfig' | 'sshProgram'>;
  readonly #cache = new Map<string, { request: HopScriptRequest; facts: HopFacts }>();
  /** readings under way (or waiting to be admitted), by namespace: a burst of verdicts at one hop shares one */
  readonly #going = new Map<string, { request: HopScriptRequest; facts: Promise<HopFacts> }>();
  /** start times of the readings of the last second */
  #started: number[] = [];
  #waiting = 0;
  /** readings made (for tests and the README's limits) */
  readings = 0;

  constructor(options: HopReaderOptions = {}) {
    this.#options = { ...HOP_READER_DEFAULTS, now: () => Date.now(), ...options };
  }

  /** The facts of each namespace of one host (null: this machine), in the order asked. */
  read(host: string | null, requests: readonly HopReadRequest[]): Promise<HopFacts[]> {
    const now = this.#options.now();
    const results: Array<HopFacts | Promise<HopFacts> | null> = requests.map((r) => {
      const key = placeKey(host, r.netns);
      const hit = this.#cache.get(key);
      if (
        hit !== undefined &&
        now - hit.facts.readAtMs <= this.#options.cacheMs &&
        covers(hit.request, r.request)
      )
        return hit.facts;
      // a reading under way that covers it: its answer, not one more reading
      const going = this.#going.get(key);
      return going !== undefined && covers(going.request, r.request) ? going.facts : null;
    });
    const missing = requests.filter((_, k) => results[k] === null);
    if (missing.length > 0) {
      const fresh = this.#readAdmitted(host, missing);
      let k = 0;
      for (let j = 0; j < results.length; j++) {
        if (results[j] !== null) continue;
        const at = k++;
        const r = missing[at];
        const key = placeKey(host, r.netns);
        const facts = fresh.then((all) => all[at]);
        this.#going.set(key, { request: r.request, facts });
        const done = (): void => {
          if (this.#going.get(key)?.facts === facts) this.#going.delete(key);
        };
        facts.then(done, done);
        results[j] = facts;
      }
    }
    return Promise.all(results as Array<HopFacts | Promise<HopFacts>>);
  }

  /** A reading of `missing` once the per-second bound admits it (else each says it was not read); cached. */
  async #readAdmitted(host: string | null, missing: readonly HopReadRequest[]): Promise<HopFacts[]> {
    const admitted = await this.#admit();
    if (!admitted)
      return missing.map((r) =>
        unenterableFacts(
          { host, netns: r.netns },
          r.request,
          `not read: more than ${this.#options.perSecond} hop readings a second`,
          this.#options.now(),
        ),
      );
    const fresh = await this.#readNow(host, missing);
    missing.forEach((r, k) =>
      this.#cache.set(placeKey(host, r.netns), { request: r.request, facts: fresh[k] }),
    );
    return fresh;
  }

  /** Waits for a slot under the per-second bound; false when too many already wait. */
  async #admit(): Promise<boolean> {
    if (this.#waiting >= this.#options.maxWaiting) return false;
    this.#waiting++;
    try {
      for (;;) {
        const now = this.#options.now();
        this.#started = this.#started.filter((t) => now - t < 1000);
        if (this.#started.length < this.#options.perSecond) {
          this.#started.push(now);
          return true;
        }
        await new Promise((r) => setTimeout(r, 1000 - (now - this.#started[0]) + 1));
      }
    } finally {
      this.#waiting--;
    }
  }

  /**
   * One reading over ssh: among the few connections to the host set up at a time, and
   * tried again (twice) when sshd closed it before the key exchange (its MaxStartups).
   */
  async #ssh(host: string, argv: readonly string[]): Promise<LaunchedCommandResult> {
    for (let attempt = 0; ; attempt++) {
      const release = await acquireSshStart(host, this.#options.sshConfig);
      try {
        const r = await launch(argv, { timeoutMs: this.#options.sshTimeoutMs, maxBuffer: MAX_OUTPUT_BYTES });
        if (attempt < 2 && r.exitCode === 255 && SSH_REFUSED_AT_STARTUP.test(r.stderr)) continue;
        return r;
      } finally {
        release();
      }
    }
  }

  async #readNow(host: string | null, requests: readonly HopReadRequest[]): Promise<HopFacts[]> {
    this.readings++;
    if (host === null) return Promise.all(requests.map((r) => this.#readLocal(r)));
    const argv = sshArgv(
      { host, sshConfig: this.#options.sshConfig, sshProgram: this.#options.sshProgram },
      hostCommand(requests),
    );
    const r = await this.#ssh(host, argv);
    const at = this.#options.now();
    const outputs = splitHostOutput(r.stdout);
    return requests.map((req) => {
      const out = outputs.find((o) => o.netns === req.netns);
      if (out === undefined) {
        const why = r.stderr.trim().split('\n').pop() ?? '';
        return unenterableFacts(
          { host, netns: req.netns },
          req.request,
          `ssh ${host}: ${why || whyFailed(r)}`,
          at,
        );
      }
      if (out.enterError !== null)
        return unenterableFacts(
          { host, netns: req.netns },
          req.request,
          `cannot enter namespace ${req.netns}: ${out.enterError}`,
          at,
        );
      return hopFacts({ host, netns: req.netns }, req.request, out.sections, at);
    });
  }

  async #readLocal(req: HopReadRequest): Promise<HopFacts> {
    const argv = localArgv(req.netns, req.request);
    const r = await launch(argv, { timeoutMs: this.#options.localTimeoutMs, maxBuffer: MAX_OUTPUT_BYTES });
    const at = this.#options.now();
    const sections = splitSections(r.stdout);
    if (sections.size === 0) {
      const why = r.stderr.trim().split('\n')[0] ?? '';
      return unenterableFacts(
        { host: null, netns: req.netns },
        req.request,
        req.netns === null
          ? `sh: ${why || whyFailed(r)}`
          : `cannot enter namespace ${req.netns}: ${why || whyFailed(r)}`,
        at,
      );
    }
    return hopFacts({ host: null, netns: req.netns }, req.request, sections, at);
  }
}
