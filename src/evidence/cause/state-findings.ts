// What a namespace's state says about the packet, each a finding of strength 70 (60
// where less sure): the next device down, the packet larger than a link's MTU,
// forwarding off, no route, a route back out of the device it came in by (a loop), the
// reverse-path filter, 127/8 without route_localnet, the neighbour unresolved, nobody
// listening, a listener whose application does not take what waits for it, pings
// ignored.
import type { CauseCode, EvidenceItem, SysctlEvidence } from '../../events/types.js';
import { isUnreadable } from '../state/hop-facts.js';
import { isLocalAddress, type LinkInfo } from '../state/links.js';
import { isUnresolved } from '../state/neighbours.js';
import { isStalled, listenerFor } from '../state/sockets.js';
import { preroutingTarget } from './dnat.js';
import { linkEvidence, linksOf, placeOf, routeEvidence, sysctl } from './evidence-items.js';
import type { Finding, HopView } from './hop-view.js';

function isBroadcast(address: string): boolean {
  return address === '255.255.255.255' || /\.255$/.test(address);
}

/**
 * The device the namespace's route lookup sends the packet to: the lookup as received on
 * its device (iif) for a packet that came in, the plain one for a packet sent from here.
 */
function routedDevice(v: HopView, dst: string, fromLocal: boolean): string | null {
  const received = !fromLocal && v.iif !== null;
  const r = v.facts.routes.find(
    (x) => x.query.dst === dst && (x.query.iif !== undefined) === received && x.answer.dev !== null,
  );
  return r?.answer.dev ?? null;
}

/** The namespace's forwarding switch for the packet's family: net.ipv4.ip_forward, or IPv6's net.ipv6.conf.all.forwarding. */
function forwardingSwitch(f: HopView['facts'], family: HopView['packet']['family']): SysctlEvidence | null {
  return sysctl(f, family === 6 ? 'net.ipv6.conf.all.forwarding' : 'net.ipv4.ip_forward', null);
}

/**
 * Whether the namespace's routes discard what goes to `dst`: a blackhole answers a lookup
 * with EINVAL, the plain one too (a lookup as received also says EINVAL of a martian
 * source, which the plain lookup does not see).
 */
function blackholed(f: HopView['facts'], dst: string): boolean {
  return f.routes.some(
    (r) =>
      r.query.dst === dst &&
      r.query.iif === undefined &&
      r.query.from === undefined &&
      r.answer.error !== null &&
      /invalid argument/i.test(r.answer.error),
  );
}

/**
 * `ttlRanOut`: the exchange was answered "time exceeded" (its packet's TTL ran out on the
 * way), which makes a route back out of the device it came in by a loop for certain.
 */
