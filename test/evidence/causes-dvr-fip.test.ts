// The cause of every fault of the dvr-fip lab, through the CLI itself: `capture --json`
// gathers it live while the traffic runs, and the replay of the recording made in the
// same run gives the same causes (support/expected-causes.ts has what each fault must
// be explained by).
import { afterAll, beforeAll, describe, it } from 'vitest';
import { downAllLabs, requireRoot, runPrefix } from '../lab/support/lab-env.js';
import { runWithCauses } from './support/cause-run.js';
import { checkCauses, untilBroken } from './support/check-causes.js';
import { EXPECTED_CAUSES } from './support/expected-causes.js';

const PREFIX = runPrefix('cdf');

beforeAll(() => requireRoot());
afterAll(async () => downAllLabs(PREFIX), 120_000);

describe('causes in dvr-fip', () => {
  for (const [n, fault] of EXPECTED_CAUSES.filter((f) => f.scenario === 'dvr-fip').entries()) {
    it(`${fault.fault}: ${fault.expected.map((e) => `${e.what} → ${e.code}`).join('; ')}`, async () => {
      const run = await runWithCauses('dvr-fip', fault.fault, `${PREFIX}${n}-`, {
        until: untilBroken(fault),
      });
      await checkCauses(run, fault);
    }, 180_000);
  }
});
