// A namespace's links and addresses, from `ip -j -d addr show`. Pure.

export interface LinkAddress {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
}

export interface LinkInfo {
  ifindex: number;
  name: string;
  /** administratively up (IFF_UP) */
  up: boolean;
  /** carrier present (LOWER_UP, not NO-CARRIER) */
  carrier: boolean;
  /** operational state: UP, DOWN, LOWERLAYERDOWN, UNKNOWN, … */
  operstate: string;
  mtu: number;
  /** bridge (or bond) this link is a port of */
  master: string | null;
  /** linkinfo info_kind: veth, bridge, vxlan, tun, dummy, … (null for a physical NIC) */
  kind: string | null;
  /** a bridge port's STP state: forwarding, disabled, blocking, … */
  portState: string | null;
  addresses: LinkAddress[];
  /** VXLAN device: its underlay device */
  vxlanUnderlay: string | null;
  /** NOARP: the device neither asks nor answers ARP */
  noArp: boolean;
  /** its own MAC address (an Ethernet device's); null for one without */
  mac: string | null;
}

interface IpLink {
  ifindex?: number;
  link_type?: string;
  address?: string;
  ifname?: string;
  flags?: string[];
  mtu?: number;
  operstate?: string;
  master?: string;
  linkinfo?: {
    info_kind?: string;
    info_data?: { link?: string };
    info_slave_kind?: string;
    info_slave_data?: { state?: string };
  };
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }>;
}

/** Parses `ip -j -d addr show`; throws on text that is not its JSON. */
export function parseLinks(json: string): LinkInfo[] {
  const parsed = JSON.parse(json) as unknown;
  if (!Array.isArray(parsed)) throw new Error('ip -j addr: not a JSON array');
  return (parsed as IpLink[])
    .filter((l) => typeof l.ifname === 'string' && typeof l.ifindex === 'number')
    .map((l) => {
      const flags = l.flags ?? [];
      return {
        ifindex: l.ifindex as number,
        name: l.ifname as string,
        up: flags.includes('UP'),
        carrier: flags.includes('LOWER_UP') && !flags.includes('NO-CARRIER'),
        operstate: l.operstate ?? 'UNKNOWN',
        mtu: l.mtu ?? 0,
        master: l.master ?? null,
        kind: l.linkinfo?.info_kind ?? null,
        portState:
          l.linkinfo?.info_slave_kind === 'bridge' ? (l.linkinfo.info_slave_data?.state ?? null) : null,
        addresses: (l.addr_info ?? [])
          .filter((a) => (a.family === 'inet' || a.family === 'inet6') && typeof a.local === 'string')
          .map((a) => ({
            family: a.family as 'inet' | 'inet6',
            local: a.local as string,
            prefixlen: a.prefixlen ?? 0,
          })),
        vxlanUnderlay: l.linkinfo?.info_kind === 'vxlan' ? (l.linkinfo.info_data?.link ?? null) : null,
        noArp: flags.includes('NOARP'),
        mac: l.link_type === 'ether' && typeof l.address === 'string' ? l.address : null,
      };
    });
}

/** Whether `address` is one of the namespace's own. */
export function isLocalAddress(links: readonly LinkInfo[], address: string): boolean {
  return links.some((l) => l.addresses.some((a) => a.local === address));
}
