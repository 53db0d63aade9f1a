// Firewall rules as causes: the drop and reject rules (nftables, iptables legacy and
// nft) that fit the packet at the hooks it passes, each with its counter's move since
// the earlier reading, and the finding one of them makes.
import type { IptablesEvidence, KernelDropEvidence, NftablesEvidence } from '../../events/types.js';
import { iptablesCandidates, type IptablesCandidate, type IptablesRule } from '../firewall/iptables-save.js';
import { nftCandidates, type NftCandidate } from '../firewall/nft-walk.js';
import type { NftRule } from '../firewall/nft-ruleset.js';
import { isUnreadable, type HopFacts } from '../state/hop-facts.js';
import { conntrackOfFlow } from './conntrack-finding.js';
import { packetByHook, translated } from './dnat.js';
import { placeOf, quote } from './evidence-items.js';
import { bridgeCallsIp, hookPassesOf, type Finding, type HopView } from './hop-view.js';

function counterDelta(before: HopFacts | null, r: NftRule): number | undefined {
  if (r.packets === null || before === null || before.nftables === null || isUnreadable(before.nftables))
    return undefined;
  const old = before.nftables.rules.find(
    (o) => o.family === r.family && o.table === r.table && o.chain === r.chain && o.handle === r.handle,
  );
  return old?.packets !== undefined && old.packets !== null ? r.packets - old.packets : undefined;
}

function nftEvidence(f: HopFacts, before: HopFacts | null, c: NftCandidate): NftablesEvidence {
  const delta = c.rule !== null ? counterDelta(before, c.rule) : undefined;
  const e: NftablesEvidence = {
    source: 'nftables',
    ...placeOf(f),
    family: c.chain.family,
    table: c.chain.table,
    chain: c.chain.name,
    handle: c.rule?.handle ?? c.chain.handle,
    rule: c.rule?.text ?? `policy drop`,
    verdict: c.rule?.verdict.kind === 'reject' ? 'reject' : 'drop',
    matchedBy: delta !== undefined && delta > 0 ? 'counter' : 'match',
  };
  if (delta !== undefined) e.counterDelta = delta;
  if (c.fit.undecided.length > 0) e.undecided = [...c.fit.undecided];
  return e;
}

function iptablesDelta(
  before: HopFacts | null,
  backend: string,
  family: string,
  r: IptablesRule,
): number | undefined {
  const old = before?.iptables?.find((i) => i.backend === backend && i.family === family);
  if (old === undefined || isUnreadable(old.ruleset)) return undefined;
  const o = old.ruleset.rules.find((x) => x.table === r.table && x.chain === r.chain && x.text === r.text);
  return o === undefined ? undefined : r.packets - o.packets;
}

function iptablesEvidence(
  f: HopFacts,
  before: HopFacts | null,
  backend: 'legacy' | 'nft',
  family: 'ip' | 'ip6',
  c: IptablesCandidate,
): IptablesEvidence {
  const delta = c.rule !== null ? iptablesDelta(before, backend, family, c.rule) : undefined;
  const e: IptablesEvidence = {
    source: 'iptables',
    ...placeOf(f),
    backend,
    family,
    table: c.chain.table,
    chain: c.rule?.chain ?? c.chain.name,
    rule: c.rule?.text ?? `-P ${c.chain.name} DROP`,
    verdict: c.rule?.target === 'REJECT' ? 'reject' : 'drop',
    matchedBy: delta !== undefined && delta > 0 ? 'counter' : 'match',
  };
  if (delta !== undefined) e.counterDelta = delta;
  if (c.undecided.length > 0) e.undecided = [...c.undecided];
  return e;
}

/** iptables-nft's own tables, as nft lists them: left to the iptables reading, which names them as iptables does. */
function isIptablesNftTable(f: HopFacts, family: string, table: string): boolean {
  return (f.iptables ?? []).some(
    (i) =>
      i.backend === 'nft' &&
      !isUnreadable(i.ruleset) &&
      (i.family === family || family === 'inet') &&
      i.ruleset.chains.some((c) => c.table === table),
  );
}

