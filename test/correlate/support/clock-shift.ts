// Recordings as if every host had its own clock (docs/verdicts.md "Clocks"): each host's packets
// shifted by its own offset, its stamps jittered without changing their order (a
// kernel clock is monotonic: stamps that were equal stay equal, as two ends of a veth
// share one), and cut to microseconds as a tcpdump without nanosecond support writes
// them. What the correlator says about such a recording must be what it says about the
// original: the order of hops comes from the network, and time across hosts only
// within the clocks' uncertainty.
import { readCaptureFile, parseLabel, PcapngWriter } from '../../../src/framing/index.js';
import type { CaptureInterface } from '../../../src/framing/index.js';
import type { ExchangeRecord, InterfaceStats } from '../../../src/events/types.js';
import { seededRandom } from '../../support/seeded-random.js';

export interface ShiftOptions {
  seed: number;
  /** offsets are drawn from [-maxOffsetNs, +maxOffsetNs] (default 0.5 s) */
  maxOffsetNs?: number;
  /** cut stamps to whole microseconds (default true) */
  cutToMicroseconds?: boolean;
  /** jitter each stamp by up to this many ns, order kept (the test's: half the smallest hop delay) */
  jitterNs: number;
  /** the label an interface gets (e.g. its lab host put in front); default: as recorded */
  relabel?(label: string): string;
}

export interface ShiftResult {
  /** host (null: the local machine) → the offset its packets got, ns */
  offsets: Map<string | null, number>;
  jitterNs: number;
}

const NS = 1_000_000_000n;

interface Read {
  interfaces: CaptureInterface[];
  packets: Array<{
    iface: number;
    ts: bigint;
    caplen: number;
    len: number;
    data: Uint8Array;
    direction: number;
  }>;
  stats: InterfaceStats[];
  comments: string[];
}

async function readAll(path: string): Promise<Read> {
  const out: Read = { interfaces: [], packets: [], stats: [], comments: [] };
  await readCaptureFile(path, {
    onSection: (s) => out.comments.push(...s.comments),
    onInterface: (i) => out.interfaces.push(i),
    onPacket: (p) =>
      out.packets.push({
        iface: p.interfaceId,
        ts: BigInt(p.tsSec) * NS + BigInt(p.tsNsec),
        caplen: p.caplen,
        len: p.len,
        data: p.data.slice(p.offset, p.offset + p.caplen),
        direction: p.direction,
      }),
    onStats: (s) => {
      if (!s.final) out.stats.push(s);
    },
  });
  return out;
}

/**
 * The smallest non-zero delay between two consecutive hops of one packet, in ns, from
 * the verdicts of the recording on one clock (its stages' sightings in path order).
 */
export function smallestHopDelay(exchanges: readonly ExchangeRecord[]): number {
  const ns = (ts: string): bigint => {
    const [sec, frac] = ts.split('.');
    return BigInt(sec) * NS + BigInt(frac.padEnd(9, '0'));
  };
  let smallest = Number.POSITIVE_INFINITY;
  for (const ex of exchanges) {
    for (const stage of ex.stages) {
      for (let j = 1; j < stage.seen.length; j++) {
        const d = ns(stage.seen[j].ts) - ns(stage.seen[j - 1].ts);
        const abs = Number(d < 0n ? -d : d);
        if (abs > 0 && abs < smallest) smallest = abs;
      }
    }
  }
  return smallest;
}

