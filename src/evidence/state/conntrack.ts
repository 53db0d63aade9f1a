// Conntrack entries (`conntrack -L -o extended`) and counters (`conntrack -S`). Pure.
//
//   ipv4 2 icmp 1 29 src=10.0.0.10 dst=203.0.113.10 type=8 code=0 id=7 [UNREPLIED] src=203.0.113.10 dst=10.0.0.10 type=0 code=0 id=7 mark=0 use=1
//
// The first src/dst (and ports or ICMP id) are the original direction, the second the
// reply direction as the other end will send it: when NAT applies they differ from the
// original's mirror image.

export interface ConntrackTuple {
  src: string;
  dst: string;
  sport: number | null;
  dport: number | null;
  /** ICMP echo id */
  id: number | null;
}

export interface ConntrackEntry {
  protocol: string;
  original: ConntrackTuple;
  reply: ConntrackTuple;
  /** [UNREPLIED], [ASSURED], … without brackets */
  flags: string[];
  /** TCP state (SYN_SENT, ESTABLISHED, …), null for other protocols */
  state: string | null;
  /** the line as conntrack wrote it */
  text: string;
}

function tuple(fields: Map<string, string>): ConntrackTuple {
  const num = (k: string): number | null => (fields.has(k) ? Number(fields.get(k)) : null);
  return {
    src: fields.get('src') ?? '',
    dst: fields.get('dst') ?? '',
    sport: num('sport'),
    dport: num('dport'),
    id: num('id'),
  };
}

export function parseConntrack(text: string): ConntrackEntry[] {
  const entries: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words.length < 6 || (words[0] !== 'ipv4' && words[0] !== 'ipv6')) continue;
    const protocol = words[2];
    const original = new Map<string, string>();
    const reply = new Map<string, string>();
    const flags: string[] = [];
    let state: string | null = null;
    let side = original;
    for (const w of words.slice(5)) {
      const bracket = /^\[(.+)\]$/.exec(w);
      if (bracket !== null) {
        flags.push(bracket[1]);
        continue;
      }
      const eq = w.indexOf('=');
      if (eq < 0) {
        if (/^[A-Z_]+$/.test(w)) state = w;
        continue;
      }
      const key = w.slice(0, eq);
      if (key === 'src' && side.has('src')) side = reply;
      if (key === 'mark' || key === 'use' || key === 'zone') continue;
      if (!side.has(key)) side.set(key, w.slice(eq + 1));
    }
    entries.push({
      protocol,
      original: tuple(original),
      reply: tuple(reply),
      flags,
      state,
      text: line.trim(),
    });
  }
  return entries;
}

/** The reply tuple is the original's mirror: no NAT applies to this connection. */
export function isUntranslated(e: ConntrackEntry): boolean {
  return (
    e.reply.src === e.original.dst &&
    e.reply.dst === e.original.src &&
    e.reply.sport === e.original.dport &&
    e.reply.dport === e.original.sport
  );
}

/** Sum of `invalid=` over CPUs in `conntrack -S`; null when absent. */
export function parseInvalidCount(text: string): number | null {
  let total: number | null = null;
  for (const m of text.matchAll(/\binvalid=(\d+)/g)) total = (total ?? 0) + Number(m[1]);
  return total;
}
