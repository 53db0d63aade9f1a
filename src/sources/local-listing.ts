// What the local namespaces that matter to a capture session hold now: each one's
// interfaces (link up or down, addresses) and the inode its name leads to. Listed on
// libuv's thread pool, never on the thread that drains every capture ring (a compute
// node has a namespace per router and network). CaptureSession acts on the listing
// (capture-session.ts #discoverLocal); this only asks.
import { listLocalNamespaces } from './discovery.js';
import { interfaceAddresses, listInterfacesAsync, netnsPathOf } from './live-capture.js';
import { isCaptureError } from './native-addon.js';
import { namespaceInode } from './netns-follow.js';
import { specSelectsNamespace, type CaptureSpec } from './spec.js';

export interface ListedInterface {
  up: boolean;
  addresses: string[];
  /** its MAC address, where the addon lists it */
  mac: string | null;
}

export interface LocalListing {
  /** per namespace listed (null: this process's), its interfaces by name */
  interfaces: Map<string | null, Map<string, ListedInterface>>;
  /** inode of the namespace each name leads to now; null: none (absent: unknown) */
  inodes: Map<string, number | null>;
}

/**
 * The namespaces to list: those of the interfaces captured, and those an open spec
 * (a glob) selects — this process's, the named ones, and its pid: namespaces.
 */
export function namespacesToList(
  captured: Iterable<string | null>,
  open: readonly CaptureSpec[],
): Set<string | null> {
  const namespaces = new Set<string | null>(captured);
  if (open.length > 0) {
    const needsNamed = open.some((s) => s.netns.kind === 'all' || s.netns.kind === 'named');
    const candidates: Array<string | null> = [null, ...(needsNamed ? listLocalNamespaces() : [])];
    for (const s of open) if (s.netns.kind === 'pid') candidates.push(`pid:${s.netns.pid}`);
    for (const netns of candidates)
      if (open.some((s) => specSelectsNamespace(s, netns))) namespaces.add(netns);
  }
  return namespaces;
}

/** Lists every namespace of `namespaces` at once. A namespace that cannot be listed is left out. */
export async function listNamespaces(namespaces: Iterable<string | null>): Promise<LocalListing> {
  const interfaces = new Map<string | null, Map<string, ListedInterface>>();
  const inodes = new Map<string, number | null>();
  await Promise.all(
    [...namespaces].map(async (netns) => {
      const path = netns === null ? undefined : netnsPathOf(netns);
      if (netns !== null && path !== undefined) {
        // stat, like the listing, runs on the thread pool
        const inode = await namespaceInode(path);
        if (inode !== undefined) inodes.set(netns, inode);
      }
      try {
        const list = await listInterfacesAsync(path);
        interfaces.set(
          netns,
          new Map(
            list.map((i) => [i.name, { up: i.up, addresses: interfaceAddresses(i), mac: i.mac ?? null }]),
          ),
        );
      } catch (err) {
        // gone between the stat and the listing; other failures conclude nothing
        if (netns !== null && isCaptureError(err) && err.code === 'ERR_NETNS_NOT_FOUND')
          inodes.set(netns, null);
      }
    }),
  );
  return { interfaces, inodes };
}
