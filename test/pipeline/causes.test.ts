// Verdicts and their causes between the correlator and the sinks (src/pipeline/causes.ts):
// records keep the order of their verdicts while a problem waits for its cause; a
// recording's causes are joined to the replay's verdicts by kind, key and first time
// stamp, two verdicts that share those in the order they came, and a cause that never
// comes is given up once the replay has read far enough past the exchange. Live, the
// cause of an exchange overdue during the hold is begun then, and its verdict takes it
// when it is judged with the same break.
import { describe, expect, it } from 'vitest';
import type { Cause, ExchangeRecord } from '../../src/events/types.js';
import { encodeCauseComment } from '../../src/evidence/recording.js';
import { EvidenceGatherer, type ExplainProgress } from '../../src/evidence/gatherer.js';
import type { VerdictContext } from '../../src/evidence/context.js';
import type { JudgedExchange } from '../../src/shared/judged-exchange.js';
import { JsonBytes } from '../../src/shared/json-bytes.js';
import { formatExchange } from '../../src/sinks/exchange-text.js';
import { writeExchangeJson } from '../../src/shared/record-json.js';
import { PacketMemory } from '../../src/pipeline/packet-memory.js';
import {
  GatheredCauses,
  MAX_WAITING,
  RECORDED_CAUSE_SLACK_S,
  RecordedCauses,
  VerdictOrder,
  type CauseProvider,
} from '../../src/pipeline/causes.js';

function exchange(
  key: string,
  status: ExchangeRecord['status'],
  ts = '1700000000.000000000',
): ExchangeRecord {
  return {
    type: 'exchange',
    kind: 'icmp-echo',
    key,
    flow: { src: '10.0.0.1', dst: '10.0.0.2', id: 1, seq: 1 },
    status,
    stages: [{ name: 'request', packets: 1, seen: [{ iface: 'a', ts }] }],
    ...(status === 'ok' ? {} : { lost: { stage: 'reply', lastSeen: 'a', missingOn: [] } }),
    ts,
  };
}

const cause = (summary: string): Cause => ({ code: 'no-route', summary, at: 'a', evidence: [] });

describe('verdict order', () => {
  it('a problem waits for its cause, and the verdicts after it wait behind it', async () => {
    const pending = new Map<string, (c: Cause | null) => void>();
    const provider: CauseProvider = {
      causeOf: (ex) => (ex.status === 'ok' ? null : new Promise((resolve) => pending.set(ex.key, resolve))),
      mayHaveCause: (status) => status !== 'ok',
      giveUp: () => null,
    };
    const out: string[] = [];
    const order = new VerdictOrder(provider, (ex) =>
      out.push(`${ex.key}${ex.cause ? `: ${ex.cause.summary}` : ''}`),
    );
    order.add(exchange('ok-1', 'ok'), true, false);
    order.add(exchange('lost-1', 'lost'), true, false);
    order.add(exchange('ok-2', 'ok'), true, false);
    order.add(exchange('lost-2', 'lost'), true, false);
    expect(out).toEqual(['ok-1']);
    pending.get('lost-2')?.(cause('second'));
    await Promise.resolve();
    expect(out).toEqual(['ok-1']);
    pending.get('lost-1')?.(cause('first'));
    await order.settled();
    expect(out).toEqual(['ok-1', 'lost-1: first', 'ok-2', 'lost-2: second']);
    // what may go out as judged, without its record: only what has no cause to wait for, and nothing waits ahead
    expect(order.passesAtOnce('ok')).toBe(true);
    expect(order.passesAtOnce('lost')).toBe(false);
    order.add(exchange('lost-3', 'lost'), true, false);
    expect(order.passesAtOnce('ok')).toBe(false);
  });

  it(`more than ${MAX_WAITING} verdicts held by a cause: it is given up`, () => {
    const provider: CauseProvider = {
      causeOf: (ex) => (ex.status === 'ok' ? null : new Promise<Cause | null>(() => undefined)),
      mayHaveCause: (status) => status !== 'ok',
      giveUp: () => cause('given up'),
    };
    const out: ExchangeRecord[] = [];
    const order = new VerdictOrder(provider, (ex) => out.push(ex));
    order.add(exchange('lost', 'lost'), true, false);
    for (let i = 1; i < MAX_WAITING; i++) order.add(exchange(`ok-${i}`, 'ok'), true, false);
    expect(out).toHaveLength(0);
    order.add(exchange('one more', 'ok'), true, false);
    expect(out).toHaveLength(MAX_WAITING + 1);
    expect(out[0].cause?.summary).toBe('given up');
    expect(order.waiting).toBe(0);
  });
});

