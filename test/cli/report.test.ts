// `--report FILE.html` of replay and capture: one self-contained page of the run, made
// whatever the output mode, its name checked before the run as a recording's is.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRoot } from '../lab/support/lab-env.js';
import { startCli } from '../support/cli-process.js';
import { PROJECT_ROOT, runCli } from '../support/run-cli.js';

const RECORDING = join(PROJECT_ROOT, 'captures/dvr-fip-sg-drop.pcapng');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hopscope-report-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('replay --report', () => {
  it.each([[[]], [['--json']], [['--packets']]])(
    'with %j: the page names each lost exchange, where it was last seen and missing, and the interfaces',
    (extra) => {
      const page = join(dir, `dvr-${extra.join('') || 'text'}.html`);
      const r = runCli(['replay', RECORDING, '--report', page, ...extra]);
      expect(r.status, r.stderr).toBe(1); // lost exchanges, like diff
      expect(statSync(page).mode & 0o777).toBe(0o600);
      const html = readFileSync(page, 'utf8');
      // every lost verdict the JSON output gives is on the page
      const json = runCli(['replay', RECORDING, '--json']);
      const lost = json.stdout
        .split('\n')
        .filter((l) => l.startsWith('{"type":"exchange"'))
        .map(
          (l) =>
            JSON.parse(l) as {
              key: string;
              status: string;
              lost?: { lastSeen: string; missingOn: string[] };
            },
        )
        .filter((e) => e.status === 'lost');
      expect(lost.length).toBeGreaterThan(0);
      const text = html.replace(/&gt;/g, '>').replace(/&lt;/g, '<').replace(/&amp;/g, '&');
      for (const e of lost) {
        expect(text).toContain(e.key);
        expect(text).toContain(e.lost?.lastSeen);
        for (const m of e.lost?.missingOn ?? []) expect(text).toContain(m);
      }
      expect(text).toContain('compute:tap7aa08012-d0');
      expect(text).toContain(`--report ${page}`);
      // no resource from outside the page
      expect(html).not.toMatch(/\b(src|href)="(?!#)/);
    },
  );

  it('an existing page is refused in one line before anything is read; --overwrite replaces it', () => {
    const page = join(dir, 'exists.html');
    writeFileSync(page, 'mine');
    const r = runCli(['replay', RECORDING, '--report', page]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^hopscope: replay: .*exists.*--overwrite/);
    expect(readFileSync(page, 'utf8')).toBe('mine');
    const again = runCli(['replay', RECORDING, '--report', page, '--overwrite']);
    expect(again.status).toBe(1);
    expect(readFileSync(page, 'utf8')).toMatch(/^<!DOCTYPE html>/i);
  });

  it("--report '' and --overwrite without --report are usage errors", () => {
    expect(runCli(['replay', RECORDING, '--report', '']).status).toBe(2);
    expect(runCli(['replay', RECORDING, '--overwrite']).stderr).toMatch(
      /--overwrite replaces the file of --report/,
    );
  });
});

describe('capture --report', () => {
  it('a live capture writes its page when it ends', async () => {
    requireRoot();
    const page = join(dir, 'live.html');
    const cap = startCli(['capture', '-i', 'lo', '-f', 'icmp', '--json', '--report', page]);
    await cap.waitForLine((l) => l.includes('"type":"state"') && l.includes('"up"'));
    spawnSync('ping', ['-c', '2', '-i', '0.2', '-W', '1', '127.0.0.1'], { stdio: 'ignore' });
    await cap.waitForLine((l) => l.includes('"type":"exchange"'), 20_000);
    cap.child.kill('SIGINT');
    expect(await cap.exited).toBe(0);
    expect(existsSync(page)).toBe(true);
    const html = readFileSync(page, 'utf8');
    expect(html).toContain('127.0.0.1');
    expect(html).toMatch(/\blo\b/);
  });
});
