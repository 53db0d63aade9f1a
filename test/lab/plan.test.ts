// The builder's plans, checked without running them: every command stays inside
// the lab's own namespaces, names look real and fit, addresses are lab addresses,
// and every fault changes the plan and shows in the traffic.
import { describe, expect, it } from 'vitest';
import { isLabAddress } from '../../src/lab/address-rules.js';
import { buildLab } from '../../src/lab/builder.js';
import type { PlanStep } from '../../src/lab/plan.js';
import { SCENARIOS } from '../../src/lab/scenarios/index.js';
import { dnatLocal } from '../../src/lab/scenarios/dnat-local.js';
import type { ScenarioSpec } from '../../src/lab/topology.js';
import { validateScenario } from '../../src/lab/validate.js';

const PREFIX = 'pt-';
const STATE_DIR = '/run/hopscope/lab/pt-';
const TOOLS = { ip: '/usr/sbin/ip', nc: '/usr/bin/nc' };

function variants(): { spec: ScenarioSpec; fault: string | null }[] {
  return SCENARIOS.flatMap((spec) =>
    [null, ...spec.faults.map((f) => f.name)].map((fault) => ({ spec, fault })),
  );
}

function build(spec: ScenarioSpec, fault: string | null): ReturnType<typeof buildLab> {
  return buildLab(spec, { fault, prefix: PREFIX, stateDir: STATE_DIR, tools: TOOLS });
}

function argvOf(step: PlanStep): readonly string[] | null {
  return step.kind === 'command' || step.kind === 'daemon' ? step.argv : null;
}

/** The namespace an `ip` command acts in, or null when it names none. */
function targetNamespaces(argv: readonly string[]): string[] {
  const targets: string[] = [];
  if (argv[1] === '-n') targets.push(argv[2]);
  if (argv[1] === 'netns' && ['exec', 'add', 'del'].includes(argv[2])) targets.push(argv[3]);
  // `… type veth peer name X netns NS`: the peer goes to NS.
  argv.forEach((a, i) => {
    if (a === 'netns' && i > 1 && argv[i - 1] !== 'ip') targets.push(argv[i + 1]);
  });
  return targets;
}

