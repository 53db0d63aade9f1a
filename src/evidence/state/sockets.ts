// Listening sockets, from `ss -Hltun`: `tcp LISTEN 0 5 127.0.0.1:8080 0.0.0.0:*`
// (Netid State Recv-Q Send-Q Local Peer). Pure.
//
// The queues say whether the application behind a socket takes what the kernel hands it
// (ss(8), and the kernel's tcp_diag/udp_diag):
//   TCP LISTEN  Recv-Q: connections waiting to be accepted; Send-Q: the listen backlog.
//               Once more wait than the backlog (sk_acceptq_is_full), a new SYN is
//               dropped without a reset or a drop the kernel reports (tcp_conn_request).
//   UDP         Recv-Q: bytes of datagrams waiting to be read.

export interface ListeningSocket {
  protocol: 'tcp' | 'udp';
  address: string;
  port: number;
  /** TCP: connections waiting to be accepted; UDP: bytes waiting to be read (Recv-Q) */
  queued: number;
  /** TCP: the listen backlog (Send-Q); UDP: null */
  backlog: number | null;
}

export function parseSockets(text: string): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || (f[0] !== 'tcp' && f[0] !== 'udp')) continue;
    const local = f[4];
    const colon = local.lastIndexOf(':');
    if (colon < 0) continue;
    // `[::]:22`, `0.0.0.0:22`, `*:22`, `127.0.0.1%lo:53`
    const address = local
      .slice(0, colon)
      .replace(/^\[|\]$/g, '')
      .replace(/%.*$/, '');
    const port = Number(local.slice(colon + 1));
    if (!Number.isInteger(port)) continue;
    const queued = Number(f[2]);
    const limit = Number(f[3]);
    sockets.push({
      protocol: f[0],
      address,
      port,
      queued: Number.isInteger(queued) ? queued : 0,
      backlog: f[0] === 'tcp' && Number.isInteger(limit) ? limit : null,
    });
  }
  return sockets;
}

const ANY_ADDRESS = new Set(['0.0.0.0', '*', '::']);

/** The socket that takes `protocol` packets to address:port: one bound to the address, else one bound to any; null if none. */
export function listenerFor(
  sockets: readonly ListeningSocket[],
  protocol: 'tcp' | 'udp',
  address: string,
  port: number,
): ListeningSocket | null {
  let any: ListeningSocket | null = null;
  for (const s of sockets) {
    if (s.protocol !== protocol || s.port !== port) continue;
    if (s.address === address) return s;
    if (any === null && ANY_ADDRESS.has(s.address)) any = s;
  }
  return any;
}

/** Whether a socket takes `protocol` connections to address:port. */
export function isListening(
  sockets: readonly ListeningSocket[],
  protocol: 'tcp' | 'udp',
  address: string,
  port: number,
): boolean {
  return listenerFor(sockets, protocol, address, port) !== null;
}

/**
 * Whether the socket holds what its application has not taken: a TCP listener whose
 * accept queue is full (new SYNs are dropped), a UDP socket with datagrams unread.
 */
export function isStalled(s: ListeningSocket): boolean {
  return s.backlog !== null ? s.queued > s.backlog : s.queued > 0;
}
