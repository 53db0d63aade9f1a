// Loader and types of hopscope's own N-API addon (native/; docs/architecture.md "Stages").
//
// The addon owns live capture: it opens libpcap inside a network namespace,
// reads packets in batches with the kernel's nanosecond timestamps, and reports
// pcap_stats. Loaded lazily, so that replay and the lab work on a machine where
// it was never built; the error then says how to build it.
//
// Batch layout (the contract with native/capture_handle.h): a batch is
// `byteLength` bytes at the start of an ArrayBuffer holding `count` records
// back to back, each starting at a multiple of 8, header words in host byte
// order (read them through a Uint32Array over the same buffer):
//
//   word  byte  field
//   0     0     tsSec, low 32 bits     ┐ seconds since 1970
//   1     4     tsSec, high 32 bits    ┘
//   2     8     tsNsec (0..999999999)  kernel timestamp, nanoseconds
//   3     12    caplen                 bytes stored after the header
//   4     16    len                    length on the wire
//   5     20    reserved (0)
//         24    caplen packet bytes, then zero padding to a multiple of 8
//
// Ownership: the addon reuses one ArrayBuffer per capture; a batch's bytes are
// valid until the next batch (the next read(), or the return of the onBatch
// callback). Whoever keeps bytes longer copies them.

import { createRequire } from 'node:module';
import path from 'node:path';
import type { EpbConverter } from '../framing/epb-converter.js';
import { findProjectFile } from '../shared/project-file.js';

export const RECORD_HEADER_BYTES = 24;
/** Index of each header field in a Uint32Array view, relative to the record's offset / 4. */
export const RECORD_WORD = { TS_SEC_LO: 0, TS_SEC_HI: 1, TS_NSEC: 2, CAPLEN: 3, LEN: 4 } as const;

export type CaptureErrorCode =
  | 'ERR_NO_SUCH_DEVICE'
  | 'ERR_NETNS_NOT_FOUND'
  | 'ERR_NETNS'
  | 'ERR_PERMISSION'
  | 'ERR_IFACE_DOWN'
  | 'ERR_BAD_FILTER'
  | 'ERR_IFACE_GONE'
  | 'ERR_CAPTURE'
  | 'ERR_CLOSED'
  | 'ERR_STARTED'
  | 'ERR_INVALID_ARG'
  | 'ERR_ADDON_MISSING';

/** Every error the addon throws or reports: the message names interface and namespace. */
export interface CaptureError extends Error {
  code: CaptureErrorCode;
}

const CAPTURE_ERROR_CODES: ReadonlySet<string> = new Set<CaptureErrorCode>([
  'ERR_NO_SUCH_DEVICE',
  'ERR_NETNS_NOT_FOUND',
  'ERR_NETNS',
  'ERR_PERMISSION',
  'ERR_IFACE_DOWN',
  'ERR_BAD_FILTER',
  'ERR_IFACE_GONE',
  'ERR_CAPTURE',
  'ERR_CLOSED',
  'ERR_STARTED',
  'ERR_INVALID_ARG',
  'ERR_ADDON_MISSING',
]);

export function isCaptureError(err: unknown): err is CaptureError {
  if (!(err instanceof Error)) return false;
  const code: unknown = (err as Error & { code?: unknown }).code;
  return typeof code === 'string' && CAPTURE_ERROR_CODES.has(code);
}

export interface NativeOpenOptions {
  iface: string;
  /** `/var/run/netns/<name>`, `/proc/<pid>/ns/net`; absent or null: this process's namespace. */
  netnsPath?: string | null;
  /** tcpdump filter syntax, compiled (optimized) and installed in the kernel. */
  filter?: string;
  /** 1..262144, default 262144 */
  snaplen?: number;
  /** kernel ring size in bytes, default 4 MiB */
  bufferSize?: number;
  /** default true, like tcpdump */
  promisc?: boolean;
  /**
   * default true: each packet is handed over at once (TPACKET_V2 ring of
   * fixed ~64 KiB slots on offloading interfaces: few packets of headroom).
   * false: TPACKET_V3 blocks, packets packed densely, handed over within 50 ms
   * — far fewer drops under bursts (see native/addon.cc for the measurement).
   */
  immediate?: boolean;
  /** batch buffer size in bytes, default 1 MiB, at least two maximum-size records */
  batchBytes?: number;
}

export interface NativeBatch {
  buffer: ArrayBuffer;
  count: number;
  byteLength: number;
  /** packets are probably still waiting (the batch hit maxPackets or filled the buffer) */
  more: boolean;
}

export interface NativeStats {
  /** packets that passed the filter, dropped ones included (Linux ps_recv) */
  received: number;
  /** dropped by the kernel because the ring was full */
  dropped: number;
  /** dropped by the interface; null where unknown (not promiscuous, or in another namespace) */
  ifDropped: number | null;
}

/**
 * One batch; `more`: it ended full, so the ring may hold more — after a wake's last
 * batch (capture_handle.h "Event-driven reading"), packets after it may wait unread.
 * An empty batch (count 0, more false) says the ring was then read to its end.
 */
export type NativeBatchCallback = (
  buffer: ArrayBuffer,
  count: number,
  byteLength: number,
  more: boolean,
) => void;

