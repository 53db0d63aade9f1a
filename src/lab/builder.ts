// The one builder: any ScenarioSpec, one fault (or none) and a prefix → the
// concrete steps that build it (plan.ts) and the resolved description of the lab
// (view.ts). Pure: it runs nothing, so a plan can be inspected and tested.
//
// Every command names a lab namespace (`ip -n NS …`, `ip netns exec NS …`);
// veth pairs are created inside one lab namespace with their peer sent straight
// to another, so nothing ever appears in the root namespace, not even briefly.
import { dnsmasqArgv, tapShuttleArgv, tcpListenerArgv } from './daemons.js';
import type { LabPlan, PlanStep, ReadinessProbe } from './plan.js';
import { sshClientConfigText, sshdConfigText, sshKeygenArgv } from './ssh.js';
import { labFiles } from './state-dir.js';
import type { Conditional, DaemonSpec, InterfaceSpec, LinkSpec, ScenarioSpec } from './topology.js';
import { validateScenario } from './validate.js';
import type { LabHost, LabView } from './view.js';

export interface BuildOptions {
  fault: string | null;
  prefix: string;
  stateDir: string;
  /** absolute paths used in files that outlive this process (ssh_config) */
  tools: { ip: string; nc: string };
}

export interface BuiltLab {
  plan: LabPlan;
  view: LabView;
}

/** Sysctls every lab namespace gets before any interface exists. */
const NAMESPACE_DEFAULTS: readonly string[] = [
  // No IPv6: no link-local addresses outside the lab's ranges, and no router
  // solicitations or MLD reports cluttering the captures.
  'net.ipv6.conf.all.disable_ipv6=1',
  'net.ipv6.conf.default.disable_ipv6=1',
];

const SSH_PORT = 22;
const DNS_PORT = 53;
const DHCP_SERVER_PORT = 67;

export function isActive(item: Conditional, fault: string | null): boolean {
  if (item.when === undefined) return true;
  if ('withFault' in item.when) return item.when.withFault === fault;
  return item.when.withoutFault !== fault;
}

export function linkInterfaces(link: LinkSpec): InterfaceSpec[] {
  switch (link.kind) {
    case 'veth':
      return [link.a, link.b];
    case 'bridge':
    case 'vxlan':
      return [link.dev];
    case 'tap':
      return [link.tap, link.guest];
  }
}

/** What every phase needs: naming, the fault filter, and the step list it appends to. */
class PlanWriter {
  readonly steps: PlanStep[] = [];
  constructor(
    readonly spec: ScenarioSpec,
    readonly options: BuildOptions,
  ) {}

  /** real (prefixed) name of a scenario namespace */
  ns(name: string): string {
    return `${this.options.prefix}${name}`;
  }

  active<T extends Conditional>(items: readonly T[]): T[] {
    return items.filter((i) => isActive(i, this.options.fault));
  }

  ipIn(netns: string, ...args: string[]): string[] {
    return ['ip', '-n', this.ns(netns), ...args];
  }

  execIn(netns: string, ...argv: string[]): string[] {
    return ['ip', 'netns', 'exec', this.ns(netns), ...argv];
  }

  command(what: string, argv: string[]): void {
    this.steps.push({ kind: 'command', what, argv });
  }

  get dir(): string {
    return this.options.stateDir;
  }
}

export function buildLab(spec: ScenarioSpec, options: BuildOptions): BuiltLab {
  validateScenario(spec);
  if (options.fault !== null && !spec.faults.some((f) => f.name === options.fault)) {
    throw new Error(`scenario ${spec.name} has no fault ${options.fault}`);
  }
  const w = new PlanWriter(spec, options);
  const interfaces = w.active(spec.links).flatMap(linkInterfaces);

  addNamespaces(w);
  for (const link of w.active(spec.links)) addLink(w, link);
  addInterfaceSettings(w, interfaces);
  addRouting(w);
  addSettleWait(w, interfaces);
  addNftables(w, false);
  addIptables(w);
  // traffic that was already flowing when the late rules came (conntrack holds its flow)
  const background = w.active(spec.daemons).filter((d) => d.kind === 'background-traffic');
  for (const d of background) w.steps.push(daemonStep(w, d));
  addNftables(w, true);
  const hosts = addSshHosts(w);
  for (const d of w.active(spec.daemons)) if (d.kind !== 'background-traffic') w.steps.push(daemonStep(w, d));

  return {
    plan: { namespaces: spec.namespaces.map((n) => w.ns(n.name)), steps: w.steps },
    view: describeLab(w, interfaces, hosts),
  };
}