describe('lab plans', () => {
  it('has the four scenarios with their fixed fault names', () => {
    expect(Object.fromEntries(SCENARIOS.map((s) => [s.name, s.faults.map((f) => f.name)]))).toEqual({
      'nova-flat': [
        'reply-drop-br100',
        'dnsmasq-stopped',
        'dns-answer-drop',
        'dhcp-offer-drop',
        'sg-iptables',
        'stale-conntrack-snat',
      ],
      'dvr-fip': ['sg-drop', 'br-ex-no-uplink', 'router-forwarding-off', 'router-wrong-gateway'],
      'sdn-vxlan': ['mtu-mismatch', 'missing-route', 'rp-filter-asymmetric'],
      'dnat-local': ['no-route-localnet', 'ct-invalid-drop'],
    });
  });

  it.each(variants().map((v) => [v.spec.name, v.fault ?? 'none', v] as const))(
    '%s (fault %s): every command acts inside the lab’s own namespaces',
    (_n, _f, v) => {
      const { plan } = build(v.spec, v.fault);
      expect(plan.namespaces.every((n) => n.startsWith(PREFIX))).toBe(true);
      for (const step of plan.steps) {
        const argv = argvOf(step);
        if (argv === null) {
          if (step.kind === 'file') expect(step.path.startsWith(`${STATE_DIR}/`)).toBe(true);
          continue;
        }
        if (argv[0] === 'ssh-keygen') {
          expect(argv[argv.indexOf('-f') + 1].startsWith(`${STATE_DIR}/`)).toBe(true);
          continue;
        }
        expect(argv[0]).toBe('ip');
        const targets = targetNamespaces(argv);
        expect(targets.length, argv.join(' ')).toBeGreaterThan(0);
        for (const t of targets) expect(plan.namespaces, argv.join(' ')).toContain(t);
      }
    },
  );

  it.each(variants().map((v) => [v.spec.name, v.fault ?? 'none', v] as const))(
    '%s (fault %s): interface names fit IFNAMSIZ, addresses are lab addresses',
    (_n, _f, v) => {
      const { view } = build(v.spec, v.fault);
      for (const i of view.interfaces) {
        expect(i.name.length, i.name).toBeLessThanOrEqual(15);
        for (const a of i.addresses) expect(isLabAddress(a), a).toBe(true);
      }
      for (const c of view.capturePoints) {
        expect(view.interfaces.some((i) => i.netns === c.netns && i.name === c.iface)).toBe(true);
      }
    },
  );

  it('every fault changes what is built and makes some traffic fail', () => {
    for (const spec of SCENARIOS) {
      const healthy = JSON.stringify(build(spec, null).plan.steps);
      expect(build(spec, null).view.traffic.every((t) => t.expectSuccess)).toBe(true);
      for (const fault of spec.faults) {
        const built = build(spec, fault.name);
        expect(JSON.stringify(built.plan.steps), `${spec.name} ${fault.name}`).not.toBe(healthy);
        // a fault's failing traffic is a traffic command, or background traffic it starts
        const background = spec.daemons.some(
          (d) =>
            d.kind === 'background-traffic' &&
            d.when !== undefined &&
            'withFault' in d.when &&
            d.when.withFault === fault.name,
        );
        expect(
          built.view.traffic.some((t) => !t.expectSuccess) || background,
          `${spec.name} ${fault.name}`,
        ).toBe(true);
      }
    }
  });

  it('background traffic starts before the late rulesets, once conntrack holds its flow', () => {
    const spec = SCENARIOS.find((s) => s.name === 'nova-flat') as ScenarioSpec;
    const steps = build(spec, 'stale-conntrack-snat').plan.steps;
    const at = (match: (s: PlanStep) => boolean): number => steps.findIndex(match);
    const pinger = at((s) => s.kind === 'daemon' && s.name === 'traffic-monitoring-ping');
    const firewall = at((s) => s.kind === 'command' && s.what === 'load nftables host-firewall in compute');
    const nat = at((s) => s.kind === 'command' && s.what === 'load nftables floating-ip-nat in compute');
    expect(firewall).toBeGreaterThan(-1);
    expect(firewall).toBeLessThan(pinger);
    expect(pinger).toBeLessThan(nat);
    const daemon = steps[pinger] as Extract<PlanStep, { kind: 'daemon' }>;
    expect(daemon.ready).toEqual([
      {
        kind: 'conntrack',
        netns: `${PREFIX}compute`,
        protocol: 'icmp',
        src: '10.0.0.10',
        dst: '203.0.113.10',
      },
    ]);
    // without the fault the NAT comes with the other rulesets, and nothing runs in the background
    const healthy = build(spec, null).plan.steps;
    expect(healthy.some((s) => s.kind === 'daemon' && s.name === 'traffic-monitoring-ping')).toBe(false);
  });

  it('iptables rules are loaded by their backend, added to what the namespace has', () => {
    const spec = SCENARIOS.find((s) => s.name === 'nova-flat') as ScenarioSpec;
    const step = build(spec, 'sg-iptables').plan.steps.find(
      (s): s is Extract<PlanStep, { kind: 'command' }> =>
        s.kind === 'command' && s.what.startsWith('load iptables'),
    );
    expect(step?.argv).toEqual([
      ...['ip', 'netns', 'exec', `${PREFIX}compute`, 'iptables-legacy-restore', '--noflush'],
      `${STATE_DIR}/iptables-${PREFIX}compute-security-group.rules`,
    ]);
  });

  it('names look like the real thing', () => {
    const all = SCENARIOS.flatMap((s) => build(s, null).view.interfaces.map((i) => i.name));
    const namespaces = SCENARIOS.flatMap((s) => build(s, null).plan.namespaces);
    const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
    expect(namespaces).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`^${PREFIX}qrouter-${uuid}$`))]),
    );
    expect(namespaces).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`^${PREFIX}fip-${uuid}$`))]),
    );
    for (const kind of ['tap', 'qbr', 'qvb', 'qvo', 'qr-', 'rfp-', 'fpr-', 'fg-']) {
      expect(
        all.some((n) => n.startsWith(kind) && n.length === 14),
        kind,
      ).toBe(true);
    }
    expect(all).toEqual(
      expect.arrayContaining(['br100', 'br0', 'br-int', 'br-ex', 'tun0', 'vxlan_sys_4789']),
    );
  });

  it('the ssh config reaches each host through ip netns exec and nc, nothing else', () => {
    const { plan, view } = build(SCENARIOS.find((s) => s.name === 'dvr-fip') as ScenarioSpec, null);
    const config = plan.steps.find(
      (s): s is Extract<PlanStep, { kind: 'file' }> => s.kind === 'file' && s.path === view.sshConfigPath,
    );
    expect(config?.content).toContain(`Host ${PREFIX}compute\n`);
    expect(config?.content).toContain(
      `ProxyCommand /usr/sbin/ip netns exec ${PREFIX}network /usr/bin/nc 127.0.0.1 22`,
    );
    expect(view.hosts.map((h) => h.sshName)).toEqual([
      `${PREFIX}compute`,
      `${PREFIX}network`,
      `${PREFIX}outside`,
    ]);
  });
});

describe('scenario validation', () => {
  it('rejects an address outside the lab ranges', () => {
    const bad: ScenarioSpec = {
      ...dnatLocal,
      addresses: [{ netns: 'client', dev: 'eth0', cidr: '8.8.8.8/24' }],
    };
    expect(() => validateScenario(bad)).toThrow(/8\.8\.8\.8\/24 is outside the lab's address ranges/);
  });

  it('rejects an interface name longer than 15 characters', () => {
    const bad: ScenarioSpec = {
      ...dnatLocal,
      links: [
        {
          kind: 'veth',
          a: { netns: 'client', name: 'qr-56c70d72-3b9f', role: 'qr' },
          b: { netns: 'edge', name: 'eth0', role: 'physical' },
        },
      ],
    };
    expect(() => validateScenario(bad)).toThrow(/longer than 15/);
  });

  it('rejects traffic to a non-lab address and an unknown fault', () => {
    const bad: ScenarioSpec = {
      ...dnatLocal,
      traffic: [
        { name: 'leak', netns: 'client', argv: ['ping', '1.1.1.1'], description: '', failsWith: ['nope'] },
      ],
    };
    expect(() => validateScenario(bad)).toThrow(
      /1\.1\.1\.1 is outside.*unknown fault nope|unknown fault nope.*1\.1\.1\.1 is outside/,
    );
  });
});

describe('lab address ranges', () => {
  it.each([
    ['10.1.2.3/32', true],
    ['10.0.0.0/8', true],
    ['192.168.126.11', true],
    ['192.0.2.7', true],
    ['198.51.100.0/24', true],
    ['203.0.113.20/32', true],
    ['203.0.112.0/23', false],
    ['192.169.0.1', false],
    ['8.8.8.8', false],
    ['127.0.0.1', false],
    ['10.0.0.300', false],
  ])('%s → %s', (address, expected) => {
    expect(isLabAddress(address)).toBe(expected);
  });

  it('allows loopback only when asked', () => {
    expect(isLabAddress('127.0.0.1', { allowLoopback: true })).toBe(true);
  });
});
