// Verdicts that do not depend on the clocks (docs/verdicts.md "Hop order", "Clocks"): every shipped recording,
// each host's packets shifted by a random offset of up to ±0.5 s, each stamp jittered by
// up to half the smallest hop delay (order kept), cut to microseconds — the same
// verdicts (status, stage, lastSeen, missingOn) as the original, and every clock offset
// estimated within the uncertainty it reports.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClockRecord, ExchangeRecord } from '../../src/events/types.js';
import { PROJECT_ROOT, runCli } from '../support/run-cli.js';
import { shiftRecording, smallestHopDelay, verdictFields } from './support/clock-shift.js';
import { NO_CAUSES_NOTE } from '../support/replay-notes.js';

const work = mkdtempSync(join(tmpdir(), 'hopscope-clock-property-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const CAPTURES = join(PROJECT_ROOT, 'captures');
const recordings = readdirSync(CAPTURES).filter((f) => f.endsWith('.pcapng'));
const SEEDS = Array.from({ length: 10 }, (_, i) => i + 1);

function replay(file: string): { exchanges: ExchangeRecord[]; clocks: ClockRecord[] } {
  const r = runCli(['replay', file, '--json']);
  // problem verdicts, and a file without causes: the one note about them
  expect(r.stderr).toBe(NO_CAUSES_NOTE);
  const records = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string });
  return {
    exchanges: records.filter((x) => x.type === 'exchange') as ExchangeRecord[],
    clocks: records.filter((x) => x.type === 'clock') as ClockRecord[],
  };
}

describe('every host on a clock of its own', () => {
  it.each(recordings)(
    '%s: the same verdicts whatever the clocks, offsets within their uncertainty',
    async (name) => {
      const original = replay(join(CAPTURES, name));
      const want = original.exchanges.map((e) => verdictFields(e)).sort();
      expect(want.length).toBeGreaterThan(0);
      const jitterNs = Math.floor(smallestHopDelay(original.exchanges) / 2);
      for (const seed of SEEDS) {
        const shifted = join(work, `${seed}-${name}`);
        const { offsets } = await shiftRecording(join(CAPTURES, name), shifted, { seed, jitterNs });
        const got = replay(shifted);
        expect(got.exchanges.map((e) => verdictFields(e)).sort(), `seed ${seed}`).toEqual(want);
        // a clock record for every host but the reference, each final estimate within its uncertainty
        const last = new Map<string, ClockRecord>();
        for (const c of got.clocks) last.set(c.host, c);
        expect(last.size, `seed ${seed}`).toBe(offsets.size - 1);
        for (const c of last.values()) {
          const truth = ((offsets.get(c.host) ?? 0) - (offsets.get(c.reference) ?? 0)) / 1e6;
          expect(
            Math.abs(c.offsetMs - truth),
            `seed ${seed} ${c.host}: ${JSON.stringify(c)} truth ${truth}`,
          ).toBeLessThanOrEqual(c.uncertaintyMs + 1e-6);
        }
      }
    },
    120_000,
  );
});
