// The JSON lines written by code that knows the records' shapes (shared/record-json.ts
// for verdicts, decode/packet-json.ts for --packets, into shared/json-bytes.ts) are
// byte for byte what JSON.stringify writes for the same records: on every shipped
// capture and every corpus file, each `exchange` line against JSON.stringify of the
// record the correlator made for it, each `packet` line against JSON.stringify of the
// packet's view (decode/packet-view.ts); and on records made to hold what the captures
// do not — strings JSON must escape, characters beyond ASCII, lone surrogates, numbers
// that are not integers or not finite, a `cause`.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodePacket } from '../../src/decode/decode-packet.js';
import { describePacket } from '../../src/decode/packet-view.js';
import { PacketRecord } from '../../src/decode/record.js';
import type { ContractRecord, ExchangeRecord } from '../../src/events/types.js';
import { isCaptureInputError } from '../../src/framing/errors.js';
import { mergeCaptureFiles } from '../../src/framing/merge.js';
import { Stages } from '../../src/pipeline/stages.js';
import { formatIpv4 } from '../../src/decode/format.js';
import { JsonBytes, literal } from '../../src/shared/json-bytes.js';
import { formatTimestamp } from '../../src/shared/timestamp-text.js';
import { writeExchangeJson } from '../../src/shared/record-json.js';
import { pcapFile, type Timed } from '../correlate/support/dns-tcp-frames.js';
import { CORPUS_AVAILABLE, CORPUS_DIR } from '../decode/support/corpus.js';
import { ethIpv4Udp } from '../decode/support/frames.js';
import { collectedOutput } from '../support/collected-output.js';
import { PROJECT_ROOT } from '../support/run-cli.js';

const CAPTURES = join(PROJECT_ROOT, 'captures');
const shipped = readdirSync(CAPTURES)
  .filter((f) => /\.pcap(ng)?$/.test(f))
  .map((f) => join(CAPTURES, f));
const corpus = CORPUS_AVAILABLE
  ? readdirSync(CORPUS_DIR)
      .filter((f) => /\.pcap(ng)?$/.test(f))
      .map((f) => join(CORPUS_DIR, f))
  : [];

/**
 * What a replay of `file` with --packets --json wrote, and what JSON.stringify writes for
 * the same records. `viaRecords`: another sink asks for every verdict's record, so the
 * output serializes that record (shared/record-json.ts); else nothing does, and each
 * exchange line is written straight from the correlator's rows (correlate/exchange-json.ts;
 * `generic` then holds the packets only). `labelPrefix` goes before every interface's label.
 */
async function bothWays(
  file: string,
  viaRecords = true,
  labelPrefix = '',
): Promise<{ fast: string[]; generic: string[] }> {
  const { out, lines } = collectedOutput();
  const exchanges: string[] = [];
  const packets: string[] = [];
  const stages = new Stages({
    live: false,
    out,
    json: true,
    packets: true,
    tui: null,
    // the same exchange records the output is written from, for JSON.stringify
    records: viaRecords
      ? {
          record: (r: ContractRecord) => {
            if (r.type === 'exchange') exchanges.push(JSON.stringify(r));
          },
          wants: () => true,
        }
      : null,
  });
  const rec = new PacketRecord();
  try {
    await mergeCaptureFiles(
      [file],
      (iface) => stages.interface({ ...iface, label: labelPrefix + iface.label }, iface.file),
      (p) => {
        const iface = stages.interfaces[p.interfaceId];
        decodePacket(p.data, p.offset, p.offset + p.caplen, iface.linktype, p.len, rec);
        const view = describePacket(
          rec,
          packets.length + 1,
          iface.label,
          formatTimestamp(p.tsSec, p.tsNsec),
          p.caplen,
          p.len,
        );
        packets.push(JSON.stringify(view));
        stages.packet(p, iface);
      },
    );
  } catch (err) {
    // a damaged corpus file: every packet before the fault was handed on
    if (!isCaptureInputError(err)) throw err;
  }
  await stages.finish();
  await out.end();
  const fast = lines().filter((l) => l.startsWith('{"type":"packet"') || l.startsWith('{"type":"exchange"'));
  // packet lines come as the packets do, each exchange's when it is judged: compare each kind in its order
  const generic = [...packets, ...exchanges];
  const order = (l: string): number => (l.startsWith('{"type":"packet"') ? 0 : 1);
  return { fast: fast.filter((l) => order(l) === 0).concat(fast.filter((l) => order(l) === 1)), generic };
}

