// The lab's first rule: nothing in the root namespace. Its interfaces, addresses,
// routes and nftables ruleset are compared before, while every scenario is up
// (something created there by mistake would vanish again with its peer
// namespace, so "after" alone would not catch it), and after.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labUp } from '../../src/lab/index.js';
import { downAllLabs, namespacesStartingWith, requireRoot, run, runPrefix } from './support/lab-env.js';

const RUN = runPrefix('root');

interface RootSnapshot {
  links: string[];
  addresses: string[];
  routes: string[];
  ruleset: string;
}

interface IpLink {
  ifname: string;
  mtu?: number;
  address?: string;
  master?: string;
  link_netnsid?: number;
}

interface IpAddr {
  ifname: string;
  addr_info?: { local?: string; prefixlen?: number }[];
}

async function json<T>(argv: string[]): Promise<T> {
  const r = await run(argv);
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

async function snapshotRoot(): Promise<RootSnapshot> {
  const links = await json<IpLink[]>(['ip', '-j', 'link', 'show']);
  const addrs = await json<IpAddr[]>(['ip', '-j', 'address', 'show']);
  const routes = await json<Record<string, unknown>[]>(['ip', '-j', 'route', 'show', 'table', 'all']);
  const ruleset = await run(['nft', 'list', 'ruleset']);
  return {
    links: links
      .map(
        (l) =>
          `${l.ifname} mtu ${l.mtu} ${l.address ?? ''} master ${l.master ?? '-'} peer-netns ${l.link_netnsid ?? '-'}`,
      )
      .sort(),
    addresses: addrs
      .flatMap((a) => (a.addr_info ?? []).map((i) => `${a.ifname} ${i.local}/${i.prefixlen}`))
      .sort(),
    routes: routes.map((r) => JSON.stringify(r)).sort(),
    ruleset: ruleset.stdout,
  };
}

describe('the lab and the root namespace', () => {
  let before: RootSnapshot;

  beforeAll(async () => {
    requireRoot();
    before = await snapshotRoot();
  });

  afterAll(async () => {
    await downAllLabs(RUN);
    expect(namespacesStartingWith(RUN)).toEqual([]);
  });

  it('creates no interface, address, route or nftables rule in the root namespace, up or down', async () => {
    const labs = [
      { scenario: 'nova-flat', fault: 'reply-drop-br100' },
      { scenario: 'dvr-fip', fault: 'sg-drop' },
      { scenario: 'sdn-vxlan', fault: 'mtu-mismatch' },
      { scenario: 'dnat-local', fault: null },
    ];
    const prefixes = labs.map((l, i) => `${RUN}${i}-`);
    await Promise.all(labs.map((l, i) => labUp(l.scenario, { fault: l.fault, prefix: prefixes[i] })));
    const during = await snapshotRoot();
    await Promise.all(prefixes.map((p) => labDown(p)));
    const after = await snapshotRoot();

    expect(during).toEqual(before);
    expect(after).toEqual(before);
  });
});
