// The network-state snapshots recorded on the lab (scripts/record-path-snapshots.mjs):
// the gather script's own output, gzipped, read back as a Topology.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseGatherOutput, type HostState } from '../../../src/path/snapshot.js';
import { Topology } from '../../../src/path/topology.js';

const DIR = new URL('../fixtures/', import.meta.url);

/** The prefix the recording script gave each scenario's lab. */
export const SNAPSHOT_PREFIX: Record<string, string> = {
  'nova-flat': 'snap-nova-',
  'dvr-fip': 'snap-dvr-',
  'sdn-vxlan': 'snap-sdn-',
  'dnat-local': 'snap-dnat-',
};

export function snapshotText(file: string): string {
  return gunzipSync(readFileSync(new URL(file, DIR))).toString('utf8');
}

/** One host's listing; `host` is the ssh destination it was asked as (null: this machine). */
export function hostState(file: string, host: string | null = null): HostState {
  return parseGatherOutput(host, snapshotText(file));
}

export function topologyOf(...hosts: HostState[]): Topology {
  return new Topology(hosts);
}