describe('recorded causes', () => {
  it('two verdicts sharing kind, key and time get their causes in the order they were recorded', async () => {
    const recorded = new RecordedCauses();
    recorded.carried = true;
    const a = exchange('dns-like', 'lost');
    const b = exchange('dns-like', 'lost');
    recorded.comments([encodeCauseComment(a, cause('first')), encodeCauseComment(b, cause('second'))]);
    expect(recorded.causeOf(a)).toEqual(cause('first'));
    expect(recorded.causeOf(b)).toEqual(cause('second'));
    // a verdict before its comment waits for it
    const c = exchange('later', 'unanswered');
    const waiting = recorded.causeOf(c);
    recorded.comments([encodeCauseComment(c, cause('came later'))]);
    expect(await waiting).toEqual(cause('came later'));
    expect(recorded.found).toBe(3);
  });

  it('a cause never recorded is given up once the replay is far past the exchange', async () => {
    const recorded = new RecordedCauses();
    recorded.carried = true;
    const waiting = recorded.causeOf(exchange('never', 'lost', '1700000000.500000000'));
    recorded.advance(1_700_000_000 + RECORDED_CAUSE_SLACK_S);
    recorded.advance(1_700_000_000 + RECORDED_CAUSE_SLACK_S + 1);
    expect(await waiting).toBeNull();
    // a file that does not say it carries causes: none are waited for
    expect(new RecordedCauses().causeOf(exchange('plain', 'lost'))).toBeNull();
  });
});

/** The gatherer, counting what it is asked to explain (no places watched: nothing is read). */
class CountingGatherer extends EvidenceGatherer {
  explained: string[] = [];
  contexts: VerdictContext[] = [];
  override explain(ctx: VerdictContext, progress?: ExplainProgress): Promise<Cause | null> {
    this.contexts.push(ctx);
    this.explained.push(`${ctx.exchange.key} ${ctx.exchange.status} ${ctx.exchange.lost?.lastSeen ?? ''}`);
    return super.explain(ctx, progress);
  }
}

/** An exchange as the correlator hands it on (an overdue one, or a verdict). */
function judged(ex: ExchangeRecord): JudgedExchange {
  return {
    status: ex.status,
    record: () => ex,
    writeJson: (w: JsonBytes) => writeExchangeJson(w, ex),
    writeText: (w: JsonBytes) => w.text(formatExchange(ex).join('\n')),
  };
}

describe('causes begun for overdue exchanges (live)', () => {
  it('the verdict judged with the same break is explained once the cause begun is done, on its packets; another break, or none, is read anew', async () => {
    const gatherer = new CountingGatherer({ kernel: 'off' });
    const causes = new GatheredCauses(gatherer, new PacketMemory());
    // ok when overdue: nothing to read
    causes.anticipate(judged(exchange('answered', 'ok')));
    expect(gatherer.explained).toEqual([]);
    // overdue and unanswered: read now, once however often it is looked at with that break
    const overdue = exchange('q1', 'unanswered');
    causes.anticipate(judged(overdue));
    causes.anticipate(judged(exchange('q1', 'unanswered')));
    expect(gatherer.explained).toEqual(['q1 unanswered a']);
    // the verdict with that break: once the reading begun is done, explained again on the
    // same packets (the hop's readings cached by then), for its own record
    const verdict = exchange('q1', 'unanswered');
    verdict.detail = 'the verdict';
    const begun = await causes.causeOf(verdict);
    expect(begun?.code).toBe('unknown');
    expect(gatherer.explained).toEqual(['q1 unanswered a', 'q1 unanswered a']);
    expect(gatherer.contexts.at(-1)?.exchange.detail).toBe('the verdict');
    expect(causes.anticipatedUsed).toBe(1);
    // taken once: the same exchange judged again is read afresh
    await causes.causeOf(exchange('q1', 'unanswered'));
    expect(gatherer.explained).toHaveLength(3);
    expect(causes.anticipatedUsed).toBe(1);
    // judged with another break than it was overdue with (a late packet moved it on)
    causes.anticipate(judged(exchange('q2', 'unanswered')));
    const moved = exchange('q2', 'lost');
    if (moved.lost) moved.lost.lastSeen = 'b';
    await causes.causeOf(moved);
    expect(gatherer.explained.slice(3)).toEqual(['q2 unanswered a', 'q2 lost b']);
    expect(causes.anticipatedUsed).toBe(1);
    // its verdict came out ok: the cause begun is never asked for, and nothing fails
    causes.anticipate(judged(exchange('q3', 'unanswered')));
    expect(causes.causeOf(exchange('q3', 'ok'))).toBeNull();
    expect(gatherer.explained).toHaveLength(6);
  });
});
