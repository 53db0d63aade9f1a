// The way an expert reads a ruleset for one packet: for each hook it crosses, the
// base chains of that hook in priority order, each rule in order, into chains it
// jumps to — and the drop or reject rules it meets that fit the packet (or may: an
// undecided match). A rule that certainly fits and drops ends the walk (nothing after
// it can see the packet); one that certainly accepts ends its chain. A base chain's
// drop policy counts as a drop when the walk falls off its end. Pure.
import type { ExchangePacket } from '../context.js';
import type { HookPass } from './hooks.js';
import { evaluateRule, type PacketAtHook, type RuleFit } from './nft-match.js';
import type { NftChain, NftRule, NftRuleset } from './nft-ruleset.js';

export interface NftCandidate {
  /** the rule; for a chain's drop policy, null */
  rule: NftRule | null;
  chain: NftChain;
  fit: RuleFit;
  pass: HookPass;
}

/** Jumps followed at most this deep (the kernel allows 16). */
const MAX_DEPTH = 16;

function layerFamilies(layer: HookPass['layer'], packet: ExchangePacket): string[] {
  switch (layer) {
    case 'ip':
      return packet.family === 6 ? ['ip6', 'inet'] : packet.family === 4 ? ['ip', 'inet'] : [];
    case 'bridge':
      return ['bridge'];
    case 'arp':
      return ['arp'];
    case 'netdev':
      return ['netdev'];
  }
}

/** The packet as a hook sees it: after a DNAT in prerouting, forward and input see its new destination. */
export type PacketAtPass = ExchangePacket | ((pass: HookPass) => ExchangePacket);

export function packetAt(packet: PacketAtPass, pass: HookPass): ExchangePacket {
  return typeof packet === 'function' ? packet(pass) : packet;
}

export function nftCandidates(
  ruleset: NftRuleset,
  passes: readonly HookPass[],
  packetOf: PacketAtPass,
  ctState: string | null,
): NftCandidate[] {
  const found: NftCandidate[] = [];
  const rulesOf = (c: NftChain): NftRule[] =>
    ruleset.rules.filter((r) => r.family === c.family && r.table === c.table && r.chain === c.name);
  const chainNamed = (like: NftChain, name: string): NftChain | undefined =>
    ruleset.chains.find((c) => c.family === like.family && c.table === like.table && c.name === name);

  for (const pass of passes) {
    const packet = packetAt(packetOf, pass);
    const families = layerFamilies(pass.layer, packet);
    const base = ruleset.chains
      .filter((c) => c.hook === pass.hook && families.includes(c.family) && c.type !== 'nat')
      .filter(
        (c) =>
          pass.layer !== 'netdev' ||
          c.devices.includes((pass.hook === 'ingress' ? pass.iifname : pass.oifname) ?? ''),
      )
      .sort((a, b) => a.prio - b.prio);
    const at: PacketAtHook = { packet, iifname: pass.iifname, oifname: pass.oifname, ctState };
    for (const chain of base) {
      // 'drop': the packet is certainly dropped here; 'accept': this base chain let it through; 'end': fell off
      const walk = (c: NftChain, depth: number): 'drop' | 'accept' | 'return' | 'end' => {
        for (const rule of rulesOf(c)) {
          const fit = rule.opaque
            ? { ...evaluateRule(rule.matches, at), fits: 'unknown' as const }
            : evaluateRule(rule.matches, at);
          if (fit.fits === 'no') continue;
          const v = rule.verdict;
          if (v.kind === 'drop' || v.kind === 'reject') {
            found.push({ rule, chain: c, fit, pass });
            if (fit.fits === 'yes') return 'drop';
          } else if (fit.fits === 'yes') {
            if (v.kind === 'accept') return 'accept';
            if (v.kind === 'return') return 'return';
            if ((v.kind === 'jump' || v.kind === 'goto') && depth < MAX_DEPTH) {
              const target = chainNamed(c, v.target);
              if (target !== undefined) {
                const r = walk(target, depth + 1);
                if (r === 'drop' || r === 'accept') return r;
                if (v.kind === 'goto') return 'return';
              }
            }
          } else if ((v.kind === 'jump' || v.kind === 'goto') && depth < MAX_DEPTH) {
            // an undecided jump: what the target drops is a candidate, the walk goes on here
            const target = chainNamed(c, v.target);
            if (target !== undefined) walk(target, depth + 1);
          }
        }
        return 'end';
      };
      const r = walk(chain, 0);
      if (r === 'drop') return found;
      if (r !== 'accept' && chain.policy === 'drop') {
        found.push({ rule: null, chain, fit: { fits: 'yes', undecided: [] }, pass });
        return found;
      }
    }
  }
  return found;
}

export interface NftNatFit {
  rule: NftRule;
  chain: NftChain;
  fit: RuleFit;
  pass: HookPass;
}

/** The NAT rules (snat, dnat, masquerade, redirect) of nat chains on the packet's hooks that fit it. */
export function nftNatRules(
  ruleset: NftRuleset,
  passes: readonly HookPass[],
  packet: ExchangePacket,
): NftNatFit[] {
  const found: NftNatFit[] = [];
  for (const pass of passes) {
    const families = layerFamilies(pass.layer, packet);
    const chains = ruleset.chains.filter(
      (c) => c.hook === pass.hook && c.type === 'nat' && families.includes(c.family),
    );
    const at: PacketAtHook = { packet, iifname: pass.iifname, oifname: pass.oifname, ctState: 'new' };
    for (const chain of chains) {
      for (const rule of ruleset.rules.filter(
        (r) => r.family === chain.family && r.table === chain.table && r.chain === chain.name,
      )) {
        if (rule.verdict.kind !== 'nat') continue;
        const fit = evaluateRule(rule.matches, at);
        if (fit.fits !== 'no') found.push({ rule, chain, fit, pass });
      }
    }
  }
  return found;
}
