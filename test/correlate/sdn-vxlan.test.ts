// Verdicts on sdn-vxlan, live and replayed: the overlay MTU mismatch (small pings pass
// through the VXLAN tunnel, seen encapsulated on the underlay; large DF pings vanish
// between the nodes), the missing route (replies die on node2 after tun0); and the two
// nodes captured over ssh, whose recording replayed with node2's clock shifted by a
// known offset gives the same verdicts and an estimate of that offset.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { ClockRecord, ExchangeRecord } from '../../src/events/types.js';
import { PcapngWriter, readCaptureFile } from '../../src/framing/index.js';
import type { LabView } from '../../src/lab/index.js';
import { downAllLabs, requireRoot, runPrefix } from '../lab/support/lab-env.js';
import { runCli } from '../support/run-cli.js';
import { expectSameVerdictsOnHostClocks, ofKind, runScenario, verdictOf } from './support/scenario-run.js';
import { CAUSES_SECTION_COMMENT } from '../../src/evidence/recording.js';

const PREFIX = runPrefix('vsx');
const POD2 = 'cni-9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

beforeAll(() => requireRoot());
afterAll(async () => downAllLabs(PREFIX), 120_000);

/** The lab's capture points as remote specs: each on its host, over the lab's ssh config. */
function remoteSpecs(lab: LabView): string[] {
  return lab.capturePoints.map((p) => {
    const host = lab.hosts.find((h) => h.name === p.host);
    if (host === undefined) throw new Error(`no host ${p.host}`);
    return p.netns === host.netns ? `${host.sshName}:${p.iface}` : `${host.sshName}:${p.netns}/${p.iface}`;
  });
}

/**
 * Rewrites a recording with every interface of `host` shifted by `shiftNs`, the Section
 * Header Block's comments kept; with `hostFirst`, that host's interfaces are described
 * first (so the recording's first interface is not on the clock reference host).
 */
async function shiftHost(
  input: string,
  output: string,
  host: string,
  shiftNs: bigint,
  hostFirst: boolean,
): Promise<void> {
  const comments: string[] = [];
  const ifaces: Array<{ id: number; label: string; linktype: number; snaplen: number }> = [];
  await readCaptureFile(input, {
    onSection(s) {
      if (s.index === 0) comments.push(...s.comments);
    },
    onInterface(i) {
      ifaces.push({ id: i.id, label: i.name ?? `#${i.id}`, linktype: i.linktype, snaplen: i.snaplen });
    },
    onPacket() {},
  });
  const onHost = (label: string): boolean => label.startsWith(`${host}:`);
  const order = hostFirst
    ? [...ifaces.filter((i) => onHost(i.label)), ...ifaces.filter((i) => !onHost(i.label))]
    : ifaces;
  const writer = PcapngWriter.toFile(output, comments.length > 0 ? { comment: comments[0] } : {});
  const newId: number[] = [];
  order.forEach((i, n) => {
    newId[i.id] = n;
    writer.addInterface({ ...i, id: n });
  });
  const shifted = new Set(ifaces.filter((i) => onHost(i.label)).map((i) => i.id));
  await readCaptureFile(input, {
    onInterface() {},
    onPacket(p) {
      let ns = BigInt(p.tsSec) * 1_000_000_000n + BigInt(p.tsNsec);
      if (shifted.has(p.interfaceId)) ns += shiftNs;
      writer.writePacket({
        ...p,
        interfaceId: newId[p.interfaceId],
        tsSec: Number(ns / 1_000_000_000n),
        tsNsec: Number(ns % 1_000_000_000n),
      });
    },
  });
  writer.close();
}

