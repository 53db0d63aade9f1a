// The correlator's typed-array tables: what they hold must match what a plain Map and
// arrays would hold, through heavy churn (rows and buckets are reused).
import { describe, expect, it } from 'vitest';
import {
  EX_DOUBLES,
  EX_INTS,
  ExchangeRows,
  LongNames,
  ExDouble,
  ExInt,
  MAX_STAGES,
  RowQueue,
  Sighting,
  SIGHTING_FIELDS,
  Tr,
  TRACK_INTS,
  TrackRows,
} from '../../src/correlate/tables.js';
import { SlotIndex } from '../../src/correlate/slot-index.js';

/** A small deterministic generator (xorshift32): the same churn on every run. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

describe('SlotIndex', () => {
  it('agrees with a Map through 200k random inserts and deletes', () => {
    const index = new SlotIndex();
    const map = new Map<number, number>();
    const next = random(12345);
    const live: number[] = [];
    for (let i = 0; i < 200_000; i++) {
      // Slots from a small range too, so probe runs collide and wrap.
      const slot = i % 3 === 0 ? next() % 5000 : next() % 1073741824;
      if (live.length > 0 && next() % 2 === 0) {
        const k = live.splice(next() % live.length, 1)[0];
        index.delete(k);
        map.delete(k);
      } else if (!map.has(slot)) {
        index.set(slot, i);
        map.set(slot, i);
        live.push(slot);
      }
      if (i % 997 === 0) {
        for (const k of live) expect(index.get(k)).toBe(map.get(k));
        expect(index.size).toBe(map.size);
      }
    }
    for (const k of live) expect(index.get(k)).toBe(map.get(k));
    // Absent slots are absent, also the deleted ones.
    for (let k = 0; k < 5000; k++) if (!map.has(k)) expect(index.get(k)).toBe(-1);
  });

  it('deleting an absent slot changes nothing', () => {
    const index = new SlotIndex();
    index.set(7, 1);
    index.delete(8);
    expect(index.size).toBe(1);
    expect(index.get(7)).toBe(1);
  });
});

describe('TrackRows', () => {
  it('keeps sightings in arrival order, finds them by interface, and reuses freed rows', () => {
    const tracks = new TrackRows();
    const opened: number[] = [];
    // More tracks and sightings than the initial rows (64k): the tables grow.
    const TRACKS = 70_000;
    for (let t = 0; t < TRACKS; t++) {
      const row = tracks.open();
      opened.push(row);
      for (let s = 0; s < (t % 4) + 1; s++) {
        const r = tracks.sightings.add(100 + s, s, -s, -1, 64, 0, 0);
        tracks.chain(row, r);
        tracks.sightings.f[r * SIGHTING_FIELDS + Sighting.Time] = t * 10 + s;
      }
    }
    expect(tracks.rows.capacity).toBeGreaterThan(65_536);
    for (let t = 0; t < TRACKS; t++) {
      const row = opened[t];
      expect(tracks.ints[row * TRACK_INTS + Tr.Count]).toBe((t % 4) + 1);
      const f = tracks.sightings.f;
      const seen: number[] = [];
      for (let r = tracks.ints[row * TRACK_INTS + Tr.Head]; r >= 0; r = tracks.sightings.next(r)) {
        seen.push(f[r * SIGHTING_FIELDS + Sighting.Iface], f[r * SIGHTING_FIELDS + Sighting.Time]);
      }
      const want: number[] = [];
      for (let s = 0; s < (t % 4) + 1; s++) want.push(100 + s, t * 10 + s);
      expect(seen).toEqual(want);
      expect(tracks.find(row, 100)).toBeGreaterThanOrEqual(0);
      expect(tracks.find(row, 99)).toBe(-1);
    }
    const sightingRows = tracks.sightings.rows.used;
    for (const row of opened) tracks.close(row);
    expect(tracks.rows.live).toBe(0);
    expect(tracks.sightings.rows.live).toBe(0);
    // Reopening as many uses the freed rows: nothing new is handed out.
    for (let t = 0; t < TRACKS; t++) tracks.chain(tracks.open(), tracks.sightings.add(1, 1, 1, -1, 64, 0, 0));
    expect(tracks.rows.used).toBe(TRACKS);
    expect(tracks.sightings.rows.used).toBe(sightingRows);
  });

  it('counts distinct fingerprints, keeping a bounded number, and forgets them when a row is reused', () => {
    const tracks = new TrackRows();
    const t = tracks.open();
    tracks.addPacket(t, 42, 3);
    expect(tracks.hasPacket(t, 42)).toBe(true);
    expect(tracks.hasPacket(t, 43)).toBe(false);
    for (const fp of [43, 44, 45, 46]) tracks.addPacket(t, fp, 3);
    expect([43, 44, 45].map((fp) => tracks.hasPacket(t, fp))).toEqual([true, true, true]);
    // counted, not kept beyond the bound
    expect(tracks.hasPacket(t, 46)).toBe(false);
    expect(tracks.ints[t * TRACK_INTS + Tr.Packets]).toBe(5);
    tracks.close(t);
    const again = tracks.open();
    expect(again).toBe(t);
    tracks.addPacket(again, 7, 3);
    expect([7, 42, 43].map((fp) => tracks.hasPacket(again, fp))).toEqual([true, false, false]);
    tracks.addPacket(again, 8, 3);
    expect([7, 8, 43].map((fp) => tracks.hasPacket(again, fp))).toEqual([true, true, false]);
  });
});

describe('ExchangeRows', () => {
  it('opens rows with every field set, grows keeping them, and reuses a freed row cleared', () => {
    const rows = new ExchangeRows();
    const xs: number[] = [];
    const int = (x: number, f: ExInt): number => rows.ints[x * EX_INTS + f];
    const dbl = (x: number, f: ExDouble): number => rows.doubles[x * EX_DOUBLES + f];
    // more than the initial rows (64k): the table grows
    const ROWS = 70_000;
    for (let i = 0; i < ROWS; i++) {
      const x = rows.open(1, i, 7, 1e9, -1);
      rows.doubles[x * EX_DOUBLES + ExDouble.FirstRel] = i * 1.5;
      rows.doubles[x * EX_DOUBLES + ExDouble.LastRel] = i * 1.5 + 1;
      rows.keyBytes[x * ExchangeRows.KEY_STRIDE + 31] = i & 0xff;
      rows.ints[x * EX_INTS + ExInt.Stages + 1] = i + 1;
      // fields of neighbouring rows do not overlap
      rows.ints[x * EX_INTS + ExInt.Stages + MAX_STAGES - 1] = i * 3;
      rows.doubles[x * EX_DOUBLES + ExDouble.Part2] = i + 0.25;
      xs.push(x);
    }
    expect(rows.rows.capacity).toBeGreaterThan(65_536);
    for (let i = 0; i < ROWS; i++) {
      const x = xs[i];
      expect([
        int(x, ExInt.Kind),
        int(x, ExInt.Slot),
        int(x, ExInt.Check),
        dbl(x, ExDouble.FirstRel),
        dbl(x, ExDouble.LastRel),
        dbl(x, ExDouble.TimeoutNs),
        dbl(x, ExDouble.Kept),
        int(x, ExInt.ErrorStage),
        int(x, ExInt.Stages + 1),
        int(x, ExInt.Stages + MAX_STAGES - 1),
        dbl(x, ExDouble.Part2),
        rows.keyBytes[x * ExchangeRows.KEY_STRIDE + 31],
      ]).toEqual([1, i, 7, i * 1.5, i * 1.5 + 1, 1e9, -1, -1, i + 1, i * 3, i + 0.25, i & 0xff]);
    }
    rows.ints[xs[10] * EX_INTS + ExInt.ErrorStage] = 2;
    rows.ints[xs[10] * EX_INTS + ExInt.AnswerError] = 1;
    rows.ints[xs[10] * EX_INTS + ExInt.Judged] = 1;
    rows.rows.give(xs[10]);
    const again = rows.open(3, 99, 0, 1e9, -1);
    expect(again).toBe(xs[10]);
    expect([
      int(again, ExInt.Kind),
      int(again, ExInt.Judged),
      int(again, ExInt.ErrorStage),
      int(again, ExInt.AnswerError),
      ...Array.from({ length: MAX_STAGES }, (_, k) => int(again, ExInt.Stages + k)),
    ]).toEqual([3, 0, -1, 0, 0, 0, 0, 0, 0]);
  });
});

describe('RowQueue', () => {
  it('gives rows back in the order pushed, also when it grows while wrapped around', () => {
    const q = new RowQueue();
    const want: number[] = [];
    let next = 0;
    // Push 3, take 2, repeatedly: the ring wraps, then has to grow several times.
    for (let round = 0; round < 10_000; round++) {
      for (let k = 0; k < 3; k++) {
        q.push(next);
        want.push(next++);
      }
      for (let k = 0; k < 2; k++) expect(q.shift()).toBe(want.shift());
    }
    expect(q.length).toBe(want.length);
    expect(q.peek()).toBe(want[0]);
    while (q.length > 0) expect(q.shift()).toBe(want.shift());
  });
});

describe('LongNames', () => {
  it('keeps each row’s long name in a slot of its own, reuses freed slots, and forgets a row’s name when asked', () => {
    const names = new LongNames();
    const name = (i: number): Uint8Array =>
      Uint8Array.from({ length: 70 + (i % 100) }, (_, k) => (i + k) & 0xff);
    // rows far apart, past the first slots
    const rows = [0, 5, 70_000, 300_000];
    rows.forEach((x, i) => names.set(x, name(i), 0, name(i).length));
    expect(names.size).toBe(4);
    rows.forEach((x, i) => {
      const at = names.at(x);
      expect([...names.bytes.subarray(at, at + name(i).length)]).toEqual([...name(i)]);
    });
    expect(names.at(6)).toBe(-1);
    const freed = names.at(5);
    names.delete(5);
    expect(names.at(5)).toBe(-1);
    expect(names.size).toBe(3);
    // the freed slot is the next one used; a row's name set again keeps its slot
    names.set(9, name(9), 0, name(9).length);
    expect(names.at(9)).toBe(freed);
    const slot = names.at(0);
    names.set(0, name(10), 0, name(10).length);
    expect(names.at(0)).toBe(slot);
    expect(names.size).toBe(4);
    // others untouched
    const at = names.at(300_000);
    expect([...names.bytes.subarray(at, at + name(3).length)]).toEqual([...name(3)]);
  });
});
