// The HTML report opened in a real browser (Debian's chromium, headless): the report of
// the shipped dvr-fip recording (security group dropping what comes in to the VM), made
// from the records `replay --json` prints, loads without a console error and without a
// single request beyond its own file; its text names each lost exchange, where it was
// last seen and where it is missing; each ladder has a column per interface of the path
// and a ✗ under each interface it never reached, in that interface's column. A report
// whose labels and keys are hostile runs nothing. Needs no root.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeRecord } from '../../src/events/types.js';
import { HtmlReportFile, type ReportRecord } from '../../src/sinks/html-report.js';
import { headlessChromium, type HeadlessChromium } from '../support/chromium.js';
import { runCli } from '../support/run-cli.js';

const RECORDING = 'captures/dvr-fip-sg-drop.pcapng';
const dir = mkdtempSync(join(tmpdir(), 'hopscope-report-browser-'));
let browser: HeadlessChromium;

beforeAll(async () => {
  browser = await headlessChromium();
});
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The records of a replay of the recording, as `--json` prints them. */
function replayRecords(): ReportRecord[] {
  const r = runCli(['replay', RECORDING, '--json']);
  expect(r.status, r.stderr).toBe(1); // lost exchanges found
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as ReportRecord);
}

/** The report file of these records, as `--report FILE` writes it. */
function writeReport(name: string, records: readonly ReportRecord[], command: readonly string[]): string {
  const path = join(dir, name);
  const report = HtmlReportFile.open(path, { command });
  for (const r of records) report.record(r);
  expect(report.close()).toBe(path);
  return path;
}

interface Visit {
  page: Page;
  consoleErrors: string[];
  pageErrors: string[];
  requests: string[];
  dialogs: string[];
}

/** Opens `url` in a new tab, noting every console error, script error, request and dialog. */
async function visit(url: string, setContent?: string): Promise<Visit> {
  const page = await browser.context.newPage();
  const v: Visit = { page, consoleErrors: [], pageErrors: [], requests: [], dialogs: [] };
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') v.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => v.pageErrors.push(e.message));
  page.on('request', (r) => v.requests.push(r.url()));
  page.on('dialog', (d) => {
    v.dialogs.push(d.message());
    void d.dismiss();
  });
  if (setContent !== undefined) await page.setContent(setContent, { waitUntil: 'load' });
  else await page.goto(url, { waitUntil: 'load' });
  return v;
}

interface ArticleView {
  title: string;
  lastSeen: string | null;
  missingOn: string[];
  columns: Array<{ iface: string | null; x: number }>;
  marks: Array<{ iface: string | null; text: string | null; x: number }>;
}

/**
 * What each problem exchange's article shows, read from the DOM. (Page scripts are
 * strings: the project's TypeScript has no DOM types, and needs none elsewhere.)
 */
async function articles(page: Page): Promise<ArticleView[]> {
  return (await page.evaluate(`(() => {
    const centre = (e) => {
      const box = e.getBoundingClientRect();
      return Math.round(box.left + box.width / 2);
    };
    return [...document.querySelectorAll('article.exchange')].map((a) => ({
      title: a.querySelector('h3')?.textContent ?? '',
      lastSeen: a.querySelector('.last-seen')?.textContent ?? null,
      missingOn: [...a.querySelectorAll('.missing-on .iface')].map((e) => e.textContent ?? ''),
      columns: [...a.querySelectorAll('svg.ladder g.column')].map((g) => ({
        iface: g.getAttribute('data-iface'),
        x: centre(g.querySelector('line.life')),
      })),
      marks: [...a.querySelectorAll('svg.ladder text.missing')].map((t) => ({
        iface: t.getAttribute('data-iface'),
        text: t.textContent,
        x: centre(t),
      })),
    }));
  })()`)) as ArticleView[];
}

