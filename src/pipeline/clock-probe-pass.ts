// A replay of several hosts' files (HOST:=FILE, or LABEL=FILE with a host) reads them
// once first, for their clocks: the packets each pair of hosts shares bound how far
// one's clock is from the other's (correlate/clock-probe.ts), whatever the skew. The
// replay then merges the files on the reference clock — a packet is read with the same
// packet's sightings on the other hosts, not seconds away from them — and its estimate
// from exchanges (docs/verdicts.md "Clocks") starts from these bounds. Without it, a
// host's clock off by more than an exchange's timeout split every exchange in two.
//
// The first read decodes and classifies as the replay does (on the decoder thread) and
// keeps nothing but the probe's sampled fingerprints: its memory is flat. A damaged or
// unreadable file is left for the replay to report.
import { ClockProbe, type ProbedOffset } from '../correlate/clock-probe.js';
import { parseClockReference } from '../correlate/clock.js';
import type { CaptureFileInput } from '../framing/label.js';
import { parseLabel } from '../shared/label.js';
import { decodeFilesOnThread } from '../sources/file-decoder-thread.js';

export interface ProbedClocks {
  /** each host's offset against the reference host, where packets tie it to the reference */
  offsets: ProbedOffset[];
  /** by file position: ns the file's clock is ahead of the reference (0: not known, or several hosts in it) */
  clockAheadNs: number[];
}

/** The host a file's argument puts it on: HOST:=FILE, LABEL=FILE with a host; null: as the file says. */
function givenHost(f: CaptureFileInput): string | null {
  if (f.host !== null) return f.host;
  return f.label !== null ? parseLabel(f.label).host : null;
}

/** Whether the files are from several hosts by their arguments (what makes a first read worth it). */
export function namesSeveralHosts(files: readonly CaptureFileInput[]): boolean {
  return new Set(files.map(givenHost)).size > 1;
}

/** Reads `files` once for their hosts' clocks. */
export async function probeClocks(files: readonly CaptureFileInput[]): Promise<ProbedClocks> {
  const probe = new ClockProbe();
  const hostsOfFile = new Map<string, Set<string | null>>();
  const none: ProbedClocks = { offsets: [], clockAheadNs: files.map(() => 0) };
  // (a file that fails, fails the replay's own read, which says why)
  const read = decodeFilesOnThread(files, {
    onInterface: (iface) => {
      probe.interface(iface.id, iface.host, iface.tsResolutionNs);
      const hosts = hostsOfFile.get(iface.file) ?? new Set<string | null>();
      hosts.add(iface.host);
      hostsOfFile.set(iface.file, hosts);
    },
    onPacket: (c, iface, sec, nsec) => probe.packet(c, iface, sec, nsec),
    onSection: (comments) => {
      const reference = parseClockReference(comments);
      if (reference !== undefined) probe.setReferenceHost(reference);
    },
    onStats: () => undefined,
    onWarning: () => undefined,
  }).catch(() => null);
  if ((await read) === null) return none;
  const offsets = probe.offsets();
  const aheadOf = new Map(offsets.map((o) => [o.host, (o.loNs + o.hiNs) / 2]));
  const clockAheadNs = files.map((f) => {
    const hosts = [...(hostsOfFile.get(f.path) ?? [])];
    return hosts.length === 1 ? (aheadOf.get(hosts[0]) ?? 0) : 0;
  });
  return { offsets, clockAheadNs };
}
