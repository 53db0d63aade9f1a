// The HTML report's page as a string (`--report FILE.html`): what a reader of the ticket
// sees in it — the verdicts, every problem exchange with where it was last seen and
// where it is missing, its ladder, its cause, the interfaces, the clock offsets, the
// command line — and what must never be in it: markup or attributes smuggled in through
// a label, a key, a DNS name, a file name, the command line or a cause's evidence, and
// any address outside the page. The page in a real browser: html-report-browser.test.ts.
import { describe, expect, it } from 'vitest';
import type { ClockRecord, ExchangeRecord, SummaryRecord } from '../../src/events/types.js';
import { HtmlReport, REPORT_LIMITS, type ReportRecord } from '../../src/sinks/html-report.js';
import { ladderLines } from '../../src/ui/ladder.js';
import { replyLostOnBr100, sightingsAt } from '../support/exchange-records.js';

const MADE_AT = new Date('2026-11-22T13:10:00.000Z');

const seen = sightingsAt('1795352627.112200674');

/** nova-flat, reply dropped on br100 (as the shipped recording has it). */
const replyLost = replyLostOnBr100('1795352627.112200674', '1795352627.112734674');

const unanswered: ExchangeRecord = {
  type: 'exchange',
  kind: 'tcp-handshake',
  key: '198.51.100.10:1>198.51.100.1:80 isn=1',
  flow: { src: '198.51.100.10', dst: '198.51.100.1', sport: 1, dport: 80, isn: 1 },
  status: 'unanswered',
  ts: '1795352628.000000000',
  stages: [{ name: 'syn', packets: 2, seen: [seen('client:eth0'), seen('edge:eth0', 0.011)] }],
  lost: { stage: 'syn-ack', lastSeen: 'edge:eth0', missingOn: [] },
};

const ok = (n: number): ExchangeRecord => ({
  type: 'exchange',
  kind: 'icmp-echo',
  key: `10.0.0.5>203.0.113.1 id=7 seq=${n}`,
  flow: { src: '10.0.0.5', dst: '203.0.113.1', id: 7, seq: n },
  status: 'ok',
  ts: `${1795352626 + n}.000000000`,
  stages: [
    { name: 'request', packets: 1, seen: [seen('a'), seen('b', 0.01)] },
    { name: 'reply', packets: 1, seen: [seen('b'), seen('a', 0.01)] },
  ],
  rttMs: 0.5,
});

const summary = (s: Partial<SummaryRecord>): SummaryRecord => ({
  type: 'summary',
  exchanges: 0,
  ok: 0,
  lost: 0,
  unanswered: 0,
  error: 0,
  inconclusive: 0,
  ...s,
});

function page(
  records: readonly ReportRecord[],
  command: readonly string[] = ['hopscope', 'replay', 'x.pcapng'],
) {
  const report = new HtmlReport({ command });
  for (const r of records) report.record(r);
  return report.html(MADE_AT);
}

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };

/** The text a reader sees: tags (and the stylesheet) out, character references read. */
function visibleText(html: string): string {
  return html
    .replace(/<style>[\s\S]*?<\/style>/g, '')
    .replace(/<title>[\s\S]*?<\/title>/g, '')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ENTITY[e]);
}

interface Tag {
  name: string;
  attributes: Array<[string, string]>;
}

/**
 * Every start tag of the page with its attributes. The page writes every attribute
 * value in double quotes with `"` `<` `>` escaped, so a tag ends at the first `>`: a
 * string that was not escaped shows up here as a tag or an attribute of its own.
 */
