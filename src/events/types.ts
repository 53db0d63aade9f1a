// The stream contract between stages (docs/architecture.md; the records as JSON:
// docs/json-lines.md). Types, and the few constants and helpers that write them.
//
// Timestamps travel as two plain numbers, whole seconds and nanoseconds, because
// nanoseconds since 1970 do not fit a double exactly and a bigint per packet would
// allocate on the hot path.

/** Where an interface lives: `[HOST:][NETNS/]NAME` (docs/json-lines.md "Labels"). */
export interface InterfaceLocation {
  /** ssh destination as the user typed it; null for the local machine. */
  host: string | null;
  /** named network namespace; null for the root namespace. */
  netns: string | null;
  name: string;
}

export interface InterfaceDescriptor extends InterfaceLocation {
  /** index used by packets and stats of this run (pcapng interface id when recording). */
  id: number;
  label: string;
  /** LINKTYPE_* number (1 = EN10MB, 101 = RAW, 113 = LINUX_SLL, 276 = LINUX_SLL2, ...). */
  linktype: number;
  snaplen: number;
  /**
   * How finely its time stamps tell time apart, in ns: 1 for nanosecond stamps (the
   * native addon, tcpdump with --time-stamp-precision=nano, a nanosecond pcap), 1000 for
   * microsecond ones; from a file, its unit rounded up (pcapng if_tsresol).
   */
  tsResolutionNs: number;
  /**
   * Its own IP addresses with their prefix length, as `ip -j addr` gives them
   * (`10.0.0.1/24`, `fe80::1/64`): a live capture's listing when it was attached (and
   * when it came back), a recording's if_IPv4addr / if_IPv6addr; empty when none are
   * known. Where a packet's source lives is where it starts (correlate/hop-order.ts).
   */
  addresses: readonly string[];
  /**
   * Its own MAC address (`fa:16:3e:00:00:01`), where known: a live capture's listing, a
   * recording's if_MACaddr. A frame starts where its source MAC lives and ends where its
   * destination MAC does (correlate/hop-order.ts).
   */
  mac?: string | null;
  description?: string;
  /**
   * A capture of every device (`any`, split by device: framing/device-split.ts): the
   * devices it knows by ifindex — a live capture's listing of its namespace when it
   * was attached, a recording's IDB comments.
   */
  devices?: readonly CaptureDevice[];
  /**
   * A device of a capture of every device: that capture's id. Its sightings and its
   * fellow devices' come in the order the kernel handed the capture the packet, which
   * is the packet's path (correlate/hop-order.ts).
   */
  deviceOf?: number;
}

/** One device of a capture of every device, as its packets' ifindex names it. */
export interface CaptureDevice {
  ifindex: number;
  name: string;
  /** its own addresses, as InterfaceDescriptor.addresses */
  addresses: readonly string[];
}

/**
 * One captured packet as framing and sources hand it on. The object is reused by
 * its producer: `data` is only valid during the callback; whoever keeps bytes
 * longer copies them (docs/architecture.md "Buffers").
 */
export interface FramedPacket {
  interfaceId: number;
  tsSec: number;
  tsNsec: number;
  /** bytes captured */
  caplen: number;
  /** length on the wire */
  len: number;
  /** bytes of the packet are data[offset .. offset + caplen) */
  data: Uint8Array;
  offset: number;
  /** pcapng epb_flags direction bits: 0 unknown, 1 inbound, 2 outbound */
  direction: number;
}

export interface InterfaceStats {
  interfaceId: number;
  received: number;
  dropped: number;
  /** dropped by the interface/driver where known (pcap_stats ps_ifdrop) */
  ifDropped?: number;
  final: boolean;
  /** when the counting started and ended (a recording's isb_starttime / isb_endtime) */
  start?: { sec: number; nsec: number };
  end?: { sec: number; nsec: number };
  /** opt_comment of a statistics block (the recorder notes capture gaps: CAPTURE_GONE / CAPTURE_BACK) */
  comments?: string[];
  /**
   * A capture of every device's block as another of its devices' (framing/device-split.ts):
   * the block itself was handed on already, so what it says once (causes) is read there.
   */
  deviceCopy?: boolean;
}

/** ISB comments the recorder writes when a capture stops seeing an interface and when it sees it again. */
export const CAPTURE_GONE = 'hopscope: capture gone';
export const CAPTURE_BACK = 'hopscope: capture back';

export type InterfaceState = 'up' | 'gone' | 'retrying' | 'stopped';

