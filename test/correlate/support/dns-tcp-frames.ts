// DNS over TCP built packet by packet for the correlation tests: DNS messages as
// annotated hex, a TCP conversation that keeps its own sequence numbers (so a test says
// "the client sends these bytes", "this segment again", "from here"), and a classic
// pcap file of the result for the CLI.
import { concat, hex } from '../../decode/support/hex.js';
import { be } from '../../decode/support/frames.js';

export const CLIENT = '0a000005'; // 10.0.0.5
export const SERVER = '0a000035'; // 10.0.0.53
export const CLIENT6 = '20010db8000000000000000000000005'; // 2001:db8::5
export const SERVER6 = '20010db8000000000000000000000035'; // 2001:db8::35
export const CLIENT_PORT = 40000;
export const START_SEC = 1_700_000_000;

/** A DNS name on the wire: labels, then the root. */
export function wireName(name: string): string {
  return (
    name
      .split('.')
      .map((l) => be(l.length, 1) + Buffer.from(l, 'ascii').toString('hex'))
      .join('') + '00'
  );
}

/** A standard query (RD) for `name`, type `qtype`. */
export function dnsQuery(id: number, name: string, qtype = 1): Uint8Array {
  return hex(
    be(id, 2), // ID
    '0100', // flags: query, opcode 0, RD
    '0001', // QDCOUNT 1
    '0000', // ANCOUNT 0
    '0000', // NSCOUNT 0
    '0000', // ARCOUNT 0
    wireName(name), // QNAME
    be(qtype, 2), // QTYPE
    '0001', // QCLASS IN
  );
}

/** Its response: rcode, and one A record per address (an owner name pointing at the question's). */
export function dnsResponse(
  id: number,
  name: string,
  rcode = 0,
  addrs: string[] = [],
  qtype = 1,
): Uint8Array {
  return hex(
    be(id, 2), // ID
    be(0x8180 | rcode, 2), // flags: response, RD, RA, RCODE
    '0001', // QDCOUNT 1
    be(addrs.length, 2), // ANCOUNT
    '0000', // NSCOUNT 0
    '0000', // ARCOUNT 0
    wireName(name), // QNAME
    be(qtype, 2), // QTYPE
    '0001', // QCLASS IN
    ...addrs.map(
      (a) =>
        'c00c' + // NAME: pointer to the question's name (offset 12)
        '0001' + // TYPE A
        '0001' + // CLASS IN
        '0000012c' + // TTL 300
        '0004' + // RDLENGTH 4
        a, // RDATA
    ),
  );
}

/** RFC 1035 §4.2.2: a 2-byte length, then the message. */
export function framed(message: Uint8Array, declaredLen = message.length): Uint8Array {
  return concat(hex(be(declaredLen, 2)), message);
}

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

/** Ethernet + IPv4 (IPv6 when the addresses are 16 bytes) + TCP (20-byte header) around `data`. */
export function tcpFrame(
  src: string,
  dst: string,
  sport: number,
  dport: number,
  seq: number,
  ack: number,
  flags: number,
  data: Uint8Array,
  ipId: number,
): Uint8Array {
  const v6 = src.length === 32;
  return concat(
    hex(
      '020000000002', // destination MAC
      '020000000001', // source MAC
      v6 ? '86dd' : '0800', // EtherType IPv6 / IPv4
    ),
    v6
      ? hex(
          '6', // version 6
          '00', // traffic class
          (ipId & 0xfffff).toString(16).padStart(5, '0'), // flow label
          be(20 + data.length, 2), // payload length
          '06', // next header TCP
          '40', // hop limit 64
          src, // source address
          dst, // destination address
        )
      : hex(
          '45', // version 4, IHL 5
          '00', // TOS
          be(20 + 20 + data.length, 2), // total length
          be(ipId, 2), // identification
          '4000', // DF
          '40', // TTL 64
          '06', // protocol TCP
          '0000', // checksum (not verified)
          src, // source address
          dst, // destination address
        ),
    hex(
      be(sport, 2), // source port
      be(dport, 2), // destination port
      be(seq >>> 0, 4), // sequence number
      be(ack >>> 0, 4), // acknowledgment number
      '50', // data offset 5
      be(flags, 1), // flags
      'faf0', // window
      '0000', // checksum
      '0000', // urgent pointer
    ),
    data,
  );
}

