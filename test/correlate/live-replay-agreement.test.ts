// A recording replayed gives the verdicts its capture gave live (docs/verdicts.md
// "Timeouts"), however the live judging happened to fall between packets. Live, verdicts
// are given on wall-clock ticks (advance(now - hold)) while packets arrive up to the hold
// after their time stamps; a replay judges by packet time, the same hold behind, over
// the packets in the order the capture read them (the recording's order). Here both
// correlators get the same packets in the same order; only when judging happens differs.
// Live, each tick also looks ahead (Correlator lookAhead) at what is overdue, for the
// causes of problems to be read during the hold: looking must change no verdict.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../support/seeded-random.js';
import { Correlator } from '../../src/correlate/correlator.js';
import { decodePacket } from '../../src/decode/decode-packet.js';
import { PacketRecord } from '../../src/decode/record.js';
import type { ExchangeRecord } from '../../src/events/types.js';
import { HOLD_LOCAL_MS, JUDGE_INTERVAL_MS, OVERDUE_LOCAL_MS } from '../../src/pipeline/timing.js';
import { echoFrame } from './support/echo-frame.js';

const BASE_SEC = 1_700_000_000;
const VM = [10, 0, 0, 10];

interface Delivery {
  frame: Uint8Array;
  iface: number;
  /** its time stamp, and when the capture hands it over (ms from BASE_SEC) */
  tsMs: number;
  atMs: number;
}

type Verdict = Pick<ExchangeRecord, 'key' | 'status' | 'ts'> & { rttMs: number | null };

function verdictOf(r: ExchangeRecord): Verdict {
  return { key: r.key, status: r.status, ts: r.ts, rttMs: r.rttMs ?? null };
}

/** What lookAhead handed on: the exchange as it stood, and whether it had been judged already. */
interface Look extends Verdict {
  judgedBefore: boolean;
}

function correlator(live: boolean, out: Verdict[], looks?: Look[]): Correlator {
  const corr = new Correlator({
    onExchange: (j) => out.push(verdictOf(j.record())),
    ...(looks === undefined
      ? {}
      : {
          onOverdue: (j) => {
            const v = verdictOf(j.record());
            looks.push({ ...v, judgedBefore: out.some((o) => o.key === v.key && o.ts === v.ts) });
          },
        }),
    advanceWithPackets: !live,
    packetLagMs: live ? 0 : HOLD_LOCAL_MS,
  });
  corr.addInterface({ id: 0, label: 'vm/eth0', host: null });
  corr.addInterface({ id: 1, label: 'compute/eth1', host: null });
  return corr;
}

const rec = new PacketRecord();
function feed(corr: Correlator, d: Delivery): void {
  decodePacket(d.frame, 0, d.frame.length, 1, d.frame.length, rec);
  const ns = Math.round(d.tsMs * 1e6);
  corr.packet(rec, d.iface, BASE_SEC + Math.floor(ns / 1e9), ns % 1e9);
}

/**
 * Live: the packets in the order they are handed over, a judge tick every
 * JUDGE_INTERVAL_MS from `tickPhaseMs` (advance to the tick's time less the hold), the
 * capture ended at `endMs`. Replay: the same packets in the same order, judged by their
 * time; every capture stopped at `endMs` (the recording's statistics).
 */
