// A followed path for people and for scripts. Pure: the command prints these lines.
//
// The `--json` record (one line):
//   {"type":"path", "src", "dst", "proto", "dport",
//    "forward": LEG, "back": LEG | null, "backDiffers": bool,
//    "capture": [SPEC, ...], "notes": [text, ...]}
// LEG: {"src", "dst", "hops": [HOP, ...], "end": {"status", "note"}}
//   status: "delivered" (DST reached: local in its namespace), "left" (handed to what
//   no listing shows: a VM's hypervisor, a NIC towards a host not asked, an OVS port),
//   "stopped" (dropped here: no route, forwarding off, a martian, no port answers)
// HOP: {"label", "host", "netns", "name", "role", "kind", "src", "dst", "bridge",
//   "twin", "tunnel", "notes"}
//   label     [HOST:][NETNS/]IFACE, as `capture -i` takes it
//   role      as `ifaces` guesses it (src/sources/roles.ts)
//   kind      ip's link kind (veth, tun, bridge, vxlan, …), null for a NIC
//   src, dst  the packet's addresses there (after NAT on the way)
//   bridge    the bridge that forwarded the frame onto this port
//   twin      the label of the bridge-side veth end folded into this hop, or null
//   tunnel    {"type":"vxlan","vni","outerSrc","outerDst"} on the underlay, else null
//   notes     what happens there: the route taken, NAT, the bridge, the tap's process
// capture: the labels of the forward hops, then those only the return path crosses —
// what `capture --path` captures on.
import { columnNames } from '../shared/ladder-layout.js';
import type { PathHop, PathLeg, PathResult } from './path-result.js';

export interface PathHopRecord {
  label: string;
  host: string | null;
  netns: string | null;
  name: string;
  role: string;
  kind: string | null;
  src: string;
  dst: string;
  bridge: string | null;
  twin: string | null;
  tunnel: PathHop['tunnel'];
  notes: string[];
}

export interface PathLegRecord {
  src: string;
  dst: string;
  hops: PathHopRecord[];
  end: { status: 'delivered' | 'left' | 'stopped'; note: string };
}

export interface PathRecord {
  type: 'path';
  src: string;
  dst: string;
  proto: string;
  dport: number | null;
  forward: PathLegRecord;
  back: PathLegRecord | null;
  backDiffers: boolean;
  capture: string[];
  notes: string[];
}

function hopRecord(h: PathHop): PathHopRecord {
  return {
    label: h.link.label,
    host: h.link.ns.host,
    netns: h.link.ns.netns,
    name: h.link.name,
    role: h.link.role,
    kind: h.link.state.tapMode ? 'tap' : h.link.state.kind,
    src: h.src,
    dst: h.dst,
    bridge: h.bridge,
    twin: h.twin?.label ?? null,
    tunnel: h.tunnel,
    notes: h.notes,
  };
}

function legRecord(leg: PathLeg): PathLegRecord {
  return {
    src: leg.src,
    dst: leg.dst,
    hops: leg.hops.map(hopRecord),
    end: { status: leg.end.kind, note: leg.end.note },
  };
}

/** Where to capture to see the packet and its answer: every hop of both ways, forward order first. */
export function captureLabels(r: PathResult): string[] {
  const labels = r.forward.hops.map((h) => h.link.label);
  for (const h of r.back?.hops ?? []) if (!labels.includes(h.link.label)) labels.push(h.link.label);
  return labels;
}

export function pathRecord(r: PathResult): PathRecord {
  return {
    type: 'path',
    src: r.query.src.text,
    dst: r.query.dst.text,
    proto: r.query.proto,
    dport: r.query.dport,
    forward: legRecord(r.forward),
    back: r.back === null ? null : legRecord(r.back),
    backDiffers: r.backDiffers,
    capture: captureLabels(r),
    notes: r.notes,
  };
}

function endText(leg: PathLeg): string {
  switch (leg.end.kind) {
    case 'delivered':
      return `delivered: ${leg.end.note}`;
    case 'left':
      return `leaves what is listed: ${leg.end.note}`;
    case 'stopped':
      return `STOPS: ${leg.end.note}`;
  }
}

function legLines(title: string, leg: PathLeg): string[] {
  const n = leg.hops.length;
  const lines = [`${title}: ${n} interface${n === 1 ? '' : 's'}`];
  if (n > 0) lines.push(`  columns: ${columnNames(leg.hops.map((h) => h.link.label)).join(' · ')}`);
  const labelWidth = Math.min(64, Math.max(...leg.hops.map((h) => h.link.label.length), 9));
  const roleWidth = Math.max(...leg.hops.map((h) => h.link.role.length), 4);
  let previous: string | null = null;
  leg.hops.forEach((h, i) => {
    const notes = [...h.notes];
    const addresses = `${h.src} > ${h.dst}`;
    // the addresses when they are not those of the hop before (NAT), and the tunnel
    if (addresses !== previous && i > 0) notes.unshift(addresses);
    previous = addresses;
    if (h.tunnel !== null)
      notes.unshift(`in vxlan ${h.tunnel.vni} ${h.tunnel.outerSrc} > ${h.tunnel.outerDst}`);
    if (h.twin !== null) notes.push(`also on ${h.twin.name} (the other end of its veth)`);
    const label =
      h.link.label.length > labelWidth ? `${h.link.label.slice(0, labelWidth - 1)}…` : h.link.label;
    lines.push(
      `  ${String(i + 1).padStart(2)}  ${label.padEnd(labelWidth)}  ${h.link.role.padEnd(roleWidth)}  ${notes.join('; ')}`.trimEnd(),
    );
  });
  lines.push(`  => ${endText(leg)}`);
  return lines;
}

/** The path as text: the forward chain, the return one when it differs, and the capture to start. */
export function pathLines(r: PathResult, options: { sshConfig?: string } = {}): string[] {
  const q = r.query;
  const dst = q.dport !== null ? `${q.dst.text}:${q.dport}` : q.dst.text;
  const lines = legLines(`${q.proto} ${q.src.text} → ${dst}`, r.forward);
  if (r.back !== null) {
    lines.push('');
    if (r.backDiffers) lines.push(...legLines(`return ${r.back.src} → ${r.back.dst} (differs)`, r.back));
    else
      lines.push(`return ${r.back.src} → ${r.back.dst}: the same interfaces in reverse; ${endText(r.back)}`);
  }
  for (const note of r.notes) lines.push(`note: ${note}`);
  const labels = captureLabels(r);
  if (labels.length > 0) {
    lines.push('');
    const ssh = options.sshConfig !== undefined && r.forward.hops.some((h) => h.link.ns.host !== null);
    const args = [
      ...(ssh ? ['--ssh-config', options.sshConfig as string] : []),
      ...labels.flatMap((l) => ['-i', l]),
    ];
    lines.push(`capture with: hopscope capture ${args.map(shellWord).join(' ')}`);
  }
  return lines;
}

function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
