// Listening sockets, from `ss -Hltun`: `tcp LISTEN 0 5 127.0.0.1:8080 0.0.0.0:*`. Pure.

export interface ListeningSocket {
  protocol: 'tcp' | 'udp';
  address: string;
  port: number;
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
    sockets.push({ protocol: f[0], address, port });
  }
  return sockets;
}

/** Whether a socket takes `protocol` connections to address:port. */
export function isListening(
  sockets: readonly ListeningSocket[],
  protocol: 'tcp' | 'udp',
  address: string,
  port: number,
): boolean {
  const any = new Set(['0.0.0.0', '*', '::']);
  return sockets.some(
    (s) => s.protocol === protocol && s.port === port && (s.address === address || any.has(s.address)),
  );
}
