// `npm start` without a terminal (CI): the live lab with its fault, captured for a few
// seconds, the text report of verdicts, exit 0, and the lab gone afterwards.
import { describe, expect, it } from 'vitest';
import { namespacesStartingWith, requireRoot } from '../lab/support/lab-env.js';
import { runCli } from '../support/run-cli.js';

describe('demo (npm start) on a non-TTY', () => {
  it('shows where the security group drops the inbound ping, exits 0 and removes the lab', () => {
    requireRoot();
    const r = runCli(['demo', '--duration', '4'], { timeout: 90_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/LOST +icmp-echo +203\.0\.113\.1>203\.0\.113\.20 /);
    expect(r.stdout).toContain(
      'request last seen on hsdemo-compute/qvb7aa08012-d0, never reached hsdemo-compute/tap7aa08012-d0',
    );
    expect(r.stdout).toMatch(/\d+ exchanges: \d+ ok, [1-9]\d* lost/);
    expect(r.stdout).toContain('Tearing the lab down');
    expect(namespacesStartingWith('hsdemo-')).toEqual([]);
  }, 120_000);
});
