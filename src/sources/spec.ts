// `-i SPEC` (docs/spec-grammar.md): `[HOST:][NETNS/]IFACE`, parsed, validated, and resolved
// against what exists into concrete capture targets.
//
//   tap7aa08012-d0            an interface of the root namespace
//   'tap*'                    every root-namespace interface whose name matches
//   qrouter-6f77…/qr-56c7…    an interface in a named namespace
//   'qrouter-*/qr-*'          globs on both
//   pid:1234/eth0             the namespace of a process (a pod, a container)
//   '*/tap*'                  every namespace, the root one included
//   root@compute2:tun0        on a remote host, over ssh (any of the above after the ':')
//   any                       libpcap's pseudo-device, as tcpdump -i any
//
// and cloud identities, from the field's naming conventions (identity.ts resolves them):
//   port:7aa08012-d0e5-…      tap/qbr/qvb/qvo (qr-, qg-, ns-, fg-, …) + the port id's start
//   router:6f774e8e-2f5b-…    qrouter-UUID's interfaces, and its DVR fip- namespace's fpr-/fg-
//   dhcp:8e1b2a3c-4d5e-…      qdhcp-UUID's interfaces (ns-…, tap…)
//   ip:10.0.0.5               the interfaces holding the address, and the bridge port towards it
//   compute2:port:7aa08012-…  the same on a remote host
//
// Interface names cannot contain ':' or '/' (Linux dev_valid_name), so the first
// ':' ends the host — except in a leading `pid:N`, which is a namespace, and a
// leading identity (`port:`, `router:`, `dhcp:`, `ip:`; a host of that name is written
// with its user: root@port:eth0). A glob never matches `lo` or libpcap's
// pseudo-devices (any, nflog, …): name them.
import { formatIp, parseIp } from '../decode/format.js';
import { interfaceLabel, type CaptureDevice, type InterfaceLocation } from '../events/types.js';
import type { HostInventory } from './discovery.js';
import { NamePattern } from './glob.js';
import { RemoteCaptureError } from './remote-error.js';
import { validateInterfaceName, validateNetnsName } from './remote-script.js';
import { validateHost } from './ssh.js';

export type NetnsSelector =
  { kind: 'root' } | { kind: 'all' } | { kind: 'pid'; pid: number } | { kind: 'named'; pattern: NamePattern };

/** A cloud identity (`port:UUID`, `router:UUID`, `dhcp:NETWORK_UUID`, `ip:ADDR`). */
export interface CloudIdentity {
  kind: 'port' | 'router' | 'dhcp' | 'ip';
  /** the id, lower case; the address in its canonical text */
  value: string;
}

export interface CaptureSpec {
  /** as the user wrote it */
  text: string;
  /** ssh destination; null for this machine */
  host: string | null;
  netns: NetnsSelector;
  iface: NamePattern;
  /**
   * A cloud identity, resolved into the interfaces it names before anything else
   * (identity.ts: identityTargets); its netns is `all` and its iface never matches.
   */
  identity?: CloudIdentity;
}

/** A SPEC that cannot be parsed or resolved; the message is one line for the user. */
export class SpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpecError';
  }
}

const PSEUDO_DEVICES = /^(any|nflog|nfqueue|dbus-system|dbus-session|bluetooth-monitor|usbmon\d*)$/;

/** libpcap's pseudo-devices, which are not kernel interfaces and never match a glob. */
export function isPseudoDevice(name: string): boolean {
  return PSEUDO_DEVICES.test(name);
}

function validated(check: () => void, where: string): void {
  try {
    check();
  } catch (err) {
    if (err instanceof RemoteCaptureError) throw new SpecError(`${where}: ${err.message}`);
    throw err;
  }
}

export function parseSpec(text: string): CaptureSpec {
  return parseIdentity(text) ?? parseSpecAs('-i', text);
}

const IDENTITY = /^(port|router|dhcp|ip):(.*)$/s;
/** A port, router or network id: a UUID, or at least its first 8 hex digits. */
const UUID_START = /^[0-9a-f]{8}(-[0-9a-f-]*)?$/;

