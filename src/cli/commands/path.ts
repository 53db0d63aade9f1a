// `hopscope path SRC DST`: the chain of interfaces a packet from SRC to DST crosses,
// across namespaces and the hosts given with --host, computed from their own state
// (src/path/), printed in the ladder's column order with each hop's role — and the
// return path where it differs.
import { findPath, pathErrorMessage } from '../../path/find.js';
import { pathLines, pathRecord } from '../../path/format.js';
import { parsePathQuery } from '../../path/query.js';
import { RemoteCaptureError } from '../../sources/remote-error.js';
import { validateHost } from '../../sources/ssh.js';
import { LineWriter } from '../../sinks/line-writer.js';
import { parseArgs, type OptionSpec } from '../args.js';
import { EXIT_OK, EXIT_PROBLEMS_FOUND, UserError } from '../errors.js';
import { canEnterNamespaces } from '../privileges.js';

const OPTIONS: OptionSpec[] = [
  { name: 'host', kind: 'list' },
  { name: 'netns', kind: 'string' },
  { name: 'proto', kind: 'string' },
  { name: 'json', kind: 'flag' },
  { name: 'ssh-config', kind: 'string' },
];

export async function runPath(argv: string[]): Promise<number> {
  const args = parseArgs(argv, OPTIONS, 'path');
  if (args.positionals.length !== 2)
    throw new UserError(
      `path: give SRC and DST (hopscope path 10.0.0.5 203.0.113.1), got ${args.positionals.length} argument${args.positionals.length === 1 ? '' : 's'}`,
    );
  const [src, dst] = args.positionals;
  const hosts = args.lists.get('host') ?? [];
  const netns = args.values.get('netns');
  if (netns !== undefined && (netns === '' || /[\n\r/]/.test(netns)))
    throw new UserError(`path: --netns takes a namespace name or glob, got ${JSON.stringify(netns)}`);
  let query;
  try {
    for (const h of hosts) validateHost(h);
    query = parsePathQuery(src, dst, args.values.get('proto'));
  } catch (err) {
    const message = pathErrorMessage(err);
    if (message !== null) throw new UserError(`path: ${message}`);
    if (err instanceof RemoteCaptureError) throw new UserError(`path: ${err.message}`);
    throw err;
  }
  if (hosts.length === 0 && !canEnterNamespaces())
    throw new UserError('path: reading the network state of every namespace needs root (CAP_SYS_ADMIN)');
  const sshConfig = args.values.get('ssh-config');
  let found;
  try {
    found = await findPath(query, { hosts, sshConfig, netns });
  } catch (err) {
    const message = pathErrorMessage(err);
    if (message !== null) throw new UserError(`path: ${message}`);
    throw err;
  }
  for (const p of found.problems) process.stderr.write(`hopscope: warning: ${p}\n`);
  const out = new LineWriter();
  const r = found.result;
  if (args.flags.has('json')) out.line(JSON.stringify(pathRecord(r)));
  else for (const line of pathLines(r, { sshConfig })) out.line(line);
  await out.end();
  const stopped = r.forward.end.kind === 'stopped' || r.back?.end.kind === 'stopped';
  return stopped ? EXIT_PROBLEMS_FOUND : EXIT_OK;
}