export function stateFindings(v: HopView, ttlRanOut = false): Finding[] {
  const f = v.facts;
  const p = v.packet;
  const out: Finding[] = [];
  const links = linksOf(f);
  const link = (name: string | null): LinkInfo | undefined =>
    name === null ? undefined : links?.find((l) => l.name === name);
  const add = (code: CauseCode, summary: string, evidence: EvidenceItem[], strength = 70): void => {
    out.push({ code, strength, summary, evidence, view: v });
  };
  const ns = f.netns ?? 'the root namespace';

  const dnat = preroutingTarget(v);
  const dst = dnat?.addr ?? p.dst;
  const toLocal =
    links !== null && (isLocalAddress(links, dst) || dst.startsWith('127.') || isBroadcast(dst));
  const fromLocal = links !== null && isLocalAddress(links, p.src);
  // the device it leaves by: as captured, or where no capture showed it leaving (the next
  // hop is not known), the one the namespace's route sends it to
  const leaving = v.oif ?? (p.family === 'arp' ? null : routedDevice(v, dst, fromLocal));

  // the device it was expected on next
  for (const name of [v.expectedIface, leaving]) {
    const l = link(name);
    if (l === undefined) continue;
    const portBlocked = l.portState !== null && l.portState !== 'forwarding';
    if (!l.up || !l.carrier || portBlocked) {
      const why = !l.up
        ? 'down'
        : !l.carrier
          ? 'up without carrier'
          : `a bridge port in state ${l.portState}`;
      add('link-down', `${l.name} is ${why} (${l.operstate})`, [linkEvidence(f, l)]);
      break;
    }
  }

  // MTU: the packet with its encapsulation against the link that receives it (it drops
  // what does not fit), or sends it with DF set; a VXLAN device's underlay too
  if (p.family !== 'arp') {
    const bytes = p.ipLength + v.encapsulation;
    const receiving = link(v.expectedIface);
    const sending = link(leaving);
    if (receiving !== undefined && bytes > receiving.mtu && receiving.kind !== 'vxlan') {
      add('mtu', `${bytes}-byte packets do not fit ${receiving.name}'s MTU of ${receiving.mtu}`, [
        linkEvidence(f, receiving, bytes),
      ]);
    } else if (sending !== undefined && sending !== receiving && bytes > sending.mtu) {
      // what a router may not fragment: IPv4 with DF set, any IPv6 packet it forwards
      const forwardedV6 = p.family === 6 && !fromLocal && v.iif !== null;
      if (p.dontFragment || forwardedV6)
        add(
          'mtu',
          `${bytes}-byte ${forwardedV6 ? 'IPv6 packets (a router never fragments them)' : 'packets with DF set'} do not fit ${sending.name}'s MTU of ${sending.mtu}`,
          [linkEvidence(f, sending, bytes)],
        );
    }
    for (const dev of [receiving, sending]) {
      if (dev?.kind !== 'vxlan' || dev.vxlanUnderlay === null) continue;
      const under = link(dev.vxlanUnderlay);
      if (under !== undefined && p.ipLength + 14 + 50 > under.mtu + 14) {
        add('mtu', `${p.ipLength + 50}-byte VXLAN packets do not fit ${under.name}'s MTU of ${under.mtu}`, [
          linkEvidence(f, dev),
          linkEvidence(f, under, p.ipLength + 50),
        ]);
      }
    }
  }

  // routing
  const forwarded = p.family !== 'arp' && links !== null && !toLocal && !fromLocal && v.iif !== null;
  if (forwarded) {
    const fwd = forwardingSwitch(f, p.family);
    // (IPv4 also asks the input device's own switch; IPv6 only `all`'s)
    const perDev = p.family === 4 && v.iif !== null ? sysctl(f, 'forwarding', v.iif) : null;
    if ((fwd !== null && fwd.value === '0') || (perDev !== null && perDev.value === '0')) {
      add(
        'forwarding-off',
        `forwarding is off in ${ns} (${(fwd?.value === '0' ? fwd : perDev)?.key} = 0): it does not route ${p.src} → ${p.dst}`,
        [fwd, perDev].filter((e): e is SysctlEvidence => e !== null),
      );
    }
  }
  for (const r of f.routes) {
    const err = r.answer.error;
    // ARP is answered on its link: routes say nothing about it
    if (err === null || r.query.dst !== dst || p.family === 'arp') continue;
    // a packet received here is judged by the lookup made as if received (iif), one sent from here by the plain one
    const received = r.query.iif !== undefined;
    if (received !== (!fromLocal && v.iif !== null)) continue;
    const ev = routeEvidence(f, r);
    if (/cross-device/i.test(err)) {
      const rp = v.iif !== null ? sysctl(f, 'rp_filter', v.iif) : null;
      add('rp-filter', `the reverse-path filter drops ${p.src} arriving on ${v.iif ?? '?'}`, [
        ev,
        ...(rp !== null ? [rp] : []),
      ]);
    } else if (dst.startsWith('127.') && /invalid argument/i.test(err)) {
      const rl = v.iif !== null ? sysctl(f, 'route_localnet', v.iif) : null;
      add(
        'localnet',
        `${p.dst}${dnat !== null ? ` DNAT-ed to ${dst}` : ''} arriving on ${v.iif ?? '?'}: 127/8 is not routed from outside without route_localnet${rl !== null ? ` (${rl.key} = ${rl.value})` : ''}`,
        [ev, ...(rl !== null ? [rl] : [])],
      );
    } else if (/permission denied/i.test(err)) {
      add('no-route', `a prohibit route or rule for ${dst} in ${ns}: ${err}`, [ev]);
    } else if (/invalid argument/i.test(err) && blackholed(f, dst)) {
      add('no-route', `a blackhole route or rule for ${dst} in ${ns}: ${err}`, [ev]);
    } else if (/no route to host|network is unreachable/i.test(err)) {
      const fwd = forwardingSwitch(f, p.family);
      if (
        /no route to host/i.test(err) &&
        fwd?.value === '0' &&
        !out.some((o) => o.code === 'forwarding-off')
      ) {
        add('forwarding-off', `forwarding is off in ${ns} (${fwd.key} = 0)`, [fwd, ev]);
      } else if (!out.some((o) => o.code === 'forwarding-off')) {
        add('no-route', `no route to ${dst} in ${ns}: ${err}`, [ev]);
      }
    }
  }
  // a loop: a packet that came in is routed back out of the device it came in by, to a
  // router on that link — certain when its TTL ran out; else that router may send it on
  // (a host that chose the wrong one of two routers on its link: a redirect, no loop)
  if (p.family !== 'arp' && v.iif !== null && !fromLocal && !toLocal) {
    const r = f.routes.find(
      (x) =>
        x.query.dst === dst && x.query.iif === v.iif && x.answer.dev === v.iif && x.answer.gateway !== null,
    );
    if (r !== undefined)
      add(
        'routing-loop',
        `the route for ${dst} in ${ns} sends it back out ${v.iif}, the device it came in by, to ${r.answer.gateway}: ${ttlRanOut ? 'a routing loop (its TTL ran out)' : 'a routing loop, unless that router sends it on'}`,
        [routeEvidence(f, r)],
        ttlRanOut ? 80 : 50,
      );
  }

  // its TTL ran out here, not in a loop: it came in with TTL (hop limit) 1, and a router
  // does not send on what would leave with 0 — its sender set it so low (a tunnel's
  // fixed TTL, a traceroute), or the path is longer than it allows
  if (
    ttlRanOut &&
    p.family !== 'arp' &&
    p.ttl !== null &&
    p.ttl <= 1 &&
    v.iif !== null &&
    !fromLocal &&
    !toLocal &&
    !out.some((o) => o.code === 'routing-loop')
  ) {
    const r = f.routes.find((x) => x.query.dst === dst && x.query.iif === v.iif && x.answer.error === null);
    const what = p.family === 6 ? 'hop limit' : 'TTL';
    add(
      'ttl-expired',
      `it came into ${ns} on ${v.iif} with ${what} ${p.ttl}: a router does not forward a packet whose ${what} would reach 0`,
      r !== undefined ? [routeEvidence(f, r)] : [],
    );
  }

  // reverse path: the route back to the source leaves by another device, and rp_filter is strict
  if (v.iif !== null && p.family === 4 && !fromLocal) {
    const back = f.routes.find(
      (r) => r.query.dst === p.src && r.query.iif === undefined && r.query.from === undefined,
    );
    const rp = sysctl(f, 'rp_filter', v.iif);
    const ingress = link(v.iif);
    const expectedIn = ingress?.master ?? v.iif;
    if (
      back !== undefined &&
      rp?.value === '1' &&
      back.answer.dev !== null &&
      back.answer.dev !== expectedIn &&
      back.answer.dev !== v.iif
    ) {
      add(
        'rp-filter',
        `the reverse-path filter (strict) drops ${p.src} arriving on ${v.iif}: the route back leaves by ${back.answer.dev}`,
        [rp, routeEvidence(f, back)],
      );
    }
  }

  // the next hop's neighbour entry
  if (f.neighbours !== null && !isUnreadable(f.neighbours)) {
    const neighbours = f.neighbours;
    const wanted: Array<{ address: string; iface: string | null }> = [];
    if (p.family === 'arp') wanted.push({ address: p.dst, iface: v.iif ?? v.oif });
    for (const r of f.routes) {
      if (r.answer.dev === null || (r.query.dst !== dst && r.query.dst !== p.dst)) continue;
      wanted.push({ address: r.answer.gateway ?? r.query.dst, iface: r.answer.dev });
    }
    for (const w of wanted) {
      const n = neighbours.find((x) => x.address === w.address && (w.iface === null || x.iface === w.iface));
      if (n !== undefined && isUnresolved(n)) {
        add(
          'no-neighbour',
          `the neighbour ${n.address} on ${n.iface} is ${n.state.join(' ')}: nothing answers ${n.address.includes(':') ? 'its neighbour solicitations' : 'ARP for it'}`,
          [
            {
              source: 'neighbour',
              ...placeOf(f),
              iface: n.iface,
              address: n.address,
              state: [...n.state],
              ...(n.lladdr !== null ? { lladdr: n.lladdr } : {}),
            },
          ],
        );
        break;
      }
      // the namespace that asked: it keeps no entry of a resolution that never began or was forgotten
      if (
        n === undefined &&
        p.family === 'arp' &&
        v.which !== 'answer' &&
        links !== null &&
        isLocalAddress(links, p.src)
      ) {
        add('no-neighbour', `nothing answers ARP for ${w.address} on ${w.iface ?? '?'}`, [], 60);
      }
    }
  }

  // the namespace an ARP request reached that holds its address, and does not answer it
  if (p.family === 'arp' && v.which !== 'answer' && v.iif !== null && links !== null) {
    const holder = links.find((l) => l.addresses.some((a) => a.local === p.dst));
    // a bridge port's requests are answered by the bridge
    const master = link(v.iif)?.master ?? null;
    const asked = link(link(master)?.kind === 'bridge' ? master : v.iif);
    if (holder !== undefined && asked !== undefined) {
      const ignore = sysctl(f, 'arp_ignore', asked.name);
      if (asked.noArp) {
        add(
          'no-neighbour',
          `${asked.name} has ARP off (NOARP): ${ns} answers no ARP for ${p.dst} there`,
          [linkEvidence(f, asked)],
          80,
        );
      } else if (ignore?.value === '8') {
        add('no-neighbour', `${ns} answers no ARP on ${asked.name} (${ignore.key} = 8)`, [ignore], 80);
      } else if (holder !== asked && (ignore?.value === '1' || ignore?.value === '2')) {
        add(
          'no-neighbour',
          `${ns} holds ${p.dst} on ${holder.name}, not on ${asked.name}, and answers ARP on a device only for its own addresses (${ignore.key} = ${ignore.value})`,
          [ignore, linkEvidence(f, holder)],
          80,
        );
      }
    }
  }

  // a ping to the namespace's own address (or its broadcast, an IPv6 multicast group),
  // where the kernel is told to answer none
  const echoRequest =
    p.family !== 'arp' && p.icmpType === (p.family === 6 ? 128 : 8) && p.proto === (p.family === 6 ? 58 : 1);
  const multicast = p.family === 6 && /^ff/i.test(dst);
  if (echoRequest && v.which !== 'answer' && (toLocal || multicast)) {
    const keys =
      p.family === 6
        ? ['net.ipv6.icmp.echo_ignore_all', ...(multicast ? ['net.ipv6.icmp.echo_ignore_multicast'] : [])]
        : [
            'net.ipv4.icmp_echo_ignore_all',
            ...(isBroadcast(dst) ? ['net.ipv4.icmp_echo_ignore_broadcasts'] : []),
          ];
    const ignoring = keys.map((k) => sysctl(f, k, null)).find((e) => e !== null && e.value === '1');
    if (ignoring !== undefined && ignoring !== null) {
      const which = /broadcast/.test(ignoring.key)
        ? 'broadcast '
        : /multicast/.test(ignoring.key)
          ? 'multicast '
          : '';
      add('echo-ignored', `${ns} answers no ${which}pings (${ignoring.key} = 1)`, [ignoring]);
    }
  }

  // nobody listening (a SYN, a UDP query) where it arrived, or a listener whose
  // application does not take what waits for it (sockets.ts)
  if (
    p.family !== 'arp' &&
    (p.proto === 6 || p.proto === 17) &&
    v.which !== 'answer' &&
    toLocal &&
    f.sockets !== null &&
    !isUnreadable(f.sockets)
  ) {
    const port = dnat?.port ?? p.dport;
    const isSyn = p.proto === 6 && p.tcpFlags === 0x02;
    if (port !== null && (isSyn || p.proto === 17)) {
      const protocol = p.proto === 6 ? 'tcp' : 'udp';
      const listener = listenerFor(f.sockets, protocol, dst, port);
      const socket = { source: 'socket', ...placeOf(f), protocol, address: dst, port } as const;
      if (listener === null) {
        // the classic: the service is up, bound to another address (127.0.0.1 only)
        const elsewhere = f.sockets
          .filter((x) => x.protocol === protocol && x.port === port)
          .map((x) => (x.address.includes(':') ? `[${x.address}]:${port}` : `${x.address}:${port}`));
        const only = elsewhere.length > 0 ? ` (a socket listens on ${elsewhere.join(', ')} only)` : '';
        add('no-listener', `nothing listens on ${protocol.toUpperCase()} ${dst}:${port} in ${ns}${only}`, [
          { ...socket, listening: false },
        ]);
      } else if (isStalled(listener)) {
        const { queued, backlog } = listener;
        add(
          'listener-stalled',
          backlog !== null
            ? `the accept queue of TCP ${dst}:${port} in ${ns} is full (${queued === 1 ? '1 connection waits' : `${queued} connections wait`}, backlog ${backlog}): the kernel drops new SYNs until the application accepts`
            : `${queued} bytes wait unread on UDP ${dst}:${port} in ${ns}: the application behind it does not read them (stopped or busy)`,
          [{ ...socket, listening: true, queued, ...(backlog !== null ? { backlog } : {}) }],
        );
      }
    }
  }
  return out;
}
