// Which netfilter hooks a packet crosses in one namespace, and with which input and
// output devices — what decides which chains of a ruleset can have dropped it. Pure.
//
// Known: the device it was seen on there (`seenOn`, the last-seen hop's interface when
// in this namespace; `entered`, the one it came in by when a capture saw it before
// that), the one it was expected on next (`oif`), the namespace's links (bridge ports
// and their bridge) and own addresses.
//   - between two ports of one bridge: bridge prerouting, forward, postrouting; and where
//     br_netfilter hands bridged IP to the IP stack's hooks too
//     (net.bridge.bridge-nf-call-iptables / -ip6tables = 1: Docker and Kubernetes turn it
//     on), IP prerouting, forward and postrouting with the bridge as in and out device;
//   - entering through a bridge port: bridge prerouting and input, then the IP stack
//     sees it on the bridge device; leaving through one: the IP stack sends it out of
//     the bridge device, then bridge output and postrouting (routed and local alike);
//   - IP: for a local destination prerouting and input, from a local source output
//     and postrouting, else prerouting, forward, postrouting;
//   - netdev ingress on the input device, egress on the output device;
//   - ARP: the arp family's input (to a local address) or output (from one).
// Without the links every hook of every layer is a candidate (devices as known).
import type { ExchangePacket } from '../context.js';
import { isLocalAddress, type LinkInfo } from '../state/links.js';

export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress' | 'egress';
export type Layer = 'ip' | 'bridge' | 'arp' | 'netdev';

export interface HookPass {
  layer: Layer;
  hook: Hook;
  iifname: string | null;
  oifname: string | null;
  /** an IP hook a bridged packet passes only through br_netfilter (`bridgeCallsIp`) */
  bridged?: true;
}

export function hookPasses(
  packet: ExchangePacket,
  seenOn: string | null,
  oif: string | null,
  links: readonly LinkInfo[] | null,
  entered: string | null = null,
  /** a bridged packet of its family passes the IP hooks too (br_netfilter: bridge-nf-call-iptables) */
  bridgeCallsIp = false,
): HookPass[] {
  const passes: HookPass[] = [];
  // Seen on a bridge device itself (a capture on the bridge sees what it forwards between
  // its ports too) after entering by another device: that device decides the hooks — a
  // port of the bridge (bridged, or up into the IP stack), or a routed one (out through the bridge).
  const iif =
    entered !== null && seenOn !== null && links?.find((l) => l.name === seenOn)?.kind === 'bridge'
      ? entered
      : seenOn;
  const add = (layer: Layer, hook: Hook, iifname: string | null, oifname: string | null): void => {
    passes.push({ layer, hook, iifname, oifname });
  };
  if (iif !== null) add('netdev', 'ingress', iif, null);
  if (oif !== null) add('netdev', 'egress', null, oif);
  if (links === null) {
    for (const layer of ['bridge', packet.family === 'arp' ? 'arp' : 'ip'] as const) {
      for (const hook of ['prerouting', 'input', 'forward', 'output', 'postrouting'] as const)
        add(layer, hook, iif, oif);
    }
    return passes;
  }
  const link = (name: string | null): LinkInfo | undefined => links.find((l) => l.name === name);
  const bridgeOf = (name: string | null): string | null => {
    const master = link(name)?.master ?? null;
    return master !== null && link(master)?.kind === 'bridge' ? master : null;
  };
  const inBridge = bridgeOf(iif);
  const outBridge = bridgeOf(oif);
  // between two of its ports; or, the port it leaves by unknown, through a bridge that
  // holds no address of the packet's family (a link-local one aside): the namespace
  // cannot have routed it
  const routable = (name: string): boolean =>
    (link(name)?.addresses ?? []).some((a) =>
      packet.family === 6
        ? a.family === 'inet6' && !a.local.toLowerCase().startsWith('fe80:')
        : a.family === 'inet',
    );
  const bridged = inBridge !== null && (inBridge === outBridge || (oif === null && !routable(inBridge)));
  if (bridged) {
    add('bridge', 'prerouting', iif, null);
    add('bridge', 'forward', iif, oif);
    add('bridge', 'postrouting', null, oif);
    if (bridgeCallsIp && packet.family !== 'arp') {
      passes.push({ layer: 'ip', hook: 'prerouting', iifname: inBridge, oifname: null, bridged: true });
      passes.push({ layer: 'ip', hook: 'forward', iifname: inBridge, oifname: inBridge, bridged: true });
      passes.push({ layer: 'ip', hook: 'postrouting', iifname: null, oifname: inBridge, bridged: true });
    }
    return passes;
  }
  let ipIn = iif;
  let ipOut = oif;
  if (inBridge !== null) {
    add('bridge', 'prerouting', iif, null);
    add('bridge', 'input', iif, null);
    ipIn = inBridge;
  }
  if (outBridge !== null) {
    add('bridge', 'output', null, oif);
    add('bridge', 'postrouting', null, oif);
    ipOut = outBridge;
  }
  if (packet.family === 'arp') {
    if (isLocalAddress(links, packet.dst)) add('arp', 'input', ipIn, null);
    if (isLocalAddress(links, packet.src)) add('arp', 'output', null, ipOut);
    return passes;
  }
  const toLocal = isLocalAddress(links, packet.dst) || packet.dst.startsWith('127.');
  const fromLocal = isLocalAddress(links, packet.src);
  if (fromLocal) {
    add('ip', 'output', null, ipOut);
    add('ip', 'postrouting', null, ipOut);
  }
  if (!fromLocal || iif !== null) {
    add('ip', 'prerouting', ipIn, null);
    if (toLocal) add('ip', 'input', ipIn, null);
    else {
      add('ip', 'forward', ipIn, ipOut);
      if (!fromLocal) add('ip', 'postrouting', null, ipOut);
    }
  }
  return passes;
}
