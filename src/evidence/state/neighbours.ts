// A namespace's neighbour table, from `ip -j neigh show`. Pure.

export interface NeighbourEntry {
  address: string;
  iface: string;
  lladdr: string | null;
  /** NUD states: REACHABLE, STALE, INCOMPLETE, FAILED, PERMANENT, NOARP, … */
  state: string[];
}

export function parseNeighbours(json: string): NeighbourEntry[] {
  const parsed = JSON.parse(json) as unknown;
  if (!Array.isArray(parsed)) throw new Error('ip -j neigh: not a JSON array');
  return (parsed as Array<{ dst?: string; dev?: string; lladdr?: string; state?: string[] }>)
    .filter((n) => typeof n.dst === 'string' && typeof n.dev === 'string')
    .map((n) => ({
      address: n.dst as string,
      iface: n.dev as string,
      lladdr: n.lladdr ?? null,
      state: n.state ?? [],
    }));
}

/** The entry is of no use for sending: being resolved, or resolution failed. */
export function isUnresolved(n: NeighbourEntry): boolean {
  return n.state.includes('INCOMPLETE') || n.state.includes('FAILED');
}