function liveAndReplay(
  deliveries: Delivery[],
  endMs: number,
  tickPhaseMs: number,
  looks: Look[] = [],
): [Verdict[], Verdict[]] {
  const order = [...deliveries].sort((a, b) => a.atMs - b.atMs);
  const live: Verdict[] = [];
  const replay: Verdict[] = [];
  const l = correlator(true, live, looks);
  const r = correlator(false, replay);
  let tick = tickPhaseMs;
  const tickUntil = (ms: number): void => {
    for (; tick < ms && tick <= endMs; tick += JUDGE_INTERVAL_MS) {
      const held = Math.round((tick - HOLD_LOCAL_MS) * 1e6);
      if (held > 0) l.advance(BASE_SEC + Math.floor(held / 1e9), held % 1e9);
      const overdue = Math.round((tick - OVERDUE_LOCAL_MS) * 1e6);
      if (overdue > 0) l.lookAhead(BASE_SEC + Math.floor(overdue / 1e9), overdue % 1e9);
    }
  };
  for (const d of order) {
    tickUntil(d.atMs);
    feed(l, d);
    feed(r, d);
  }
  tickUntil(endMs);
  const endNs = Math.round(endMs * 1e6);
  l.finish(BASE_SEC + Math.floor(endNs / 1e9), endNs % 1e9);
  for (const id of [0, 1]) r.captures.stopped(id, BASE_SEC + Math.floor(endNs / 1e9), endNs % 1e9);
  r.finish();
  const byTime = (a: Verdict, b: Verdict): number =>
    a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.key < b.key ? -1 : 1;
  return [live.sort(byTime), replay.sort(byTime)];
}

/** A ping seen leaving the VM (eth0) and the compute host (eth1), its reply (if any) coming back. */
function ping(
  dst: number[],
  id: number,
  seq: number,
  tsMs: number,
  rttMs: number | null,
  delay: (iface: number) => number,
): Delivery[] {
  const request = echoFrame(8, VM, dst, id, seq);
  const out: Delivery[] = [
    { frame: request, iface: 0, tsMs, atMs: tsMs + delay(0) },
    { frame: echoFrame(8, VM, dst, id, seq, 63), iface: 1, tsMs: tsMs + 0.03, atMs: tsMs + 0.03 + delay(1) },
  ];
  if (rttMs !== null) {
    const reply = echoFrame(0, dst, VM, id, seq, 64, 9);
    out.push({ frame: reply, iface: 1, tsMs: tsMs + rttMs - 0.03, atMs: tsMs + rttMs - 0.03 + delay(1) });
    out.push({ frame: reply, iface: 0, tsMs: tsMs + rttMs, atMs: tsMs + rttMs + delay(0) });
  }
  return out;
}

describe('a replay judges as the capture did live', () => {
  it('an answered ping judged live on a tick before the next request was handed over: that request gets the same timeout in the replay', () => {
    // seq=1 answered in 1 ms: the flow's RTT is known, the next exchange's timeout is 0.5 s
    // (not 1 s). seq=2's request is handed over 60 ms after its time stamp, after the
    // tick that judged seq=1. The capture ends 0.7 s after seq=2: past a 0.5 s timeout,
    // before a 1 s one.
    const dst = [203, 0, 113, 10];
    const late = (ms: number) => (iface: number) => (iface === 0 ? ms : ms + 1);
    const deliveries = [...ping(dst, 7, 1, 1000, 1, late(5)), ...ping(dst, 7, 2, 2640, null, late(60))];
    const [live, replay] = liveAndReplay(deliveries, 3340, 0);
    expect(live.map((v) => v.status)).toEqual(['ok', 'unanswered']);
    expect(replay).toEqual(live);
  });

  it('on random traffic (answered and unanswered pings, RTTs that lengthen timeouts, hand-over delays within the hold, any tick phase), every verdict agrees', () => {
    for (let seed = 1; seed <= 150; seed++) {
      const rnd = seededRandom(seed);
      const deliveries: Delivery[] = [];
      const flows = [
        [203, 0, 113, 10],
        [203, 0, 113, 11],
        [198, 51, 100, 7],
      ];
      const delay = (): number => rnd() * (HOLD_LOCAL_MS - 50);
      let endMs = 0;
      flows.forEach((dst, f) => {
        let t = 1000 + rnd() * 500;
        for (let seq = 1; seq <= 12; seq++) {
          // RTTs up to 120 ms: 8 × the smoothed RTT passes the 0.5 s floor
          const rtt = rnd() < 0.6 ? 0.2 + rnd() * 120 : null;
          deliveries.push(...ping(dst, 100 + f, seq, t, rtt, delay));
          t += 50 + rnd() * 900;
        }
        endMs = Math.max(endMs, t);
      });
      const looks: Look[] = [];
      const [live, replay] = liveAndReplay(deliveries, endMs, rnd() * JUDGE_INTERVAL_MS, looks);
      expect(replay, `seed ${seed}`).toEqual(live);
      // looked at only while open
      expect(
        looks.filter((l) => l.judgedBefore),
        `seed ${seed}`,
      ).toEqual([]);
    }
  });
});

