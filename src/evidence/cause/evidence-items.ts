// Evidence items (docs/json-lines.md `cause`) made from a namespace's facts, the same
// way by every finding: where they were read, links, sysctls and route lookups; and a
// rule quoted as the summaries quote it.
import type { EvidencePlace, LinkEvidence, RouteEvidence, SysctlEvidence } from '../../events/types.js';
import { isUnreadable, type HopFacts } from '../state/hop-facts.js';
import type { LinkInfo } from '../state/links.js';
import { effectiveSysctl } from '../state/sysctls.js';

export function placeOf(f: HopFacts): EvidencePlace {
  const p: EvidencePlace = {};
  if (f.host !== null) p.host = f.host;
  if (f.netns !== null) p.netns = f.netns;
  return p;
}

export function quote(rule: string): string {
  return `\`${rule}\``;
}

export function linksOf(f: HopFacts): LinkInfo[] | null {
  return f.links === null || isUnreadable(f.links) ? null : f.links;
}

export function sysctl(f: HopFacts, key: string, dev: string | null): SysctlEvidence | null {
  if (isUnreadable(f.sysctls)) return null;
  const value = dev === null ? (f.sysctls.get(key) ?? null) : effectiveSysctl(f.sysctls, key, dev);
  if (value === null) return null;
  return { source: 'sysctl', ...placeOf(f), key: dev === null ? key : `net.ipv4.conf.${dev}.${key}`, value };
}

export function linkEvidence(f: HopFacts, l: LinkInfo, packetBytes?: number, withMac = false): LinkEvidence {
  const e: LinkEvidence = {
    source: 'link',
    ...placeOf(f),
    iface: l.name,
    state: l.operstate,
    up: l.up,
    carrier: l.carrier,
    mtu: l.mtu,
  };
  if (l.master !== null) e.master = l.master;
  if (packetBytes !== undefined) e.packetBytes = packetBytes;
  if (withMac && l.mac !== null) e.mac = l.mac;
  return e;
}

export function routeEvidence(f: HopFacts, r: HopFacts['routes'][number]): RouteEvidence {
  const q = r.query;
  const query = [
    q.dst,
    q.from !== undefined ? `from ${q.from}` : '',
    q.iif !== undefined ? `iif ${q.iif}` : '',
  ]
    .filter((w) => w !== '')
    .join(' ');
  const e: RouteEvidence = { source: 'route', ...placeOf(f), query };
  if (r.answer.error !== null) e.error = r.answer.error;
  else e.route = r.answer.text;
  if (r.answer.dev !== null) e.iface = r.answer.dev;
  return e;
}
