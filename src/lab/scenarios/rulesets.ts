// nftables rulesets more than one scenario writes, and the shape of a ruleset that
// exists only while a fault is on. Plain text and data: the builder loads them.
import type { NftablesSpec } from '../topology.js';

/**
 * A floating IP as the cloud's NAT does it: traffic to it is DNAT-ed to the VM's fixed
 * address, and the VM's traffic leaving through `outIface` is SNAT-ed to it.
 */
export function floatingIpNat(floatingIp: string, fixedIp: string, outIface: string): string {
  return `table ip nat {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr ${floatingIp} dnat to ${fixedIp}
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr ${fixedIp} oifname "${outIface}" snat to ${floatingIp}
  }
}
`;
}

/**
 * A table (`family name`) of one filter chain named after its hook, accepting what its
 * rules do not drop.
 */
export function filterRuleset(table: string, hook: string, rules: readonly string[]): string {
  return `table ${table} {
  chain ${hook} {
    type filter hook ${hook} priority filter; policy accept;
${rules.map((r) => `    ${r}\n`).join('')}  }
}
`;
}

/** A ruleset loaded into `netns` only while `fault` is on. */
export function faultRuleset(netns: string, name: string, ruleset: string, fault: string): NftablesSpec {
  return { netns, name, ruleset, when: { withFault: fault } };
}