function addNamespaces(w: PlanWriter): void {
  for (const n of w.spec.namespaces) w.steps.push({ kind: 'netns', netns: w.ns(n.name) });
  for (const n of w.spec.namespaces) {
    w.command(`bring lo up in ${n.name}`, w.ipIn(n.name, 'link', 'set', 'dev', 'lo', 'up'));
    w.command(
      `namespace defaults in ${n.name}`,
      w.execIn(n.name, 'sysctl', '-q', '-w', ...NAMESPACE_DEFAULTS),
    );
  }
}

function macArgs(end: InterfaceSpec): string[] {
  return end.mac === undefined ? [] : ['address', end.mac];
}

function addLink(w: PlanWriter, link: LinkSpec): void {
  switch (link.kind) {
    case 'veth': {
      const { a, b } = link;
      w.command(`veth ${a.name} (${a.netns}) <-> ${b.name} (${b.netns})`, [
        ...w.ipIn(a.netns, 'link', 'add', a.name, ...macArgs(a), 'type', 'veth'),
        ...['peer', 'name', b.name, ...macArgs(b), 'netns', w.ns(b.netns)],
      ]);
      return;
    }
    case 'bridge': {
      const { dev } = link;
      w.command(`bridge ${dev.name} in ${dev.netns}`, [
        ...w.ipIn(dev.netns, 'link', 'add', dev.name, ...macArgs(dev), 'type', 'bridge'),
        ...['forward_delay', '0', 'stp_state', '0'],
      ]);
      return;
    }
    case 'vxlan': {
      const { dev } = link;
      w.command(`vxlan ${dev.name} in ${dev.netns}`, [
        ...w.ipIn(dev.netns, 'link', 'add', dev.name, ...macArgs(dev), 'type', 'vxlan'),
        ...['id', String(link.vni), 'dstport', String(link.dstPort)],
        ...['local', link.local, 'remote', link.remote, 'dev', link.underlay, 'nolearning'],
      ]);
      return;
    }
    case 'tap':
      addTapPair(w, link);
      return;
  }
}

function addTapPair(w: PlanWriter, link: Extract<LinkSpec, { kind: 'tap' }>): void {
  // The shuttle opens both taps in the host namespace (a process opens a tap in
  // its own namespace); the guest's one is then moved into the guest and renamed.
  const hostNs = link.tap.netns;
  const guestTemp = `guest${w.spec.links.filter((l) => l.kind === 'tap').indexOf(link)}`;
  w.steps.push({
    kind: 'daemon',
    what: `tap ${link.tap.name} (${hostNs}) <-> ${link.guest.name} (${link.guest.netns})`,
    name: `tap-${link.tap.name}`,
    netns: w.ns(hostNs),
    argv: w.execIn(hostNs, ...tapShuttleArgv(link.tap.name, guestTemp)),
    log: labFiles.log(w.dir, `tap-${link.tap.name}`),
    ready: [{ kind: 'links', netns: w.ns(hostNs), names: [link.tap.name, guestTemp] }],
  });
  w.command(
    `move the guest NIC into ${link.guest.netns}`,
    w.ipIn(hostNs, 'link', 'set', 'dev', guestTemp, 'netns', w.ns(link.guest.netns)),
  );
  w.command(
    `name the guest NIC ${link.guest.name}`,
    w.ipIn(link.guest.netns, 'link', 'set', 'dev', guestTemp, 'name', link.guest.name),
  );
  for (const end of [link.tap, link.guest]) {
    if (end.mac === undefined) continue;
    w.command(`MAC of ${end.name}`, w.ipIn(end.netns, 'link', 'set', 'dev', end.name, 'address', end.mac));
  }
}

function addInterfaceSettings(w: PlanWriter, interfaces: readonly InterfaceSpec[]): void {
  for (const m of w.active(w.spec.mtus)) {
    w.command(
      `MTU ${m.mtu} on ${m.dev} (${m.netns})`,
      w.ipIn(m.netns, 'link', 'set', 'dev', m.dev, 'mtu', String(m.mtu)),
    );
  }
  for (const p of w.active(w.spec.bridgePorts)) {
    w.command(
      `${p.port} into bridge ${p.bridge} (${p.netns})`,
      w.ipIn(p.netns, 'link', 'set', 'dev', p.port, 'master', p.bridge),
    );
  }
  for (const a of w.active(w.spec.addresses)) {
    w.command(
      `address ${a.cidr} on ${a.dev} (${a.netns})`,
      w.ipIn(a.netns, 'address', 'add', a.cidr, 'dev', a.dev),
    );
  }
  // Bridges first: a port that comes up on a running bridge is enabled at once.
  const isBridge = (i: InterfaceSpec): boolean => i.role === 'bridge' || i.role === 'qbr';
  const upOrder = [...interfaces.filter(isBridge), ...interfaces.filter((i) => !isBridge(i))];
  for (const i of upOrder)
    w.command(`bring ${i.name} up (${i.netns})`, w.ipIn(i.netns, 'link', 'set', 'dev', i.name, 'up'));
  // After the interfaces exist: sysctls may name them.
  for (const s of w.active(w.spec.sysctls)) {
    w.command(
      `sysctl ${s.key}=${s.value} in ${s.netns}`,
      w.execIn(s.netns, 'sysctl', '-q', '-w', `${s.key}=${s.value}`),
    );
  }
}

