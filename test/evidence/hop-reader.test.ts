// The hop reader's bounds (src/evidence/state/hop-reader.ts), on this machine's own state:
// a burst of verdicts broken at one hop asks for the same namespace many times at once —
// one reading answers them all, also while it is still under way; a request the reading
// under way does not cover gets its own; beyond the per-second bound a reading is not made
// and says so.
import { beforeAll, describe, expect, it } from 'vitest';
import { HopReader } from '../../src/evidence/state/hop-reader.js';
import type { HopScriptRequest } from '../../src/evidence/state/hop-script.js';
import { requireRoot } from '../lab/support/lab-env.js';

beforeAll(() => requireRoot());

function request(routes: string[]): HopScriptRequest {
  return {
    links: true,
    routes: routes.map((dst) => ({ dst })),
    sysctlDevices: [],
    sockets: false,
    conntrack: false,
    firewall: false,
  };
}

describe('hop reader', () => {
  it('a burst of the same request while its reading is under way is answered by that one reading', async () => {
    const reader = new HopReader();
    const all = await Promise.all(
      Array.from({ length: 30 }, () => reader.read(null, [{ netns: null, request: request(['127.0.0.1']) }])),
    );
    expect(reader.readings).toBe(1);
    const first = all[0][0];
    expect(first.routes).not.toBeNull();
    for (const [facts] of all) expect(facts).toBe(first);
  });

  it('a request the reading under way does not cover gets a reading of its own', async () => {
    const reader = new HopReader();
    const [a, b, c] = await Promise.all([
      reader.read(null, [{ netns: null, request: request(['127.0.0.1']) }]),
      reader.read(null, [{ netns: null, request: request(['127.0.0.1', '127.0.0.2']) }]),
      reader.read(null, [{ netns: null, request: request([]) }]),
    ]);
    // the second asks for a route the first does not look up; the third asks for less,
    // and is answered by the reading under way for the second
    expect(reader.readings).toBe(2);
    expect(b[0]).not.toBe(a[0]);
    expect(c[0]).toBe(b[0]);
  });

  it('beyond the per-second bound a reading waits its turn; with no room to wait it is not made, and says why', async () => {
    const reader = new HopReader({ perSecond: 1, maxWaiting: 1 });
    const [first, second, third] = await Promise.all(
      ['127.0.0.1', '127.0.0.2', '127.0.0.3'].map((dst) =>
        reader.read(null, [{ netns: null, request: request([dst]) }]),
      ),
    );
    expect(reader.readings).toBe(2);
    expect(JSON.stringify(first[0])).not.toMatch(/not read/);
    expect(JSON.stringify(second[0])).not.toMatch(/not read/);
    expect(JSON.stringify(third[0])).toMatch(/not read: more than 1 hop readings a second/);
  });
});
