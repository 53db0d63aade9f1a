// Cloud identities as capture SPECs (`-i port:UUID`, `router:UUID`, `dhcp:UUID`,
// `ip:ADDR`), resolved from the field's naming conventions and the host's own state —
// no cloud API:
//
//   port:ID     Neutron names a port's devices by a prefix and the port id's first 11
//               characters (IFNAMSIZ): tap (the VM's port; MidoNet and nova too), qbr,
//               qvb, qvo (hybrid plugging), qr-, qg- (router ports), ns- (DHCP port),
//               fg-, sg-, ha-. Every interface so named, in any namespace.
//   router:ID   the interfaces of qrouter-ID (qr-, qg-, rfp-, …) and of snat-ID, and in a
//               DVR fip- namespace its fpr- (named by the router id's start) with that
//               namespace's fg-.
//   dhcp:ID     the interfaces of qdhcp-ID (ns- with the linuxbridge agent, tap with OVS).
//   ip:ADDR     the interfaces holding the address, and the bridge port towards each
//               (the other end of its veth or tap, when that is a bridge port); for an
//               address held by no interface (a VM's, inside the guest), the bridge port
//               whose fdb has the MAC a neighbour table gives for it.
//
// An id may be given whole or by its start (8 hex digits at least). Namespace names
// may carry a prefix before `qrouter-` (`hs-qrouter-…`: the lab's). An identity that
// matches nothing is an error listing the nearest names that exist.
import { interfaceLabel } from '../events/types.js';
import { parseAddress } from './address.js';
import { gatherHost, GatherError } from './gather.js';
import { Topology, type Link } from './topology.js';
import { DiscoveryError } from '../sources/discovery.js';
import { SpecError, type CaptureSpec, type CaptureTarget, type CloudIdentity } from '../sources/spec.js';

/** Device prefixes Neutron (and nova, MidoNet) put before a port id. */
const PORT_PREFIXES = ['tap', 'qbr', 'qvb', 'qvo', 'qr-', 'qg-', 'ns-', 'fg-', 'sg-', 'ha-'];
/** The fewest characters of an id that must agree. */
const MIN_ID = 8;

export interface IdentityLocation {
  netns: string | null;
  name: string;
}

/** Whether an id cut in a name (`7aa08012-d0`) and the id given (whole or its start) are one. */
function sameId(cut: string, given: string): boolean {
  const n = Math.min(cut.length, given.length);
  return n >= MIN_ID && cut.slice(0, n) === given.slice(0, n);
}

/** The id in a namespace name `[PREFIX-]KIND-ID`, or null. */
function namespaceId(name: string | null, kind: string): string | null {
  if (name === null) return null;
  const m = new RegExp(`(?:^|-)${kind}-([0-9a-f][0-9a-f-]*)$`).exec(name);
  return m === null ? null : m[1];
}

function portId(name: string): { prefix: string; id: string } | null {
  const prefix = PORT_PREFIXES.find((p) => name.startsWith(p));
  return prefix === undefined ? null : { prefix, id: name.slice(prefix.length) };
}

/** Levenshtein distance, for the nearest names an error lists (short strings only). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** The names nearest to `wanted` (by the key each is compared on), closest first, at most `max`. */
export function nearest(
  wanted: string,
  candidates: ReadonlyArray<{ name: string; key: string }>,
  max = 5,
): string[] {
  const scored = candidates.map((c) => {
    const key = c.key.slice(0, Math.max(wanted.length, 1));
    let common = 0;
    while (common < key.length && key[common] === wanted[common]) common++;
    return { name: c.name, d: editDistance(wanted, key), common };
  });
  // equal ones: the shorter label first (the host's own namespace before the named ones)
  scored.sort(
    (x, y) =>
      x.d - y.d || y.common - x.common || x.name.length - y.name.length || x.name.localeCompare(y.name),
  );
  return [...new Set(scored.map((s) => s.name))].slice(0, max);
}