describe("looking ahead at overdue exchanges (live: a problem's cause is read during the hold)", () => {
  const dst = [203, 0, 113, 10];
  const keyOf = (v: Verdict): string => `${v.key} ${v.ts}`;

  it('packets handed over within the overdue lag: every problem is looked at once, as it is then judged, before its verdict', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const rnd = seededRandom(seed);
      const deliveries: Delivery[] = [];
      const soon = (): number => rnd() * (OVERDUE_LOCAL_MS - JUDGE_INTERVAL_MS / 2);
      let t = 1000;
      for (let seq = 1; seq <= 30; seq++) {
        deliveries.push(...ping(dst, 9, seq, t, rnd() < 0.5 ? 0.5 + rnd() * 20 : null, soon));
        t += 100 + rnd() * 1500;
      }
      const looks: Look[] = [];
      const [live, replay] = liveAndReplay(deliveries, t + 3000, rnd() * JUDGE_INTERVAL_MS, looks);
      expect(replay, `seed ${seed}`).toEqual(live);
      const problems = live.filter((v) => v.status !== 'ok');
      expect(problems.length, `seed ${seed}`).toBeGreaterThan(0);
      const looked = looks.filter((l) => l.status !== 'ok');
      expect(looked.map(keyOf), `seed ${seed}`).toEqual(problems.map(keyOf));
      expect(looked.map((l) => l.status)).toEqual(problems.map((v) => v.status));
      expect(looks.filter((l) => l.judgedBefore)).toEqual([]);
    }
  });

  it('at most `most` exchanges a call: the next calls take the rest, none twice', () => {
    const live: Verdict[] = [];
    const looks: Look[] = [];
    const corr = correlator(true, live, looks);
    // ten unanswered pings 10 ms apart, all overdue 2 s later
    for (let seq = 1; seq <= 10; seq++)
      feed(corr, { frame: echoFrame(8, VM, dst, 3, seq), iface: 0, tsMs: 1000 + seq * 10, atMs: 0 });
    const perCall: number[] = [];
    for (let call = 0; call < 5; call++) {
      const before = looks.length;
      corr.lookAhead(BASE_SEC + 3, 0, 3);
      perCall.push(looks.length - before);
    }
    expect(perCall).toEqual([3, 3, 3, 1, 0]);
    expect(new Set(looks.map((l) => l.key)).size).toBe(10);
    expect(looks.every((l) => l.status === 'unanswered')).toBe(true);
    expect(live).toEqual([]);
  });

  it('a reply handed over after the look: looked at as unanswered, and again as ok once the reply moved its deadline on; judged ok after the hold', () => {
    // seq=1 answered at once: the flow's RTT sets the next timeout to the 0.5 s floor.
    // seq=2's reply is stamped 20 ms after its request but handed over 0.45 s later than
    // that — after its exchange is overdue, within the hold.
    const replyLate = [
      ...ping(dst, 5, 1, 1000, 1, () => 1),
      ...ping(dst, 5, 2, 2000, 20, (iface) => (iface === 0 ? 1 : 2)).map((d, i) =>
        i >= 2 ? { ...d, atMs: 2000 + 520 + OVERDUE_LOCAL_MS + 2 * JUDGE_INTERVAL_MS } : d,
      ),
    ];
    const looks: Look[] = [];
    const [live, replay] = liveAndReplay(replyLate, 4000, 0, looks);
    expect(live.map((v) => v.status)).toEqual(['ok', 'ok']);
    expect(replay).toEqual(live);
    const second = looks.filter((l) => keyOf(l) === keyOf(live[1]));
    expect(second.map((l) => l.status)).toEqual(['unanswered', 'ok']);
  });
});
