// From SRC and DST to the chain of interfaces: every host asked at once (one process
// each), their listings joined, the packet followed. And what `capture --path SRC DST`
// captures on: the capture SPECs of every interface of that chain, both ways.
import { RemoteCaptureError } from '../sources/remote-error.js';
import { parseSpec, SpecError, type CaptureSpec } from '../sources/spec.js';
import { followPath } from './follow.js';
import { captureLabels } from './format.js';
import { gatherHost, GatherError } from './gather.js';
import type { PathResult } from './path-result.js';
import { parsePathQuery, PathError, type PathQuery } from './query.js';
import { Topology } from './topology.js';

export interface FindPathOptions {
  /** ssh destinations to follow the path across; none: this machine */
  hosts?: readonly string[];
  sshConfig?: string;
  /** named namespaces to look in (a shell glob, `qrouter-*`); default all */
  netns?: string;
  timeoutMs?: number;
}

export interface FoundPath {
  result: PathResult;
  topology: Topology;
  /** namespaces that could not be read, per host (one line each) */
  problems: string[];
}

export async function findPath(query: PathQuery, options: FindPathOptions = {}): Promise<FoundPath> {
  const hosts: Array<string | null> =
    options.hosts !== undefined && options.hosts.length > 0 ? [...options.hosts] : [null];
  const states = await Promise.all(
    hosts.map((host) =>
      gatherHost({
        host,
        netns: options.netns,
        sshConfig: options.sshConfig,
        timeoutMs: options.timeoutMs,
        mode: 'full',
      }),
    ),
  );
  const topology = new Topology(states);
  const problems = states.flatMap((s) => s.problems.map((p) => `${s.host ?? 'this host'}: ${p}`));
  return { result: followPath(topology, query), topology, problems };
}

/**
 * The capture SPECs of `capture --path SRC DST`: every interface the packet crosses
 * from SRC to DST, then those only its answer crosses, each `[HOST:][NETNS/]IFACE`.
 * Throws PathError, GatherError, RemoteCaptureError or SpecError (pathErrorMessage: one line).
 */
export async function capturePathSpecs(
  src: string,
  dst: string,
  options: FindPathOptions & { proto?: string } = {},
): Promise<CaptureSpec[]> {
  const query = parsePathQuery(src, dst, options.proto);
  const { result } = await findPath(query, options);
  const labels = captureLabels(result);
  if (labels.length === 0)
    throw new PathError(`no interface between ${src} and ${dst}: ${result.forward.end.note}`);
  return labels.map(parseSpec);
}

/** The one line to tell the user for an error of findPath/capturePathSpecs; null for a bug. */
export function pathErrorMessage(err: unknown): string | null {
  if (
    err instanceof PathError ||
    err instanceof GatherError ||
    err instanceof RemoteCaptureError ||
    err instanceof SpecError
  )
    return err.message;
  return null;
}