const isLoopback = (l: Link): boolean => l.state.loopback;

function at(l: Link): IdentityLocation {
  return { netns: l.ns.netns, name: l.name };
}

function label(l: Link): string {
  return interfaceLabel({ host: null, netns: l.ns.netns, name: l.name });
}

function listText(names: readonly string[]): string {
  return names.length === 0 ? '' : ` (nearest: ${names.join(', ')})`;
}

/**
 * The interfaces an identity names on one host (its listing as a Topology), in
 * listing order; a SpecError naming the nearest that exist when it names none.
 */
export function resolveIdentity(
  identity: CloudIdentity,
  topo: Topology,
  specText: string,
  where: string,
): IdentityLocation[] {
  const all = topo.namespaces.flatMap((n) => n.links);
  const fail = (what: string, near: string[], none: string): never => {
    throw new SpecError(
      `-i ${JSON.stringify(specText)}: ${what} ${where}${near.length > 0 ? listText(near) : ` (${none})`}`,
    );
  };
  const v = identity.value;
  switch (identity.kind) {
    case 'port': {
      const found = all.filter((l) => {
        const p = portId(l.name);
        return p !== null && sameId(p.id, v);
      });
      if (found.length > 0) return found.map(at);
      const named = all.flatMap((l) => {
        const p = portId(l.name);
        return p === null ? [] : [{ name: label(l), key: p.id }];
      });
      return fail(
        `no interface of port ${v}`,
        nearest(v, named),
        `no interface is named like a port: ${PORT_PREFIXES.map((p) => `${p}…`).join(', ')}`,
      );
    }
    case 'router': {
      const spaces = topo.namespaces.filter((n) => {
        const id = namespaceId(n.netns, 'qrouter') ?? namespaceId(n.netns, 'snat');
        return id !== null && sameId(id, v);
      });
      const found = spaces.flatMap((n) => n.links.filter((l) => !isLoopback(l)));
      // DVR: the fip namespace holding this router's fpr- (fpr- + the router id's start)
      for (const n of topo.namespaces) {
        if (namespaceId(n.netns, 'fip') === null) continue;
        const fpr = n.links.filter((l) => l.name.startsWith('fpr-') && sameId(l.name.slice(4), v));
        if (fpr.length === 0) continue;
        found.push(...fpr, ...n.links.filter((l) => l.name.startsWith('fg-')));
      }
      if (found.length > 0) return found.map(at);
      const routers = topo.namespaces.flatMap((n) => {
        const id = namespaceId(n.netns, 'qrouter') ?? namespaceId(n.netns, 'snat');
        return id === null || n.netns === null ? [] : [{ name: n.netns, key: id }];
      });
      return fail(
        spaces.length > 0
          ? `router ${v}'s namespace has no interface`
          : `no namespace of router ${v} (qrouter-${v}…)`,
        nearest(v, routers),
        'no qrouter- namespace',
      );
    }
    case 'dhcp': {
      const spaces = topo.namespaces.filter((n) => {
        const id = namespaceId(n.netns, 'qdhcp');
        return id !== null && sameId(id, v);
      });
      const found = spaces.flatMap((n) => n.links.filter((l) => !isLoopback(l)));
      if (found.length > 0) return found.map(at);
      const nets = topo.namespaces.flatMap((n) => {
        const id = namespaceId(n.netns, 'qdhcp');
        return id === null || n.netns === null ? [] : [{ name: n.netns, key: id }];
      });
      return fail(
        spaces.length > 0
          ? `the DHCP namespace of network ${v} has no interface`
          : `no DHCP namespace of network ${v} (qdhcp-${v}…)`,
        nearest(v, nets),
        'no qdhcp- namespace',
      );
    }
    case 'ip': {
      const addr = parseAddress(v);
      if (addr === null) return fail(`'${v}' is not an address`, [], 'ip:10.0.0.5');
      const found: Link[] = [];
      const add = (l: Link | null | undefined): void => {
        if (l !== null && l !== undefined && !found.includes(l)) found.push(l);
      };
      for (const holder of topo.holdersOf(addr)) {
        add(holder);
        const other = topo.peerOf(holder) ?? topo.tapHolder(holder)?.peer ?? null;
        if (other !== null && topo.masterOf(other) !== null) add(other);
      }
      if (found.length === 0) {
        // Held inside a VM: the bridge port its MAC was learned on, from a neighbour entry.
        const macs = new Set(
          topo.namespaces.flatMap((n) =>
            n.state.neighbours
              .filter((e) => e.address.text === addr.text && e.mac !== null)
              .map((e) => e.mac as string),
          ),
        );
        for (const n of topo.namespaces)
          for (const f of n.state.fdb)
            if (f.master !== null && !f.permanent && macs.has(f.mac)) add(topo.linkByName(n, f.dev));
      }
      if (found.length > 0) return found.map(at);
      // nearest by value: 10.0.0.6 is next to 10.0.0.5, not to 10.0.0.16
      const value = (bytes: Uint8Array): bigint => bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n);
      const want = value(addr.bytes);
      const held = all
        .flatMap((l) =>
          l.state.loopback
            ? []
            : l.state.addresses
                .filter((a) => a.address.family === addr.family)
                .map((a) => {
                  const d = value(a.address.bytes) - want;
                  return { name: `${a.address.text} on ${label(l)}`, d: d < 0n ? -d : d };
                }),
        )
        .sort((a, b) => (a.d < b.d ? -1 : a.d > b.d ? 1 : a.name.localeCompare(b.name)));
      return fail(
        `no interface holds ${v}`,
        held.slice(0, 5).map((h) => h.name),
        'no interface holds an address',
      );
    }
  }
}

