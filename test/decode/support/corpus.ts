// Where the shared packet corpus lives (../shared/corpus next to the repository, or
// $HOPSCOPE_CORPUS), and a reader for its classic pcap files. Tests that use it skip,
// saying why, when it is absent.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type WalkedPcap, walkPcap } from './pcap-walker.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export const CORPUS_DIR = process.env.HOPSCOPE_CORPUS ?? resolve(repoRoot, '../shared/corpus');
export const CORPUS_AVAILABLE = existsSync(join(CORPUS_DIR, 'MANIFEST.tsv'));

export function corpusPath(name: string): string {
  return join(CORPUS_DIR, name);
}

export function readCorpusFile(name: string): Uint8Array {
  const buf = readFileSync(corpusPath(name));
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** A classic pcap file of the corpus, walked; throws if it is not one. */
export function readCorpusPcap(name: string): { file: Uint8Array; pcap: WalkedPcap } {
  const file = readCorpusFile(name);
  const pcap = walkPcap(file);
  if (pcap === null) throw new Error(`${name}: not a classic pcap file`);
  return { file, pcap };
}
