// The commands the scenarios' traffic steps run, with the timing every scenario uses:
// short enough that a lab run takes seconds, long enough that an answer is not missed.

/** Three pings 0.2 s apart, each waiting 1 s for its reply (`options` before the address). */
export function pingArgv(address: string, ...options: string[]): string[] {
  return ['ping', '-c', '3', '-i', '0.2', '-W', '1', ...options, address];
}

/** A TCP connection attempt (connect, then close) that gives up after 2 s. */
export function connectArgv(address: string, port: number): string[] {
  return ['nc', '-z', '-w', '2', address, String(port)];
}

/**
 * One DHCP exchange on eth0 (DISCOVER, OFFER, REQUEST, ACK), three tries 1 s apart;
 * -s /bin/true: perform the exchange, leave eth0 as it is.
 */
export const DHCP_LEASE_ARGV: readonly string[] = 'busybox udhcpc -i eth0 -n -q -t 3 -T 1 -s /bin/true'.split(
  ' ',
);
