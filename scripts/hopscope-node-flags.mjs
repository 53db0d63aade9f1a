// The node flags a hopscope entry point runs with: those of its first line
// (`#!/usr/bin/env -S node --max-semi-space-size=8`). The benches start node themselves
// (to pin it, to time it), so they pass these flags to measure hopscope as its command runs.
import { readFileSync } from 'node:fs';

/** The flags after `node` on `bin`'s first line (none when it names no node). */
export function hopscopeNodeFlags(bin) {
  const first = readFileSync(bin, 'utf8').split('\n', 1)[0];
  return (
    first
      .match(/\bnode\b(.*)$/)?.[1]
      .trim()
      .split(/\s+/)
      .filter(Boolean) ?? []
  );
}
