// The role an operator gives an interface, guessed from its name and link kind (tap,
// qvb, qr-, fg-, bridge, tun, vxlan, ...): `ifaces` prints it, the TUI shows it, the
// lab's topologies speak its words. Pure, so each of them uses it without the
// discovery's processes.

/** A role guessed from the name (and the link kind), as an operator reads them. */
export type InterfaceRole =
  | 'tap'
  | 'qbr'
  | 'qvb'
  | 'qvo'
  | 'qr'
  | 'qg'
  | 'rfp'
  | 'fpr'
  | 'fg'
  | 'bridge'
  | 'tun'
  | 'vxlan'
  | 'veth'
  | 'physical'
  | 'loopback'
  | 'other';

/**
 * Names that say what the interface is whatever its link kind: OpenStack's port
 * prefixes, OpenShift SDN's `tun0` (an OVS internal port there, a veth in the lab)
 * and the tunnel devices OVS creates (`vxlan_sys_4789`, `genev_sys_6081`).
 */
const NAME_ROLES: ReadonlyArray<[RegExp, InterfaceRole]> = [
  [/^tap/, 'tap'],
  [/^qbr/, 'qbr'],
  [/^qvb/, 'qvb'],
  [/^qvo/, 'qvo'],
  [/^qr-/, 'qr'],
  [/^qg-/, 'qg'],
  [/^rfp-/, 'rfp'],
  [/^fpr-/, 'fpr'],
  [/^fg-/, 'fg'],
  [/^tun\d+$/, 'tun'],
  [/^(vxlan|genev|gre|stt)_sys_/, 'vxlan'],
];

/** Naming habits, used when neither a telling name nor the link kind decides. */
const HABIT_ROLES: ReadonlyArray<[RegExp, InterfaceRole]> = [
  [/^(vxlan|genev|gre|gretap|erspan|flannel|cilium_vxlan)/, 'vxlan'],
  [/^(tun|weave)/, 'tun'],
  [/^vnet/, 'tap'],
  [/^(br|virbr|docker|cni|obr|ovs-system)/, 'bridge'],
  [/^(veth|cali|lxc)/, 'veth'],
  [/^(eth|en|em|eno|ens|enp|bond|wl)/, 'physical'],
];

const KIND_ROLES: Readonly<Record<string, InterfaceRole>> = {
  bridge: 'bridge',
  openvswitch: 'bridge',
  vxlan: 'vxlan',
  geneve: 'vxlan',
  gretap: 'vxlan',
  gre: 'vxlan',
  ip6gretap: 'vxlan',
  ip6gre: 'vxlan',
  erspan: 'vxlan',
  tun: 'tun',
  // not an `ip -d` kind: parseIpAddrJson passes it for a tun device in tap mode
  tap: 'tap',
  veth: 'veth',
};

/**
 * The role an operator would give the interface: telling names first (a `tap…` is
 * a VM port whatever its kind, `tun0` is OpenShift's gateway port), then the link
 * kind, then common naming habits. `kind` may also be `tap` for a tun device in tap
 * mode (libvirt's `vnet0`).
 */
export function roleOf(name: string, kind: string | null, loopback = false): InterfaceRole {
  if (loopback || name === 'lo') return 'loopback';
  for (const [pattern, role] of NAME_ROLES) if (pattern.test(name)) return role;
  if (kind !== null && Object.hasOwn(KIND_ROLES, kind)) return KIND_ROLES[kind];
  for (const [pattern, role] of HABIT_ROLES) if (pattern.test(name)) return role;
  // A plain device without a kind is a real NIC (or a driver's): physical.
  return kind === null ? 'physical' : 'other';
}