function tags(html: string): Tag[] {
  const body = html.replace(/(<style>)[\s\S]*?(<\/style>)/g, '$1$2');
  const out: Tag[] = [];
  for (const m of body.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)([^>]*)>/g)) {
    const attributes: Array<[string, string]> = [];
    const rest = m[2].replace(/\/$/, '');
    const attr = /\s+([^\s=]+)(?:="([^"]*)")?/y;
    let at = 0;
    for (let a = attr.exec(rest); a !== null; a = attr.exec(rest)) {
      attributes.push([a[1], a[2] ?? '']);
      at = attr.lastIndex;
    }
    // whatever is left is not an attribute written by the page
    if (rest.slice(at).trim() !== '') attributes.push(['(junk)', rest.slice(at)]);
    out.push({ name: m[1].toLowerCase(), attributes });
  }
  return out;
}

/** The elements and attributes the page is made of, nothing else. */
const TAGS = new Set([
  'html', 'head', 'meta', 'title', 'style', 'body', 'header', 'main', 'nav', 'section', 'article',
  'h1', 'h2', 'h3', 'p', 'dl', 'dt', 'dd', 'ol', 'ul', 'li', 'a', 'span', 'code', 'pre', 'div',
  'details', 'summary', 'table', 'thead', 'tbody', 'tr', 'th', 'td',
  'svg', 'g', 'line', 'circle', 'polygon', 'text',
]); // prettier-ignore
const ATTRIBUTES = new Set([
  'lang', 'charset', 'http-equiv', 'content', 'name', 'class', 'id', 'href', 'data-iface',
  'width', 'height', 'viewBox', 'role', 'aria-label', 'x', 'y', 'x1', 'y1', 'x2', 'y2', 'cx', 'cy', 'r', 'points',
]); // prettier-ignore