/** `[HOST:](port|router|dhcp|ip):VALUE`, or null when the text is no identity. */
function parseIdentity(text: string): CaptureSpec | null {
  let host: string | null = null;
  let m = IDENTITY.exec(text);
  if (m === null) {
    const colon = text.indexOf(':');
    if (colon < 0) return null;
    m = IDENTITY.exec(text.slice(colon + 1));
    if (m === null) return null;
    host = text.slice(0, colon);
    validated(() => validateHost(host as string), `-i ${JSON.stringify(text)}`);
  }
  const kind = m[1] as CloudIdentity['kind'];
  const raw = m[2].trim();
  const where = `-i ${JSON.stringify(text)}`;
  let value: string;
  if (kind === 'ip') {
    const addr = parseIp(raw);
    if (addr === null || raw.includes('/'))
      throw new SpecError(`${where}: '${raw}' is not an IP address (ip:10.0.0.5)`);
    value = formatIp(addr, 0, addr.length === 4 ? 4 : 6);
  } else {
    value = raw.toLowerCase();
    if (!UUID_START.test(value) || value.length > 36)
      throw new SpecError(
        `${where}: '${raw}' is not a ${kind === 'dhcp' ? 'network' : kind} id (a UUID, or its first 8 hex digits at least)`,
      );
  }
  return {
    text,
    host,
    netns: { kind: 'all' },
    iface: new NamePattern('*'),
    identity: { kind, value },
  };
}

/**
 * parseSpec, with `what` naming the argument in messages: `label` for a replay's
 * LABEL=FILE, which has a SPEC's form (cli/replay-files.ts).
 */
export function parseSpecAs(what: string, text: string): CaptureSpec {
  if (text.trim() === '') throw new SpecError(`${what}: empty interface spec`);
  const where = `${what} ${JSON.stringify(text)}`;
  let rest = text;
  let host: string | null = null;
  const colon = rest.indexOf(':');
  if (colon >= 0 && !/^pid:\d+(\/|$)/.test(rest)) {
    host = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
    validated(() => validateHost(host as string), where);
  }
  let netns: NetnsSelector = { kind: 'root' };
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const ns = rest.slice(0, slash);
    rest = rest.slice(slash + 1);
    const pid = /^pid:(\d+)$/.exec(ns);
    if (ns === '*') netns = { kind: 'all' };
    else if (pid !== null) {
      const n = Number(pid[1]);
      if (!Number.isSafeInteger(n) || n <= 0) throw new SpecError(`${where}: bad process id`);
      netns = { kind: 'pid', pid: n };
    } else {
      validated(() => validateNetnsName(ns), where);
      netns = { kind: 'named', pattern: new NamePattern(ns) };
    }
  } else if (/^pid:\d+$/.test(rest)) {
    throw new SpecError(`${where}: a namespace needs an interface: ${rest}/IFACE`);
  }
  if (rest === '') throw new SpecError(`${where}: no interface name after the namespace`);
  if (rest.includes(':')) throw new SpecError(`${where}: interface names cannot contain ':'`);
  const iface = new NamePattern(rest);
  // A glob may be longer than any name it matches (`qr-[0-9a-f][0-9a-f]*`): only its characters are checked.
  validated(() => validateInterfaceName(iface.isGlob ? rest.slice(0, 15) : rest), where);
  return { text, host, netns, iface };
}

/** One interface to capture on. */
export interface CaptureTarget extends InterfaceLocation {
  label: string;
  /** the SPEC that named it first */
  spec: string;
  /** its own addresses (`10.0.0.1/24`) as the listing that found it gave them */
  addresses: string[];
  /** its own MAC address as the listing gave it (InterfaceDescriptor.mac) */
  mac?: string | null;
  /** `any`: the devices of its namespace by ifindex, as the listing gave them (InterfaceDescriptor.devices) */
  devices?: readonly CaptureDevice[];
}

/** What a listing found of an interface: its own addresses and MAC; of an `any`, its namespace's devices. */
export interface FoundInterface {
  addresses: string[];
  mac?: string | null;
  devices?: readonly CaptureDevice[];
}

/** The target `spec` makes of the interface at `loc`, as a listing found it. */
export function captureTarget(
  spec: CaptureSpec,
  loc: InterfaceLocation,
  found: FoundInterface,
): CaptureTarget {
  return {
    ...loc,
    label: interfaceLabel(loc),
    spec: spec.text,
    addresses: found.addresses,
    ...(found.devices !== undefined ? { devices: found.devices } : {}),
    ...(found.mac != null ? { mac: found.mac } : {}),
  };
}

/** Whether a spec names this (host, netns, iface) — also used to attach interfaces that appear later. */
export function specMatches(spec: CaptureSpec, loc: InterfaceLocation): boolean {
  // (an identity names what it resolved to, once: identity.ts)
  if (spec.identity !== undefined) return false;
  if (spec.host !== loc.host || !specSelectsNamespace(spec, loc.netns)) return false;
  if (!spec.iface.isGlob) return spec.iface.text === loc.name;
  return loc.name !== 'lo' && !isPseudoDevice(loc.name) && spec.iface.matches(loc.name);
}

