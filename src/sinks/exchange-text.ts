// The plain-text report of exchanges (`capture`/`replay` on a non-TTY
// without --json): per exchange the verdict in words and, per stage, the path as a
// chain of interface labels with the delay of each hop.
//
//   LOST        icmp-echo  203.0.113.50>203.0.113.10 id=4242 seq=1
//     request   outside/eth0 → fg-3c1d5e7f-a2 +0.021ms → rfp-6f774e8e-2 +0.010ms → qvb7aa08012-d0 +0.018ms
//     request last seen on qvb7aa08012-d0, never reached tap7aa08012-d0, instance/eth0
//     why: dropped by nftables rule handle 7 in bridge neutron_sg forward: icmp type echo-request drop
//
// The `why:` line is the cause's summary (docs/json-lines.md `cause`), where one was gathered.
// A problem's lines without a cause are written straight from the correlator's rows
// instead (correlate/exchange-text-writer.ts): the same bytes, as its test checks.
import type { ClockRecord, ExchangeRecord, SummaryRecord } from '../events/types.js';
import { STATUS_WORDS, verdictSentence } from '../shared/verdict-words.js';

function chain(stage: ExchangeRecord['stages'][number]): string {
  return stage.seen
    .map((s) => {
      const hop = s.hopMs !== undefined ? ` +${s.hopMs.toFixed(3)}ms` : '';
      const tunnel = s.tunnel
        ? ` [${s.tunnel.type}${s.tunnel.vni !== null ? ` vni ${s.tunnel.vni}` : ''}]`
        : '';
      return `${s.iface}${tunnel}${hop}`;
    })
    .join(' → ');
}

/** The verdict in words: where it went and where it disappeared. */
export function verdictWords(ex: ExchangeRecord): string {
  return verdictSentence({
    status: ex.status,
    lost: ex.lost,
    detail: ex.detail,
    rttMs: ex.rttMs,
    lastStage: ex.stages[ex.stages.length - 1]?.name,
  });
}

/** The lines of one exchange. */
export function formatExchange(ex: ExchangeRecord): string[] {
  const head = `${STATUS_WORDS[ex.status].padEnd(12)} ${ex.kind.padEnd(13)} ${ex.key}`;
  const width = Math.max(...ex.stages.map((s) => s.name.length));
  return [
    head,
    ...ex.stages.map(
      (s) => `    ${s.name.padEnd(width)}  ${chain(s)}${s.packets > 1 ? `  (${s.packets} packets)` : ''}`,
    ),
    `    ${verdictWords(ex)}`,
    ...(ex.cause !== undefined ? [`    ${whyWords(ex.cause)}`] : []),
  ];
}

/** `why: <the cause's summary>`. */
export function whyWords(cause: NonNullable<ExchangeRecord['cause']>): string {
  return `why: ${cause.summary}`;
}

export function formatSummary(s: SummaryRecord): string {
  return (
    `${s.exchanges} exchanges: ${s.ok} ok, ${s.lost} lost, ${s.unanswered} unanswered, ` +
    `${s.error} error, ${s.inconclusive} inconclusive`
  );
}

/** A clock offset with its sign: "+300.012 ms". */
export function offsetText(offsetMs: number): string {
  return `${offsetMs >= 0 ? '+' : ''}${offsetMs.toFixed(3)} ms`;
}

export function formatClock(c: ClockRecord): string {
  const from =
    c.samples === 0 ? 'from the packets both saw' : `${c.samples} estimate${c.samples === 1 ? '' : 's'}`;
  return `clock of ${c.host}: ${offsetText(c.offsetMs)} ± ${c.uncertaintyMs.toFixed(3)} ms against ${c.reference} (${from}, applied)`;
}
