import { describe, expect, it } from 'vitest';
import {
  decodeDns,
  decodeDnsPrefix,
  DNS_MAX_POINTER_JUMPS,
  dnsRcodeName,
  copyPlainDnsName,
  dnsTypeName,
  readDnsName,
} from '../../src/decode/dns.js';
import { formatIpv4, formatIpv6 } from '../../src/decode/format.js';
import { MAX_DNS_ANSWERS, type PacketRecord } from '../../src/decode/record.js';
import { seededRandom } from '../support/seeded-random.js';
import { CORPUS_AVAILABLE } from './support/corpus.js';
import { cutAtEveryLength } from './support/cut-at-every-length.js';
import { anomaly, decode, ethIpv4Udp, layerNames, LT_EN10MB } from './support/frames.js';
import { hex } from './support/hex.js';
import {
  corpusIpFrames,
  cutEveryLengthDirect,
  decodeWith,
  itAgreesWithTshark,
  mutateAndDecode,
  recordFor,
  udpPayload,
  values,
} from './support/l4.js';

/** Uncompressed wire form of a dotted name: length-prefixed labels and the root byte, as hex. */
function name(dotted: string): string {
  let out = '';
  for (const label of dotted.split('.').filter((l) => l !== '')) {
    out += label.length.toString(16).padStart(2, '0') + Buffer.from(label, 'latin1').toString('hex');
  }
  return out + '00';
}

const query = hex(
  '1234', // id
  '0100', // flags: standard query, RD
  '0001', // QDCOUNT 1
  '0000', // ANCOUNT
  '0000', // NSCOUNT
  '0000', // ARCOUNT
  name('www.example.com'), // @12 QNAME (17 bytes)
  '0001', // QTYPE A
  '0001', // QCLASS IN
);

// A response using compression. Offsets from the message start on the left.
const response = hex(
  'abcd', //                         @0   id
  '8180', //                         @2   flags: QR, RD, RA, RCODE 0
  '0001', //                         @4   QDCOUNT 1
  '0003', //                         @6   ANCOUNT 3
  '0001', //                         @8   NSCOUNT 1
  '0001', //                         @10  ARCOUNT 1
  name('www.example.com'), //        @12  QNAME; "example.com" starts @16
  '0001', //                         @29  QTYPE A
  '0001', //                         @31  QCLASS IN
  'c00c', //                         @33  answer 1 NAME -> @12 www.example.com
  '0005', //                         @35  TYPE CNAME
  '0001', //                         @37  CLASS IN
  '00000e10', //                     @39  TTL 3600
  '0006', //                         @43  RDLENGTH 6
  '03776562', //                     @45  RDATA: "web"
  'c010', //                         @49        -> @16 example.com
  'c02d', //                         @51  answer 2 NAME -> @45 web.example.com
  '0001', //                         @53  TYPE A
  '0001', //                         @55  CLASS IN
  '0000003c', //                     @57  TTL 60
  '0004', //                         @61  RDLENGTH 4
  '5db8d822', //                     @63  93.184.216.34
  'c02d', //                         @67  answer 3 NAME -> @45
  '001c', //                         @69  TYPE AAAA
  '0001', //                         @71  CLASS IN
  '0000003c', //                     @73  TTL 60
  '0010', //                         @77  RDLENGTH 16
  '26062800022000010248189325c81946', // @79 2606:2800:220:1:248:1893:25c8:1946
  'c010', //                         @95  authority NAME -> @16 example.com
  '0006', //                         @97  TYPE SOA
  '0001', //                         @99  CLASS IN
  '00000e10', //                     @101 TTL
  '0021', //                         @105 RDLENGTH 33
  '026e73c010', //                   @107 MNAME ns.example.com
  '0561646d696ec010', //             @112 RNAME admin.example.com
  '78a1b2c3', //                     @120 serial
  '00001c20', //                     @124 refresh
  '00000e10', //                     @128 retry
  '00093a80', //                     @132 expire
  '00000e10', //                     @136 minimum
  '00', //                           @140 additional NAME root
  '0029', //                         @141 TYPE OPT
  '1000', //                         @143 CLASS = UDP payload size 4096
  '00000000', //                     @145 TTL = extended RCODE 0, version 0, flags 0
  '0000', //                         @149 RDLENGTH 0
);

