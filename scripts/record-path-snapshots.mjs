#!/usr/bin/env node
// Re-records the network-state snapshots the path tests follow (test/path/fixtures/):
// each lab scenario brought up without a fault (prefix `snap-`), the gather script of
// `hopscope path` run on this machine over its namespaces, its output gzipped as it is
// — and for sdn-vxlan also over ssh on each of its two hosts, and dvr-fip with
// nova-flat up at once (both have a tap7aa08012-d0 and a VM eth0 joined by a process:
// which tap is whose is told by the namespaces, not the names).
//
//   npm run build && node scripts/record-path-snapshots.mjs      (as root)
//
// The labs are always taken down, also on error.
import { gzipSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { labDown, labUp } from '../dist/lab/index.js';
import { gatherArgv } from '../dist/path/gather.js';

const PREFIX = 'snap-';
const dir = fileURLToPath(new URL('../test/path/fixtures/', import.meta.url));

async function record(file, options) {
  const argv = gatherArgv(options);
  const r = await execa(argv[0], argv.slice(1));
  writeFileSync(join(dir, file), gzipSync(`${r.stdout}\n`));
  process.stderr.write(`wrote ${file}\n`);
}

async function withLabs(scenarios, body) {
  const labs = [];
  try {
    for (const s of scenarios) labs.push(await labUp(s, { prefix: `${PREFIX}${s.split('-')[0]}-` }));
    await body(labs);
  } finally {
    for (const lab of labs) await labDown(lab.prefix);
  }
}

for (const s of ['nova-flat', 'dvr-fip', 'dnat-local']) {
  await withLabs([s], async ([lab]) => record(`${s}.txt.gz`, { host: null, netns: `${lab.prefix}*` }));
}
await withLabs(['sdn-vxlan'], async ([lab]) => {
  await record('sdn-vxlan.txt.gz', { host: null, netns: `${lab.prefix}*` });
  for (const h of lab.hosts)
    await record(`sdn-vxlan-${h.name}.txt.gz`, {
      host: h.sshName,
      netns: `${lab.prefix}*`,
      sshConfig: lab.sshConfigPath,
    });
});
await withLabs(['dvr-fip', 'nova-flat'], async () =>
  record('dvr-fip-and-nova-flat.txt.gz', { host: null, netns: `${PREFIX}*` }),
);
