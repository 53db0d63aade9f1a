// What the framing stage hands on besides FramedPacket (src/events/types.ts): the
// interfaces and sections a capture describes, and the reader's handlers and limits.

import type { FramedPacket, InterfaceStats } from '../events/types.js';
import type { ReaderBudget } from './budget.js';

export type CaptureFormat = 'pcap' | 'pcapng';
export type ByteOrder = 'LE' | 'BE';

/** A timestamp unit of base^-exponent seconds (pcap: 10^-6 or 10^-9; pcapng if_tsresol). */
export interface TimestampResolution {
  readonly base: 10 | 2;
  readonly exponent: number;
}

/** One pcapng section, or the single "section" of a pcap file. */
export interface CaptureSection {
  /** 0-based, counted from the start of the stream */
  index: number;
  format: CaptureFormat;
  byteOrder: ByteOrder;
  versionMajor: number;
  versionMinor: number;
  /** opt_comment values of the Section Header Block (empty for pcap) */
  comments: string[];
  hardware: string | null;
  os: string | null;
  userAppl: string | null;
}

/** One capture interface as the file describes it (pcap: the file itself; pcapng: an IDB). */
export interface CaptureInterface {
  /**
   * 0-based and unique over the whole stream: pcapng interface ids restart in every
   * section, these do not. This is FramedPacket.interfaceId.
   */
  id: number;
  format: CaptureFormat;
  /** index of the section this interface belongs to */
  section: number;
  /** the id packets of its section use (what tshark prints as frame.interface_id) */
  sectionInterfaceId: number;
  /** LINKTYPE_* (pcap: low 16 bits of the link-type field) */
  linktype: number;
  /** 0 = no limit (pcapng) */
  snaplen: number;
  /** if_name, or null when not recorded (always null for pcap) */
  name: string | null;
  /** if_description */
  description: string | null;
  /** opt_comment values of the IDB */
  comments: readonly string[];
  tsResolution: TimestampResolution;
  /**
   * if_tsoffset, seconds added to every timestamp of this interface. Exact within
   * ±2^53; a larger one is rounded here (timestamps still add it exactly).
   */
  tsOffsetSec: number;
  /**
   * Bytes of frame check sequence at the end of every packet: pcap link-type FCS bits
   * (when the F bit says they are present), pcapng if_fcslen; null when unknown.
   */
  fcsLen: number | null;
  /** stream offset of the Interface Description Block (pcap: 0, the file header) */
  blockOffset: number;
  /**
   * if_IPv4addr / if_IPv6addr: the interface's own addresses as `a.b.c.d/len` and
   * `x::y/len` (interface-address.ts), at most MAX_INTERFACE_ADDRESSES; empty for pcap.
   */
  addresses: readonly string[];
  /** if_MACaddr as `fa:16:3e:00:00:01`; null when not recorded (always for pcap) */
  mac: string | null;
}

/**
 * The reused packet record a reader hands to onPacket: a FramedPacket plus where it
 * came from. Like FramedPacket, valid only during the callback.
 */
export interface CapturePacket extends FramedPacket {
  /** 1-based number of the packet in its stream */
  packetNumber: number;
  /** pcapng opt_comment of the packet, decoded only with `packetComments: true`; else null */
  comment: string | null;
  /**
   * false for a pcapng Simple Packet Block, which records no time: its timestamp is
   * then the previous packet's of the stream (0 before any), so ordering still holds.
   */
  hasTimestamp: boolean;
}

export interface CaptureHandlers {
  /** Called for every interface before any packet of it. */
  onInterface(iface: CaptureInterface): void;
  onPacket(packet: CapturePacket): void;
  /**
   * pcapng Interface Statistics Blocks: each one when read (final: false), and at a
   * clean end() the last one of every interface again with final: true.
   */
  onStats?(stats: InterfaceStats): void;
  /** Things a reader works around: a capture cut short, an odd but readable record. */
  onWarning?(message: string): void;
  onSection?(section: CaptureSection): void;
}

export interface CaptureReaderOptions {
  /**
   * Largest pcapng block accepted, and ceiling of pcap record sizes, in bytes.
   * Default MAX_BLOCK_BYTES (16 MiB, libpcap's initial pcapng limit).
   */
  maxBlockBytes?: number;
  /** Decode EPB/PB opt_comment into CapturePacket.comment (allocates a string per comment). */
  packetComments?: boolean;
  /**
   * A pcapng section whose version is not 1.0/1.2: 'error' (default, as tshark and
   * libpcap) or 'skip' its blocks up to the next Section Header Block, with a warning
   * (as gopacket's SkipUnknownVersion).
   */
  unknownSectionVersion?: 'error' | 'skip';
  /**
   * The budget the interfaces and their text count against (MAX_INTERFACES,
   * MAX_KEPT_TEXT_BYTES): a merge shares one among its files. Default: the stream's own.
   */
  budget?: ReaderBudget;
}

/** 16 MiB: libpcap's initial pcapng block limit, and our ceiling for any record. */
export const MAX_BLOCK_BYTES = 16 * 1024 * 1024;

// What a reader keeps about a stream grows with what the stream describes, not with its
// packets: interfaces and their text. Each is bounded (budget.ts), so a hostile file (a
// million Interface Description Blocks in 20 MB) is refused at the block that goes over,
// with its offset, instead of taking gigabytes. Real captures stay far below: hopscope's
// own recordings have one interface per captured device and a few short comments.

/** Interfaces one pcapng section may describe (its ids run 0 .. 65535). */
export const MAX_SECTION_INTERFACES = 65_536;
// (the budget that counts against them declares them: budget.ts)
export { MAX_INTERFACES, MAX_KEPT_TEXT_BYTES } from './budget.js';
/**
 * Most addresses (if_IPv4addr and if_IPv6addr options together) one pcapng interface
 * may have: more is a hostile or broken file (an IDB of 16 MiB would hold a million),
 * an error. hopscope's own writer never writes more.
 */
export const MAX_INTERFACE_ADDRESSES = 64;