function addRouting(w: PlanWriter): void {
  for (const n of w.active(w.spec.neighbors)) {
    w.command(
      `neighbour ${n.ip} on ${n.dev} (${n.netns})`,
      w.ipIn(n.netns, 'neigh', 'replace', n.ip, 'lladdr', n.mac, 'dev', n.dev, 'nud', 'permanent'),
    );
  }
  for (const r of w.active(w.spec.routes)) {
    const args = ['route', 'add', r.to];
    if (r.via !== undefined) args.push('via', r.via);
    if (r.dev !== undefined) args.push('dev', r.dev);
    if (r.onlink) args.push('onlink');
    w.command(`route ${r.to} in ${r.netns}`, w.ipIn(r.netns, ...args));
  }
}

/**
 * The kernel reports carrier changes asynchronously (linkwatch, up to a second
 * late), and a bridge only forwards to a port once it has seen its carrier: wait
 * for that, so the lab's first packets are not lost to start-up.
 */
function addSettleWait(w: PlanWriter, interfaces: readonly InterfaceSpec[]): void {
  const byNamespace = new Map<string, string[]>();
  for (const i of interfaces) byNamespace.set(i.netns, [...(byNamespace.get(i.netns) ?? []), i.name]);
  w.steps.push({
    kind: 'wait',
    what: 'every interface operationally up',
    ready: [...byNamespace].map(([netns, names]): ReadinessProbe => ({
      kind: 'operational',
      netns: w.ns(netns),
      names,
    })),
  });
}

/** Rulesets are kept as files in the state directory so what was loaded can be read back. */
function addNftables(w: PlanWriter, late: boolean): void {
  for (const t of w.active(w.spec.nftables)) {
    if ((t.late ?? false) !== late) continue;
    const path = labFiles.nftRuleset(w.dir, w.ns(t.netns), t.name);
    w.steps.push({
      kind: 'file',
      what: `nftables ${t.name} for ${t.netns}`,
      path,
      content: t.ruleset,
      mode: 0o600,
    });
    w.command(`load nftables ${t.name} in ${t.netns}`, w.execIn(t.netns, 'nft', '-f', path));
  }
}

/** iptables rules, as restore scripts kept in the state directory, loaded by their backend. */
function addIptables(w: PlanWriter): void {
  for (const t of w.active(w.spec.iptables)) {
    const path = labFiles.iptablesRules(w.dir, w.ns(t.netns), t.name);
    w.steps.push({
      kind: 'file',
      what: `iptables ${t.name} for ${t.netns}`,
      path,
      content: t.rules,
      mode: 0o600,
    });
    const restore = t.backend === 'legacy' ? 'iptables-legacy-restore' : 'iptables-nft-restore';
    // --noflush: added to what the namespace has, as an agent adds its chains
    w.command(
      `load iptables ${t.name} in ${t.netns} (${t.backend})`,
      w.execIn(t.netns, restore, '--noflush', path),
    );
  }
}

