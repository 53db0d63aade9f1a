// `hopscope ifaces`: the map an operator needs to choose what to capture —
// every interface per namespace (and host) with a role guessed from its name, state,
// MTU, master bridge and addresses, and the SPEC that captures it.
import { interfaceLabel } from '../../events/types.js';
import { DiscoveryError, discoverInterfaces, type DiscoveredInterface } from '../../sources/discovery.js';
import { NamePattern } from '../../sources/glob.js';
import { RemoteCaptureError } from '../../sources/remote-error.js';
import { validateNetnsName } from '../../sources/remote-script.js';
import { validateHost } from '../../sources/ssh.js';
import { LineWriter } from '../../sinks/line-writer.js';
import { parseArgs, type OptionSpec } from '../args.js';
import { EXIT_OK, UserError } from '../errors.js';
import { canEnterNamespaces } from '../privileges.js';

const OPTIONS: OptionSpec[] = [
  { name: 'host', kind: 'string' },
  { name: 'netns', kind: 'string' },
  { name: 'all-netns', kind: 'flag' },
  { name: 'json', kind: 'flag' },
  { name: 'ssh-config', kind: 'string' },
];

function listOf(names: readonly string[]): string {
  return names.length === 0 ? '(none)' : names.join(', ');
}

export async function runIfaces(argv: string[]): Promise<number> {
  const args = parseArgs(argv, OPTIONS, 'ifaces');
  if (args.positionals.length > 0)
    throw new UserError(`ifaces: unexpected argument '${args.positionals[0]}' (see hopscope ifaces --help)`);
  const host = args.values.get('host') ?? null;
  const netnsArg = args.values.get('netns');
  const all = args.flags.has('all-netns');
  if (netnsArg !== undefined && all)
    throw new UserError('ifaces: --netns and --all-netns exclude each other');
  try {
    if (host !== null) validateHost(host);
    if (netnsArg !== undefined && !/[*?[]/.test(netnsArg)) validateNetnsName(netnsArg);
  } catch (err) {
    if (err instanceof RemoteCaptureError) throw new UserError(`ifaces: ${err.message}`);
    throw err;
  }
  const pid = netnsArg !== undefined ? /^pid:(\d+)$/.exec(netnsArg) : null;
  if (pid !== null && !(Number.isSafeInteger(Number(pid[1])) && Number(pid[1]) > 0))
    throw new UserError(`ifaces: '${netnsArg}' does not name a process (pid:N, N a process id)`);
  const where = host ?? 'this host';
  if (host === null && !canEnterNamespaces() && (all || netnsArg !== undefined)) {
    throw new UserError('ifaces: looking into network namespaces needs root (CAP_SYS_ADMIN)');
  }

  let inventory;
  try {
    inventory = await discoverInterfaces({
      host,
      scope: all || (netnsArg !== undefined && pid === null) ? 'all' : 'root',
      pids: pid !== null ? [Number(pid[1])] : [],
      sshConfig: args.values.get('ssh-config'),
    });
  } catch (err) {
    if (err instanceof DiscoveryError || err instanceof RemoteCaptureError)
      throw new UserError(`ifaces: ${err.message}`);
    throw err;
  }

  // Which namespaces to show.
  let shown = inventory.inventories;
  if (pid !== null) {
    shown = shown.filter((ns) => ns.netns === `pid:${pid[1]}`);
    if (shown[0]?.error)
      throw new UserError(
        `ifaces: cannot enter the namespace of process ${pid[1]} on ${where} (${shown[0].error})`,
      );
  } else if (netnsArg !== undefined) {
    const pattern = new NamePattern(netnsArg);
    shown = shown.filter((ns) => ns.netns !== null && pattern.matches(ns.netns));
    if (shown.length === 0) {
      const what = pattern.isGlob ? 'no namespace matches' : 'no such namespace';
      throw new UserError(
        `ifaces: ${what} '${netnsArg}' on ${where} (namespaces: ${listOf(inventory.namespaces)})`,
      );
    }
  }

  // Nothing could be asked (ip missing or failing, the namespace gone since it was
  // listed): an environment error. Some could not: each one is a warning.
  const failed = shown.filter((ns) => ns.error !== null);
  if (failed.length > 0 && failed.length === shown.length) {
    const what = failed.length === 1 ? namespaceText(failed[0].netns) : `${failed.length} namespaces`;
    throw new UserError(`ifaces: cannot list interfaces of ${what} on ${where}: ${failed[0].error}`);
  }
  const out = new LineWriter();
  for (const ns of failed) {
    process.stderr.write(
      `hopscope: warning: ${namespaceText(ns.netns)} on ${where} could not be asked: ${ns.error}\n`,
    );
  }
  const rows = shown.flatMap((ns) => ns.interfaces);
  if (args.flags.has('json')) {
    for (const i of rows) out.line(JSON.stringify(jsonRecord(i)));
  } else {
    printTable(out, shown, host);
  }
  await out.end();
  return EXIT_OK;
}

function namespaceText(netns: string | null): string {
  return netns === null ? 'the root namespace' : `namespace ${netns}`;
}

function jsonRecord(i: DiscoveredInterface): Record<string, unknown> {
  return {
    type: 'iface',
    host: i.host,
    netns: i.netns,
    name: i.name,
    label: interfaceLabel(i),
    role: i.role,
    kind: i.kind,
    state: i.state,
    adminUp: i.adminUp,
    mtu: i.mtu,
    mac: i.mac,
    master: i.master,
    addresses: i.addresses,
  };
}

function printTable(
  out: LineWriter,
  namespaces: ReadonlyArray<{ netns: string | null; interfaces: DiscoveredInterface[] }>,
  host: string | null,
): void {
  const all = namespaces.flatMap((n) => n.interfaces);
  const w = {
    name: Math.max(4, ...all.map((i) => i.name.length)),
    role: Math.max(4, ...all.map((i) => i.role.length)),
    state: Math.max(5, ...all.map((i) => stateText(i).length)),
    master: Math.max(6, ...all.map((i) => (i.master ?? '-').length)),
  };
  let first = true;
  for (const ns of namespaces) {
    if (ns.interfaces.length === 0) continue;
    if (!first) out.line('');
    first = false;
    const where = `${host !== null ? `${host}: ` : ''}${ns.netns === null ? 'root namespace' : `namespace ${ns.netns}`}`;
    out.line(`${where} (${ns.interfaces.length} interface${ns.interfaces.length === 1 ? '' : 's'})`);
    out.line(
      `  ${'NAME'.padEnd(w.name)}  ${'ROLE'.padEnd(w.role)}  ${'STATE'.padEnd(w.state)}  ${'MTU'.padStart(5)}  ${'MASTER'.padEnd(w.master)}  ADDRESSES`,
    );
    for (const i of ns.interfaces) {
      out.line(
        `  ${i.name.padEnd(w.name)}  ${i.role.padEnd(w.role)}  ${stateText(i).padEnd(w.state)}  ${String(i.mtu).padStart(5)}  ${(i.master ?? '-').padEnd(w.master)}  ${i.addresses.join(' ') || '-'}`,
      );
    }
  }
  if (all.length > 0) {
    const example =
      all.find((i) => i.role !== 'loopback' && i.adminUp && i.state === 'UP') ??
      all.find((i) => i.role !== 'loopback') ??
      all[0];
    out.line('');
    out.line(
      `capture with: hopscope capture -i '${interfaceLabel(example)}' (a glob works too: -i '${globExample(example)}')`,
    );
  }
}

/** UP/DOWN as ip prints it, and "down (admin)" when the link is set down. */
function stateText(i: DiscoveredInterface): string {
  return i.adminUp ? i.state : `${i.state} (set down)`;
}

function globExample(i: DiscoveredInterface): string {
  const stem = /^[a-z]+[-_]?/i.exec(i.name)?.[0] ?? i.name;
  return interfaceLabel({
    host: i.host,
    netns: i.netns === null ? null : i.netns.startsWith('pid:') ? i.netns : '*',
    name: `${stem}*`,
  });
}