/** What a page must never hold, whatever went into it. */
function expectOnlyOwnMarkup(html: string): void {
  for (const tag of tags(html)) {
    expect(TAGS, `<${tag.name}>`).toContain(tag.name);
    for (const [name, value] of tag.attributes) {
      expect(ATTRIBUTES, `<${tag.name} ${name}="${value}">`).toContain(name);
      // a link only to a place in the page
      if (name === 'href') expect(value).toMatch(/^#[\w-]+$/);
    }
  }
}

const HOSTILE_LABEL = 'evil<script>alert(1)</script>:ns"onload="alert(2)/tap\'x';
const HOSTILE_MISSING = 'h:"><img src=x onerror=alert(3)>/vm0';
const HOSTILE_KEY = 'id=1 q=<svg onload=alert(4)>.example "onload=x" http://evil.example/';
const HOSTILE_FILE = 'a"b<c>&d.pcapng';

/**
 * A record as the report gets it from JSON: a cause is whatever the gatherers wrote
 * (docs/json-lines.md), so crafted ones go through JSON rather than through the record's type.
 */
function fromJson(record: object): ReportRecord {
  return JSON.parse(JSON.stringify(record)) as ReportRecord;
}

const hostileExchange = fromJson({
  type: 'exchange',
  kind: 'dns',
  key: HOSTILE_KEY,
  status: 'lost',
  ts: '1795352627.000000000',
  stages: [{ name: 'query', packets: 1, seen: [seen('outside:eth0'), seen(HOSTILE_LABEL, 0.02)] }],
  lost: { stage: 'query', lastSeen: HOSTILE_LABEL, missingOn: [HOSTILE_MISSING] },
  detail: '</dd><script>alert(5)</script>',
  cause: {
    code: 'netfilter-drop"><b>',
    summary: 'dropped by <script>alert(6)</script>',
    at: HOSTILE_LABEL,
    evidence: [{ source: '<i>kernel', '"onclick=': '"><svg onload=alert(7)>', nested: { a: '<b>' } }],
  },
});

const hostileRecords: ReportRecord[] = [
  { type: 'interface', id: 0, label: HOSTILE_LABEL, file: HOSTILE_FILE },
  { type: 'interface', id: 1, label: HOSTILE_MISSING, file: HOSTILE_FILE },
  { type: 'stats', iface: HOSTILE_LABEL, received: 3, dropped: 1, final: true },
  { type: 'state', iface: HOSTILE_MISSING, state: 'gone', reason: '<b>deleted</b>' },
  hostileExchange,
  {
    type: 'clock',
    host: '<i>h</i>',
    reference: '"><s>',
    offsetMs: 1,
    uncertaintyMs: 0.1,
    samples: 2,
  } satisfies ClockRecord,
  { ...ok(1), key: '<u>ok</u>' },
];
const HOSTILE_COMMAND = ['hopscope', 'capture', '-i', '<script>x</script>', '--report', '"onload=x.html'];

describe('html report: what came from outside is text, never markup', () => {
  const html = page(hostileRecords, HOSTILE_COMMAND);

  it('labels, keys, DNS names, file names, evidence and the command line add no element and no attribute', () => {
    expectOnlyOwnMarkup(html);
    expect(html).not.toMatch(/<script|<img|<svg onload|<b>|<i>|<u>|<s>/i);
    expect(tags(html).flatMap((t) => t.attributes.map(([n]) => n))).not.toContainEqual(
      expect.stringMatching(/^on/i),
    );
  });

  it('and a reader still sees every one of them as it was', () => {
    const text = visibleText(html);
    for (const s of [
      HOSTILE_LABEL,
      HOSTILE_MISSING,
      HOSTILE_KEY,
      HOSTILE_FILE,
      '</dd><script>alert(5)</script>',
      'netfilter-drop"><b>',
      'dropped by <script>alert(6)</script>',
      '<i>kernel',
      '"onclick=',
      '"><svg onload=alert(7)>',
      '<i>h</i>',
      'gone: <b>deleted</b>',
      '<u>ok</u>',
    ])
      expect(text).toContain(s);
    // the command line as it would be typed again (shell-quoted)
    expect(text).toContain(`hopscope capture -i '<script>x</script>' --report '"onload=x.html'`);
  });
});

describe('html report: nothing is loaded from anywhere', () => {
  const html = page([
    { type: 'interface', id: 0, label: 'compute:br100' },
    replyLost,
    unanswered,
    ok(1),
    summary({ exchanges: 3, ok: 1, lost: 1, unanswered: 1 }),
  ]);

  it('no address outside the page: no http(s) URL, no src, links only to anchors, no script, no CSS import', () => {
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/\ssrc=|<script|<link|<img|<iframe|<object|@import|url\(|@font-face/i);
    expectOnlyOwnMarkup(html);
    const hrefs = tags(html).flatMap((t) => t.attributes.filter(([n]) => n === 'href').map(([, v]) => v));
    expect(hrefs).toEqual(['#problem-1', '#problem-2']);
    for (const href of hrefs) expect(html).toContain(`id="${href.slice(1)}"`);
  });

  it('tells the browser to load nothing (Content-Security-Policy default-src none)', () => {
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    );
  });
});

/** The SVG of the report's only problem exchange. */
function svgOf(html: string): string {
  const m = /<svg class="ladder"[\s\S]*?<\/svg>/.exec(html);
  expect(m).not.toBeNull();
  return m![0];
}