/**
 * The capture targets of every cloud identity among the specs — one listing per host
 * named by an identity (the path's gather script: links, and for `ip:` neighbours and
 * fdb too), the targets taken from it as they are (an interface gone since is then
 * reported gone by the capture, like any). Specs without an identity are not looked at.
 */
export async function identityTargets(
  specs: readonly CaptureSpec[],
  options: { sshConfig?: string; timeoutMs?: number } = {},
): Promise<Map<CaptureSpec, CaptureTarget[]>> {
  const out = new Map<CaptureSpec, CaptureTarget[]>();
  const ids = specs.filter((s) => s.identity !== undefined);
  if (ids.length === 0) return out;
  const hosts = [...new Set(ids.map((s) => s.host))];
  const topologies = new Map<string | null, Topology>();
  await Promise.all(
    hosts.map(async (host) => {
      const full = ids.some((s) => s.host === host && s.identity?.kind === 'ip');
      try {
        const state = await gatherHost({
          host,
          mode: full ? 'full' : 'links',
          sshConfig: options.sshConfig,
          timeoutMs: options.timeoutMs,
        });
        topologies.set(host, new Topology([state]));
      } catch (err) {
        if (err instanceof GatherError) throw new DiscoveryError(err.message);
        throw err;
      }
    }),
  );
  for (const spec of ids) {
    const topo = topologies.get(spec.host) as Topology;
    const where = spec.host === null ? 'on this host' : `on ${spec.host}`;
    const found = resolveIdentity(spec.identity as CloudIdentity, topo, spec.text, where);
    out.set(
      spec,
      found.map((loc) => {
        const link = topo.namespaces
          .find((n) => n.netns === loc.netns)
          ?.links.find((l) => l.name === loc.name);
        const at = { host: spec.host, netns: loc.netns, name: loc.name };
        return {
          ...at,
          label: interfaceLabel(at),
          spec: spec.text,
          addresses: (link?.state.addresses ?? []).map((a) => `${a.address.text}/${a.prefixLength}`),
        };
      }),
    );
  }
  return out;
}
