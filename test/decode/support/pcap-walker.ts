// A tiny pcap record walker for decode tests only (the real, incremental reader is
// src/framing's). Reads classic pcap in either byte order, µs or ns (magic
// a1b2c3d4 / a1b23c4d, as written or swapped). Returns null for anything else
// (pcapng, broken headers): tests that need those use the framing reader.

export interface WalkedPacket {
  /** 1-based, like tshark's frame.number */
  number: number;
  /** bytes of the packet are file[offset, offset + caplen) */
  offset: number;
  caplen: number;
  len: number;
  tsSec: number;
  /** µs or ns by `nanosecond` */
  tsFrac: number;
}

export interface WalkedPcap {
  linktype: number;
  nanosecond: boolean;
  bigEndian: boolean;
  packets: WalkedPacket[];
}

const PCAP_FILE_HEADER_LEN = 24;
const PCAP_RECORD_HEADER_LEN = 16;

export function walkPcap(file: Uint8Array): WalkedPcap | null {
  if (file.length < PCAP_FILE_HEADER_LEN) return null;
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magicBe = view.getUint32(0, false);
  let bigEndian: boolean;
  if (magicBe === 0xa1b2c3d4 || magicBe === 0xa1b23c4d) bigEndian = true;
  else if (magicBe === 0xd4c3b2a1 || magicBe === 0x4d3cb2a1) bigEndian = false;
  else return null;
  const nanosecond = magicBe === 0xa1b23c4d || magicBe === 0x4d3cb2a1;
  const le = !bigEndian;
  const linktype = view.getUint32(20, le);
  const packets: WalkedPacket[] = [];
  let o = PCAP_FILE_HEADER_LEN;
  while (file.length - o >= PCAP_RECORD_HEADER_LEN) {
    const tsSec = view.getUint32(o, le);
    const tsFrac = view.getUint32(o + 4, le);
    const caplen = view.getUint32(o + 8, le);
    const len = view.getUint32(o + 12, le);
    const offset = o + PCAP_RECORD_HEADER_LEN;
    if (caplen > file.length - offset) break; // cut record: stop like tcpdump
    packets.push({ number: packets.length + 1, offset, caplen, len, tsSec, tsFrac });
    o = offset + caplen;
  }
  return { linktype, nanosecond, bigEndian, packets };
}