describe('JSON lines of the shipped captures and the corpus are JSON.stringify’s', () => {
  it.each(shipped)('%s', async (file) => {
    const { fast, generic } = await bothWays(file);
    expect(generic.some((l) => l.startsWith('{"type":"exchange"'))).toBe(true);
    expect(generic.some((l) => l.startsWith('{"type":"exchange"') && !l.includes('"status":"ok"'))).toBe(
      true,
    );
    expect(fast).toEqual(generic);
    // no record built: the lines written from the correlator's rows are the same
    expect((await bothWays(file, false)).fast).toEqual(generic);
  });

  it('written from the rows, interface labels JSON must escape or that are not ASCII', async () => {
    const hostileLabel = 'br-"q"\\ é ☃ 😀 \u0001 ';
    const file = shipped[0];
    const { generic } = await bothWays(file, true, hostileLabel);
    expect(generic.some((l) => l.includes('"iface":"br-\\"q\\"'))).toBe(true);
    expect((await bothWays(file, false, hostileLabel)).fast).toEqual(generic);
  });

  it.skipIf(!CORPUS_AVAILABLE)(
    `every corpus file (${CORPUS_DIR})`,
    async () => {
      let exchanges = 0;
      let packets = 0;
      for (const file of corpus) {
        const { fast, generic } = await bothWays(file);
        expect(fast, file).toEqual(generic);
        expect((await bothWays(file, false)).fast, file).toEqual(generic);
        for (const l of generic) {
          if (l.startsWith('{"type":"packet"')) packets++;
          else exchanges++;
        }
      }
      // not an empty comparison: the corpus holds many packets and verdicts
      expect(packets).toBeGreaterThan(1000);
      expect(exchanges).toBeGreaterThan(50);
    },
    300_000,
  );
});

function bytesOf(write: (w: JsonBytes) => void): string {
  const w = new JsonBytes(16);
  write(w);
  return w.buf.subarray(0, w.pos).toString('utf8');
}

describe('exchange keys and flows with DNS names JSON must escape', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hopscope-record-json-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A query for the name of these labels (raw bytes: quotes, backslashes, UTF-8, control bytes, invalid UTF-8). */
  function query(id: number, labels: readonly Uint8Array[], qtype: number): Uint8Array {
    const head = Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    const name = labels.flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]);
    return Buffer.concat([head, ...name, Buffer.from([0, qtype >> 8, qtype & 0xff, 0, 1])]);
  }
  const hostile = [
    Buffer.from('say"hi"'),
    Buffer.from('back\\slash'),
    Buffer.from('é☃😀', 'utf8'),
    Buffer.from([0x01, 0x09, 0x7f, 0x20]),
    Buffer.from([0xff, 0xc3, 0x41]),
  ];

  it('the rows write what JSON.stringify writes of the record, key text and flow', async () => {
    const packets: Timed[] = [];
    hostile.forEach((label, i) => {
      // unanswered queries of several types (a mnemonic and TYPE65280), two labels each
      const payload = query(100 + i, [label, Buffer.from('lab')], i % 2 === 0 ? 1 : 65280);
      packets.push({
        frame: ethIpv4Udp(40000 + i, 53, payload, { src: '0a000005', dst: '0a000035' }),
        ms: i,
      });
    });
    const file = join(dir, 'hostile-names.pcap');
    writeFileSync(file, pcapFile(packets));
    const { generic } = await bothWays(file);
    const exchanges = generic.filter((l) => l.startsWith('{"type":"exchange"'));
    expect(exchanges).toHaveLength(hostile.length);
    // the names needed escaping in the key and in the flow
    expect(exchanges.some((l) => l.includes('say\\"hi\\"'))).toBe(true);
    expect(exchanges.some((l) => l.includes('TYPE65280'))).toBe(true);
    expect((await bothWays(file, false)).fast).toEqual(generic);
  });
});