function replayJson(file: string): Array<Record<string, unknown>> {
  const r = runCli(['replay', file, '--json']);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function pings(run: readonly ExchangeRecord[]): ExchangeRecord[] {
  return ofKind(run, 'icmp-echo').filter((e) => e.key.startsWith('10.128.0.5>10.128.2.5 '));
}

describe('sdn-vxlan', () => {
  it('mtu-mismatch: small pings cross the overlay (seen VXLAN-encapsulated on the underlay); large DF pings vanish between the nodes', async () => {
    const run = await runScenario('sdn-vxlan', 'mtu-mismatch', `${PREFIX}a-`);
    const p = run.lab.prefix;
    const all = pings(run.live);
    expect(all).toHaveLength(6);
    const ok = all.filter((e) => e.status === 'ok');
    const lost = all.filter((e) => e.status === 'lost');
    expect(ok).toHaveLength(3);
    expect(lost).toHaveLength(3);
    for (const e of ok) {
      // the same ping on the pod's veth, on vxlan_sys_4789, and encapsulated on both underlay NICs
      const request = e.stages[0].seen;
      expect(request.map((s) => s.iface)).toEqual(
        expect.arrayContaining([`${p}node1/vxlan_sys_4789`, `${p}${POD2}/eth0`]),
      );
      const underlay = request.filter((s) => s.tunnel !== undefined).map((s) => s.iface);
      expect(underlay).toEqual(expect.arrayContaining([`${p}node1/eth0`, `${p}node2/eth0`]));
      expect(request.find((s) => s.iface === `${p}node1/eth0`)?.tunnel?.type).toBe('vxlan');
    }
    for (const e of lost) {
      expect(e.lost?.stage).toBe('request');
      expect(e.lost?.lastSeen).toBe(`${p}node1/eth0`);
      // nearest first: node2's underlay NIC, then its vxlan device, … the pod
      expect(e.lost?.missingOn[0]).toBe(`${p}node2/eth0`);
      expect(e.lost?.missingOn).toEqual(
        expect.arrayContaining([`${p}node2/vxlan_sys_4789`, `${p}node2/tun0`, `${p}${POD2}/eth0`]),
      );
    }
    expect(ofKind(run.live, 'tcp-handshake').map((e) => e.status)).toEqual(['ok']);
    expect(run.replayed.map(verdictOf).sort()).toEqual(run.live.map(verdictOf).sort());
    await expectSameVerdictsOnHostClocks(run);
    expect(run.liveExit).toBe(1);
  }, 180_000);

  it('missing-route: requests arrive; replies die on node2 after tun0', async () => {
    const run = await runScenario('sdn-vxlan', 'missing-route', `${PREFIX}b-`);
    const p = run.lab.prefix;
    // the small pings and the large ones: all die on the way back
    const all = pings(run.live);
    expect(all).toHaveLength(6);
    const syn = ofKind(run.live, 'tcp-handshake');
    expect(syn).toHaveLength(1);
    for (const e of [...all, ...syn]) {
      expect(e.status).toBe('lost');
      expect(e.lost?.stage).toBe(e.kind === 'icmp-echo' ? 'reply' : 'syn-ack');
      expect(e.lost?.lastSeen).toBe(`${p}node2/tun0`);
      expect(e.lost?.missingOn).toEqual(
        expect.arrayContaining([`${p}node2/vxlan_sys_4789`, `${p}node1/vxlan_sys_4789`]),
      );
      // the request reached the pod on node2
      expect(e.stages[0].seen.map((s) => s.iface)).toContain(`${p}${POD2}/eth0`);
    }
    expect(run.replayed.map(verdictOf).sort()).toEqual(run.live.map(verdictOf).sort());
    await expectSameVerdictsOnHostClocks(run);
  }, 180_000);

  it('over ssh on both nodes: the same verdicts; replayed with node2 300 ms ahead, the same verdicts and the offset estimated within 1 ms', async () => {
    const run = await runScenario('sdn-vxlan', 'mtu-mismatch', `${PREFIX}c-`, {
      specs: remoteSpecs,
      extraArgs: (lab) => ['--ssh-config', lab.sshConfigPath],
    });
    const node2 = run.lab.hosts.find((h) => h.name === 'node2')?.sshName as string;
    const node1 = run.lab.hosts.find((h) => h.name === 'node1')?.sshName as string;
    const all = pings(run.live);
    expect(all.map((e) => e.status).sort()).toEqual(['lost', 'lost', 'lost', 'ok', 'ok', 'ok']);
    for (const e of all.filter((x) => x.status === 'lost')) {
      expect(e.lost?.lastSeen).toBe(`${node1}:eth0`);
      // node2's NIC and its vxlan device stamp the decapsulated packet with the same
      // nanosecond: the tunnelled form comes first on the host it arrives at
      expect(e.lost?.missingOn).toEqual([
        `${node2}:eth0`,
        `${node2}:vxlan_sys_4789`,
        `${node2}:tun0`,
        `${node2}:veth9a8b7c6d`,
        `${node2}:${run.lab.prefix}${POD2}/eth0`,
      ]);
    }
    for (const e of all)
      for (const s of e.stages) for (const seen of s.seen) expect(seen.iface).toMatch(/^[^/]+:/);
    expect(run.replayed.map(verdictOf).sort()).toEqual(run.live.map(verdictOf).sort());
    await expectSameVerdictsOnHostClocks(run);

    // The recording names the first host given as the clock reference (and says it carries causes).
    const shb: string[] = [];
    await readCaptureFile(run.recording, {
      onSection: (s) => shb.push(...s.comments),
      onInterface() {},
      onPacket() {},
    });
    expect(shb).toEqual([`hopscope clock reference: ${node1}`, CAUSES_SECTION_COMMENT]);

    const work = mkdtempSync(join(tmpdir(), 'hopscope-shift-'));
    onTestFinished(() => rmSync(work, { recursive: true, force: true }));
    const shifted = join(work, 'node2-ahead.pcapng');
    const SHIFT_MS = 300;
    await shiftHost(run.recording, shifted, node2, BigInt(SHIFT_MS) * 1_000_000n, false);
    const records = replayJson(shifted);
    const exchanges = records.filter((r) => r.type === 'exchange') as unknown as ExchangeRecord[];
    // Same verdicts and paths; time stamps are on node1's clock, so they match too.
    expect(exchanges.map(verdictOf).sort()).toEqual(run.replayed.map(verdictOf).sort());
    const nodeTwoOffset = (recs: Array<Record<string, unknown>>): ClockRecord | undefined =>
      (recs.filter((r) => r.type === 'clock') as unknown as ClockRecord[])
        .filter((c) => c.host === node2)
        .at(-1);
    const last = nodeTwoOffset(records);
    expect(last?.reference).toBe(node1);
    expect(Math.abs((last?.offsetMs ?? 0) - SHIFT_MS)).toBeLessThan(1);

    // node2's interfaces first in the file: the reference is still the one the recording names.
    const reordered = join(work, 'node2-first.pcapng');
    await shiftHost(run.recording, reordered, node2, BigInt(SHIFT_MS) * 1_000_000n, true);
    const again = nodeTwoOffset(replayJson(reordered));
    expect(again?.reference).toBe(node1);
    expect(Math.abs((again?.offsetMs ?? 0) - SHIFT_MS)).toBeLessThan(1);
  }, 240_000);
});