export const LINKTYPE = {
  NULL: 0,
  EN10MB: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export function linktypeName(linktype: number): string {
  for (const [name, value] of Object.entries(LINKTYPE)) if (value === linktype) return name;
  return `LINKTYPE_${linktype}`;
}

/** `[HOST:][NETNS/]NAME`, host left out when local, namespace when root (docs/json-lines.md "Labels"). */
export function interfaceLabel(loc: InterfaceLocation): string {
  return `${loc.host !== null ? `${loc.host}:` : ''}${loc.netns !== null ? `${loc.netns}/` : ''}${loc.name}`;
}

/** The `packet` record (docs/json-lines.md): the decoder's view of one packet (JSON `--packets`). */
export interface PacketView {
  type: 'packet';
  /** 1-based packet number in this run */
  n: number;
  iface: string;
  ts: string;
  len: number;
  caplen: number;
  layers: string[];
  src: string | null;
  dst: string | null;
  /** innermost protocol: icmp, icmpv6, tcp, udp, arp, gre, sctp, igmp, ip-<n>, or null */
  proto: string | null;
  ipId: number | null;
  ttl: number | null;
  sport: number | null;
  dport: number | null;
  icmp: { type: number; code: number; id: number | null; seq: number | null; mtu?: number } | null;
  /** flags in tcpdump's letters: S SYN, F FIN, R RST, P PSH, . ACK, U URG, E ECE, W CWR */
  tcp: { flags: string; seq: number; ack: number } | null;
  tunnel: {
    type: 'vxlan' | 'geneve' | 'gre' | 'ipip';
    vni: number | null;
    outerSrc: string | null;
    outerDst: string | null;
  } | null;
  dns: {
    id: number;
    qr: boolean;
    rcode: number;
    qname: string | null;
    qtype: string | null;
    answers: string[];
  } | null;
  dhcp: {
    op: number;
    xid: number;
    chaddr: string | null;
    msgType: string | null;
    yiaddr: string | null;
    serverId: string | null;
  } | null;
  arp: { op: number; spa: string | null; tpa: string | null; sha: string | null; tha: string | null } | null;
  vlan: number[];
  truncated: boolean;
  /** the first layer that did not parse and why (a snaplen cut alone is `truncated`, not malformed) */
  malformed: { layer: string; reason: string; offset: number } | null;
  /** ICMP error: the quoted packet, so a reader sees what it refers to */
  quoted?: {
    src: string | null;
    dst: string | null;
    proto: number;
    sport: number | null;
    dport: number | null;
  };
  fragment?: { offset: number; more: boolean; later: boolean };
}

/** Verdict of an exchange (docs/verdicts.md "Statuses"). */
export type ExchangeStatus = 'ok' | 'lost' | 'unanswered' | 'error' | 'inconclusive';

/** One sighting of a stage's packet: where, when (on the reference clock), and the delay from the previous hop. */
export interface StageSighting {
  iface: string;
  ts: string;
  /** milliseconds since the previous sighting of the same stage (per-hop latency); absent on the first */
  hopMs?: number;
  /** VXLAN/Geneve/GRE context when the packet was seen encapsulated here */
  tunnel?: { type: string; vni: number | null };
}

/**
 * An exchange's flow: its key as fields, so that no reader parses `key`. Addresses are
 * the asking packet's at its first hop (as in `key`), null where that packet did not
 * hold one. One shape per kind (correlate/kinds/kind-spec.ts lists which):
 * icmp-echo, icmpv6-echo, icmp-timestamp: IcmpFlow; tcp-handshake: TcpFlow; dns:
 * DnsFlow; dhcp: DhcpFlow; arp: ArpFlow.
 */
export type ExchangeFlow = IcmpFlow | TcpFlow | DnsFlow | DhcpFlow | ArpFlow;

/** An ICMP request's: addresses, identifier, sequence number. */
export interface IcmpFlow {
  src: string | null;
  dst: string | null;
  id: number;
  seq: number;
}

/** A TCP handshake's: addresses, ports, the client's initial sequence number. */
export interface TcpFlow {
  src: string | null;
  dst: string | null;
  sport: number;
  dport: number;
  isn: number;
}

/** A DNS query's: addresses, message id, question (name: null when unreadable; type as a mnemonic), transport. */
export interface DnsFlow {
  src: string | null;
  dst: string | null;
  id: number;
  qname: string | null;
  qtype: string;
  transport: 'udp' | 'tcp';
}

/** A DHCP transaction's: its id, the client's hardware address. */
export interface DhcpFlow {
  xid: number;
  chaddr: string | null;
}

/** An ARP request's: the asker's and the asked-for protocol address. */
export interface ArpFlow {
  sender: string | null;
  target: string | null;
}

/** The `exchange` record (docs/json-lines.md). */
export interface ExchangeRecord {
  type: 'exchange';
  kind: string;
  key: string;
  flow: ExchangeFlow;
  status: ExchangeStatus;
  stages: Array<{ name: string; packets: number; seen: StageSighting[] }>;
  lost?: { stage: string; lastSeen: string | null; missingOn: string[] };
  detail?: string;
  rttMs?: number;
  /** time of the first sighting (reference clock) */
  ts: string;
}

/** docs/verdicts.md "Clocks": a host's clock offset against the reference host, as estimated and applied. */
export interface ClockRecord {
  type: 'clock';
  host: string;
  reference: string;
  /** host clock minus reference clock, milliseconds */
  offsetMs: number;
  /** how far the true offset may be from offsetMs (the samples' intersection's half-width), milliseconds */
  uncertaintyMs: number;
  samples: number;
}

export interface SummaryRecord {
  type: 'summary';
  exchanges: number;
  ok: number;
  lost: number;
  unanswered: number;
  error: number;
  inconclusive: number;
}

/** Live output lines a capture did not print because stdout was not read fast enough. */
export interface SkippedRecord {
  type: 'skipped';
  /** records skipped since the previous `skipped` record */
  records: number;
  reason: 'output too slow';
}

/** The `interface` record (docs/json-lines.md): an interface of the run, before its packets. */
export interface InterfaceRecord {
  type: 'interface';
  id: number;
  label: string;
  host: string | null;
  netns: string | null;
  name: string;
  linktype: string;
  tsResolutionNs: number;
  addresses: readonly string[];
  /** a replay's: the file it was read from */
  file?: string;
}

/** The `state` record of an interface (docs/json-lines.md). */
export interface InterfaceStateRecord {
  type: 'state';
  iface: string;
  state: InterfaceState;
  reason: string | null;
}

/** The `stats` record (docs/json-lines.md): counters while they change, `final` at the end. */
export interface StatsRecord {
  type: 'stats';
  iface: string;
  received: number;
  dropped: number;
  /** capture: packets hopscope got */
  captured?: number;
  /** replay: what the recording's last statistics block said was received */
  recordedReceived?: number;
  final: boolean;
}

/** The records of the JSON lines a sink of the whole run (the HTML report) takes. */
export type ContractRecord =
  InterfaceRecord | InterfaceStateRecord | StatsRecord | ExchangeRecord | ClockRecord | SummaryRecord;

// ── Why an exchange broke (docs/json-lines.md `cause`) ──────────────────────────
// Evidence gathered at the hop where an exchange broke; src/evidence/ gathers it
// and infers the cause. Every evidence item names its `source`; where it applies
// to one namespace of one machine, `host` (absent: this machine) and `netns`
// (absent: the root namespace) say which.

/** `cause.code` (docs/json-lines.md `cause`; more may be added). */
export type CauseCode =
  | 'netfilter-drop'
  | 'no-neighbour'
  | 'no-route'
  | 'rp-filter'
  | 'forwarding-off'
  | 'mtu'
  | 'localnet'
  | 'conntrack'
  | 'link-down'
  | 'no-listener'
  | 'routing-loop'
  | 'ttl-expired'
  | 'nat-bypassed'
  | 'listener-stalled'
  | 'echo-ignored'
  | 'upstream-failed'
  | 'wrong-neighbour'
  | 'unknown';

export type EvidenceSource =
  'kernel' | 'nftables' | 'iptables' | 'neighbour' | 'route' | 'sysctl' | 'link' | 'conntrack' | 'socket';

/** Where an evidence item was read. */
export interface EvidencePlace {
  /** ssh destination; absent for this machine */
  host?: string;
  /** named namespace; absent for the root namespace */
  netns?: string;
}

/** The kernel's drop reason for the packet (skb:kfree_skb). */
export interface KernelDropEvidence extends EvidencePlace {
  source: 'kernel';
  /** skb_drop_reason without its SKB_DROP_REASON_ prefix: NETFILTER_DROP, NEIGH_FAILED, … */
  reason: string;
  /** the kernel function that dropped it (`nf_hook_slow+0x9e`) */
  location: string;
  /** the device it was on, when the kernel knew one */
  iface?: string;
  /**
   * `packet`: the dropped packet's own fields (addresses, IP id, L4 ids) are the
   * exchange's; `time`: a drop in the exchange's time window, not identified by
   * its fields (a remote host's tracefs records none)
   */
  matchedBy: 'packet' | 'time';
  /** drops of this kind matched */
  drops: number;
  /** time of the first, decimal seconds (the capture's clock) */
  ts: string;
}

/** A drop or reject rule of nftables that the packet fits, or whose counter moved (or a NAT rule, for conntrack). */
export interface NftablesEvidence extends EvidencePlace {
  source: 'nftables';
  family: string;
  table: string;
  chain: string;
  handle: number;
  /** the rule as `nft -a list ruleset` writes it, without its `# handle` */
  rule: string;
  verdict: 'drop' | 'reject' | 'snat' | 'dnat' | 'masquerade' | 'redirect';
  /** `counter`: its counter moved by the missing packets; `match`: its match expressions fit the packet; `trace`: nft monitor trace saw it */
  matchedBy: 'counter' | 'match' | 'trace';
  counterDelta?: number;
  /** match expressions that could not be decided for this packet (`ct state`) */
  undecided?: string[];
}

/** A DROP or REJECT rule of iptables (`iptables-save -c`). */
export interface IptablesEvidence extends EvidencePlace {
  source: 'iptables';
  /** which iptables: the legacy x_tables one or iptables-nft */
  backend: 'legacy' | 'nft';
  family: 'ip' | 'ip6';
  table: string;
  chain: string;
  /** the rule as iptables-save writes it (`-A FORWARD -p icmp -j DROP`) */
  rule: string;
  verdict: 'drop' | 'reject';
  matchedBy: 'counter' | 'match';
  counterDelta?: number;
  undecided?: string[];
}

export interface NeighbourEvidence extends EvidencePlace {
  source: 'neighbour';
  iface: string;
  address: string;
  /** NUD states as `ip neigh` shows them: INCOMPLETE, FAILED, REACHABLE, … */
  state: string[];
  lladdr?: string;
}

export interface RouteEvidence extends EvidencePlace {
  source: 'route';
  /** the lookup, as `ip route get` arguments (`203.0.113.1 from 10.0.0.5 iif qr-…`) */
  query: string;
  /** the route found (`ip route get`'s line), absent when the lookup failed */
  route?: string;
  /** the lookup's error (`Network is unreachable`, `Invalid cross-device link`) */
  error?: string;
  /** output device of the route found */
  iface?: string;
}

export interface SysctlEvidence extends EvidencePlace {
  source: 'sysctl';
  key: string;
  value: string;
}

export interface LinkEvidence extends EvidencePlace {
  source: 'link';
  iface: string;
  /** operational state (UP, DOWN, LOWERLAYERDOWN, UNKNOWN) */
  state: string;
  /** administratively up */
  up: boolean;
  carrier: boolean;
  mtu: number;
  master?: string;
  /** for an MTU finding: the packet's size on this link, encapsulation included */
  packetBytes?: number;
  /** for a wrong-neighbour finding: the device's own MAC address */
  mac?: string;
}

export interface ConntrackEvidence extends EvidencePlace {
  source: 'conntrack';
  /** the entry as `conntrack -L` writes it; absent when `found` is false */
  entry?: string;
  /** whether an entry of the packet's flow exists */
  found: boolean;
  /** what makes it evidence: UNREPLIED, no NAT although a NAT rule fits, … */
  note?: string;
}

export interface SocketEvidence extends EvidencePlace {
  source: 'socket';
  protocol: 'tcp' | 'udp';
  address: string;
  port: number;
  /** a socket listens there */
  listening: boolean;
  /** TCP: connections waiting to be accepted; UDP: bytes waiting to be read (the socket's Recv-Q when read) */
  queued?: number;
  /** TCP: the socket's listen backlog */
  backlog?: number;
}

/**
 * Another exchange of the capture that explains this one: the question its server asked
 * in turn (a DNS forwarder's query upstream), as its own record says it; `host`,
 * `netns`: where that question started.
 */
export interface ExchangeEvidence extends EvidencePlace {
  source: 'exchange';
  kind: string;
  key: string;
  status: ExchangeStatus;
  detail?: string;
  /** its first sighting (its record's `ts`) */
  ts: string;
}

/** A source that could not be read there (not root, no tracefs, no nft binary): the verdict stands without it. */
export interface UnreadableEvidence extends EvidencePlace {
  source: EvidenceSource;
  unreadable: string;
}

export type EvidenceItem =
  | KernelDropEvidence
  | NftablesEvidence
  | IptablesEvidence
  | NeighbourEvidence
  | RouteEvidence
  | SysctlEvidence
  | LinkEvidence
  | ConntrackEvidence
  | SocketEvidence
  | ExchangeEvidence
  | UnreadableEvidence;

/** docs/json-lines.md `cause`: on lost, unanswered and error exchanges where evidence was gathered. */
export interface Cause {
  code: CauseCode;
  /** one line (`dropped by nftables rule handle 7 in bridge sg forward: …`) */
  summary: string;
  /** label of the hop where it broke */
  at: string;
  evidence: EvidenceItem[];
}

// Declaration merging: `cause` joins the exchange record declared above.
export interface ExchangeRecord {
  cause?: Cause;
}
