// `hopscope path` on each lab scenario built for real (as root): between the endpoints
// of every traffic entry, the chain of the scenario's capture points in order, both ways,
// through SNAT/DNAT and VXLAN — locally, and over ssh on the two hosts of sdn-vxlan with
// the lab's ssh config, labelled as remote capture takes them. The faults that break a
// way show where it stops (exit 1); an address nothing holds is a one-line error (exit 2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureSpec, labDown, labUp, type LabView } from '../../src/lab/index.js';
import { capturePathSpecs } from '../../src/path/find.js';
import type { PathRecord } from '../../src/path/format.js';
import { downAllLabs, requireRoot, runPrefix } from '../lab/support/lab-env.js';
import { expectContract } from '../support/json-schema.js';
import { runCli } from '../support/run-cli.js';
import { SCENARIO_NAMES, scenarioPaths } from './support/scenario-paths.js';

const PREFIX = runPrefix('pth');

beforeAll(() => requireRoot());
afterAll(async () => downAllLabs(PREFIX), 120_000);

function pathJson(args: readonly string[]): { status: number | null; record: PathRecord; stderr: string } {
  const r = runCli(['path', ...args, '--json']);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`no record (exit ${r.status}): ${r.stderr}`);
  const record: unknown = JSON.parse(line);
  // what `path --json` prints keeps the contract (docs/hopscope.schema.json)
  expectContract([record], `hopscope path ${args.join(' ')} --json`);
  return { status: r.status, record: record as PathRecord, stderr: r.stderr };
}

const labelsOf = (leg: PathRecord['forward'] | null): string[] => (leg?.hops ?? []).map((h) => h.label);

/** The lab's capture points at these indices, as -i takes them (local, or over its ssh). */
function points(lab: LabView, indices: readonly number[], remote: boolean): string[] {
  return indices.map((i) => captureSpec(lab.capturePoints[i], lab, remote));
}

for (const name of SCENARIO_NAMES) {
  describe(`path on the ${name} lab`, () => {
    let lab: LabView;
    beforeAll(async () => {
      lab = await labUp(name, { prefix: `${PREFIX}${name.split('-')[0]}-` });
    }, 120_000);
    afterAll(async () => {
      if (lab !== undefined) await labDown(lab.prefix);
    }, 120_000);

    it('capture --path: the capture SPECs of the first traffic entry’s path', async () => {
      const [p] = scenarioPaths(name);
      const specs = await capturePathSpecs(p.src, p.dst, { proto: p.proto, netns: `${lab.prefix}*` });
      expect(specs.map((s) => s.text)).toEqual(points(lab, p.points, false));
    });

    for (const p of scenarioPaths(name)) {
      it(`${p.traffic}: ${p.src} → ${p.dst} crosses the capture points in order, and the answer the same way back`, () => {
        const r = pathJson([p.src, p.dst, '--proto', p.proto, '--netns', `${lab.prefix}*`]);
        const want = points(lab, p.points, false);
        expect(labelsOf(r.record.forward)).toEqual(want);
        expect(r.record.forward.end.status).toBe('delivered');
        expect(labelsOf(r.record.back)).toEqual([...want].reverse());
        expect(r.record.backDiffers).toBe(false);
        expect(r.record.capture).toEqual(want);
        expect(r.status).toBe(0);
      });
    }
  });
}

describe('path over ssh', () => {
  it('sdn-vxlan, both nodes given with --host: the pod-to-pod chain labelled HOST:[NETNS/]IFACE, through VXLAN', async () => {
    const lab = await labUp('sdn-vxlan', { prefix: `${PREFIX}ssh-` });
    try {
      const hosts = lab.hosts.flatMap((h) => ['--host', h.sshName]);
      const [ping] = scenarioPaths('sdn-vxlan');
      const r = pathJson([
        ping.src,
        ping.dst,
        ...hosts,
        '--ssh-config',
        lab.sshConfigPath,
        '--netns',
        `${lab.prefix}*`,
      ]);
      const want = points(lab, ping.points, true);
      expect(want[0]).toMatch(/^t.*ssh-node1:t.*ssh-cni-5c1e7a2d-8b3f-4a6e-9d0c-1f2e3a4b5c6d\/eth0$/);
      expect(labelsOf(r.record.forward)).toEqual(want);
      expect(r.stderr).toBe('');
      expect(labelsOf(r.record.back)).toEqual([...want].reverse());
      const underlay = r.record.forward.hops.filter((h) => h.tunnel !== null).map((h) => h.label);
      expect(underlay).toEqual(want.filter((l) => /node[12]:eth0$/.test(l)));
      expect(r.status).toBe(0);
      // and as text, the capture command to paste
      const text = runCli([
        'path',
        ping.src,
        ping.dst,
        ...hosts,
        '--ssh-config',
        lab.sshConfigPath,
        '--netns',
        `${lab.prefix}*`,
      ]);
      expect(text.stdout).toContain(
        `capture with: hopscope capture --ssh-config ${lab.sshConfigPath} ${want.map((w) => `-i ${w}`).join(' ')}`,
      );
    } finally {
      await labDown(lab.prefix);
    }
  }, 180_000);
});

