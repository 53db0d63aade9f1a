// The gather script run for real (as root) on two namespaces joined by a veth: what it
// reads is what `ip` shows, and what `ip` says on stderr while it still answers (it
// warns "Peer netns reference is invalid" when another namespace is deleted meanwhile,
// as lab tests running side by side do) never mixes into the JSON it reads — else the
// veth's other end, named by the namespace ids, is lost.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatherArgv, gatherHost } from '../../src/path/gather.js';
import { parseGatherOutput } from '../../src/path/snapshot.js';
import { Topology } from '../../src/path/topology.js';
import { namespacesStartingWith, requireRoot, run, runPrefix } from '../lab/support/lab-env.js';

const PREFIX = runPrefix('gth');
const A = `${PREFIX}a`;
const B = `${PREFIX}b`;
let fakeBin = '';

beforeAll(async () => {
  requireRoot();
  for (const argv of [
    ['ip', 'netns', 'add', A],
    ['ip', 'netns', 'add', B],
    ['ip', '-n', A, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', B],
    ['ip', '-n', A, 'addr', 'add', '10.77.0.1/24', 'dev', 'va'],
    ['ip', '-n', A, 'link', 'set', 'va', 'up'],
    ['ip', '-n', B, 'link', 'set', 'vb', 'up'],
  ]) {
    const r = await run(argv);
    if (r.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  }
  // An `ip` that warns on stderr before every answer, as iproute2 does in the race.
  fakeBin = mkdtempSync(join(tmpdir(), 'hopscope-fake-ip-'));
  const realIp = (await execa('sh', ['-c', 'command -v ip'])).stdout.trim();
  writeFileSync(
    join(fakeBin, 'ip'),
    `#!/bin/sh\necho 'Error: Peer netns reference is invalid.' >&2\nexec ${realIp} "$@"\n`,
  );
  chmodSync(join(fakeBin, 'ip'), 0o755);
}, 60_000);

afterAll(async () => {
  for (const ns of namespacesStartingWith(PREFIX)) await run(['ip', 'netns', 'del', ns]);
  if (fakeBin !== '') rmSync(fakeBin, { recursive: true, force: true });
});

describe('the gather script', () => {
  it('reads the namespaces matching the pattern: links, addresses, the veth’s other end', async () => {
    const state = await gatherHost({ host: null, netns: `${PREFIX}*` });
    // (the host's own namespace first; then as `ip netns list` gives them)
    expect(state.namespaces[0].name).toBeNull();
    expect(
      state.namespaces
        .slice(1)
        .map((n) => n.name)
        .sort(),
    ).toEqual([A, B]);
    const topo = new Topology([state]);
    const a = topo.namespaces.find((n) => n.netns === A);
    const va = a?.links.find((l) => l.name === 'va');
    // (and the IPv6 link-local address the kernel gives it once it is up)
    expect(va?.state.addresses.map((x) => `${x.address.text}/${x.prefixLength}`)).toContain('10.77.0.1/24');
    expect(va === undefined ? null : topo.peerOf(va)?.label).toBe(`${B}/vb`);
    expect(state.problems).toEqual([]);
  });

  it('what ip says on stderr while it answers stays out of what is read', async () => {
    const argv = gatherArgv({ host: null, netns: `${PREFIX}*` });
    const r = await execa(argv[0], argv.slice(1), { env: { PATH: `${fakeBin}:${process.env.PATH ?? ''}` } });
    const state = parseGatherOutput(null, r.stdout);
    for (const ns of state.namespaces) expect(ns.problems).toEqual([]);
    const topo = new Topology([state]);
    const va = topo.namespaces.find((n) => n.netns === A)?.links.find((l) => l.name === 'va');
    expect(va === undefined ? null : topo.peerOf(va)?.label).toBe(`${B}/vb`);
  });

  it('a command that fails: its message is the part’s problem, the rest is read', async () => {
    const argv = gatherArgv({ host: null, netns: `${PREFIX}*` });
    const bin = mkdtempSync(join(tmpdir(), 'hopscope-bad-bridge-'));
    try {
      writeFileSync(join(bin, 'bridge'), "#!/bin/sh\necho 'bridge: netlink says no' >&2\nexit 1\n");
      chmodSync(join(bin, 'bridge'), 0o755);
      const r = await execa(argv[0], argv.slice(1), { env: { PATH: `${bin}:${process.env.PATH ?? ''}` } });
      const state = parseGatherOutput(null, r.stdout);
      const a = state.namespaces.find((n) => n.name === A);
      expect(a?.problems).toEqual(['fdb: bridge: netlink says no']);
      expect(a?.links.map((l) => l.name).sort()).toEqual(['lo', 'va']);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