describe('the HTML report of the dvr-fip incident in headless chromium', () => {
  let records: ReportRecord[];
  let lost: ExchangeRecord[];
  let visited: Visit;
  let file: string;

  beforeAll(async () => {
    records = replayRecords();
    lost = records.filter((r): r is ExchangeRecord => r.type === 'exchange' && r.status === 'lost');
    file = writeReport('dvr-fip.html', records, [
      'hopscope',
      'replay',
      RECORDING,
      '--report',
      'dvr-fip.html',
    ]);
    visited = await visit(pathToFileURL(file).href);
  });

  it('opens without a console error or a script error, and asks for nothing but its own file', () => {
    expect(visited.consoleErrors).toEqual([]);
    expect(visited.pageErrors).toEqual([]);
    expect(visited.requests).toEqual([pathToFileURL(file).href]);
  });

  it('names each lost exchange, the interface it was last seen on and those it is missing on', async () => {
    expect(lost.map((ex) => ex.key)).toEqual([
      '203.0.113.1>203.0.113.20 id=16578 seq=1',
      '203.0.113.1>203.0.113.20 id=16578 seq=2',
      '203.0.113.1>203.0.113.20 id=16578 seq=3',
      '203.0.113.1:60934>203.0.113.20:22 isn=1100070441',
    ]);
    const text = await visited.page.locator('body').innerText();
    expect(text).toContain('16 exchanges: 4 lost, 0 unanswered, 0 error, 0 inconclusive, 12 ok');
    const shown = await articles(visited.page);
    expect(shown.map((a) => a.title)).toEqual(lost.map((ex) => `LOST ${ex.kind} ${ex.key}`));
    for (const [i, ex] of lost.entries()) {
      expect(text).toContain(ex.key);
      expect(shown[i].lastSeen).toBe(ex.lost?.lastSeen);
      expect(shown[i].lastSeen).toBe('compute:qvb7aa08012-d0');
      expect(shown[i].missingOn).toEqual(ex.lost?.missingOn);
      expect(shown[i].missingOn).toEqual(['compute:tap7aa08012-d0', 'compute:instance-0000002a/eth0']);
    }
  });

  it('draws each ladder with a column per interface of the path and a ✗ in the column of each missing one', async () => {
    for (const [i, a] of (await articles(visited.page)).entries()) {
      const ex = lost[i];
      const path = [
        ...new Set([...ex.stages.flatMap((s) => s.seen.map((x) => x.iface)), ...ex.lost!.missingOn]),
      ];
      expect(path).toHaveLength(10);
      expect(a.columns.map((c) => c.iface)).toEqual(path);
      expect(a.marks.map((m) => [m.iface, m.text])).toEqual(ex.lost!.missingOn.map((m) => [m, '✗']));
      // each ✗ is drawn under its interface's column, as laid out in the browser
      for (const mark of a.marks) expect(mark.x).toBe(a.columns.find((c) => c.iface === mark.iface)?.x);
      // the columns stand apart, in path order from left to right
      for (let k = 1; k < a.columns.length; k++) expect(a.columns[k].x).toBeGreaterThan(a.columns[k - 1].x);
    }
  });

  it('a screenshot of it is a picture of the page', async () => {
    const png = join(dir, 'dvr-fip.png');
    await visited.page.screenshot({ path: png });
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
  });
});

describe('the browser sees requests the page makes (so "none" above means none)', () => {
  it('an image from an address outside the page is a request', async () => {
    const v = await visit('', '<p>x</p><img src="http://127.0.0.1:9/x.png">');
    expect(v.requests).toContain('http://127.0.0.1:9/x.png');
  });
});

describe('a report of hostile labels and keys in headless chromium', () => {
  const LABEL = 'h<script>alert(1)</script>:ns"onload="alert(2)/tap\'x';
  const MISSING = 'h:"><img src=x onerror=alert(3)>/vm0';
  const KEY = 'q=<svg onload=alert(4)>.example';

  it('runs nothing, loads nothing, and shows every string as it was', async () => {
    const ex: ExchangeRecord = {
      type: 'exchange',
      kind: 'dns',
      key: KEY,
      flow: { src: '10.0.0.5', dst: '10.0.0.1', id: 1, qname: KEY, qtype: 'A', transport: 'udp' },
      status: 'lost',
      ts: '1795352627.000000000',
      stages: [
        {
          name: 'query',
          packets: 1,
          seen: [
            { iface: 'outside:eth0', ts: '1795352627.000000000' },
            { iface: LABEL, ts: '1795352627.000100000', hopMs: 0.1 },
          ],
        },
      ],
      lost: { stage: 'query', lastSeen: LABEL, missingOn: [MISSING] },
    };
    const file = writeReport(
      'hostile.html',
      [{ type: 'interface', id: 0, label: LABEL, file: '<b>x</b>.pcapng' }, ex],
      ['hopscope', 'replay', '<script>alert(5)</script>'],
    );
    const v = await visit(pathToFileURL(file).href);
    expect(v.dialogs).toEqual([]);
    expect(v.pageErrors).toEqual([]);
    expect(v.consoleErrors).toEqual([]);
    expect(v.requests).toEqual([pathToFileURL(file).href]);
    const dom = await v.page.evaluate(`({
      scripts: document.scripts.length,
      images: document.images.length,
      withHandlers: [...document.querySelectorAll('*')].filter((e) =>
        [...e.attributes].some((a) => a.name.toLowerCase().startsWith('on')),
      ).length,
    })`);
    expect(dom).toEqual({ scripts: 0, images: 0, withHandlers: 0 });
    const text = await v.page.locator('body').innerText();
    for (const s of [LABEL, MISSING, KEY, '<b>x</b>.pcapng', "hopscope replay '<script>alert(5)</script>'"])
      expect(text).toContain(s);
  });
});
