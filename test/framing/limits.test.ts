// What a capture file can make the readers keep is bounded (src/framing/types.ts,
// budget.ts): interfaces per section, per file and over merged files, their text, and
// the statistics held back before a file's first packet. Each limit is hit here, at
// the exact block, and the last value under it still reads.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CaptureFormatError,
  MAX_INTERFACES,
  MAX_KEPT_TEXT_BYTES,
  MAX_PENDING_STATS,
  MAX_SECTION_INTERFACES,
  mergeCaptureFiles,
  readCaptureBytes,
  type MergedInterface,
} from '../../src/framing/index.js';
import type { InterfaceStats } from '../../src/events/types.js';
import { epb, idb, isb, manyIdbs, shb, text, u64 } from './pcapng-blocks.js';
import { readError } from './support.js';

const IDB_BYTES = idb().length; // 20
const SHB_BYTES = shb().length; // 28
const T = 1_700_000_000_000_000n; // 1700000000 s in µs

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hopscope-limits-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('interfaces', () => {
  it(`${MAX_SECTION_INTERFACES} in one section read; one more is refused at its own block`, () => {
    let n = 0;
    readCaptureBytes(Buffer.concat([shb(), manyIdbs(MAX_SECTION_INTERFACES), epb(0, T)]), {
      onInterface: () => void n++,
      onPacket: () => undefined,
    });
    expect(n).toBe(MAX_SECTION_INTERFACES);
    const err = readError(Buffer.concat([shb(), manyIdbs(MAX_SECTION_INTERFACES + 1)]));
    expect(err.code).toBe('too_many_interfaces');
    expect(err.offset).toBe(SHB_BYTES + MAX_SECTION_INTERFACES * IDB_BYTES);
    expect(err.message).toBe(
      `pcapng section 0 describes more than 65536 interfaces (the limit) at byte ${err.offset}`,
    );
  });

  it('spread over sections: the file as a whole is bounded', () => {
    const per = 20_000; // under the section limit, four sections over the file's
    const section = Buffer.concat([shb(), manyIdbs(per)]);
    const err = readError(Buffer.concat([section, section, section, section]));
    expect(err.code).toBe('too_many_interfaces');
    // the 65,537th interface: the 5,537th of section 3
    const extra = MAX_INTERFACES - 3 * per;
    expect(err.offset).toBe(3 * section.length + SHB_BYTES + extra * IDB_BYTES);
    expect(err.message).toMatch(
      /^more than 65536 interfaces in the file, over its 4 sections \(the limit\) at byte/,
    );
  });

  it('spread over files replayed together: the merge as a whole is bounded, the file named', async () => {
    const per = 30_000;
    const files = ['a', 'b', 'c'].map((name) => {
      const path = join(dir, `${name}.pcapng`);
      writeFileSync(path, Buffer.concat([shb(), manyIdbs(per), epb(0, T)]));
      return path;
    });
    let announced = 0;
    const err = await mergeCaptureFiles(
      files,
      () => void announced++,
      () => undefined,
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CaptureFormatError);
    const e = err as CaptureFormatError;
    expect(e.code).toBe('too_many_interfaces');
    expect(e.file).toBe(files[2]);
    expect(e.offset).toBe(SHB_BYTES + (MAX_INTERFACES - 2 * per) * IDB_BYTES);
    expect(e.message).toMatch(
      /c\.pcapng: more than 65536 interfaces in the 3 files together \(the limit\) at byte \d+$/,
    );
    // every file's interfaces are named before any is announced: none was
    expect(announced).toBe(0);
  });
});

describe('text of interfaces and statistics', () => {
  // 60 000 bytes of comment per block: under an option's 65 535, 70 blocks pass 4 MiB
  const comment = 'c'.repeat(60_000);
  const blocks = Math.floor(MAX_KEPT_TEXT_BYTES / comment.length);

  it('IDB comments and names: the option that passes the budget is refused', () => {
    const idbs = Array.from({ length: blocks + 1 }, () => idb([text(1, comment)]));
    const err = readError(Buffer.concat([shb(), ...idbs]));
    expect(err.code).toBe('too_much_text');
    // the option of the block over the budget: after that block's 16 fixed bytes
    expect(err.offset).toBe(SHB_BYTES + blocks * idbs[0].length + 16);
    expect(err.message).toMatch(
      /^pcapng Interface Description Block opt_comment of 60000 bytes takes the names, descriptions and comments of interfaces and statistics in the file past the 4194304-byte limit at byte \d+$/,
    );
    // under the budget all is read
    readCaptureBytes(Buffer.concat([shb(), ...idbs.slice(0, blocks)]), {
      onInterface: () => undefined,
      onPacket: () => undefined,
    });
  });

  it('ISB comments count too: a file of commented statistics blocks is bounded', () => {
    const isbs = Array.from({ length: blocks + 1 }, () => isb(0, [text(1, comment), u64(4, 1n)]));
    const err = readError(Buffer.concat([shb(), idb(), ...isbs]));
    expect(err.code).toBe('too_much_text');
    expect(err.offset).toBe(SHB_BYTES + IDB_BYTES + blocks * isbs[0].length + 20);
  });
});

describe('statistics before the first packet', () => {
  // The merge holds a file's statistics blocks back until it has named the interfaces
  // (at its first packet); a file of nothing but statistics must not hold them all.
  const mergeOne = async (
    bytes: Buffer,
  ): Promise<{ labels: string[]; stats: InterfaceStats[]; order: string[] }> => {
    const path = join(dir, 'held.pcapng');
    writeFileSync(path, bytes);
    const labels: string[] = [];
    const stats: InterfaceStats[] = [];
    const order: string[] = [];
    await mergeCaptureFiles(
      [path],
      (i: MergedInterface) => {
        labels.push(i.label);
        order.push(`i${i.id}`);
      },
      () => void order.push('p'),
      {
        onStats: (s) => {
          stats.push(s);
          order.push(`s${s.interfaceId}`);
        },
      },
    );
    return { labels, stats, order };
  };
  const statsBlocks = (n: number): Buffer[] =>
    Array.from({ length: n }, (_, i) => isb(0, [u64(4, BigInt(i + 1))]));

  it('a few: held until the first packet, the file`s unnamed interfaces numbered', async () => {
    const r = await mergeOne(Buffer.concat([shb(), idb(), ...statsBlocks(10), idb(), epb(1, T)]));
    expect(r.labels).toEqual(['held#0', 'held#1']);
    expect(r.stats.map((s) => s.received)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10]);
    expect(r.order.slice(0, 3)).toEqual(['i0', 'i1', 's0']);
  });

  it(`more than ${MAX_PENDING_STATS}: the interfaces found so far are named then, the blocks handed on in order`, async () => {
    const n = MAX_PENDING_STATS + 100;
    const r = await mergeOne(Buffer.concat([shb(), idb(), ...statsBlocks(n), idb(), epb(1, T)]));
    // the first was the only unnamed interface when it was named; the second is numbered
    expect(r.labels).toEqual(['held', 'held#1']);
    expect(r.stats.slice(0, n).map((s) => s.received)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(r.order[0]).toBe('i0');
    expect(r.order.indexOf('i1')).toBe(n + 1);
  });
});
