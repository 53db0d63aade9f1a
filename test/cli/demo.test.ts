// `npm start` without a terminal (CI): the live lab with its fault, captured for a few
// seconds, the text report of verdicts, exit 0, and the lab gone afterwards. Without
// root: the shipped recording of the same incident, replayed.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { namespacesStartingWith, requireRoot } from '../lab/support/lab-env.js';
import { CLI, PROJECT_ROOT, runCli } from '../support/run-cli.js';

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

  it('without root, replays the shipped recording of the incident from the built CLI, and exits 0', () => {
    // The CLI as a user other than root sees it: only its uid check is told so (the
    // project's files stay root's, which a real other user may not be let into).
    const r = spawnSync(
      process.execPath,
      ['--import', 'data:text/javascript,process.getuid=()=>65534', CLI, 'demo'],
      { encoding: 'utf8', cwd: PROJECT_ROOT, timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'Not root, so no live lab: replaying the recording of dvr-fip with fault sg-drop.',
    );
    expect(r.stdout).toContain(
      'request last seen on compute:qvb7aa08012-d0, never reached compute:tap7aa08012-d0',
    );
    expect(r.stdout).toMatch(/16 exchanges: 12 ok, 4 lost/);
    expect(namespacesStartingWith('hsdemo-')).toEqual([]);
  });
});