describe('html report: a problem exchange', () => {
  it('says what was lost, where it was last seen and where it is missing', () => {
    const html = page([replyLost]);
    const text = visibleText(html);
    expect(text).toContain('LOST');
    expect(text).toContain('10.0.0.10>203.0.113.10 id=1 seq=1');
    expect(text).toContain('reply last seen on compute:br100, never reached compute:tap1, compute:vm/eth0');
    expect(html).toContain('<dd class="last-seen">compute:br100</dd>');
    expect(html).toMatch(
      /<dd class="missing-on"><span class="iface">compute:tap1<\/span>, <span class="iface">compute:vm\/eth0<\/span><\/dd>/,
    );
    expect(text).toContain('2026-11-22 13:03:47.112200674 UTC');
  });

  it('draws its ladder: a column per interface in path order, each hop, a ✗ on every interface it missed', () => {
    const svg = svgOf(page([replyLost]));
    expect([...svg.matchAll(/<g class="column" data-iface="([^"]*)">/g)].map((m) => m[1])).toEqual([
      'compute:vm/eth0',
      'compute:tap1',
      'compute:br100',
      'external:eth0',
    ]);
    expect(
      [...svg.matchAll(/<text class="missing"[^>]*data-iface="([^"]*)">✗<\/text>/g)].map((m) => m[1]),
    ).toEqual(['compute:tap1', 'compute:vm/eth0']);
    // three hops of the request (left to right), one of the reply (back), each with an arrowhead
    expect(svg.match(/<polygon class="hop question"/g)).toHaveLength(3);
    expect(svg.match(/<polygon class="hop answer"/g)).toHaveLength(1);
    expect(svg).toMatch(/<text class="stage question"[^>]*>request<\/text>/);
    expect(svg).toMatch(/<text class="stage answer"[^>]*>reply<\/text>/);
    expect(svg).toMatch(/<circle class="last-seen"/);
  });

  it('its ladder says what the text ladder says: every delay and note in the same order', () => {
    const svg = svgOf(page([replyLost]));
    const svgNotes = [...svg.matchAll(/<text class="note[^"]*"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    const textNotes = ladderLines(replyLost, 200)
      .slice(3)
      .map((l) => /\s{2}([+a-z][^│]*)$/.exec(l)?.[1])
      .filter((n): n is string => n !== undefined);
    expect(svgNotes).toEqual(textNotes);
    expect(svgNotes).toEqual([
      '+0.134 ms',
      '+0.000 ms',
      '+0.200 ms',
      'reply 0.534 ms later',
      '+0.007 ms',
      'reply stops after br100',
    ]);
  });

  it('an unanswered question: the last place it reached, and no answer anywhere', () => {
    const html = page([unanswered]);
    const svg = svgOf(html);
    expect(svg).toMatch(/<text class="nowhere"[^>]*>\?<\/text>/);
    expect(svg).toContain('no syn-ack seen anywhere');
    expect(svg).not.toContain('class="missing"');
    expect(visibleText(html)).toContain(
      'no syn-ack anywhere: the syn reached edge:eth0 and nothing answered',
    );
  });

  it('its cause when there is one: the code, the summary, the hop, each piece of evidence with its source', () => {
    const withCause = fromJson({
      ...replyLost,
      cause: {
        code: 'netfilter-drop',
        summary: 'dropped by nftables rule 7 in table bridge sg, chain forward',
        at: 'compute:br100',
        evidence: [
          { source: 'kernel', reason: 'NETFILTER_DROP', location: 'nf_hook_slow' },
          {
            source: 'nftables',
            netns: 'hs-compute',
            table: 'bridge sg',
            chain: 'forward',
            handle: 7,
            rule: 'ip protocol icmp drop',
            counterDelta: 3,
          },
        ],
      },
    });
    const html = page([withCause]);
    const cause = /<div class="cause">[\s\S]*?<\/div>/.exec(html)?.[0] ?? '';
    const text = visibleText(cause).replace(/\s+/g, ' ');
    expect(text).toContain(
      'Why: netfilter-drop dropped by nftables rule 7 in table bridge sg, chain forward',
    );
    expect(text).toContain('at compute:br100');
    expect(text).toContain('kernel reason NETFILTER_DROP location nf_hook_slow');
    expect(text).toContain(
      'nftables netns hs-compute table bridge sg chain forward handle 7 rule ip protocol icmp drop counterDelta 3',
    );
    // the cause comes before the ladder
    expect(html.indexOf('<div class="cause">')).toBeLessThan(html.indexOf('<svg class="ladder"'));
    expect(page([replyLost])).not.toContain('class="cause"');
  });
});