/** Writes `output`: `input` with every host on a clock of its own (see the top of this file). */
export async function shiftRecording(
  input: string,
  output: string,
  options: ShiftOptions,
): Promise<ShiftResult> {
  const read = await readAll(input);
  const random = seededRandom(options.seed);
  const relabel = options.relabel ?? ((l: string) => l);
  const labels = read.interfaces.map((i) => relabel(i.name ?? `if${i.id}`));
  const hostOfIface = (id: number): string | null => parseLabel(labels[id]).host;
  const maxOffset = options.maxOffsetNs ?? 5e8;
  const offsets = new Map<string | null, number>();
  for (let id = 0; id < labels.length; id++) {
    const host = hostOfIface(id);
    if (!offsets.has(host)) offsets.set(host, Math.round((random() * 2 - 1) * maxOffset));
  }
  const jitterNs = options.jitterNs;
  // Per host, each distinct stamp moves by its own jitter, never past its neighbours:
  // the order of the host's stamps, and which of them are equal, stay as they were.
  const moved = new Map<string | null, Map<bigint, bigint>>();
  for (const host of offsets.keys()) {
    const stamps = [
      ...new Set(read.packets.filter((p) => hostOfIface(p.iface) === host).map((p) => p.ts)),
    ].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const map = new Map<bigint, bigint>();
    for (let k = 0; k < stamps.length; k++) {
      const below = k > 0 ? stamps[k] - stamps[k - 1] : BigInt(jitterNs) * 2n + 2n;
      const above = k + 1 < stamps.length ? stamps[k + 1] - stamps[k] : BigInt(jitterNs) * 2n + 2n;
      // half the room on each side, less one: two neighbours can never meet
      const room = Math.max(0, Math.min(jitterNs, Number((below < above ? below : above) / 2n) - 1));
      const j = BigInt(Math.round((random() * 2 - 1) * room));
      map.set(stamps[k], stamps[k] + j + BigInt(offsets.get(host) ?? 0));
    }
    moved.set(host, map);
  }
  const cut = options.cutToMicroseconds ?? true;
  const on = (host: string | null, ts: bigint): bigint => {
    const t = moved.get(host)?.get(ts) ?? ts + BigInt(offsets.get(host) ?? 0);
    return cut ? (t / 1000n) * 1000n : t;
  };
  const split = (t: bigint): { sec: number; nsec: number } => ({ sec: Number(t / NS), nsec: Number(t % NS) });

  let clock = { sec: 0, nsec: 0 };
  // The recording's clock reference, when it names one of the hosts it still has (a local
  // capture relabelled by host has none: its first host becomes the reference).
  const reference = read.comments.find((c) => c.startsWith('hopscope clock reference:'));
  const keepReference =
    reference !== undefined &&
    [...offsets.keys()].some((h) => reference === `hopscope clock reference: ${h ?? '(local)'}`);
  // Statistics blocks (capture start and end, gaps, drops) are stamped by the recorder with
  // one clock, its own — the clock reference's (the recording's, else its first host's) —
  // not with each remote host's: they move with the reference host's packets.
  const referenceHost =
    keepReference && reference !== undefined
      ? [...offsets.keys()].find((h) => reference === `hopscope clock reference: ${h ?? '(local)'}`)
      : hostOfIface(read.interfaces[0]?.id ?? 0);
  const statisticsOffset = offsets.get(referenceHost ?? null) ?? 0;
  const writer = PcapngWriter.toFile(output, {
    ...(keepReference ? { comment: reference } : {}),
    now: () => clock,
  });
  // an interface's statistics start when the recording said, on its host's new clock
  const startOf = new Map<number, { sec: number; nsec: number }>();
  for (const s of read.stats) {
    if (s.start !== undefined && !startOf.has(s.interfaceId)) {
      const t = BigInt(s.start.sec) * NS + BigInt(s.start.nsec);
      startOf.set(s.interfaceId, split(t + BigInt(statisticsOffset)));
    }
  }
  for (const i of read.interfaces) {
    clock = startOf.get(i.id) ?? { sec: 0, nsec: 0 };
    writer.addInterface({
      id: i.id,
      label: labels[i.id],
      linktype: i.linktype,
      snaplen: i.snaplen,
      // where the addresses live orders hops as much as time does: the copy keeps them
      addresses: i.addresses,
      ...(cut ? { tsResolutionNs: 1000 } : {}),
    });
  }
  // packets and statistics blocks in the recording's order, statistics at their end time
  const stats = read.stats
    .filter((s) => s.end !== undefined)
    .map((s) => ({
      s,
      at: BigInt((s.end as { sec: number }).sec) * NS + BigInt((s.end as { nsec: number }).nsec),
    }));
  let next = 0;
  for (const p of read.packets) {
    while (next < stats.length && stats[next].at <= p.ts) writeStats(stats[next++].s);
    const t = split(on(hostOfIface(p.iface), p.ts));
    writer.writePacket({
      interfaceId: p.iface,
      tsSec: t.sec,
      tsNsec: t.nsec,
      caplen: p.caplen,
      len: p.len,
      data: p.data,
      offset: 0,
      direction: p.direction,
    });
  }
  while (next < stats.length) writeStats(stats[next++].s);
  writer.close();
  return { offsets, jitterNs };

  function writeStats(s: InterfaceStats): void {
    const end = s.end as { sec: number; nsec: number };
    clock = split(BigInt(end.sec) * NS + BigInt(end.nsec) + BigInt(statisticsOffset));
    writer.writeStats(s, s.comments?.[0]);
  }
}

/** What a verdict says about where things broke, with interface labels passed through `label`. */
export function verdictFields(ex: ExchangeRecord, label: (l: string) => string = (l) => l): string {
  const lost =
    ex.lost === undefined
      ? ''
      : ` ${ex.lost.stage} last=${ex.lost.lastSeen === null ? '-' : label(ex.lost.lastSeen)} missing=${ex.lost.missingOn.map(label).join(',')}`;
  return `${ex.kind} ${ex.key} ${ex.status}${lost}`;
}

/** A label without its host: to compare a recording with its every-host-a-clock copy. */
export function withoutHost(label: string): string {
  const { netns, name } = parseLabel(label);
  return netns === null ? name : `${netns}/${name}`;
}