describe('records the captures do not hold', () => {
  const hostile = 'a"b\\c\n\u0001\u001f\u007f é ☃ 😀 \ud800 x\udc00';
  const record: ExchangeRecord = {
    type: 'exchange',
    kind: 'dns',
    key: `10.0.0.1>10.0.0.2 id=1 ${hostile} A`,
    flow: { src: null, dst: '10.0.0.2', id: 1, qname: hostile, qtype: 'A', transport: 'udp' },
    status: 'lost',
    ts: '1700000000.000000001',
    stages: [
      {
        name: 'query',
        packets: 2,
        seen: [
          { iface: `br-${hostile}`, ts: '-0.500000000' },
          {
            iface: 'ns/tap0',
            ts: '1700000000.000000002',
            hopMs: 0.001,
            tunnel: { type: 'vxlan', vni: null },
          },
          { iface: 'h:eth0', ts: '1700000000.000000003', hopMs: Number.NaN },
        ],
      },
    ],
    lost: { stage: 'response', lastSeen: 'say "hi"', missingOn: ['a', hostile, 'back\\slash', 'tab\t'] },
    detail: hostile,
    rttMs: Number.POSITIVE_INFINITY,
    cause: {
      code: 'netfilter-drop',
      summary: hostile,
      at: 'ns/tap0',
      evidence: [{ source: 'sysctl', key: 'net.ipv4.ip_forward', value: '0' }],
    },
  };

  it('an exchange with strings to escape, non-finite numbers and a cause', () => {
    expect(bytesOf((w) => writeExchangeJson(w, record))).toBe(JSON.stringify(record));
  });

  it('numbers and time stamps', () => {
    const numbers = [
      0,
      -0,
      1,
      9,
      10,
      4294967295,
      4294967296,
      2 ** 53,
      1e21,
      0.1,
      1.5e-7,
      -3,
      -2.5,
      Number.NaN,
      -Infinity,
    ];
    expect(bytesOf((w) => numbers.forEach((n) => (w.num(n), w.byte(0x2c))))).toBe(
      numbers.map((n) => `${JSON.stringify(n)},`).join(''),
    );
    const stamps: Array<[number, number]> = [
      [1700000000, 0],
      [1700000000, 999999999],
      [0, 5],
      [-1, 500000000],
      [-2, 0],
      [4294967296, 1],
    ];
    for (const [sec, nsec] of stamps)
      expect(bytesOf((w) => w.timestamp(sec, nsec))).toBe(JSON.stringify(formatTimestamp(sec, nsec)));
  });

  it('integers of every digit count, nine-digit fractions, and times in µs written as ms', () => {
    // the digits are written two at a time: every count of digits, odd and even, and zeros inside
    const integers = [0, 7, 10, 99, 100, 101, 1000, 90909, 123456, 1000000, 98765432, 100000001, 4294967295];
    expect(bytesOf((w) => integers.forEach((n) => (w.num(n), w.byte(0x2c))))).toBe(
      integers.map((n) => `${n},`).join(''),
    );
    const fractions = [0, 1, 9, 10, 99, 100, 500000000, 10101010, 999999999, 123456789];
    for (const nsec of fractions)
      expect(bytesOf((w) => w.timestamp(1700000000, nsec))).toBe(
        JSON.stringify(formatTimestamp(1700000000, nsec)),
      );
    // thousandths(k) is num(k / 1000) — what rttMs and hopMs hold — for any integer k
    const micros = [0, -0, 1, 10, 100, 999, 1000, 1001, 1010, 1100, 12345, -1, -999, -1000, -12340];
    for (let i = 0; i < 2000; i++) micros.push(Math.round((Math.random() - 0.2) * 10 ** (1 + (i % 10))));
    micros.push(2 ** 31 - 1, -(2 ** 31) + 1, 2 ** 31, 2 ** 40 + 7, -(2 ** 45) - 3);
    expect(bytesOf((w) => micros.forEach((k) => (w.thousandths(k), w.byte(0x2c))))).toBe(
      micros.map((k) => `${JSON.stringify(k / 1000)},`).join(''),
    );
  });

  it('time stamps one after another, in a buffer written over and handed on between them', () => {
    // timestamp() keeps the last seconds' text: it must not be a view of the bytes written over
    const w = new JsonBytes(256);
    const seconds = [1700000000, 1700000000, 1700000001, 5, 5, 1700000001, 4294967295];
    seconds.forEach((sec, i) => {
      const at = w.pos;
      w.timestamp(sec, i);
      expect(w.buf.subarray(at, w.pos).toString()).toBe(JSON.stringify(formatTimestamp(sec, i)));
      // the next one goes where this one was, in this buffer or in a new one
      if (i % 2 === 0) {
        w.buf.fill(0x3a, 0, w.pos);
        w.pos = 0;
      } else w.swap(Buffer.alloc(256, 0x3a));
    });
  });

  it('IPv4 addresses: every octet as formatIpv4 writes it', () => {
    const b = new Uint8Array(4);
    for (let v = 0; v < 256; v++) {
      b.set([v, 255 - v, (v * 7) & 0xff, v >> 1]);
      expect(bytesOf((w) => w.ipv4(b, 0))).toBe(JSON.stringify(formatIpv4(b, 0)));
    }
  });

  it('a literal is printable ASCII, copied as it is', () => {
    expect(bytesOf((w) => w.field(literal(',"seq":')).num(7))).toBe(',"seq":7');
    expect(() => literal('é')).toThrow(/printable ASCII/);
    expect(() => literal('a\nb')).toThrow(/printable ASCII/);
  });
});
