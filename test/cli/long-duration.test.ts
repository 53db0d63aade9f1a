// `--duration` of any length: Node's timers hold at most ~24.8 days and fire after 1 ms
// beyond that, which ended a capture with `--duration 99999999999` at once.
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setLongTimeout } from '../../src/pipeline/long-timer.js';
import { requireRoot } from '../lab/support/lab-env.js';
import { startCli } from '../support/cli-process.js';

describe('setLongTimeout', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires at its deadline however far away, not before', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const days100 = 100 * 24 * 3600 * 1000; // four times what one setTimeout holds
    setLongTimeout(days100, fired);
    vi.advanceTimersByTime(days100 - 1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('can be cancelled between its steps', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const cancel = setLongTimeout(2 ** 33, fired);
    vi.advanceTimersByTime(2 ** 31 + 10); // past the first re-arm
    cancel();
    vi.advanceTimersByTime(2 ** 34);
    expect(fired).not.toHaveBeenCalled();
  });
});

describe('capture --duration 99999999999', () => {
  it('captures until stopped, without a timer warning', async () => {
    requireRoot();
    const cap = startCli([
      'capture',
      '-i',
      'lo',
      '-f',
      'icmp',
      '--duration',
      '99999999999',
      '--json',
      '--packets',
    ]);
    await cap.waitForLine((l) => l.includes('"type":"interface"'));
    // Traffic on loopback only; the capture must still be running to see it.
    const seen = cap.waitForLine((l) => l.includes('"type":"packet"') && l.includes('"proto":"icmp"'));
    const ping = (): void => {
      spawnSync('ping', ['-c', '1', '-W', '1', '127.0.0.1'], { stdio: 'ignore' });
    };
    const pinger = setInterval(ping, 300);
    try {
      ping();
      await seen;
    } finally {
      clearInterval(pinger);
    }
    cap.child.kill('SIGINT');
    expect(await cap.exited).toBe(0);
    expect(cap.stderr()).not.toMatch(/TimeoutOverflowWarning/);
  });
});
