#!/usr/bin/env node
// Re-creates the shipped recordings in captures/: for each lab scenario with its main
// fault, one tcpdump per capture point (inside its namespace) while the scenario's
// traffic runs, merged by timestamp into ONE pcapng whose interfaces are named by
// their labels — the form a capture over the lab's ssh hosts gives, with the lab
// prefix removed so the names read like a real cloud's (`compute:tap7aa08012-d0`,
// `compute:qrouter-6f77…/qr-56c70d72-3b`).
//   npm run record-captures [-- SCENARIO ...]        (root; builds dist first)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labDown, labUp, runTraffic } from '../dist/lab/index.js';
import { mergeCaptureFiles } from '../dist/framing/merge.js';
import { PcapngWriter } from '../dist/framing/pcapng-writer.js';

const MAIN_FAULTS = {
  'nova-flat': 'reply-drop-br100',
  'dvr-fip': 'sg-drop',
  'sdn-vxlan': 'mtu-mismatch',
  'dnat-local': 'no-route-localnet',
};
const PREFIX = 'rec-';
const root = fileURLToPath(new URL('..', import.meta.url));

/** `host:[netns/]iface` with the lab prefix removed; the host's own namespace is left out. */
function labelOf(point, lab) {
  const host = lab.hosts.find((h) => h.name === point.host);
  const netns = point.netns.startsWith(PREFIX) ? point.netns.slice(PREFIX.length) : point.netns;
  const inHostNs = host !== undefined && host.netns === point.netns;
  return `${point.host}:${inHostNs ? '' : `${netns}/`}${point.iface}`;
}

function startTcpdump(netns, iface, file) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        netns,
        'tcpdump',
        '-i',
        iface,
        '-n',
        '-U',
        '-s',
        '262144',
        '--time-stamp-precision=nano',
        '-w',
        file,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    const timer = setTimeout(
      () => reject(new Error(`tcpdump on ${netns}/${iface} did not start: ${stderr}`)),
      10_000,
    );
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.includes('listening on')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump on ${netns}/${iface} exited ${code}: ${stderr}`));
    });
  });
}

async function stopTcpdump(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
}

async function record(scenario, fault) {
  const out = join(root, 'captures', `${scenario}-${fault}.pcapng`);
  const work = mkdtempSync(join(tmpdir(), 'hopscope-rec-'));
  await labDown(PREFIX);
  const lab = await labUp(scenario, { fault, prefix: PREFIX });
  const dumps = [];
  try {
    const files = [];
    const labels = new Map();
    for (const [i, point] of lab.capturePoints.entries()) {
      const file = join(work, `${i}.pcap`);
      files.push(file);
      labels.set(file, { label: labelOf(point, lab), role: point.role });
      dumps.push(await startTcpdump(point.netns, point.iface, file));
    }
    const results = await runTraffic(lab, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 500));
    for (const d of dumps) await stopTcpdump(d);

    const writer = PcapngWriter.toFile(out, {
      comment: `hopscope lab ${scenario}, fault ${fault}; re-create with npm run record-captures`,
    });
    const perInterface = new Map();
    await mergeCaptureFiles(
      files,
      (iface) => {
        const { label, role } = labels.get(iface.file);
        writer.addInterface({
          id: iface.id,
          label,
          description: role,
          linktype: iface.linktype,
          snaplen: iface.snaplen,
        });
        perInterface.set(iface.id, { label, packets: 0 });
      },
      (p) => {
        writer.writePacket(p);
        perInterface.get(p.interfaceId).packets++;
      },
    );
    writer.close();
    process.stdout.write(`${out}: ${statSync(out).size} bytes\n`);
    for (const { label, packets } of perInterface.values())
      process.stdout.write(`  ${String(packets).padStart(5)}  ${label}\n`);
    for (const r of results)
      process.stdout.write(
        `  traffic ${r.name}: ${r.succeeded ? 'succeeded' : 'failed'} (expected ${r.expectSuccess ? 'success' : 'failure'})\n`,
      );
  } finally {
    for (const d of dumps) await stopTcpdump(d);
    await labDown(PREFIX);
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.getuid?.() !== 0) {
  process.stderr.write('record-captures: must run as root (it builds the lab)\n');
  process.exit(2);
}
const wanted = process.argv.slice(2);
for (const [scenario, fault] of Object.entries(MAIN_FAULTS)) {
  if (wanted.length === 0 || wanted.includes(scenario)) await record(scenario, fault);
}
