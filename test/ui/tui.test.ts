// The TUI driven for real in a pseudo-terminal (tmux), on a shipped recording: the
// interfaces, the lost exchanges first with where they broke, the ladder with the
// break at the right hop after Enter, the filter, and q leaving with the exit status.
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, PROJECT_ROOT } from '../support/run-cli.js';

const SOCKET = `hopscope-tui-${process.pid}`;
const SESSION = 'tui';

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8', cwd: PROJECT_ROOT });
}

const screen = (): string => tmux('capture-pane', '-p', '-t', SESSION);

async function waitFor(predicate: (text: string) => boolean, timeoutMs = 15_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < end) {
    text = screen();
    if (predicate(text)) return text;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`screen never matched; last screen:\n${text}`);
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
    // problems first: the first exchange row is a lost one, saying where it broke
    const rows = first.split('\n').filter((l) => /(LOST|OK) {2,}/.test(l));
    expect(rows[0]).toMatch(/LOST .* lost after qvb7aa08012-d0, missing on tap7aa08012-d0, eth0/);
    expect(rows.filter((l) => l.includes('LOST'))).toHaveLength(4);

    tmux('send-keys', '-t', SESSION, 'Enter');
    const ladder = await waitFor((t) => t.includes('missing on: tap7aa08012-d0'));
    expect(ladder).toMatch(/stops after qvb7aa08012/);

    tmux('send-keys', '-t', SESSION, 'Escape');
    tmux('send-keys', '-t', SESSION, '/');
    await new Promise((r) => setTimeout(r, 300));
    tmux('send-keys', '-t', SESSION, 'tcp', 'Enter');
    const filtered = await waitFor((t) => t.includes('filter: tcp'));
    const shown = filtered.split('\n').filter((l) => /(LOST|OK) {2,}/.test(l));
    expect(shown).toHaveLength(1);
    expect(shown[0]).toContain('tcp-handshake');

    tmux('send-keys', '-t', SESSION, 'q');
    await waitFor((t) => t.includes('EXIT=1'));
  }, 60_000);
});