export interface Timed {
  frame: Uint8Array;
  /** ms after START_SEC */
  ms: number;
}

/**
 * One TCP connection to port 53, client 10.0.0.5:40000 → server 10.0.0.53 (unless
 * given other ports and addresses), each side
 * numbering its bytes from its ISN. Every call appends one packet at `ms`.
 */
export class Conversation {
  readonly packets: Timed[] = [];
  #seq = { client: 0, server: 0 };
  #ipId = { client: 0x100, server: 0x900 };

  constructor(
    readonly clientIsn = 0xfffffff0, // close to 2^32: the numbers wrap during the test
    readonly serverIsn = 0x7000_0000,
    readonly clientPort = CLIENT_PORT,
    readonly client = CLIENT,
    readonly server = SERVER,
  ) {
    this.#seq = { client: (clientIsn + 1) >>> 0, server: (serverIsn + 1) >>> 0 };
  }

  /** SYN, SYN-ACK, ACK. */
  handshake(ms: number): this {
    this.#push('client', this.clientIsn, 0, SYN, new Uint8Array(0), ms);
    this.#push('server', this.serverIsn, this.#seq.client, SYN | ACK, new Uint8Array(0), ms + 0.1);
    this.#push('client', this.#seq.client, this.#seq.server, ACK, new Uint8Array(0), ms + 0.2);
    return this;
  }

  /** `from` sends `data` as the next bytes of its stream (flags PSH ACK unless given). */
  send(from: 'client' | 'server', data: Uint8Array, ms: number, flags = PSH | ACK): this {
    const seq = this.#seq[from];
    this.#push(from, seq, this.#other(from), flags, data, ms);
    this.#seq[from] = (seq + data.length + ((flags & FIN) !== 0 ? 1 : 0)) >>> 0;
    return this;
  }

  /** `from` sends `data` again from byte `at` of its stream (a retransmission: a new IP id). */
  resend(from: 'client' | 'server', at: number, data: Uint8Array, ms: number): this {
    const isn = from === 'client' ? this.clientIsn : this.serverIsn;
    this.#push(from, (isn + 1 + at) >>> 0, this.#other(from), PSH | ACK, data, ms);
    return this;
  }

  /** `from` skips `n` bytes of its stream (sent, not captured). */
  skip(from: 'client' | 'server', n: number): this {
    this.#seq[from] = (this.#seq[from] + n) >>> 0;
    return this;
  }

  /** A FIN from each side. */
  close(ms: number): this {
    this.send('client', new Uint8Array(0), ms, FIN | ACK);
    this.send('server', new Uint8Array(0), ms + 0.1, FIN | ACK);
    return this;
  }

  #other(from: 'client' | 'server'): number {
    return this.#seq[from === 'client' ? 'server' : 'client'];
  }

  #push(
    from: 'client' | 'server',
    seq: number,
    ack: number,
    flags: number,
    data: Uint8Array,
    ms: number,
  ): void {
    const id = this.#ipId[from]++;
    const frame =
      from === 'client'
        ? tcpFrame(this.client, this.server, this.clientPort, 53, seq, ack, flags, data, id)
        : tcpFrame(this.server, this.client, 53, this.clientPort, seq, ack, flags, data, id);
    this.packets.push({ frame, ms });
  }
}

/** Pieces of `bytes` cut at the given offsets. */
export function cut(bytes: Uint8Array, ...at: number[]): Uint8Array[] {
  const bounds = [0, ...at, bytes.length];
  return bounds.slice(1).map((e, i) => bytes.subarray(bounds[i], e));
}

/** A classic pcap (ns, little-endian, Ethernet) of the packets, in order. */
export function pcapFile(packets: readonly Timed[]): Uint8Array {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b23c4d, 0); // nanosecond pcap
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16); // snaplen
  header.writeUInt32LE(1, 20); // EN10MB
  const parts: Buffer[] = [header];
  for (const p of packets) {
    const r = Buffer.alloc(16);
    const ns = Math.round(p.ms * 1e6);
    r.writeUInt32LE(START_SEC + Math.floor(ns / 1e9), 0);
    r.writeUInt32LE(ns % 1e9, 4);
    r.writeUInt32LE(p.frame.length, 8);
    r.writeUInt32LE(p.frame.length, 12);
    parts.push(r, Buffer.from(p.frame));
  }
  return new Uint8Array(Buffer.concat(parts));
}
