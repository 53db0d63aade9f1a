// The smallest routed path, which several lab tests break in their own way: a client
// namespace `a` and a server namespace `b`, each with one veth (`eth0`) to a router
// namespace `r` (`ra`, `rb`), on two subnets, with routes both ways through `r`.
import { namespacesStartingWith, requireRoot, run, runAll } from './lab-env.js';

export interface RoutedPair {
  a: string;
  r: string;
  b: string;
  /** `10.N.1.2` (a), `10.N.1.1` (r on ra), `10.N.2.1` (r on rb), `10.N.2.2` (b) */
  client: string;
  routerA: string;
  routerB: string;
  server: string;
  /** with `ipv6`: `fdNN:1::2`, `fdNN:2::2` (the routers `::1`); else null */
  client6: string | null;
  server6: string | null;
}

/**
 * Builds the pair under `prefix` on 10.`net`.1.0/24 and 10.`net`.2.0/24 (with `ipv6`
 * also fd`net`:1::/64 and fd`net`:2::/64, no DAD), the router forwarding. Taken down by
 * `downRoutedPair(prefix)`.
 */
export async function routedPair(
  prefix: string,
  net: number,
  options: { ipv6?: boolean } = {},
): Promise<RoutedPair> {
  requireRoot();
  const [a, r, b] = ['a', 'r', 'b'].map((n) => `${prefix}${n}`);
  for (const ns of [a, r, b])
    await runAll(['ip', 'netns', 'add', ns], ['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  const v4 = (subnet: number, host: number): string => `10.${net}.${subnet}.${host}`;
  const v6 = (subnet: number, host: number): string => `fd${net}:${subnet}::${host}`;
  const devices = [
    [a, 'eth0', 1, 2],
    [r, 'ra', 1, 1],
    [r, 'rb', 2, 1],
    [b, 'eth0', 2, 2],
  ] as const;
  await runAll(
    ['ip', '-n', a, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'ra', 'netns', r],
    ['ip', '-n', b, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'rb', 'netns', r],
    ...devices.map(([ns, dev, subnet, host]) => [
      'ip',
      '-n',
      ns,
      'addr',
      'add',
      `${v4(subnet, host)}/24`,
      'dev',
      dev,
    ]),
    ...(options.ipv6 === true
      ? devices.map(([ns, dev, subnet, host]) => [
          'ip',
          '-n',
          ns,
          'addr',
          'add',
          `${v6(subnet, host)}/64`,
          'dev',
          dev,
          'nodad',
        ])
      : []),
    ...devices.map(([ns, dev]) => ['ip', '-n', ns, 'link', 'set', dev, 'up']),
    ['ip', '-n', a, 'route', 'add', 'default', 'via', v4(1, 1)],
    ['ip', '-n', b, 'route', 'add', 'default', 'via', v4(2, 1)],
    ['ip', 'netns', 'exec', r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'],
    ...(options.ipv6 === true
      ? [
          ['ip', '-n', a, '-6', 'route', 'add', 'default', 'via', v6(1, 1)],
          ['ip', '-n', b, '-6', 'route', 'add', 'default', 'via', v6(2, 1)],
          ['ip', 'netns', 'exec', r, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1'],
        ]
      : []),
  );
  return {
    a,
    r,
    b,
    client: v4(1, 2),
    routerA: v4(1, 1),
    routerB: v4(2, 1),
    server: v4(2, 2),
    client6: options.ipv6 === true ? v6(1, 2) : null,
    server6: options.ipv6 === true ? v6(2, 2) : null,
  };
}

/** Removes every namespace of `prefix` (the pair's and any a test added). */
export async function downRoutedPair(prefix: string): Promise<void> {
  for (const ns of namespacesStartingWith(prefix)) await run(['ip', 'netns', 'del', ns]);
}
