// What a lab's namespaces hold right now, from `ip -j addr`: the truth for
// `lab status` (a VM that took a DHCP lease, a link someone set down).
import { runCommand } from './run-command.js';
import type { InterfaceRole } from './topology.js';
import type { LabInterface } from './view.js';

export interface LiveInterface {
  netns: string;
  name: string;
  /** the scenario's role, or 'loopback' for lo */
  role: InterfaceRole;
  state: string;
  mtu: number;
  mac: string;
  /** bridge the interface is a port of */
  master: string | null;
  addresses: string[];
}

interface IpAddrRecord {
  ifname: string;
  operstate?: string;
  mtu?: number;
  address?: string;
  master?: string;
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

export async function readLiveInterfaces(
  namespaces: readonly string[],
  known: readonly LabInterface[],
): Promise<LiveInterface[]> {
  const perNamespace = await Promise.all(
    namespaces.map(async (netns) => {
      const result = await runCommand(['ip', '-j', '-n', netns, 'address', 'show']);
      if (result.exitCode !== 0) return [];
      let records: IpAddrRecord[];
      try {
        records = JSON.parse(result.stdout) as IpAddrRecord[];
      } catch {
        return [];
      }
      return records.map((r): LiveInterface => ({
        netns,
        name: r.ifname,
        role:
          known.find((k) => k.netns === netns && k.name === r.ifname)?.role ??
          (r.ifname === 'lo' ? 'loopback' : 'veth'),
        state: r.operstate ?? 'UNKNOWN',
        mtu: r.mtu ?? 0,
        mac: r.address ?? '',
        master: r.master ?? null,
        addresses: (r.addr_info ?? [])
          .filter((a) => a.local !== undefined)
          .map((a) => `${a.local}/${a.prefixlen ?? 32}`),
      }));
    }),
  );
  return perNamespace.flat();
}
