// What every lab run of the CLI must show, whatever its fault: the fault's exchanges
// with their expected cause, every other problem explained too, no cause on an ok
// exchange, no evidence from a namespace the exchange never crossed, the same causes
// from the replay of the run's recording, the rulesets as they were, and nothing of
// ours left behind.
import { expect } from 'vitest';
import { parseLabel } from '../../../src/shared/label.js';
import type { ExchangeRecord } from '../../../src/events/types.js';
import { waitFor } from '../../native/netns-topology.js';
import { ourBpfPrograms } from './bpf-programs.js';
import { tracefsInstances, type CauseRun } from './cause-run.js';
import type { FaultCauses } from './expected-causes.js';

/** Namespaces (and hosts) an exchange was seen in, and the one it was expected in next. */
function crossed(e: ExchangeRecord): Set<string> {
  const out = new Set<string>();
  const labels = [
    ...e.stages.flatMap((s) => s.seen.map((x) => x.iface)),
    ...(e.lost?.missingOn.slice(0, 1) ?? []),
  ];
  for (const label of labels) {
    const l = parseLabel(label);
    if (l.netns !== null) out.add(l.netns);
    if (l.host !== null) out.add(l.host);
  }
  return out;
}

export async function checkCauses(run: CauseRun, fault: FaultCauses): Promise<void> {
  const p = run.lab.prefix;
  const where = (e: ExchangeRecord): string => `${e.kind} ${e.key} ${e.status}`;
  for (const exp of fault.expected) {
    // (of exchanges that began once every capture point was up: see CauseRun.capturingSince)
    const hits = run.explained.filter(
      (x) =>
        Number(x.exchange.ts) >= run.capturingSince &&
        exp.exchanges(x.exchange) &&
        x.exchange.status !== 'ok' &&
        x.exchange.status !== 'inconclusive',
    );
    expect(hits.length, `${fault.scenario} ${fault.fault}: ${exp.what} broken`).toBeGreaterThan(0);
    for (const h of hits) {
      const c = h.cause;
      expect(c, where(h.exchange)).not.toBeNull();
      if (c === null) continue;
      expect(c.code, `${JSON.stringify(h.exchange)}: ${JSON.stringify(c)}`).toBe(exp.code);
      const at = exp.at(p);
      if (typeof at === 'string') expect(c.at, where(h.exchange)).toBe(at);
      else expect(c.at, where(h.exchange)).toMatch(at);
      exp.check(c, run);
      expect(c.summary.length).toBeGreaterThan(10);
    }
  }
  for (const { exchange, cause } of run.explained) {
    if (exchange.status === 'ok' || exchange.status === 'inconclusive') {
      expect(cause, `${where(exchange)} gets no cause`).toBeNull();
      continue;
    }
    expect(cause, `${where(exchange)} is explained`).not.toBeNull();
    // a hop the exchange never crossed is never blamed
    const seen = crossed(exchange);
    for (const e of cause?.evidence ?? []) {
      if (e.netns !== undefined)
        expect(seen.has(e.netns), `${where(exchange)}: evidence from ${e.netns}`).toBe(true);
      if (e.host !== undefined)
        expect(seen.has(e.host), `${where(exchange)}: evidence from ${e.host}`).toBe(true);
    }
  }
  checkReplay(run);
  for (const [ns, before] of run.before) expect(run.after.get(ns), `ruleset of ${ns}`).toBe(before);
  expect(run.leftovers.nftTables).toEqual([]);
  expect(tracefsInstances()).toEqual([]);
  await waitFor('no BPF program of ours', () => ourBpfPrograms().length === 0, 10_000);
}

/** The replay of the run's recording gives every verdict of the live run the same cause. */
export function checkReplay(run: CauseRun): void {
  const key = (e: ExchangeRecord): string => `${e.kind} ${e.key} ${e.ts}`;
  // (two verdicts may share kind, key and first time stamp: a DNS query repeated with its id)
  const replayed = new Map<string, typeof run.replayed>();
  for (const x of run.replayed) replayed.set(key(x.exchange), [...(replayed.get(key(x.exchange)) ?? []), x]);
  expect(run.replayStderr, 'replay of a recording with causes says nothing of them').not.toMatch(/causes/);
  for (const { exchange, cause } of run.explained) {
    const again = replayed.get(key(exchange))?.shift();
    if (cause === null) continue;
    expect(again, `${key(exchange)} replayed`).toBeDefined();
    expect(again?.cause, `${key(exchange)} replayed`).toEqual(cause);
  }
  for (const { exchange, cause } of run.replayed)
    if (exchange.status === 'ok') expect(cause, `${key(exchange)} replayed gets no cause`).toBeNull();
}

/** Until each of the fault's expectations has a broken exchange (runWithCauses' `until`). */
export function untilBroken(fault: FaultCauses): (exchanges: readonly ExchangeRecord[]) => boolean {
  return (exchanges) =>
    fault.expected.every((exp) =>
      exchanges.some((e) => exp.exchanges(e) && e.status !== 'ok' && e.status !== 'inconclusive'),
    );
}