/** Keys, the ssh client config, and one sshd per host on the host's loopback. */
function addSshHosts(w: PlanWriter): LabHost[] {
  const hosts: LabHost[] = w.spec.hosts.map((h) => ({
    name: h.name,
    sshName: w.ns(h.name),
    netns: w.ns(h.netns),
    description: h.description,
  }));
  const hostKey = labFiles.hostKey(w.dir);
  const clientKey = labFiles.clientKey(w.dir);
  w.command('generate the lab hosts’ ssh host key', sshKeygenArgv(hostKey, 'hopscope-lab-host'));
  w.command('generate the lab’s ssh client key', sshKeygenArgv(clientKey, 'hopscope-lab-client'));
  w.steps.push({
    kind: 'directory',
    what: 'sshd privilege-separation directory',
    path: '/run/sshd',
    mode: 0o755,
  });
  w.steps.push({
    kind: 'file',
    what: 'ssh client configuration',
    path: labFiles.sshConfig(w.dir),
    content: sshClientConfigText({
      hosts: hosts.map((h) => ({ alias: h.sshName, netns: h.netns })),
      identityFile: clientKey,
      ipPath: w.options.tools.ip,
      ncPath: w.options.tools.nc,
    }),
    mode: 0o600,
  });
  for (const h of w.spec.hosts) {
    const config = labFiles.sshdConfig(w.dir, h.name);
    const pidFile = labFiles.sshdPid(w.dir, h.name);
    w.steps.push({
      kind: 'file',
      what: `sshd configuration of ${h.name}`,
      path: config,
      content: sshdConfigText({ hostKey, authorizedKeys: `${clientKey}.pub`, pidFile }),
      mode: 0o600,
    });
    w.steps.push({
      kind: 'daemon',
      what: `sshd of host ${h.name}`,
      name: `sshd-${h.name}`,
      netns: w.ns(h.netns),
      argv: w.execIn(h.netns, '/usr/sbin/sshd', '-D', '-e', '-f', config),
      log: labFiles.log(w.dir, `sshd-${h.name}`),
      ready: [{ kind: 'listening', netns: w.ns(h.netns), protocol: 'tcp', port: SSH_PORT }],
    });
  }
  return hosts;
}

function daemonStep(w: PlanWriter, d: DaemonSpec): PlanStep {
  const netns = w.ns(d.netns);
  switch (d.kind) {
    case 'dnsmasq': {
      const files = {
        leases: labFiles.dnsmasqLeases(w.dir, d.name),
        pid: labFiles.dnsmasqPid(w.dir, d.name),
      };
      return {
        kind: 'daemon',
        what: `dnsmasq (DHCP and DNS) on ${d.interface} in ${d.netns}`,
        name: `dnsmasq-${d.name}`,
        netns,
        argv: w.execIn(d.netns, ...dnsmasqArgv(d, files)),
        log: labFiles.log(w.dir, `dnsmasq-${d.name}`),
        ready: [
          { kind: 'listening', netns, protocol: 'udp', port: DHCP_SERVER_PORT },
          { kind: 'listening', netns, protocol: 'udp', port: DNS_PORT },
        ],
      };
    }
    case 'tcp-listener':
      return {
        kind: 'daemon',
        what: `TCP service ${d.name} on ${d.address}:${d.port} in ${d.netns}`,
        name: `listener-${d.name}`,
        netns,
        argv: w.execIn(d.netns, ...tcpListenerArgv(d)),
        log: labFiles.log(w.dir, `listener-${d.name}`),
        ready: [{ kind: 'listening', netns, protocol: 'tcp', port: d.port }],
      };
    case 'background-traffic':
      return {
        kind: 'daemon',
        what: `background traffic ${d.name} in ${d.netns}`,
        name: `traffic-${d.name}`,
        netns,
        argv: w.execIn(d.netns, ...d.argv),
        log: labFiles.log(w.dir, `traffic-${d.name}`),
        ready: [
          {
            kind: 'conntrack',
            netns: w.ns(d.trackedIn.netns),
            protocol: d.trackedIn.protocol,
            src: d.trackedIn.src,
            dst: d.trackedIn.dst,
          },
        ],
      };
  }
}

/** The lab as built, in real names: what `lab status` shows and other code uses. */
function describeLab(w: PlanWriter, interfaces: readonly InterfaceSpec[], hosts: LabHost[]): LabView {
  const { spec, options } = w;
  const addresses = w.active(spec.addresses);
  return {
    scenario: spec.name,
    fault: options.fault,
    prefix: options.prefix,
    stateDir: w.dir,
    sshConfigPath: labFiles.sshConfig(w.dir),
    hosts,
    namespaces: spec.namespaces.map((n) => ({
      name: w.ns(n.name),
      host: n.host,
      description: n.description,
    })),
    interfaces: interfaces.map((i) => ({
      netns: w.ns(i.netns),
      name: i.name,
      role: i.role,
      addresses: addresses.filter((a) => a.netns === i.netns && a.dev === i.name).map((a) => a.cidr),
    })),
    capturePoints: spec.capturePoints.map((c) => {
      const host = spec.namespaces.find((n) => n.name === c.netns)?.host ?? c.netns;
      const role = interfaces.find((i) => i.netns === c.netns && i.name === c.iface)?.role ?? 'loopback';
      return { host, sshHost: w.ns(host), netns: w.ns(c.netns), iface: c.iface, role };
    }),
    traffic: spec.traffic.map((t) => ({
      name: t.name,
      netns: w.ns(t.netns),
      argv: [...t.argv],
      description: t.description,
      expectSuccess: options.fault === null || !t.failsWith.includes(options.fault),
    })),
  };
}