describe('path where a fault breaks a way', () => {
  it('sdn-vxlan missing-route: the request arrives, the answer stops at node2’s tun0 — shown because it differs; exit 1', async () => {
    const lab = await labUp('sdn-vxlan', { prefix: `${PREFIX}mr-`, fault: 'missing-route' });
    try {
      const r = pathJson(['10.128.0.5', '10.128.2.5', '--netns', `${lab.prefix}*`]);
      expect(r.record.forward.end.status).toBe('delivered');
      expect(r.record.backDiffers).toBe(true);
      expect(labelsOf(r.record.back)).toEqual(points(lab, [9, 8, 7], false));
      expect(r.record.back?.end).toEqual({
        status: 'stopped',
        note: `no route to 10.128.0.5 in namespace ${lab.prefix}node2`,
      });
      expect(r.status).toBe(1);
      const text = runCli(['path', '10.128.0.5', '10.128.2.5', '--netns', `${lab.prefix}*`]);
      expect(text.stdout).toMatch(/^return 10\.128\.2\.5 → 10\.128\.0\.5 \(differs\): 3 interfaces$/m);
      expect(text.stdout).toContain(`  => STOPS: no route to 10.128.0.5 in namespace ${lab.prefix}node2`);
    } finally {
      await labDown(lab.prefix);
    }
  }, 180_000);

  it('dnat-local no-route-localnet: the SYN is DNAT-ed to 127.0.0.1 and dropped as a martian on the edge’s eth0; exit 1', async () => {
    const lab = await labUp('dnat-local', { prefix: `${PREFIX}rl-`, fault: 'no-route-localnet' });
    try {
      const r = pathJson(['198.51.100.10', '198.51.100.1:80', '--netns', `${lab.prefix}*`]);
      expect(labelsOf(r.record.forward)).toEqual(points(lab, [0, 1], false));
      expect(r.record.forward.hops[1].notes[0]).toMatch(/^dnat 198\.51\.100\.1:80 → 127\.0\.0\.1:8080/);
      expect(r.record.forward.end).toEqual({
        status: 'stopped',
        note: '127.0.0.1 arriving on eth0 is a martian there and dropped (net.ipv4.conf.eth0.route_localnet=0)',
      });
      expect(r.status).toBe(1);
    } finally {
      await labDown(lab.prefix);
    }
  }, 180_000);
});

describe('path: errors a user can make', () => {
  it('an address no interface holds: one line, exit 2', () => {
    const r = runCli(['path', '10.254.254.254', '10.0.0.1', '--netns', `${PREFIX}nothing-*`]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      'hopscope: path: no interface holds 10.254.254.254 on the hosts asked, and no neighbour table knows its MAC behind a bridge port\n',
    );
  });

  it('not an address, a bad port, one argument: one line each, exit 2', () => {
    for (const [args, message] of [
      [['vm1', '10.0.0.1'], "path: SRC must be an IPv4 or IPv6 address (a VM's or a pod's), got 'vm1'"],
      [['10.0.0.5', '10.0.0.1:99999'], "path: DST's port must be 1 to 65535, got 99999"],
      [['10.0.0.5'], 'path: give SRC and DST (hopscope path 10.0.0.5 203.0.113.1), got 1 argument'],
      [
        ['10.0.0.5', '10.0.0.1', '--host', '-oProxyCommand=x'],
        'path: ssh destination "-oProxyCommand=x" begins with \'-\'',
      ],
    ] as const) {
      const r = runCli(['path', ...args]);
      expect([r.status, r.stderr]).toEqual([2, `hopscope: ${message}\n`]);
    }
  });
});
