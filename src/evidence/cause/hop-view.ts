// What cause inference (infer.ts) is given and weighs: a view per namespace and packet,
// as the gatherer read it, and the findings made from each view.
import type {
  CauseCode,
  EvidenceItem,
  ExchangeRecord,
  KernelDropEvidence,
  SysctlEvidence,
} from '../../events/types.js';
import type { AskerView, ExchangePacket } from '../context.js';
import { hookPasses, type HookPass } from '../firewall/hooks.js';
import type { HopFacts } from '../state/hop-facts.js';
import { linksOf, sysctl } from './evidence-items.js';

/** One namespace, as one packet crossed it (or should have). */
export interface HopView {
  /** the label `at` names when the cause is found here */
  label: string;
  role: 'last-seen' | 'next' | 'path';
  packet: ExchangePacket;
  /** the missing packet itself, the question of an unanswered exchange, or the answer it never got */
  which: 'missing' | 'question' | 'answer';
  /** devices of the packet in this namespace (null: not known) */
  iif: string | null;
  oif: string | null;
  /** the device it should have appeared on next, when in this namespace */
  expectedIface: string | null;
  /**
   * the device it entered this namespace by, as captured, when that was before iif (a
   * bridge port before the bridge device a capture also saw it on): the hooks it
   * crossed depend on it (firewall/hooks.ts); null when iif is where it entered or
   * nothing is known
   */
  entered: string | null;
  /** bytes of encapsulation around the packet on the links here (VXLAN: 50) */
  encapsulation: number;
  facts: HopFacts;
  /** an earlier reading of this namespace (rule counters) */
  before: HopFacts | null;
  drops: KernelDropEvidence[];
  /** why the kernel's drops could not be read here; null when they were */
  kernelUnreadable: string | null;
}

export interface CauseInput {
  exchange: ExchangeRecord;
  views: readonly HopView[];
  /** the exchange as its asker saw it (VerdictContext.asker) */
  asker?: AskerView | null;
}

/** One cause a view supports, with its strength (infer.ts lists the scale). */
export interface Finding {
  code: CauseCode;
  strength: number;
  summary: string;
  evidence: EvidenceItem[];
  view: HopView;
}

/** The netfilter hooks the view's packet (or `packet`, its form at a hook: after a DNAT) crosses in its namespace. */
export function hookPassesOf(v: HopView, packet: ExchangePacket = v.packet): HookPass[] {
  return hookPasses(
    packet,
    v.iif,
    v.oif,
    linksOf(v.facts),
    v.entered,
    bridgeCallsIp(v.facts, packet) !== null,
  );
}

/**
 * The br_netfilter switch that makes a bridged packet of this family pass the IP hooks
 * (`net.bridge.bridge-nf-call-iptables` or `-ip6tables`), when it is on in the
 * namespace; null when off, absent (the module not loaded) or not read.
 */
export function bridgeCallsIp(f: HopFacts, packet: ExchangePacket): SysctlEvidence | null {
  if (packet.family === 'arp') return null;
  const key =
    packet.family === 6 ? 'net.bridge.bridge-nf-call-ip6tables' : 'net.bridge.bridge-nf-call-iptables';
  const e = sysctl(f, key, null);
  return e !== null && e.value === '1' ? e : null;
}
