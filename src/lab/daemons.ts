// Command lines of the lab's daemons, built from their specs. Every daemon stays
// in the foreground (the lab tracks it by pid) and logs to stderr (the executor
// sends that to a log file in the state directory).
import type { DnsmasqSpec, TcpListenerSpec } from './topology.js';

export function dnsmasqArgv(spec: DnsmasqSpec, files: { leases: string; pid: string }): string[] {
  const { dhcpRange } = spec;
  const argv = [
    'dnsmasq',
    '--keep-in-foreground',
    '--log-facility=-',
    '--log-dhcp',
    '--log-queries',
    // Never the machine's /etc/dnsmasq.conf, /etc/hosts or resolv.conf: the lab
    // answers from its own data and never forwards a query anywhere.
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    `--interface=${spec.interface}`,
    '--bind-interfaces',
    `--listen-address=${spec.listenAddress}`,
    `--dhcp-range=${dhcpRange.start},${dhcpRange.end},${dhcpRange.netmask},${dhcpRange.lease}`,
    `--dhcp-leasefile=${files.leases}`,
    `--pid-file=${files.pid}`,
    // Offers go out at once instead of after an ICMP probe of the address.
    '--no-ping',
    '--dhcp-authoritative',
    `--domain=${spec.domain}`,
    `--local=/${spec.domain}/`,
  ];
  if (spec.router !== undefined) argv.push(`--dhcp-option=option:router,${spec.router}`);
  for (const host of spec.dhcpHosts) argv.push(`--dhcp-host=${host.mac},${host.ip},${host.hostname}`);
  for (const record of spec.hostRecords) {
    argv.push(`--host-record=${record.name},${record.ip}`);
    const zone = record.name.split('.').slice(1).join('.');
    if (zone !== '' && zone !== spec.domain) argv.push(`--local=/${zone}/`);
  }
  return argv;
}

/** A TCP service that accepts connections and echoes what it gets. */
export function tcpListenerArgv(spec: TcpListenerSpec): string[] {
  const bind = spec.address === '0.0.0.0' ? '' : `,bind=${spec.address}`;
  return ['socat', `TCP4-LISTEN:${spec.port}${bind},reuseaddr,fork`, 'PIPE'];
}

/**
 * The hypervisor stand-in: opens two tap devices and copies frames between them,
 * one the host-side tap (`tap…`), the other becoming the guest's NIC.
 */
export function tapShuttleArgv(tapName: string, guestSideName: string): string[] {
  const tap = (name: string): string => `TUN,tun-type=tap,tun-name=${name},iff-no-pi`;
  return ['socat', '-b', '65536', tap(tapName), tap(guestSideName)];
}
