// One namespace's state, read by the hop script and parsed: each source either read
// or unreadable with the reason in a few words (not root, not installed). Pure.
import type { EvidenceSource } from '../../events/types.js';
import { parseIptablesSave, type IptablesRuleset } from '../firewall/iptables-save.js';
import { parseNftRuleset, type NftRuleset } from '../firewall/nft-ruleset.js';
import { parseConntrack, parseInvalidCount, type ConntrackEntry } from './conntrack.js';
import { sectionKey, type NamespaceOutput, type SectionOutput } from './hop-output.js';
import type { HopScriptRequest, RouteQuery, SectionName } from './hop-script.js';
import { parseLinks, type LinkInfo } from './links.js';
import { parseNeighbours, type NeighbourEntry } from './neighbours.js';
import { parseRouteAnswer, type RouteAnswer } from './routes.js';
import { parseSockets, type ListeningSocket } from './sockets.js';
import { parseSysctls } from './sysctls.js';

export interface Unreadable {
  unreadable: string;
}

export type Read<T> = T | Unreadable;

export function isUnreadable<T>(r: Read<T> | null | undefined): r is Unreadable {
  return typeof r === 'object' && r !== null && 'unreadable' in r;
}

export interface IptablesRead {
  backend: 'legacy' | 'nft';
  family: 'ip' | 'ip6';
  ruleset: Read<IptablesRuleset>;
}

export interface HopFacts {
  host: string | null;
  netns: string | null;
  /** when read, ms since 1970 */
  readAtMs: number;
  links: Read<LinkInfo[]> | null;
  neighbours: Read<NeighbourEntry[]> | null;
  routes: Array<{ query: RouteQuery; answer: RouteAnswer }>;
  sysctls: Read<Map<string, string>>;
  sockets: Read<ListeningSocket[]> | null;
  conntrack: Read<{ entries: ConntrackEntry[]; invalid: number | null }> | null;
  nftables: Read<NftRuleset> | null;
  iptables: IptablesRead[] | null;
}

/** Why a command's section holds no answer, in a few words; null when it ran. */
export function failureOf(s: SectionOutput | undefined, program: string): string | null {
  if (s === undefined) return `${program} was not run (the reading was cut off)`;
  if (s.status === 0) return null;
  const text = s.text.trim();
  if (s.status === 127 || /not found/.test(text)) return `${program} is not installed`;
  if (/Operation not permitted|Permission denied|must be root|you must be root/i.test(text))
    return `${program}: not permitted (needs root)`;
  if (s.status === null) return `${program} did not finish`;
  const first = text.split('\n').find((l) => l.trim() !== '') ?? `exit status ${s.status}`;
  return `${program}: ${first.slice(0, 160)}`;
}

function read<T>(s: SectionOutput | undefined, program: string, parse: (text: string) => T): Read<T> {
  const failure = failureOf(s, program);
  if (failure !== null) return { unreadable: failure };
  try {
    return parse((s as SectionOutput).text);
  } catch (err) {
    return {
      unreadable: `${program}: unexpected output (${err instanceof Error ? err.message : String(err)})`,
    };
  }
}

const IPTABLES: ReadonlyArray<{
  section: SectionName;
  program: string;
  backend: 'legacy' | 'nft';
  family: 'ip' | 'ip6';
}> = [
  { section: 'iptables-legacy', program: 'iptables-legacy-save', backend: 'legacy', family: 'ip' },
  { section: 'ip6tables-legacy', program: 'ip6tables-legacy-save', backend: 'legacy', family: 'ip6' },
  { section: 'iptables-nft', program: 'iptables-nft-save', backend: 'nft', family: 'ip' },
  { section: 'ip6tables-nft', program: 'ip6tables-nft-save', backend: 'nft', family: 'ip6' },
];

/** Parses one namespace's sections as asked by `request`. */
export function hopFacts(
  place: { host: string | null; netns: string | null },
  request: HopScriptRequest,
  sections: NamespaceOutput,
  readAtMs: number,
): HopFacts {
  const s = (name: SectionName, arg?: number): SectionOutput | undefined =>
    sections.get(sectionKey(name, arg));
  const nftJson = s('nft-json');
  const nftText = s('nft-text');
  return {
    ...place,
    readAtMs,
    links: request.links ? read(s('addr'), 'ip addr', parseLinks) : null,
    neighbours: request.links ? read(s('neigh'), 'ip neigh', parseNeighbours) : null,
    routes: request.routes.map((query, n) => {
      const sec = s('route', n);
      return { query, answer: parseRouteAnswer(sec?.text ?? '', sec?.status ?? null) };
    }),
    sysctls: read(s('sysctl'), 'sysctl', parseSysctls),
    sockets: request.sockets ? read(s('sockets'), 'ss', parseSockets) : null,
    conntrack: request.conntrack
      ? read(s('conntrack'), 'conntrack', (text) => ({
          entries: parseConntrack(text),
          invalid: parseInvalidCount(s('conntrack-stats')?.text ?? ''),
        }))
      : null,
    nftables: request.firewall
      ? read(nftJson, 'nft', (json) =>
          parseNftRuleset(json.trim() === '' ? '{"nftables":[]}' : json, nftText?.text ?? ''),
        )
      : null,
    iptables: request.firewall
      ? IPTABLES.map((i) => ({
          backend: i.backend,
          family: i.family,
          ruleset: read(s(i.section), i.program, parseIptablesSave),
        }))
      : null,
  };
}

/** Facts of a namespace that could not be entered at all: every source unreadable for that reason. */
export function unenterableFacts(
  place: { host: string | null; netns: string | null },
  request: HopScriptRequest,
  reason: string,
  readAtMs: number,
): HopFacts {
  const u = { unreadable: reason };
  return {
    ...place,
    readAtMs,
    links: request.links ? u : null,
    neighbours: request.links ? u : null,
    routes: request.routes.map((query) => ({
      query,
      answer: { dev: null, gateway: null, prefsrc: null, type: 'none', error: reason, text: reason },
    })),
    sysctls: u,
    sockets: request.sockets ? u : null,
    conntrack: request.conntrack ? u : null,
    nftables: request.firewall ? u : null,
    iptables: request.firewall
      ? IPTABLES.map((i) => ({ backend: i.backend, family: i.family, ruleset: u }))
      : null,
  };
}

/** Every source of a namespace that could not be read, as evidence items name them. */
export function unreadableSources(f: HopFacts): Array<{ source: EvidenceSource; unreadable: string }> {
  const out: Array<{ source: EvidenceSource; unreadable: string }> = [];
  const add = (source: EvidenceSource, r: unknown): void => {
    if (isUnreadable(r) && !out.some((o) => o.source === source && o.unreadable === r.unreadable))
      out.push({ source, unreadable: r.unreadable });
  };
  add('link', f.links);
  add('neighbour', f.neighbours);
  add('sysctl', f.sysctls);
  add('socket', f.sockets);
  add('conntrack', f.conntrack);
  add('nftables', f.nftables);
  for (const i of f.iptables ?? []) {
    // the other backend missing is no loss when one of them read
    if (isUnreadable(i.ruleset) && (f.iptables ?? []).every((j) => isUnreadable(j.ruleset)))
      add('iptables', i.ruleset);
  }
  for (const r of f.routes)
    if (
      r.answer.type === 'none' &&
      r.answer.error !== null &&
      /not permitted|cannot|failed/i.test(r.answer.error)
    )
      add('route', { unreadable: r.answer.error });
  return out;
}
