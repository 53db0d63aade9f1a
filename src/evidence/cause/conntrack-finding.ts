// Conntrack as evidence: the entry of the packet's flow (and invalid packets counted
// since the earlier reading), and the finding of a flow kept untranslated by an entry
// from before a NAT rule that fits it.
import type { EvidenceItem } from '../../events/types.js';
import type { ExchangePacket } from '../context.js';
import { nftNatRules } from '../firewall/nft-walk.js';
import { tableName } from '../firewall/nft-ruleset.js';
import { isUntranslated, type ConntrackEntry } from '../state/conntrack.js';
import { isUnreadable } from '../state/hop-facts.js';
import { placeOf, quote } from './evidence-items.js';
import { hookPassesOf, type Finding, type HopView } from './hop-view.js';

function entryOfFlow(entries: readonly ConntrackEntry[], p: ExchangePacket): ConntrackEntry | undefined {
  const addresses = new Set([p.src, p.dst, ...p.aliases]);
  return entries.find((e) => {
    const o = e.original;
    const ends = addresses.has(o.src) && addresses.has(o.dst);
    if (!ends) return false;
    if (p.family !== 'arp' && (p.proto === 1 || p.proto === 58))
      return o.id === p.icmpId || e.reply.id === p.icmpId;
    return (
      (o.sport === p.sport && o.dport === p.dport) ||
      (o.sport === p.dport && o.dport === p.sport) ||
      (e.reply.sport === p.sport && e.reply.dport === p.dport)
    );
  });
}

export function conntrackOfFlow(v: HopView): EvidenceItem | null {
  const c = v.facts.conntrack;
  if (c === null) return null;
  if (isUnreadable(c)) return { source: 'conntrack', ...placeOf(v.facts), unreadable: c.unreadable };
  const e = entryOfFlow(c.entries, v.packet);
  const invalidDelta =
    v.before?.conntrack != null &&
    !isUnreadable(v.before.conntrack) &&
    v.before.conntrack.invalid !== null &&
    c.invalid !== null
      ? c.invalid - v.before.conntrack.invalid
      : null;
  const note =
    invalidDelta !== null && invalidDelta > 0 ? `invalid packets counted: +${invalidDelta}` : undefined;
  return e !== undefined
    ? {
        source: 'conntrack',
        ...placeOf(v.facts),
        found: true,
        entry: e.text,
        ...(note !== undefined ? { note } : {}),
      }
    : { source: 'conntrack', ...placeOf(v.facts), found: false, note: note ?? 'no entry for this flow' };
}

export function staleNatFinding(v: HopView): Finding | null {
  const f = v.facts;
  if (f.nftables === null || isUnreadable(f.nftables) || f.conntrack === null || isUnreadable(f.conntrack))
    return null;
  // the packet went on with the addresses it had here: no translation seen on its path
  if (v.packet.aliases.length > 0) return null;
  const nat = nftNatRules(f.nftables, hookPassesOf(v), v.packet).filter((n) => n.fit.fits === 'yes');
  if (nat.length === 0) return null;
  const entry = entryOfFlow(f.conntrack.entries, v.packet);
  if (entry === undefined || !isUntranslated(entry)) return null;
  const rule = nat[0];
  const kind = rule.rule.verdict.kind === 'nat' ? rule.rule.verdict.nat : 'nat';
  return {
    code: 'conntrack',
    strength: 80,
    summary: `a conntrack entry from before the ${kind} rule keeps this flow untranslated: ${quote(entry.text)}; nftables rule handle ${rule.rule.handle} in ${tableName(rule.chain)} ${rule.chain.name} applies only to new flows: ${quote(rule.rule.text)}`,
    evidence: [
      {
        source: 'conntrack',
        ...placeOf(f),
        found: true,
        entry: entry.text,
        note: `no ${kind} applied although a ${kind} rule fits`,
      },
      {
        source: 'nftables',
        ...placeOf(f),
        family: rule.chain.family,
        table: rule.chain.table,
        chain: rule.chain.name,
        handle: rule.rule.handle,
        rule: rule.rule.text,
        verdict: kind === 'nat' ? 'snat' : kind,
        matchedBy: 'match',
      },
    ],
    view: v,
  };
}