export interface NativeCaptureHandle {
  /** LINKTYPE_* number of the interface (1 = EN10MB) */
  readonly linktype: number;
  readonly snaplen: number;
  /** pcap's selectable fd (non-blocking), -1 once closed */
  readonly fd: number;
  readonly tsPrecision: 'nano' | 'micro';
  /** pcap_activate's warning (e.g. promiscuous mode not supported), or null */
  readonly warning: string | null;
  readonly closed: boolean;
  readonly started: boolean;
  readonly batchCapacity: number;
  /**
   * Inode of the network namespace the capture was opened in (fstat of the very fd
   * entered), null in this process's own: compared with the inode behind the path now,
   * it tells whether the namespace was deleted, or deleted and re-created under its name.
   */
  readonly netnsInode: number | null;
  setFilter(expression: string): void;
  /** Drains up to maxPackets (default 4096) into the batch buffer, without waiting. Not while started. */
  read(maxPackets?: number): NativeBatch;
  /**
   * Event-driven reading on Node's event loop (uv_poll on the pcap fd): onBatch
   * once per batch; onError once if the capture fails (code ERR_IFACE_GONE when
   * the interface disappeared), after which the handle is stopped but open.
   * A started handle keeps the process alive, like a listening socket.
   */
  start(
    onBatch: NativeBatchCallback,
    onError: (err: CaptureError) => void,
    maxPacketsPerBatch?: number,
  ): void;
  stop(): void;
  stats(): NativeStats;
  /** Idempotent. */
  close(): void;
}

export interface NativeInterfaceAddress {
  family: 'ipv4' | 'ipv6';
  address: string;
  prefixLength: number | null;
}

export interface NativeInterfaceInfo {
  name: string;
  description: string | null;
  /** PCAP_IF_* flags */
  flags: number;
  up: boolean;
  running: boolean;
  loopback: boolean;
  addresses: NativeInterfaceAddress[];
  /** its Ethernet address (`fa:16:3e:00:00:01`); null: none (absent from an addon built before it) */
  mac?: string | null;
}

export interface NativeAddon {
  open(options: NativeOpenOptions): NativeCaptureHandle;
  /** pcap_findalldevs inside the namespace (also lists libpcap's pseudo-devices: any, nflog, dbus-*, ...). */
  listInterfaces(netnsPath?: string | null): NativeInterfaceInfo[];
  /** The same on libuv's thread pool; rejects with the same CaptureError. */
  listInterfacesAsync(netnsPath?: string | null): Promise<NativeInterfaceInfo[]>;
  /**
   * Interface `ifindex` of the namespace socket `socketFd` (a capture's fd) lives in,
   * or null. Absent from an addon built before it.
   */
  deviceAt?(socketFd: number, ifindex: number): { name: string; addresses: NativeInterfaceAddress[] } | null;
  readonly defaults: Readonly<{
    snaplen: number;
    bufferSize: number;
    batchBytes: number;
    promisc: boolean;
    immediate: boolean;
    maxPacketsPerBatch: number;
  }>;
  readonly recordHeaderBytes: number;
  readonly libpcapVersion: string;
  /**
   * A batch's records from byte `from` as pcapng EPBs written at out[at..outEnd)
   * (native/epb.h); returns the packets converted, state = [next from, next at].
   * Absent on big-endian hosts.
   */
  readonly batchToEpbs?: EpbConverter;
}

const ADDON_RELATIVE_PATH = path.join('native', 'build', 'Release', 'hopscope_native.node');

let loaded: NativeAddon | undefined;

function addonError(message: string): CaptureError {
  return Object.assign(new Error(message), { code: 'ERR_ADDON_MISSING' as const });
}

function findAddon(): string | undefined {
  return findProjectFile(import.meta.url, ADDON_RELATIVE_PATH) ?? undefined;
}

function isNativeAddon(value: unknown): value is NativeAddon {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.open === 'function' &&
    typeof v.listInterfaces === 'function' &&
    typeof v.listInterfacesAsync === 'function' &&
    v.recordHeaderBytes === RECORD_HEADER_BYTES
  );
}

/** The addon, loaded on first use; throws a CaptureError (ERR_ADDON_MISSING) saying how to build it. */
export function loadNativeAddon(): NativeAddon {
  if (loaded !== undefined) return loaded;
  const file = findAddon();
  if (file === undefined) {
    throw addonError(
      `hopscope's native capture addon is not built (${ADDON_RELATIVE_PATH} not found): ` +
        'run `npm run install` (node-gyp; needs libpcap-dev, g++, make)',
    );
  }
  let exported: unknown;
  try {
    exported = createRequire(import.meta.url)(file);
  } catch (err) {
    throw addonError(`cannot load ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isNativeAddon(exported)) {
    throw addonError(`${file} is not a compatible hopscope addon (rebuild it: npm run install)`);
  }
  loaded = exported;
  return loaded;
}

/** The addon's batch-to-EPB converter, or null where there is none (no addon, a big-endian host). */
export function nativeEpbConverter(): NonNullable<NativeAddon['batchToEpbs']> | null {
  try {
    return loadNativeAddon().batchToEpbs ?? null;
  } catch {
    return null; // remote interfaces only, without the addon: packet by packet
  }
}