export interface FirewallHit {
  evidence: NftablesEvidence | IptablesEvidence;
  certain: boolean;
  /** ct state is the match that decides it (`ct state invalid drop`) */
  conntrackInvalid: boolean;
}

function ctState(v: HopView): string | null {
  const p = v.packet;
  if (p.family !== 'arp' && p.proto === 6 && p.tcpFlags === 0x02) return 'new';
  return null;
}

export function firewallHits(v: HopView): FirewallHit[] {
  const f = v.facts;
  // where it goes (input or forward) is decided after the DNAT
  const after = translated(v);
  const passes = hookPassesOf(v, after);
  const packet = packetByHook(v, after);
  const hits: FirewallHit[] = [];
  const invalid = (text: string): boolean =>
    /ct state[^a-z]*(\S+,)*invalid|--(ct)?state (\S+,)*INVALID/.test(text);
  if (f.nftables !== null && !isUnreadable(f.nftables)) {
    for (const c of nftCandidates(f.nftables, passes, packet, ctState(v))) {
      if (isIptablesNftTable(f, c.chain.family, c.chain.table)) continue;
      const evidence = nftEvidence(f, v.before, c);
      hits.push({
        evidence,
        certain: c.fit.fits === 'yes',
        conntrackInvalid: invalid(evidence.rule) && c.fit.undecided.includes('ct state'),
      });
    }
  }
  for (const i of f.iptables ?? []) {
    if (isUnreadable(i.ruleset)) continue;
    if ((i.family === 'ip') !== (v.packet.family === 4)) continue;
    for (const c of iptablesCandidates(i.ruleset, passes, packet, ctState(v))) {
      const evidence = iptablesEvidence(f, v.before, i.backend, i.family, c);
      hits.push({
        evidence,
        certain: c.fits === 'yes',
        conntrackInvalid: invalid(evidence.rule) && c.undecided.some((u) => /state/.test(u)),
      });
    }
  }
  return hits;
}

/** A rule of the IP layer (ip, ip6, inet tables; iptables), not of the bridge's. */
function isIpRule(e: NftablesEvidence | IptablesEvidence): boolean {
  return e.source === 'iptables' || e.family === 'ip' || e.family === 'ip6' || e.family === 'inet';
}

function describeRule(e: NftablesEvidence | IptablesEvidence): string {
  if (e.source === 'nftables') {
    if (e.rule === 'policy drop')
      return `the drop policy of nftables chain ${e.family} ${e.table} ${e.chain}`;
    return `nftables rule handle ${e.handle} in ${e.family} ${e.table} ${e.chain}: ${quote(e.rule)}`;
  }
  return `iptables${e.backend === 'legacy' ? ' (legacy)' : ''} rule in ${e.table} ${e.chain}: ${quote(e.rule)}`;
}

export function firewallFinding(
  v: HopView,
  hit: FirewallHit,
  strength: number,
  kernel: KernelDropEvidence[],
): Finding {
  const e = hit.evidence;
  const conntrack = conntrackOfFlow(v);
  if (hit.conntrackInvalid) {
    return {
      code: 'conntrack',
      strength,
      summary: `conntrack took the packet for invalid (no connection it belongs to), and ${describeRule(e)} drops invalid packets`,
      evidence: [...kernel, e, ...(conntrack !== null ? [conntrack] : [])],
      view: v,
    };
  }
  const verb = e.verdict === 'reject' ? 'rejected' : 'dropped';
  // an IP rule that met a packet the namespace only bridged: br_netfilter handed it over
  const viaBridge =
    isIpRule(e) && hookPassesOf(v).some((p) => p.bridged === true) ? bridgeCallsIp(v.facts, v.packet) : null;
  return {
    code: 'netfilter-drop',
    strength,
    summary:
      `${hit.certain || kernel.length > 0 ? verb : `probably ${verb}`} by ${describeRule(e)}` +
      (viaBridge !== null
        ? `, which the bridged packet meets because ${viaBridge.key} = 1 (br_netfilter)`
        : ''),
    evidence: [...kernel, e, ...(viaBridge !== null ? [viaBridge] : [])],
    view: v,
  };
}
