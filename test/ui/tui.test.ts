// The TUI driven for real in a pseudo-terminal (tmux), on a shipped recording: the
// interfaces, the lost exchanges first with where they broke, the ladder with the
// break at the right hop after Enter, the filter, and q leaving with the exit status.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, PROJECT_ROOT } from '../support/run-cli.js';

const SOCKET = `hopscope-tui-${process.pid}`;
const SESSION = 'tui';

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8', cwd: PROJECT_ROOT });
}

const screen = (session = SESSION): string => tmux('capture-pane', '-p', '-t', session);

/** The screen of a tmux session once it satisfies `predicate`. */
async function waitFor(
  predicate: (text: string) => boolean,
  timeoutMs = 15_000,
  session = SESSION,
): Promise<string> {
  const end = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < end) {
    text = screen(session);
    if (predicate(text)) return text;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`screen of ${session} never matched; last screen:\n${text}`);
}

afterAll(() => {
  try {
    tmux('kill-server');
  } catch {
    // already gone
  }
});

describe('TUI on a recording', () => {
  it('shows interfaces and lost exchanges first; Enter opens the ladder; / filters; q quits with status 1', async () => {
    const command = `LANG=C.UTF-8 ${process.execPath} ${CLI} replay captures/dvr-fip-sg-drop.pcapng; echo EXIT=$?; sleep 30`;
    tmux('new-session', '-d', '-s', SESSION, '-x', '150', '-y', '45', command);
    const first = await waitFor((t) => t.includes('4 lost'));
    expect(first).toMatch(/REPLAY dvr-fip-sg-drop\.pcapng/);
    expect(first).toContain('compute:qvb7aa08012-d0');
    expect(first).toContain('outside:eth0');
    // problems first: the first exchange rows are the lost ones, saying where they broke;
    // the three lost pings of one ping are one row, ×3
    const rows = first.split('\n').filter((l) => /(LOST|OK) {2,}/.test(l));
    expect(rows[0]).toMatch(/LOST .* lost after qvb7aa08012-d0, missing on tap7aa08012-d0, eth0/);
    const lost = rows.filter((l) => l.includes('LOST'));
    expect(lost).toHaveLength(2);
    expect(lost.join('\n')).toMatch(
      /LOST +×3 +icmp-echo +203\.0\.113\.1>203\.0\.113\.20 +request lost after qvb7aa08012-d0/,
    );
    expect(lost.join('\n')).toMatch(/LOST +tcp-handshake +203\.0\.113\.1:\d+>203\.0\.113\.20:22 .*syn lost/);
    // statuses in colour (the first row is selected: inverse): the second LOST in red, OKs in green
    const colours = tmux('capture-pane', '-p', '-e', '-t', SESSION);
    // eslint-disable-next-line no-control-regex
    expect(colours).toMatch(/\x1b\[31m(\x0f)?LOST\x1b\[39m +×3/);
    // eslint-disable-next-line no-control-regex
    expect(colours).toMatch(/\x1b\[32m(\x0f)?OK\x1b\[39m/);
    // each interface with its role
    expect(first).toMatch(/compute:tap7aa08012-d0 +tap +up/);

    tmux('send-keys', '-t', SESSION, 'Enter');
    const ladder = await waitFor((t) => t.includes('missing on: tap7aa08012-d0'));
    expect(ladder).toMatch(/stops after qvb7aa08012/);

    tmux('send-keys', '-t', SESSION, 'Escape');
    // ↓ then Enter: the second row, the three lost echoes; the ladder is the newest one's
    tmux('send-keys', '-t', SESSION, 'Down');
    tmux('send-keys', '-t', SESSION, 'Enter');
    const second = await waitFor((t) => t.includes('the newest of 3'));
    expect(second).toMatch(/LOST icmp-echo 203\.0\.113\.1>203\.0\.113\.20 id=\d+ seq=3/);
    tmux('send-keys', '-t', SESSION, 'Escape');
    tmux('send-keys', '-t', SESSION, '/');
    await new Promise((r) => setTimeout(r, 300));
    tmux('send-keys', '-t', SESSION, 'tcp', 'Enter');
    const filtered = await waitFor((t) => t.includes('filter: tcp'));
    const shown = filtered.split('\n').filter((l) => /(LOST|OK) {2,}/.test(l));
    expect(shown).toHaveLength(1);
    expect(shown[0]).toContain('tcp-handshake');

    // the ARP tab: every ARP exchange of the incident was answered
    tmux('send-keys', '-t', SESSION, '/');
    await new Promise((r) => setTimeout(r, 300));
    // clear the filter ('tcp'), then the ARP tab
    tmux('send-keys', '-t', SESSION, 'BSpace', 'BSpace', 'BSpace', 'Enter');
    tmux('send-keys', '-t', SESSION, '4');
    const arp = await waitFor((t) => t.includes('[4 arp]'));
    const arpRows = arp.split('\n').filter((l) => /(LOST|OK) {2,}/.test(l));
    expect(arpRows.length).toBeGreaterThan(0);
    for (const row of arpRows) expect(row).toMatch(/OK +arp +who-has/);

    // a smaller terminal: everything is drawn again to fit it
    tmux('send-keys', '-t', SESSION, '1');
    tmux('resize-window', '-t', SESSION, '-x', '100', '-y', '30');
    // (waited for whole: tmux may show a redraw half done; a list without its two LOST rows
    // never matches, and the wait fails showing the screen)
    const small = await waitFor((t) => {
      const lines = t.split('\n');
      return (
        lines[0].startsWith('hopscope REPLAY') &&
        lines[0].trimEnd().length <= 100 &&
        t.includes('[1 all]') &&
        lines.filter((l) => /LOST/.test(l)).length === 2
      );
    });
    const smallLines = small.split('\n');
    expect(smallLines.filter((l) => l.trim() !== '').length).toBeLessThanOrEqual(30);
    for (const l of smallLines) expect(l.length).toBeLessThanOrEqual(100);

    // r in a replay says why it does nothing
    tmux('send-keys', '-t', SESSION, 'r');
    await waitFor((t) => t.includes('r records live captures'));

    tmux('send-keys', '-t', SESSION, 'q');
    await waitFor((t) => t.includes('EXIT=1'));
  }, 60_000);
});

describe('TUI on a live capture', () => {
  it('shows the lab interfaces and the lost inbound pings live; r stops and starts recordings; q leaves them valid', async () => {
    const { labUp } = await import('../../src/lab/index.js');
    const { downAllLabs, runPrefix, inNetns } = await import('../lab/support/lab-env.js');
    const prefix = runPrefix('tui');
    const dir = mkdtempSync(join(tmpdir(), 'hopscope-tui-'));
    const first = join(dir, 'live.pcapng');
    const second = join(dir, 'live.2.pcapng');
    try {
      const lab = await labUp('dvr-fip', { fault: 'sg-drop', prefix });
      const specs = lab.capturePoints.map((p) => `-i ${p.netns}/${p.iface}`).join(' ');
      tmux(
        'new-session',
        '-d',
        '-s',
        'live',
        '-x',
        '220',
        '-y',
        '45',
        `LANG=C.UTF-8 ${process.execPath} ${CLI} capture ${specs} -w ${first}; echo EXIT=$?; sleep 30`,
      );
      const waitLive = (p: (t: string) => boolean): Promise<string> => waitFor(p, 30_000, 'live');
      await waitLive((t) => t.includes('LIVE 14 interfaces') && t.includes(`recording ${first} (`));
      await inNetns(`${prefix}instance-0000002a`, ['ping', '-c', '2', '-i', '0.2', '203.0.113.1']);
      await inNetns(`${prefix}outside`, ['ping', '-c', '2', '-i', '0.2', '-W', '1', '203.0.113.20']);
      const screenText = await waitLive((t) => /LOST .*request lost after qvb7aa08012-d0/.test(t));
      expect(screenText).toContain(`${prefix}compute/tap7aa08012-d0`);

      // r: the recording stops (closed complete); r again: a new one next to it
      tmux('send-keys', '-t', 'live', 'r');
      await waitLive((t) => new RegExp(`recorded \\d+ packets to ${first}`).test(t));
      tmux('send-keys', '-t', 'live', 'r');
      await waitLive((t) => t.includes(`recording ${second} (`));
      await inNetns(`${prefix}instance-0000002a`, ['ping', '-c', '3', '-i', '0.2', '203.0.113.1']);
      await new Promise((r) => setTimeout(r, 1500));

      tmux('send-keys', '-t', 'live', 'q');
      const after = await waitLive((t) => t.includes('EXIT=1'));
      expect(after).toMatch(/packets captured on 14 interfaces/);
      expect(after).toMatch(new RegExp(`recorded \\d+ packets to ${first}`));
      expect(after).toMatch(new RegExp(`recorded \\d+ packets to ${second}`));

      // tshark reads both back: all 14 interfaces described, the pings in each
      for (const file of [first, second]) {
        expect(statSync(file).mode & 0o777).toBe(0o600);
        const names = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.interface_name'], {
          encoding: 'utf8',
        });
        expect(new Set(names.trim().split('\n')).size).toBeGreaterThan(1);
        const echoes = execFileSync(
          'tshark',
          ['-r', file, '-Y', 'icmp.type == 8', '-T', 'fields', '-e', 'frame.number'],
          {
            encoding: 'utf8',
          },
        );
        expect(echoes.trim().split('\n').length).toBeGreaterThanOrEqual(2);
      }
    } finally {
      await downAllLabs(prefix);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('TUI grouping live', () => {
  it('five ping runs of one flow lost at one hop are one row ×15; another flow, answered, is its own row', async () => {
    const { labUp } = await import('../../src/lab/index.js');
    const { downAllLabs, runPrefix, inNetns } = await import('../lab/support/lab-env.js');
    const prefix = runPrefix('tuig');
    try {
      const lab = await labUp('dvr-fip', { fault: 'sg-drop', prefix });
      const specs = lab.capturePoints.map((p) => `-i ${p.netns}/${p.iface}`).join(' ');
      tmux(
        'new-session',
        '-d',
        '-s',
        'group',
        '-x',
        '220',
        '-y',
        '45',
        `LANG=C.UTF-8 ${process.execPath} ${CLI} capture ${specs}; echo EXIT=$?; sleep 30`,
      );
      const wait = (p: (t: string) => boolean): Promise<string> => waitFor(p, 30_000, 'group');
      await wait((t) => t.includes('LIVE 14 interfaces'));
      // the VM's pings out, answered (their path tells where the inbound ones stop)…
      await inNetns(`${prefix}instance-0000002a`, ['ping', '-c', '3', '-i', '0.2', '203.0.113.1']);
      // …then five `ping -c 3` runs, each with an ICMP id of its own, into the security group's drop
      for (let run = 0; run < 5; run++)
        await inNetns(`${prefix}outside`, ['ping', '-c', '3', '-i', '0.2', '-W', '1', '203.0.113.20']);
      const text = await wait((t) => /LOST +×15 /.test(t) && /OK +×3 +icmp-echo/.test(t));
      const rows = text.split('\n').filter((l) => /icmp-echo/.test(l));
      const lost = rows.filter((l) => l.includes('LOST'));
      expect(lost).toHaveLength(1);
      expect(lost[0]).toMatch(
        /LOST +×15 +icmp-echo +203\.0\.113\.1>203\.0\.113\.20 +request lost after qvb7aa08012-d0/,
      );
      expect(rows.filter((l) => /OK +×3 +icmp-echo +10\.0\.0\.5>203\.0\.113\.1 /.test(l))).toHaveLength(1);
      tmux('send-keys', '-t', 'group', 'q');
      await wait((t) => t.includes('EXIT=1'));
    } finally {
      await downAllLabs(prefix);
    }
  }, 120_000);
});

describe('TUI on a paced replay', () => {
  it('--speed paces the recording, + and - change the speed, q stops it before the end', async () => {
    const command = `LANG=C.UTF-8 ${process.execPath} ${CLI} replay captures/dvr-fip-sg-drop.pcapng --speed 0.25; echo EXIT=$?; sleep 30`;
    tmux('new-session', '-d', '-s', 'paced', '-x', '150', '-y', '40', command);
    const wait = (p: (t: string) => boolean): Promise<string> => waitFor(p, 15_000, 'paced');
    const first = await wait((t) => / at \d\d:\d\d:\d\d\.\d{3} ×0\.25/.test(t));
    // a quarter of the recorded speed: still reading, not at the end
    expect(first).not.toContain('read to the end');
    tmux('send-keys', '-t', 'paced', '+');
    await wait((t) => t.includes('×0.5'));
    tmux('send-keys', '-t', 'paced', 'q');
    const after = await wait((t) => /EXIT=\d/.test(t));
    expect(after).toMatch(/EXIT=[01]/);
  }, 60_000);

  it('q while paused (p) quits at once: the read stops where it was', async () => {
    const command = `LANG=C.UTF-8 ${process.execPath} ${CLI} replay captures/dvr-fip-sg-drop.pcapng --speed 0.25; echo EXIT=$?; sleep 30`;
    tmux('new-session', '-d', '-s', 'pausedq', '-x', '150', '-y', '40', command);
    const wait = (p: (t: string) => boolean): Promise<string> => waitFor(p, 15_000, 'pausedq');
    await wait((t) => / at \d\d:\d\d:\d\d\.\d{3} ×0\.25/.test(t));
    tmux('send-keys', '-t', 'pausedq', 'p');
    await wait((t) => t.includes('PAUSED'));
    tmux('send-keys', '-t', 'pausedq', 'q');
    // (it used to wait for the pause to end, which no key could do any more: it never exited)
    const after = await wait((t) => /EXIT=\d/.test(t));
    expect(after).toMatch(/EXIT=[01]/);
  }, 60_000);
});
