// A problem's lines of the text report are written straight from the correlator's rows
// (correlate/exchange-text-writer.ts), not formatted from its record: on every shipped
// capture and every corpus file, and with interface labels beyond ASCII, the report's
// problem lines are byte for byte formatExchange's of the records the correlator made
// for the same verdicts, whether or not another sink had the records built.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ContractRecord, ExchangeRecord } from '../../src/events/types.js';
import { isCaptureInputError } from '../../src/framing/errors.js';
import { mergeCaptureFiles } from '../../src/framing/merge.js';
import { Stages } from '../../src/pipeline/stages.js';
import { fixed3 } from '../../src/correlate/exchange-text-writer.js';
import { JsonBytes } from '../../src/shared/json-bytes.js';
import { formatExchange } from '../../src/sinks/exchange-text.js';
import { CORPUS_AVAILABLE, CORPUS_DIR } from '../decode/support/corpus.js';
import { collectedOutput } from '../support/collected-output.js';
import { PROJECT_ROOT } from '../support/run-cli.js';

const CAPTURES = join(PROJECT_ROOT, 'captures');
const captures = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => /\.pcap(ng)?$/.test(f))
    .map((f) => join(dir, f));
const shipped = captures(CAPTURES);
const corpus = CORPUS_AVAILABLE ? captures(CORPUS_DIR) : [];

/** The text report's lines of `file`, and the records of its verdicts when `withRecords`. */
async function report(
  file: string,
  withRecords: boolean,
  labelPrefix = '',
): Promise<{ lines: string[]; records: ExchangeRecord[] }> {
  const { out, lines } = collectedOutput();
  const records: ExchangeRecord[] = [];
  const stages = new Stages({
    live: false,
    out,
    json: false,
    packets: false,
    tui: null,
    records: withRecords
      ? {
          record: (r: ContractRecord) => {
            if (r.type === 'exchange') records.push(r);
          },
          wants: () => true,
        }
      : null,
  });
  try {
    await mergeCaptureFiles(
      [file],
      (iface) => stages.interface({ ...iface, label: labelPrefix + iface.label }, iface.file),
      (p) => stages.packet(p, stages.interfaces[p.interfaceId]),
    );
  } catch (err) {
    // a damaged corpus file: every packet before the fault was handed on
    if (!isCaptureInputError(err)) throw err;
  }
  await stages.finish();
  await out.end();
  return { lines: lines(), records };
}

/** The report's lines of problems: its ok lines, their note and the summary left out. */
function problemLines(lines: readonly string[]): string[] {
  return lines.filter(
    (l) => !l.startsWith('OK ') && !l.startsWith('(further ok') && !/^\d+ exchanges: /.test(l),
  );
}

/** What formatExchange makes of the problem records, in verdict order. */
function expectedLines(records: readonly ExchangeRecord[]): string[] {
  return records.filter((r) => r.status !== 'ok').flatMap((r) => formatExchange(r));
}

/** Compares one file both ways; returns the expected problem lines (for what they cover). */
async function check(file: string, labelPrefix = ''): Promise<string[]> {
  const withRecords = await report(file, true, labelPrefix);
  const expected = expectedLines(withRecords.records);
  expect(problemLines(withRecords.lines), file).toEqual(expected);
  // nothing built the records: the same report
  expect((await report(file, false, labelPrefix)).lines, file).toEqual(withRecords.lines);
  return expected;
}

describe('the text report’s problem lines, written from the rows, are formatExchange’s of the records', () => {
  it.each(shipped)('%s', async (file) => {
    const expected = await check(file);
    expect(expected.some((l) => /^(LOST|UNANSWERED|ERROR|INCONCLUSIVE) /.test(l))).toBe(true);
  });

  it('interface labels beyond ASCII, with quotes and backslashes', async () => {
    const expected = await check(shipped[0], 'br-"q"\\ é ☃ 😀 ');
    expect(expected.some((l) => l.includes('br-"q"\\ é ☃ 😀 '))).toBe(true);
  });

  it.skipIf(!CORPUS_AVAILABLE)(
    `every corpus file (${CORPUS_DIR})`,
    async () => {
      const all: string[] = [];
      for (const file of corpus) all.push(...(await check(file)));
      // not an empty comparison (with the shipped captures: a lost exchange needs a path of
      // several interfaces): every status of a problem, hops, repeats
      for (const file of shipped) all.push(...(await check(file)));
      for (const status of ['LOST', 'UNANSWERED', 'ERROR', 'INCONCLUSIVE'])
        expect(
          all.some((l) => l.startsWith(`${status} `)),
          status,
        ).toBe(true);
      expect(all.some((l) => / \+\d+\.\d{3}ms/.test(l))).toBe(true);
      expect(all.some((l) => / packets\)$/.test(l))).toBe(true);
      expect(all.length).toBeGreaterThan(100);
    },
    300_000,
  );

  it('tunnels: the VXLAN capture’s hops name their VNI', async () => {
    const file = shipped.find((f) => f.includes('vxlan'));
    expect(file).toBeDefined();
    const expected = await check(file as string);
    expect(expected.some((l) => / \[vxlan vni \d+\]/.test(l))).toBe(true);
  });
});

describe('hop times in ms to the µs', () => {
  it('are what toFixed(3) writes of µs / 1000, negative ones (clock offsets) included', () => {
    const values = [
      0,
      -0,
      1,
      9,
      10,
      99,
      100,
      999,
      1000,
      1001,
      12_345,
      -1,
      -999,
      -1000,
      -12_345,
      2 ** 31,
      -(2 ** 40),
    ];
    for (let i = 0; i < 2000; i++) values.push(Math.round((Math.random() - 0.5) * 10 ** (1 + (i % 10))));
    for (const k of values) {
      const w = new JsonBytes(8);
      fixed3(w, k);
      expect(w.buf.subarray(0, w.pos).toString('latin1'), String(k)).toBe((k / 1000).toFixed(3));
    }
  });
});
