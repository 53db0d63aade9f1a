// The exit status of a run is its verdicts' (cli/errors.ts exitStatus, the one place it
// is computed): 1 when an exchange was lost or unanswered, 0 when every one was ok,
// answered by an error, or inconclusive — and 2 for a damaged file, after the verdicts
// of what was read. The same whichever way the files are read: the text report, --json
// (decoded on a second thread), --packets --json (decoded on this one).
import { describe, expect, it } from 'vitest';
import { exitStatus } from '../../src/cli/errors.js';
import type { SummaryRecord } from '../../src/events/types.js';
import { CORPUS_AVAILABLE, corpusPath } from '../decode/support/corpus.js';
import { PROJECT_ROOT, runCli } from '../support/run-cli.js';

const SUMMARY: SummaryRecord = {
  type: 'summary',
  exchanges: 4,
  ok: 1,
  lost: 0,
  unanswered: 0,
  error: 0,
  inconclusive: 0,
};

describe('exitStatus', () => {
  it('1 for a lost or an unanswered exchange, else 0 (errors and inconclusive verdicts included)', () => {
    expect(exitStatus({ ...SUMMARY, lost: 1 })).toBe(1);
    expect(exitStatus({ ...SUMMARY, unanswered: 2 })).toBe(1);
    expect(exitStatus({ ...SUMMARY, error: 3, inconclusive: 1 })).toBe(0);
    expect(exitStatus(SUMMARY)).toBe(0);
  });
});

interface Case {
  file: string;
  /** what its verdicts hold */
  what: string;
  status: number;
}

const SHIPPED: Case[] = [
  { file: `${PROJECT_ROOT}/captures/dvr-fip-sg-drop.pcapng`, what: 'lost exchanges', status: 1 },
  {
    file: `${PROJECT_ROOT}/captures/dnat-local-no-route-localnet.pcapng`,
    what: 'an unanswered SYN',
    status: 1,
  },
];
const CORPUS: Case[] = [
  { file: '5-pings.pcap', what: 'only ok exchanges', status: 0 },
  { file: 'dhcp.pcap', what: 'an error (DHCPNAK) and ok', status: 0 },
  { file: 'LINKTYPE_IPV4.pcap', what: 'only an inconclusive exchange', status: 0 },
  { file: 'dhcp-option-108.pcapng', what: 'an unanswered DHCP request', status: 1 },
  { file: 'gopacket-be-test901.pcapng', what: 'a damaged file (its verdicts first)', status: 2 },
];

function summaryOf(stdout: string): SummaryRecord {
  const line = stdout.split('\n').find((l) => l.startsWith('{"type":"summary"'));
  if (line === undefined) throw new Error(`no summary record in:\n${stdout}`);
  return JSON.parse(line) as SummaryRecord;
}

function check({ file, status }: Case): void {
  for (const mode of [['--json'], ['--packets', '--json']]) {
    const r = runCli(['replay', file, ...mode]);
    const summary = summaryOf(r.stdout);
    expect(r.status, `${mode.join(' ')}: ${r.stderr}`).toBe(status);
    if (status !== 2) expect(r.status).toBe(exitStatus(summary));
    else expect(r.stderr.trim().split('\n')).toHaveLength(1);
  }
  const text = runCli(['replay', file]);
  expect(text.status, text.stderr).toBe(status);
  expect(text.stdout).toMatch(
    /\d+ exchanges: \d+ ok, \d+ lost, \d+ unanswered, \d+ error, \d+ inconclusive\n$/,
  );
}

describe('replay: the exit status follows the verdicts, whichever way the files are read', () => {
  for (const c of SHIPPED) it(`${c.file.split('/').pop()} (${c.what}): ${c.status}`, () => check(c));
});

describe.skipIf(!CORPUS_AVAILABLE)('replay of corpus files: the exit status follows the verdicts', () => {
  for (const c of CORPUS)
    it(`${c.file} (${c.what}): ${c.status}`, () => check({ ...c, file: corpusPath(c.file) }));
});