const dnsView = (r: PacketRecord): unknown => ({
  id: r.dnsId,
  flags: r.dnsFlags,
  counts: [r.dnsQdCount, r.dnsAnCount, r.dnsNsCount, r.dnsArCount],
  q: [r.dnsQnameOff, r.dnsQtype, r.dnsQclass],
  answers: Array.from({ length: r.dnsAnswerCount }, (_, i) => [
    r.dnsAnswerType[i],
    r.dnsAnswerNameOff[i],
    r.dnsAnswerDataOff[i],
    r.dnsAnswerDataLen[i],
    r.dnsAnswerTtl[i],
  ]),
  edns: [r.dnsEdnsUdpSize, r.dnsExtRcode],
});

/** A message of a header and one question whose name is `nameHex` (anything), for name anomalies. */
function questionWithName(nameHex: string, prefix = ''): Uint8Array {
  return hex(
    '7777', // id
    '0100', // flags
    '0001', // QDCOUNT 1
    '000000000000', // AN/NS/AR 0
    prefix, // bytes a pointer may point back to (empty here unless given)
    nameHex, // QNAME
    '00010001', // QTYPE A, QCLASS IN
  );
}

describe('DNS header and question', () => {
  it('a query: id, flags, counts, first question', () => {
    const rec = decodeWith(decodeDns, query);
    expect(rec.dnsOff).toBe(0);
    expect(rec.dnsEnd).toBe(query.length);
    expect(rec.dnsId).toBe(0x1234);
    expect([rec.dnsQr, rec.dnsOpcode, rec.dnsRcode, rec.dnsFlags]).toEqual([false, 0, 0, 0x0100]);
    expect([rec.dnsQdCount, rec.dnsAnCount, rec.dnsNsCount, rec.dnsArCount]).toEqual([1, 0, 0, 0]);
    expect([rec.dnsQnameOff, rec.dnsQtype, rec.dnsQclass]).toEqual([12, 1, 1]);
    expect(readDnsName(query, rec.dnsOff, rec.dnsEnd, rec.dnsQnameOff)).toBe('www.example.com');
    expect([rec.dnsAnswerCount, rec.dnsEdnsUdpSize, rec.dnsExtRcode]).toEqual([0, -1, -1]);
    expect(anomaly(rec)).toBeNull();
  });

  it('a plain name is copied as readDnsName writes it; any other is left to readDnsName', () => {
    // names of random labels, some bytes ones JSON or readDnsName would not leave as they are,
    // some behind a compression pointer to a name earlier in the message
    const random = seededRandom(53);
    const out = new Uint8Array(255);
    const pick = (): number => {
      const r = random();
      if (r < 0.9) return 0x61 + Math.floor(random() * 26);
      const odd = [0x22, 0x5c, 0x2e, 0x20, 0x7e, 0x7f, 0x00, 0x0a, 0xc3, 0xff, 0x2d];
      return odd[Math.floor(random() * odd.length)];
    };
    let plain = 0;
    for (let round = 0; round < 2000; round++) {
      const label = (): number[] => {
        const n = 1 + Math.floor(random() * 12);
        return [n, ...Array.from({ length: n }, pick)];
      };
      const first = [...label(), ...label(), 0];
      const pointed = random() < 0.3;
      const second = pointed ? [...label(), 0xc0, 0x00] : [...label(), 0];
      const msg = Uint8Array.from([...first, ...second]);
      const at = first.length;
      const n = copyPlainDnsName(msg, 0, msg.length, at, out);
      const text = readDnsName(msg, 0, msg.length, at);
      if (n >= 0) {
        plain++;
        expect(Buffer.from(out.subarray(0, n)).toString('latin1')).toBe(text);
        expect(JSON.stringify(text)).toBe(`"${text}"`);
      } else if (text !== null) {
        // left to readDnsName: its text is not the bytes as they are, or JSON escapes it
        const raw = /^[\x20-\x7e]*$/.test(text) && !/["\\]/.test(text);
        expect(raw && text !== '<Root>').toBe(false);
      }
    }
    expect(plain).toBeGreaterThan(200);
    // malformed: a pointer forward, a name cut short
    expect(copyPlainDnsName(Uint8Array.from([0xc0, 0x05, 0, 0, 0, 1, 0x61, 0]), 0, 8, 0, out)).toBe(-1);
    expect(copyPlainDnsName(Uint8Array.from([3, 0x61, 0x62]), 0, 3, 0, out)).toBe(-1);
    expect(copyPlainDnsName(Uint8Array.from([0]), 0, 1, 0, out)).toBe(-1);
  });

  it('the root name reads as tshark prints it: <Root>', () => {
    const rootQuery = questionWithName('00');
    const rec = decodeWith(decodeDns, rootQuery);
    expect(readDnsName(rootQuery, 0, rootQuery.length, rec.dnsQnameOff)).toBe('<Root>');
  });

  it('opcode and rcode come from the flags: an NXDOMAIN answer', () => {
    const nx = query.slice();
    nx[2] = 0x81; // QR, opcode 0, RD
    nx[3] = 0x83; // RA, RCODE 3
    const rec = decodeWith(decodeDns, nx);
    expect([rec.dnsQr, rec.dnsRcode, dnsRcodeName(rec.dnsRcode)]).toEqual([true, 3, 'NXDOMAIN']);
    const notify = query.slice();
    notify[2] = 0x20; // opcode 4 NOTIFY
    expect(decodeWith(decodeDns, notify).dnsOpcode).toBe(4);
  });

  it('several questions: the first is kept, all are walked', () => {
    const two = hex(
      '0000', // id
      '0000', // flags
      '0002', // QDCOUNT 2
      '000000000000', // AN/NS/AR 0
      name('_ipp._tcp.local'), // @12 first QNAME
      '000c0001', // PTR IN
      name('_ipps._tcp.local'), // second QNAME
      '000c8001', // PTR, class IN with the mDNS unicast-response bit
    );
    const rec = decodeWith(decodeDns, two);
    expect([rec.dnsQdCount, rec.dnsQtype, rec.dnsQclass]).toEqual([2, 12, 1]);
    expect(readDnsName(two, 0, two.length, rec.dnsQnameOff)).toBe('_ipp._tcp.local');
    expect(anomaly(rec)).toBeNull();
  });
});

describe('DNS answers', () => {
  it('keeps every answer generically: type, owner name, rdata offset/length, TTL', () => {
    const rec = decodeWith(decodeDns, response);
    expect(rec.dnsQr).toBe(true);
    expect([rec.dnsAnCount, rec.dnsNsCount, rec.dnsArCount, rec.dnsAnswerCount]).toEqual([3, 1, 1, 3]);
    expect(Array.from(rec.dnsAnswerType.subarray(0, 3))).toEqual([5, 1, 28]);
    expect(Array.from(rec.dnsAnswerNameOff.subarray(0, 3))).toEqual([33, 51, 67]);
    expect(Array.from(rec.dnsAnswerDataOff.subarray(0, 3))).toEqual([45, 63, 79]);
    expect(Array.from(rec.dnsAnswerDataLen.subarray(0, 3))).toEqual([6, 4, 16]);
    expect(Array.from(rec.dnsAnswerTtl.subarray(0, 3))).toEqual([3600, 60, 60]);
    expect(anomaly(rec)).toBeNull();
  });

  it('sinks read the names and addresses from the offsets', () => {
    const rec = decodeWith(decodeDns, response);
    const read = (off: number): string | null => readDnsName(response, rec.dnsOff, rec.dnsEnd, off);
    expect(read(rec.dnsAnswerNameOff[0])).toBe('www.example.com');
    expect(read(rec.dnsAnswerDataOff[0])).toBe('web.example.com'); // CNAME target
    expect(read(rec.dnsAnswerNameOff[1])).toBe('web.example.com');
    expect(formatIpv4(response, rec.dnsAnswerDataOff[1])).toBe('93.184.216.34');
    expect(formatIpv6(response, rec.dnsAnswerDataOff[2])).toBe('2606:2800:220:1:248:1893:25c8:1946');
    expect(read(107)).toBe('ns.example.com'); // SOA MNAME in the authority section
    expect(read(112)).toBe('admin.example.com');
  });

  it('EDNS: the OPT record of the additional section gives the UDP size and the extended RCODE', () => {
    const rec = decodeWith(decodeDns, response);
    expect([rec.dnsEdnsUdpSize, rec.dnsExtRcode]).toEqual([4096, 0]);
    const badCookie = response.slice();
    badCookie[3] = 0x87; // header RCODE 7 (YXRRSET on its own)
    badCookie[145] = 0x01; // OPT extended RCODE upper bits 1 → 0x17 = 23
    const bc = decodeWith(decodeDns, badCookie);
    expect([bc.dnsRcode, bc.dnsExtRcode, dnsRcodeName(bc.dnsExtRcode)]).toEqual([7, 23, 'BADCOOKIE']);
  });

  it(`keeps at most ${MAX_DNS_ANSWERS} answers, walks the rest`, () => {
    const count = MAX_DNS_ANSWERS + 4;
    const answers: string[] = [];
    for (let i = 0; i < count; i++) {
      answers.push(
        'c00c', // NAME -> QNAME
        '00010001', // A IN
        '0000003c', // TTL 60
        '0004', // RDLENGTH 4
        `0a0000${i.toString(16).padStart(2, '0')}`, // 10.0.0.i
      );
    }
    const many = hex(
      '0001', // id
      '8180', // response
      '0001', // QDCOUNT
      count.toString(16).padStart(4, '0'), // ANCOUNT 20
      '0000', // NSCOUNT
      '0001', // ARCOUNT 1: an OPT after all answers
      name('many.example'), // @12 QNAME
      '00010001', // A IN
      ...answers,
      '00', // OPT NAME root
      '0029', // TYPE OPT
      '04d0', // UDP size 1232
      '00000000', // TTL
      '0000', // RDLENGTH
    );
    const rec = decodeWith(decodeDns, many);
    expect([rec.dnsAnCount, rec.dnsAnswerCount]).toEqual([count, MAX_DNS_ANSWERS]);
    expect(formatIpv4(many, rec.dnsAnswerDataOff[MAX_DNS_ANSWERS - 1])).toBe(`10.0.0.${MAX_DNS_ANSWERS - 1}`);
    expect(rec.dnsEdnsUdpSize).toBe(1232);
    expect(anomaly(rec)).toBeNull();
  });

  it('MX or SRV rdata shorter than its fixed part: dns_rdata_bad_len inside the rdata', () => {
    const mx = hex(
      'abcd', // id
      '8180', // response
      '0001', // QDCOUNT
      '0001', // ANCOUNT
      '00000000', // NS/AR
      name('example.com'), // @12 QNAME (13 bytes)
      '000f0001', // @25 MX IN
      'c00c', // @29 answer NAME -> @12
      '000f', // @31 TYPE MX
      '0001', // @33 CLASS IN
      '0000003c', // @35 TTL
      '0001', // @39 RDLENGTH 1: not even the 16-bit preference
      '00', // @41 RDATA
    );
    const rec = decodeWith(decodeDns, mx);
    expect(anomaly(rec)).toBe('dns:dns_rdata_bad_len');
    expect(rec.malformedOff).toBe(41);
    const srv = mx.slice();
    srv[26] = srv[32] = 33; // QTYPE and TYPE SRV: 6 fixed bytes needed
    srv[40] = 5; // RDLENGTH 5 (runs past the message: overrun comes first)
    expect(anomaly(decodeWith(decodeDns, srv))).toBe('dns:dns_rdata_overrun');
    srv[40] = 1;
    expect(anomaly(decodeWith(decodeDns, srv))).toBe('dns:dns_rdata_bad_len');
  });

  it('an A record of the wrong length: dns_rdata_bad_len, the record kept', () => {
    const bad = response.slice();
    bad[62] = 5; // RDLENGTH 5 for an A record; the next record then starts one byte late
    const rec = decodeWith(decodeDns, bad);
    expect(anomaly(rec)).toBe('dns:dns_rdata_bad_len');
    expect(rec.malformedOff).toBe(63);
    expect(rec.dnsAnswerCount).toBeGreaterThanOrEqual(2);
  });

  it('inside a whole frame (eth/ipv4/udp/dns, port 53 and mDNS 5353) and every cut of it', () => {
    const frame = ethIpv4Udp(53, 40000, response);
    const rec = decode(frame, LT_EN10MB);
    expect(layerNames(rec)).toEqual(['eth', 'ipv4', 'udp', 'dns']);
    expect([rec.dnsId, rec.dnsAnswerCount, rec.dnsOff]).toEqual([0xabcd, 3, 42]);
    expect(readDnsName(frame, rec.dnsOff, rec.dnsEnd, rec.dnsAnswerDataOff[0])).toBe('web.example.com');
    cutAtEveryLength(frame, LT_EN10MB);
    const mdns = decode(ethIpv4Udp(5353, 5353, query), LT_EN10MB);
    expect(layerNames(mdns)).toEqual(['eth', 'ipv4', 'udp', 'dns']);
  });
});

describe('DNS name compression bounds', () => {
  it('a pointer to itself: dns_pointer_loop (as dns-zlip-1)', () => {
    const rec = decodeWith(decodeDns, questionWithName('c00c')); // @12 -> @12
    expect(anomaly(rec)).toBe('dns:dns_pointer_loop');
    expect(rec.malformedOff).toBe(12);
    expect(rec.dnsId).toBe(0x7777); // the header is kept
    expect(rec.dnsQnameOff).toBe(-1);
  });

  it('a pointer back into its own labels: dns_pointer_loop', () => {
    const msg = questionWithName(
      '0161' + // @12 "a"
        'c00c', // @14 -> @12, inside the label sequence that holds the pointer
    );
    expect(anomaly(decodeWith(decodeDns, msg))).toBe('dns:dns_pointer_loop');
    expect(readDnsName(msg, 0, msg.length, 12)).toBeNull();
  });

  it('two names pointing at each other: dns_pointer_loop', () => {
    // @12 "b" -> @19; @19 "c" -> @12: the second jump goes back to the first sequence
    const msg = hex(
      '7777', // id
      '0100', // flags
      '0002', // QDCOUNT 2
      '000000000000', // AN/NS/AR
      '0162c013', // @12 "b" then pointer -> @19 (forward)
      '00010001', // @16 type/class... (never reached)
    );
    expect(anomaly(decodeWith(decodeDns, msg))).toBe('dns:dns_pointer_forward');
    const backAndForth = hex(
      '7777', // id
      '0100', // flags
      '0002', // QDCOUNT 2
      '000000000000', // AN/NS/AR
      '016200', // @12 "b" (a complete name)
      '00010001', // @15 type/class
      '0163c00e', // @19 "c" then pointer -> @14: the root byte of "b": fine, ends there
      '00010001', // type/class
    );
    const ok = decodeWith(decodeDns, backAndForth);
    expect(anomaly(ok)).toBeNull();
    expect(readDnsName(backAndForth, 0, backAndForth.length, 19)).toBe('c');
  });

  it('a forward pointer: dns_pointer_forward (as dns_fwdptr)', () => {
    const msg = questionWithName('c020'); // @12 -> @32, past the pointer
    const rec = decodeWith(decodeDns, msg);
    expect(anomaly(rec)).toBe('dns:dns_pointer_forward');
    expect(readDnsName(msg, 0, msg.length, 12)).toBeNull();
  });

  it(`more than ${DNS_MAX_POINTER_JUMPS} jumps, each backwards: dns_pointer_loop`, () => {
    // question 1 is the root; question k is a pointer to question k-1: k-1 jumps
    const questions = ['00', '00010001']; // @12 root, type/class
    const count = DNS_MAX_POINTER_JUMPS + 2;
    // question k (k ≥ 2) sits at 17 + 6(k-2): a pointer to question k-1, then type/class
    for (let k = 2; k <= count; k++) {
      const target = k === 2 ? 12 : 17 + 6 * (k - 3);
      questions.push((0xc000 | target).toString(16), '00010001');
    }
    const msg = hex(
      '7777', // id
      '0100', // flags
      count.toString(16).padStart(4, '0'), // QDCOUNT 66
      '000000000000', // AN/NS/AR
      ...questions,
    );
    const rec = decodeWith(decodeDns, msg);
    expect(anomaly(rec)).toBe('dns:dns_pointer_loop');
    // the question with exactly 64 jumps was fine
    const within = 17 + 6 * (count - 3);
    expect(readDnsName(msg, 0, msg.length, within)).toBe('<Root>');
    expect(readDnsName(msg, 0, msg.length, within + 6)).toBeNull();
  });

  it('a name over 255 bytes: dns_name_too_long', () => {
    const label63 = '3f' + '61'.repeat(63);
    const msg = questionWithName(label63.repeat(4) + '00'); // 4 x 64 + 1 = 257
    expect(anomaly(decodeWith(decodeDns, msg))).toBe('dns:dns_name_too_long');
    expect(readDnsName(msg, 0, msg.length, 12)).toBeNull();
    const fits = questionWithName(label63.repeat(3) + '3d' + '62'.repeat(61) + '00'); // 3 x 64 + 62 + 1 = 255
    const rec = decodeWith(decodeDns, fits);
    expect(anomaly(rec)).toBeNull();
    expect(readDnsName(fits, 0, fits.length, 12)?.length).toBe(253);
  });

  it('a name over 255 bytes assembled through pointers: dns_name_too_long', () => {
    const label63 = (c: string): string => '3f' + c.repeat(63);
    // four names, each a 63-byte label then a pointer to the previous one
    const msg = hex(
      '7777', // id
      '0100', // flags
      '0004', // QDCOUNT 4
      '000000000000', // AN/NS/AR
      label63('61') + '00', //  @12  a{63}                 (65 bytes)
      '00010001', //            @77
      label63('62') + 'c00c', // @81  b{63}.a{63}         (66 bytes)
      '00010001', //            @147
      label63('63') + 'c051', // @151 c{63}.b{63}.a{63}   (66 bytes)
      '00010001', //            @217
      label63('64') + 'c097', // @221 d{63}.c.b.a: 4 x 64 + 1 = 257
      '00010001',
    );
    const rec = decodeWith(decodeDns, msg);
    expect(anomaly(rec)).toBe('dns:dns_name_too_long');
    expect(readDnsName(msg, 0, msg.length, 151)?.length).toBe(63 * 3 + 2);
  });

  it('a length byte 0x40-0xbf (label > 63, not a pointer): dns_label_too_long', () => {
    for (const bad of ['40', '7f', '80', 'bf']) {
      const rec = decodeWith(decodeDns, questionWithName(bad + '61'.repeat(8) + '00'));
      expect(anomaly(rec), bad).toBe('dns:dns_label_too_long');
    }
  });

  it('names inside answer rdata are checked: forward pointer, in-place part past the rdata', () => {
    const fwd = response.slice();
    fwd.set([0xc0, 0x60], 49); // CNAME rdata "web" -> @96 (forward)
    expect(anomaly(decodeWith(decodeDns, fwd))).toBe('dns:dns_pointer_forward');
    const over = response.slice();
    over[44] = 3; // CNAME RDLENGTH 3: "web" then the name goes on past the rdata
    // the walk stops at the CNAME: the record after it no longer lines up anyway
    expect(anomaly(decodeWith(decodeDns, over))).toBe('dns:dns_rdata_name_overrun');
  });
});

describe('DNS running out of bytes', () => {
  it('header under 12 bytes: dns_too_short, id kept', () => {
    const rec = decodeWith(decodeDns, query.subarray(0, 7));
    expect(anomaly(rec)).toBe('dns:dns_too_short');
    expect([rec.dnsId, rec.dnsFlags]).toEqual([0x1234, 0x0100]);
  });

  it('a name, question, record or rdata past the message end', () => {
    expect(anomaly(decodeWith(decodeDns, query.subarray(0, 20)))).toBe('dns:dns_name_overrun');
    expect(anomaly(decodeWith(decodeDns, query.subarray(0, 31)))).toBe('dns:dns_question_overrun');
    expect(anomaly(decodeWith(decodeDns, response.subarray(0, 40)))).toBe('dns:dns_rr_overrun');
    expect(anomaly(decodeWith(decodeDns, response.subarray(0, 48)))).toBe('dns:dns_rdata_overrun');
    // counts promising more records than present
    const more = response.slice();
    more[11] = 2; // ARCOUNT 2, one present
    expect(anomaly(decodeWith(decodeDns, more))).toBe('dns:dns_name_overrun');
  });

  it('the same cut by snaplen: truncated, and what came before is kept', () => {
    const rec = decodeWith(decodeDns, response, 0, 70, response.length + 20);
    expect([rec.truncated, anomaly(rec)]).toEqual([true, 'dns:dns_truncated']);
    expect(rec.dnsAnswerCount).toBe(2);
  });

  it('decodeDnsPrefix (start of a TCP-carried message): no anomaly for the missing rest', () => {
    const rec = decodeWith(decodeDnsPrefix, response, 0, 70, 70); // the segment was captured whole
    expect(anomaly(rec)).toBeNull();
    expect([rec.dnsId, rec.dnsAnswerCount]).toEqual([0xabcd, 2]);
    const cut = decodeWith(decodeDnsPrefix, response, 0, 70, response.length + 20);
    expect(anomaly(cut)).toBe('dns:dns_truncated');
  });

  it('every cut of every fixture: no throw, truncated or the same answer', () => {
    for (const msg of [query, response]) cutEveryLengthDirect(decodeDns, msg, 0, dnsView);
  });

  it('random corruption never throws and never loops', () => {
    mutateAndDecode(decodeDns, response, 0, 2000, 11);
    mutateAndDecode(decodeDns, query, 0, 500, 12);
  });
});

describe('names and codes for sinks', () => {
  it('readDnsName escapes like tshark: C escapes and octal for controls, UTF-8 kept, invalid bytes U+FFFD', () => {
    const msg = questionWithName(
      '07612e6220' + // "a.b " — a dot inside a label stays a dot
        '01ff5c' + // \001, an invalid UTF-8 byte, a backslash
        '03636f6d' + // "com"
        '00',
    );
    expect(readDnsName(msg, 0, msg.length, 12)).toBe('a.b \\001\uFFFD\\.com');
    const controls = questionWithName('0a07090a0d7f00c3a91b22' + '00'); // \a \t \n \r DEL NUL é ESC "
    expect(readDnsName(controls, 0, controls.length, 12)).toBe('\\a\\t\\n\\r\\177\\000é\\033"');
  });

  it('readDnsName refuses what the decoder refuses, and offsets outside the message', () => {
    expect(readDnsName(query, 0, query.length, 40)).toBeNull();
    expect(readDnsName(query, 12, query.length, 0)).toBeNull();
    expect(readDnsName(query, 0, 20, 12)).toBeNull(); // cut inside the name
  });

  it('dnsTypeName and dnsRcodeName', () => {
    const types: [number, string][] = [
      [1, 'A'],
      [28, 'AAAA'],
      [5, 'CNAME'],
      [12, 'PTR'],
      [15, 'MX'],
      [2, 'NS'],
      [6, 'SOA'],
      [16, 'TXT'],
      [33, 'SRV'],
      [41, 'OPT'],
      [65, 'HTTPS'],
      [64, 'SVCB'],
      [255, 'ANY'],
      [65280, 'TYPE65280'],
    ];
    for (const [t, n] of types) expect(dnsTypeName(t)).toBe(n);
    const rcodes = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
    rcodes.forEach((n, i) => expect(dnsRcodeName(i)).toBe(n));
    expect(dnsRcodeName(16)).toBe('BADVERS');
    expect(dnsRcodeName(4000)).toBe('RCODE4000');
  });
});

describe.skipIf(!CORPUS_AVAILABLE)('DNS against tshark (corpus)', () => {
  const PLACEHOLDER_ANOMALIES: Record<string, string[]> = {
    '<Name contains a pointer that loops>': ['dns_pointer_loop'],
    '<Name too long>': ['dns_name_too_long', 'dns_pointer_forward'],
  };
  const files = [
    'dns_udp.pcap',
    'edns-opts.pcap',
    'dns-badcookie.pcap',
    'dns-edns-ecs.pcap',
    'mdns.pcap',
    'max-compression-depth.pcap',
    'dns-invalid-names.pcap',
    'dns_fwdptr.pcap',
    'LINKTYPE_RAW_ipv4.pcap',
    'LINKTYPE_RAW_ipv6.pcap',
    'LINKTYPE_IPV4.pcap',
    'LINKTYPE_IPV6.pcap',
    'ech.pcap',
    'ipv6-fragmented-dns.pcap',
  ];
  itAgreesWithTshark(
    files,
    decodeDns,
    (f) => {
      const udp = udpPayload(f);
      return udp === null || (![53, 5353].includes(udp.srcPort) && ![53, 5353].includes(udp.dstPort))
        ? null
        : udp;
    },
    ({ rec, row, what, frame: f, file: name }) => {
      const id = values(row, 'dns.id');
      if (id.length === 0) return false;
      expect(rec.dnsId, what).toBe(parseInt(id[0], 16));
      expect(rec.dnsQr ? '1' : '0', what).toBe(values(row, 'dns.flags.response')[0]);
      const rcode = values(row, 'dns.flags.rcode');
      if (rcode.length > 0) expect(rec.dnsRcode, what).toBe(Number(rcode[0]));
      const qname = values(row, 'dns.qry.name');
      if (qname.length > 0 && name !== 'dns_fwdptr.pcap') {
        const expectedAnomalies = PLACEHOLDER_ANOMALIES[qname[0]];
        if (expectedAnomalies) {
          expect(expectedAnomalies, what).toContain(rec.malformedReason);
        } else {
          expect(readDnsName(f.bytes, rec.dnsOff, rec.dnsEnd, rec.dnsQnameOff), what).toBe(qname[0]);
          expect(rec.dnsQtype, what).toBe(Number(values(row, 'dns.qry.type')[0]));
        }
      }
      const ours: string[] = [];
      for (let i = 0; i < rec.dnsAnswerCount; i++) {
        if (rec.dnsAnswerType[i] === 1 && rec.dnsAnswerDataLen[i] === 4) {
          ours.push(formatIpv4(f.bytes, rec.dnsAnswerDataOff[i]));
        }
      }
      // tshark lists A records of every section, answers first
      expect(values(row, 'dns.a').slice(0, ours.length), what).toEqual(ours);
      return true;
    },
  );

  it('dns-zlip-1.pcap (compression loop; its UDP length says 8, the message is read to the IP end)', () => {
    const [f] = corpusIpFrames('dns-zlip-1.pcap');
    const rec = recordFor(f);
    decodeDns(f.bytes, f.l4Off + 8, f.l4End, rec);
    expect(rec.dnsId).toBe(0xed69);
    expect(anomaly(rec)).toBe('dns:dns_pointer_loop');
    expect(rec.malformedOff - rec.dnsOff).toBe(12);
  });

  it('dns_fwdptr.pcap: the first name runs into a forward pointer (tshark: <Name too long>)', () => {
    const [f] = corpusIpFrames('dns_fwdptr.pcap');
    const udp = udpPayload(f)!;
    const rec = recordFor(f);
    decodeDns(f.bytes, udp.off, udp.end, rec);
    expect(rec.dnsId).toBe(0xc980);
    expect(anomaly(rec)).toBe('dns:dns_pointer_forward');
    // labels from @12 (01 fb, 03 01 fb 03, ...) up to the pointer fb 03 (-> 0x3b03) @46
    expect(rec.malformedOff - rec.dnsOff).toBe(46);
    expect(readDnsName(f.bytes, rec.dnsOff, rec.dnsEnd, rec.dnsOff + 12)).toBeNull();
  });

  it('max-compression-depth.pcap: chains of pointers to pointers are legitimate', () => {
    const [f] = corpusIpFrames('max-compression-depth.pcap');
    const udp = udpPayload(f)!;
    const rec = recordFor(f);
    decodeDns(f.bytes, udp.off, udp.end, rec);
    expect(anomaly(rec)).toBeNull();
    expect(rec.dnsAnswerCount).toBe(7);
    for (let i = 0; i < 7; i++) {
      expect(readDnsName(f.bytes, rec.dnsOff, rec.dnsEnd, rec.dnsAnswerNameOff[i])).toBe('a');
      expect(formatIpv4(f.bytes, rec.dnsAnswerDataOff[i])).toBe(`127.0.0.${i + 1}`);
    }
  });

  it('dns-badcookie.pcap: BADCOOKIE through the OPT extended RCODE', () => {
    const f = corpusIpFrames('dns-badcookie.pcap').find((x) => x.number === 2)!;
    const udp = udpPayload(f)!;
    const rec = recordFor(f);
    decodeDns(f.bytes, udp.off, udp.end, rec);
    expect([rec.dnsRcode, rec.dnsEdnsUdpSize, rec.dnsExtRcode]).toEqual([7, 4096, 23]);
    expect(dnsRcodeName(rec.dnsExtRcode)).toBe('BADCOOKIE');
  });

  it('corpus DNS messages survive every cut and random corruption', () => {
    for (const name of [
      'dns_udp.pcap',
      'edns-opts.pcap',
      'max-compression-depth.pcap',
      'dns-invalid-names.pcap',
    ]) {
      for (const f of corpusIpFrames(name).slice(0, 4)) {
        const udp = udpPayload(f);
        if (udp === null) continue;
        const bytes = f.bytes.slice(f.start, udp.end);
        const off = udp.off - f.start;
        cutEveryLengthDirect(decodeDns, bytes, off, dnsView);
        mutateAndDecode(decodeDns, bytes, off, 200);
      }
    }
  });
});
