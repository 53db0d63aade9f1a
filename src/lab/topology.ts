// The declarative description of a lab scenario: plain data, no
// behaviour. One builder (builder.ts) turns any ScenarioSpec into commands, so a
// scenario file says *what* the topology is and never *how* to build it.
//
// Names in a spec are the unprefixed, real-looking ones (`qrouter-<uuid>`,
// `tap7aa08012-d0`); the builder prepends the run's prefix to namespace names
// only — interfaces live inside lab namespaces and need no prefix.
import type { InterfaceRole as GuessedRole } from '../shared/roles.js';

/** Items may exist only with a fault active, or only without it. */
export type FaultCondition = { readonly withFault: string } | { readonly withoutFault: string };

export interface Conditional {
  readonly when?: FaultCondition;
}

export interface FaultSpec {
  readonly name: string;
  /** one line: what is broken and what the operator sees */
  readonly description: string;
}

/**
 * What an interface is, in the vocabulary of `hopscope ifaces` (the roles
 * it guesses, shared/roles.ts), plus `guest` (a VM's or pod's own NIC); a lab never
 * needs `other`.
 */
export type InterfaceRole = Exclude<GuessedRole, 'other'> | 'guest';

/** A machine of the scenario: a namespace standing for its root namespace, running its own sshd. */
export interface HostSpec {
  readonly name: string;
  /** the namespace that plays this host's root namespace */
  readonly netns: string;
  readonly description: string;
}

export interface NamespaceSpec {
  readonly name: string;
  /** host the namespace lives on (a VM or pod namespace belongs to its hypervisor/node) */
  readonly host: string;
  /** one line shown by `lab status` ("VM instance-00000001", "DVR router") */
  readonly description: string;
}

/** One end of a link: an interface in a namespace. */
export interface InterfaceSpec {
  readonly netns: string;
  readonly name: string;
  readonly role: InterfaceRole;
  /** fixed MAC where determinism matters (DHCP reservations, static neighbours) */
  readonly mac?: string;
}

export type LinkSpec = Conditional &
  (
    | { readonly kind: 'veth'; readonly a: InterfaceSpec; readonly b: InterfaceSpec }
    | { readonly kind: 'bridge'; readonly dev: InterfaceSpec }
    | {
        readonly kind: 'vxlan';
        readonly dev: InterfaceSpec;
        readonly vni: number;
        readonly dstPort: number;
        readonly local: string;
        readonly remote: string;
        /** underlay interface in the same namespace */
        readonly underlay: string;
      }
    | {
        /**
         * A real tap device (`tun type tap`) on the host side and the guest's NIC,
         * joined by a userspace process the way a hypervisor joins them (socat
         * standing in for qemu).
         */
        readonly kind: 'tap';
        readonly tap: InterfaceSpec;
        readonly guest: InterfaceSpec;
      }
  );

export interface BridgePortSpec extends Conditional {
  readonly netns: string;
  readonly bridge: string;
  readonly port: string;
}

export interface MtuSpec extends Conditional {
  readonly netns: string;
  readonly dev: string;
  readonly mtu: number;
}

export interface AddressSpec extends Conditional {
  readonly netns: string;
  readonly dev: string;
  /** address/prefix-length */
  readonly cidr: string;
}

export interface RouteSpec extends Conditional {
  readonly netns: string;
  /** 'default' or a network in CIDR form */
  readonly to: string;
  readonly via?: string;
  readonly dev?: string;
  /** next hop is not on a connected subnet (routes over a point-to-point overlay) */
  readonly onlink?: boolean;
}

/** A static neighbour entry, as an SDN controller programs one. */
export interface NeighborSpec extends Conditional {
  readonly netns: string;
  readonly dev: string;
  readonly ip: string;
  readonly mac: string;
}

export interface SysctlSpec extends Conditional {
  readonly netns: string;
  readonly key: string;
  readonly value: string;
}