describe('html report: the run', () => {
  it('the summary, the interfaces with their counts and drops, the clock offsets, the command line', () => {
    const html = page(
      [
        { type: 'interface', id: 0, label: 'compute:tap1' },
        { type: 'interface', id: 1, label: 'external:eth0' },
        { type: 'stats', iface: 'compute:tap1', received: 10, dropped: 0, captured: 9, final: false },
        { type: 'stats', iface: 'compute:tap1', received: 12, dropped: 7, captured: 11, final: true },
        { type: 'stats', iface: 'external:eth0', received: 5, dropped: 0, captured: 5, final: true },
        {
          type: 'clock',
          host: 'external',
          reference: 'compute',
          offsetMs: -0.31,
          uncertaintyMs: 0.02,
          samples: 12,
        },
        summary({ exchanges: 10, ok: 7, lost: 2, unanswered: 1 }),
      ],
      ['hopscope', 'capture', '-i', 'hs-compute/tap*', '--report', 'a b.html'],
    );
    const text = visibleText(html).replace(/\s+/g, ' ');
    expect(text).toContain('10 exchanges: 2 lost, 1 unanswered, 0 error, 0 inconclusive, 7 ok');
    expect(text).toContain("hopscope capture -i 'hs-compute/tap*' --report 'a b.html'");
    // the last stats of each interface: packets captured, received by the kernel, dropped (flagged)
    expect(html).toMatch(
      /<tr data-iface="compute:tap1"><td class="label">compute:tap1<\/td><td class="n">11<\/td><td class="n">12<\/td><td class="n drops">7<\/td>/,
    );
    expect(text).toContain('The capture dropped packets on 1 interface');
    expect(text).toContain('external -0.310 ms ± 0.020 ms compute 12');
    expect(text).toContain('report made 2026-11-22 13:10:00.000 UTC');
  });

  it('without a summary record (a run cut short) counts the verdicts it was given', () => {
    const text = visibleText(page([replyLost, unanswered, ok(1), ok(2)])).replace(/\s+/g, ' ');
    expect(text).toContain('4 exchanges: 1 lost, 1 unanswered, 0 error, 0 inconclusive, 2 ok');
  });

  it('bounds: the first ladders drawn, the next problems one row each, the rest counted; ok listed up to a bound', () => {
    const report = new HtmlReport({ command: ['hopscope'] });
    const problems = REPORT_LIMITS.ladders + REPORT_LIMITS.listed + 5;
    for (let i = 0; i < problems; i++) report.record({ ...replyLost, key: `k${i}` });
    const oks = REPORT_LIMITS.okRows + 50;
    let wanted = 0;
    for (let i = 0; i < oks; i++) {
      // the correlator builds an ok record only while the report wants one
      if (report.wants('ok')) {
        wanted++;
        report.record(ok(i));
      }
    }
    expect(wanted).toBe(REPORT_LIMITS.okRows);
    expect(report.wants('lost')).toBe(true);
    report.record(summary({ exchanges: problems + oks, ok: oks, lost: problems }));
    const html = report.html(MADE_AT);
    expect(html.match(/<svg class="ladder"/g)).toHaveLength(REPORT_LIMITS.ladders);
    expect(html.match(/<tr class="lost">/g)).toHaveLength(REPORT_LIMITS.listed);
    expect(html).toContain(`>k${REPORT_LIMITS.ladders + REPORT_LIMITS.listed - 1}<`);
    expect(html).not.toContain(`>k${REPORT_LIMITS.ladders + REPORT_LIMITS.listed}<`);
    const text = visibleText(html);
    expect(text).toContain('…and 5 more problem exchanges, only counted here (--json lists every one).');
    expect(text).toContain(`OK exchanges (${oks})`);
    expect(text).toContain(`The first ${REPORT_LIMITS.okRows} are listed; all ${oks} are counted above.`);
    expect(html.match(/id=7 seq=/g)).toHaveLength(REPORT_LIMITS.okRows);
  });
});
