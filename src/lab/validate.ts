// Consistency checks of a scenario description: a mistake in a scenario file is
// caught before anything is built, with a message naming the item. These are
// programming errors (plain Error), not user errors.
import { isLabAddress, parseIpv4 } from './address-rules.js';
import type { Conditional, ScenarioSpec } from './topology.js';

/** Linux IFNAMSIZ is 16 including the terminating NUL. */
export const MAX_INTERFACE_NAME = 15;

const INTERFACE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function validateScenario(spec: ScenarioSpec): void {
  const problems: string[] = [];
  const problem = (text: string): void => {
    problems.push(text);
  };

  const faults = new Set(spec.faults.map((f) => f.name));
  const namespaces = new Set(spec.namespaces.map((n) => n.name));
  const hosts = new Set(spec.hosts.map((h) => h.name));
  if (namespaces.size !== spec.namespaces.length) problem('duplicate namespace names');
  for (const h of spec.hosts)
    if (!namespaces.has(h.netns)) problem(`host ${h.name}: unknown namespace ${h.netns}`);
  for (const n of spec.namespaces)
    if (!hosts.has(n.host)) problem(`namespace ${n.name}: unknown host ${n.host}`);

  const checkNs = (where: string, netns: string): void => {
    if (!namespaces.has(netns)) problem(`${where}: unknown namespace ${netns}`);
  };
  const checkCondition = (where: string, item: Conditional): void => {
    if (item.when === undefined) return;
    const name = 'withFault' in item.when ? item.when.withFault : item.when.withoutFault;
    if (!faults.has(name)) problem(`${where}: unknown fault ${name}`);
  };
  const checkAddress = (where: string, address: string, allowLoopback = false): void => {
    if (!isLabAddress(address, { allowLoopback }))
      problem(`${where}: ${address} is outside the lab's address ranges`);
  };

  // Interfaces: known names per namespace (lo always exists).
  const interfaces = new Set(spec.namespaces.map((n) => `${n.name}/lo`));
  const declare = (netns: string, name: string, where: string): void => {
    checkNs(where, netns);
    if (name.length > MAX_INTERFACE_NAME)
      problem(`${where}: interface name ${name} is longer than ${MAX_INTERFACE_NAME}`);
    if (!INTERFACE_NAME.test(name)) problem(`${where}: bad interface name ${name}`);
    const key = `${netns}/${name}`;
    if (interfaces.has(key)) problem(`${where}: interface ${key} declared twice`);
    interfaces.add(key);
  };
  for (const link of spec.links) {
    checkCondition(`${link.kind} link`, link);
    switch (link.kind) {
      case 'veth':
        declare(link.a.netns, link.a.name, 'veth');
        declare(link.b.netns, link.b.name, 'veth');
        break;
      case 'bridge':
        declare(link.dev.netns, link.dev.name, 'bridge');
        break;
      case 'vxlan':
        declare(link.dev.netns, link.dev.name, 'vxlan');
        checkAddress(`vxlan ${link.dev.name}`, link.local);
        checkAddress(`vxlan ${link.dev.name}`, link.remote);
        break;
      case 'tap':
        declare(link.tap.netns, link.tap.name, 'tap');
        declare(link.guest.netns, link.guest.name, 'tap guest');
        break;
    }
  }
  const checkIface = (where: string, netns: string, name: string): void => {
    checkNs(where, netns);
    if (!interfaces.has(`${netns}/${name}`)) problem(`${where}: unknown interface ${netns}/${name}`);
  };
  for (const link of spec.links) {
    if (link.kind === 'vxlan') checkIface(`vxlan ${link.dev.name} underlay`, link.dev.netns, link.underlay);
  }

  for (const p of spec.bridgePorts) {
    checkCondition(`port ${p.port}`, p);
    checkIface(`bridge port`, p.netns, p.bridge);
    checkIface(`bridge port`, p.netns, p.port);
  }
  for (const m of spec.mtus) {
    checkCondition(`mtu of ${m.dev}`, m);
    checkIface('mtu', m.netns, m.dev);
  }
  for (const a of spec.addresses) {
    checkCondition(`address ${a.cidr}`, a);
    checkIface(`address ${a.cidr}`, a.netns, a.dev);
    if (!a.cidr.includes('/')) problem(`address ${a.cidr}: needs a prefix length`);
    checkAddress(`address on ${a.netns}/${a.dev}`, a.cidr);
  }
  for (const r of spec.routes) {
    checkCondition(`route ${r.to}`, r);
    checkNs(`route ${r.to}`, r.netns);
    if (r.to !== 'default') checkAddress(`route in ${r.netns}`, r.to);
    if (r.via !== undefined) checkAddress(`route ${r.to} in ${r.netns}`, r.via);
    if (r.dev !== undefined) checkIface(`route ${r.to}`, r.netns, r.dev);
  }
  for (const n of spec.neighbors) {
    checkCondition(`neighbour ${n.ip}`, n);
    checkIface(`neighbour ${n.ip}`, n.netns, n.dev);
    checkAddress(`neighbour in ${n.netns}`, n.ip);
  }
  for (const s of spec.sysctls) {
    checkCondition(`sysctl ${s.key}`, s);
    checkNs(`sysctl ${s.key}`, s.netns);
  }
  for (const t of [...spec.nftables, ...spec.iptables]) {
    const what = 'backend' in t ? 'iptables' : 'nftables';
    checkCondition(`${what} ${t.name}`, t);
    checkNs(`${what} ${t.name}`, t.netns);
    if (!/^[a-z0-9-]+$/.test(t.name))
      problem(`${what} ${t.name}: name must be lower-case letters, digits and dashes`);
  }
  const daemonNames = new Set<string>();
  for (const d of spec.daemons) {
    checkCondition(`daemon ${d.name}`, d);
    if (daemonNames.has(d.name)) problem(`daemon ${d.name} declared twice`);
    daemonNames.add(d.name);
    if (d.kind === 'dnsmasq') {
      checkIface(`dnsmasq ${d.name}`, d.netns, d.interface);
      for (const ip of [
        d.listenAddress,
        d.dhcpRange.start,
        d.dhcpRange.end,
        ...d.dhcpHosts.map((h) => h.ip),
        ...d.hostRecords.map((r) => r.ip),
      ]) {
        checkAddress(`dnsmasq ${d.name}`, ip);
      }
      if (d.router !== undefined) checkAddress(`dnsmasq ${d.name}`, d.router);
    } else if (d.kind === 'tcp-listener') {
      checkNs(`listener ${d.name}`, d.netns);
      if (d.address !== '0.0.0.0') checkAddress(`listener ${d.name}`, d.address, true);
    } else {
      checkNs(`background traffic ${d.name}`, d.netns);
      checkNs(`background traffic ${d.name} conntrack`, d.trackedIn.netns);
      // traffic only ever goes to lab addresses
      for (const arg of [...d.argv, d.trackedIn.src, d.trackedIn.dst])
        if (parseIpv4(arg) !== null) checkAddress(`background traffic ${d.name}`, arg);
    }
  }
  for (const t of spec.traffic) {
    checkNs(`traffic ${t.name}`, t.netns);
    for (const f of t.failsWith) if (!faults.has(f)) problem(`traffic ${t.name}: unknown fault ${f}`);
    // Traffic only ever goes to lab addresses (and loopback).
    for (const arg of t.argv) if (parseIpv4(arg) !== null) checkAddress(`traffic ${t.name}`, arg, true);
  }
  for (const c of spec.capturePoints) checkIface('capture point', c.netns, c.iface);

  if (problems.length > 0) throw new Error(`scenario ${spec.name} is inconsistent: ${problems.join('; ')}`);
}