export interface NftablesSpec extends Conditional {
  readonly netns: string;
  /** file-name friendly name of the ruleset ("security-group", "floating-ip-nat") */
  readonly name: string;
  /** an nft script (`nft -f`), fixed text of the scenario */
  readonly ruleset: string;
  /**
   * loaded after the background traffic started (a rule added while a flow is already
   * tracked, as an operator adds one to a running system); default: before it
   */
  readonly late?: boolean;
}

/** iptables rules, as an `iptables-restore` script, with the backend that loads them. */
export interface IptablesSpec extends Conditional {
  readonly netns: string;
  /** file-name friendly name ("security-group") */
  readonly name: string;
  /** `legacy` (x_tables, iptables-legacy-restore) or `nft` (iptables-nft-restore) */
  readonly backend: 'legacy' | 'nft';
  /** an iptables-restore script (`*filter` … `COMMIT`), fixed text of the scenario */
  readonly rules: string;
}

export interface DnsmasqSpec extends Conditional {
  readonly kind: 'dnsmasq';
  readonly name: string;
  readonly netns: string;
  readonly interface: string;
  readonly listenAddress: string;
  readonly dhcpRange: {
    readonly start: string;
    readonly end: string;
    readonly netmask: string;
    readonly lease: string;
  };
  readonly router?: string;
  /** fixed leases: the MAC a VM boots with gets its address (nova and neutron both pin them) */
  readonly dhcpHosts: readonly { readonly mac: string; readonly ip: string; readonly hostname: string }[];
  /** local DNS data; dnsmasq never forwards anywhere (--no-resolv) */
  readonly hostRecords: readonly { readonly name: string; readonly ip: string }[];
  readonly domain: string;
}

/** A TCP service standing in for a real one (a VM's sshd, a web server): socat echoing back. */
export interface TcpListenerSpec extends Conditional {
  readonly kind: 'tcp-listener';
  readonly name: string;
  readonly netns: string;
  /** address to bind, '0.0.0.0' for all */
  readonly address: string;
  readonly port: number;
}

/**
 * Traffic that runs all along (a monitoring ping), started before the `late` rulesets
 * load; ready once conntrack in `trackedIn` holds its flow.
 */
export interface BackgroundTrafficSpec extends Conditional {
  readonly kind: 'background-traffic';
  readonly name: string;
  readonly netns: string;
  readonly argv: readonly string[];
  readonly trackedIn: {
    readonly netns: string;
    readonly protocol: 'icmp' | 'tcp' | 'udp';
    readonly src: string;
    readonly dst: string;
  };
}

export type DaemonSpec = DnsmasqSpec | TcpListenerSpec | BackgroundTrafficSpec;

/** A command that makes the scenario's traffic, run inside a namespace. */
export interface TrafficSpec {
  readonly name: string;
  readonly netns: string;
  readonly argv: readonly string[];
  readonly description: string;
  /** faults under which this command is expected to fail (exit status ≠ 0) */
  readonly failsWith: readonly string[];
}

/** Where to capture to follow the scenario's packets, in path order. */
export interface CapturePointSpec {
  readonly netns: string;
  readonly iface: string;
}

export interface ScenarioSpec {
  readonly name: string;
  /** one line for `lab list` */
  readonly summary: string;
  readonly faults: readonly FaultSpec[];
  readonly hosts: readonly HostSpec[];
  readonly namespaces: readonly NamespaceSpec[];
  readonly links: readonly LinkSpec[];
  readonly bridgePorts: readonly BridgePortSpec[];
  readonly mtus: readonly MtuSpec[];
  readonly sysctls: readonly SysctlSpec[];
  readonly addresses: readonly AddressSpec[];
  readonly routes: readonly RouteSpec[];
  readonly neighbors: readonly NeighborSpec[];
  readonly nftables: readonly NftablesSpec[];
  readonly iptables: readonly IptablesSpec[];
  readonly daemons: readonly DaemonSpec[];
  readonly traffic: readonly TrafficSpec[];
  readonly capturePoints: readonly CapturePointSpec[];
}