/** Whether the spec's NETNS part selects this namespace (null: root; `pid:N`; a name). */
export function specSelectsNamespace(spec: CaptureSpec, netns: string | null): boolean {
  switch (spec.netns.kind) {
    case 'root':
      return netns === null;
    case 'all':
      // `*` is every namespace by name, and the root one; a process's namespace is named by pid:N only.
      return netns === null || !netns.startsWith('pid:');
    case 'pid':
      return netns === `pid:${spec.netns.pid}`;
    case 'named':
      return netns !== null && !netns.startsWith('pid:') && spec.netns.pattern.matches(netns);
  }
}

/** Whether the spec can name interfaces that do not exist yet (a glob somewhere in it). */
export function specIsOpen(spec: CaptureSpec): boolean {
  if (spec.identity !== undefined) return false;
  return (
    spec.iface.isGlob ||
    spec.netns.kind === 'all' ||
    (spec.netns.kind === 'named' && spec.netns.pattern.isGlob)
  );
}

function hostName(host: string | null): string {
  return host === null ? 'this host' : host;
}

function listOf(names: readonly string[], max = 30): string {
  if (names.length === 0) return '(none)';
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, … (${names.length - max} more)` : shown;
}

/**
 * Turns specs into targets against the hosts' inventories (one per host named by
 * a spec, from discoverInterfaces). A spec that matches nothing is an error that
 * lists what exists; duplicates (two specs naming one interface) are kept once.
 */
export function resolveSpecs(
  specs: readonly CaptureSpec[],
  inventories: readonly HostInventory[],
): CaptureTarget[] {
  const targets: CaptureTarget[] = [];
  const seen = new Set<string>();
  const add = (spec: CaptureSpec, loc: InterfaceLocation, found: FoundInterface): void => {
    const label = interfaceLabel(loc);
    if (seen.has(label)) return;
    seen.add(label);
    targets.push(captureTarget(spec, loc, found));
  };
  for (const spec of specs) {
    if (spec.identity !== undefined)
      throw new Error(`${spec.text}: a cloud identity is resolved by identityTargets, not here`);
    const inv = inventories.find((i) => i.host === spec.host);
    if (inv === undefined) throw new Error(`no inventory for ${hostName(spec.host)}`);
    const where = `on ${hostName(spec.host)}`;
    // Namespaces the spec selects, each with the interfaces it has.
    const selected = inv.inventories.filter((ns) => specSelectsNamespace(spec, ns.netns));
    if (spec.netns.kind === 'named' && selected.length === 0) {
      const what = spec.netns.pattern.isGlob ? 'no namespace matches' : 'no such namespace';
      throw new SpecError(
        `-i ${JSON.stringify(spec.text)}: ${what} '${spec.netns.pattern.text}' ${where} (namespaces: ${listOf(inv.namespaces)})`,
      );
    }
    if (spec.netns.kind === 'pid') {
      const ns = selected[0];
      if (ns === undefined || ns.error !== null) {
        throw new SpecError(
          `-i ${JSON.stringify(spec.text)}: cannot enter the namespace of process ${spec.netns.pid} ${where}` +
            `${ns?.error ? ` (${ns.error})` : ''}`,
        );
      }
    }
    let matched = 0;
    for (const ns of selected) {
      if (ns.error !== null) continue;
      if (spec.iface.text === 'any') {
        // (libpcap's pseudo-device of every interface holds no address of its own; its
        // packets are told apart by their devices' ifindex: framing/device-split.ts)
        const devices = ns.interfaces.map((i) => ({
          ifindex: i.ifindex,
          name: i.name,
          addresses: i.addresses,
        }));
        add(spec, { host: spec.host, netns: ns.netns, name: 'any' }, { addresses: [], devices });
        matched++;
        continue;
      }
      for (const iface of ns.interfaces) {
        const loc = { host: spec.host, netns: ns.netns, name: iface.name };
        if (specMatches(spec, loc)) {
          add(spec, loc, iface);
          matched++;
        }
      }
    }
    if (matched === 0) {
      const existing = selected
        .filter((ns) => ns.error === null)
        .flatMap((ns) =>
          ns.interfaces.map((i) => interfaceLabel({ host: null, netns: ns.netns, name: i.name })),
        );
      const what = spec.iface.isGlob
        ? `no interface matches '${spec.iface.text}'`
        : `no interface '${spec.iface.text}'`;
      const scope =
        spec.netns.kind === 'root'
          ? 'in the root namespace'
          : spec.netns.kind === 'all'
            ? 'in any namespace'
            : spec.netns.kind === 'pid'
              ? `in the namespace of process ${spec.netns.pid}`
              : `in ${spec.netns.pattern.isGlob ? 'namespaces matching ' : 'namespace '}'${spec.netns.pattern.text}'`;
      throw new SpecError(
        `-i ${JSON.stringify(spec.text)}: ${what} ${scope} ${where} (interfaces: ${listOf(existing)})`,
      );
    }
  }
  return targets;
}
