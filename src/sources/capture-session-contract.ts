// What a capture session (capture-session.ts) is given and calls: its options, and the
// handlers every packet, interface, state change and counter of the run reaches.
import type { FramedPacket, InterfaceDescriptor, InterfaceState, InterfaceStats } from '../events/types.js';
import type { PacketBatchView } from './live-capture.js';
import type { BackoffOptions } from './remote-backoff.js';
import type { CaptureSpec, CaptureTarget } from './spec.js';

export interface CaptureSessionOptions {
  /** tcpdump filter syntax, in the kernel of every source */
  filter?: string;
  snaplen?: number;
  /** kernel ring per local interface, bytes (-B); absent: shared within RING_TOTAL_BYTES (ring-budget.ts) */
  bufferSize?: number;
  /** `ssh -F` for remote hosts */
  sshConfig?: string;
  /** how often counters are read, default 250 ms (namespaces are listed every DISCOVERY_MS) */
  pollIntervalMs?: number;
  /** remote: program on the host (tests name a missing one) */
  tcpdumpPath?: string;
  /** remote: how ssh is run */
  sshProgram?: readonly string[];
  remoteBackoff?: Partial<BackoffOptions>;
  remoteStartTimeoutMs?: number;
  /**
   * How cloud identities (port:, router:, dhcp:, ip:) become targets: from a listing of
   * their own, by the path module (src/path/identity.ts), which sources do not import —
   * the command hands it in. Without it a spec naming one is refused.
   */
  identities?: IdentityResolver;
}

/** Cloud identity specs → their capture targets (the others are not looked at). */
export type IdentityResolver = (
  specs: readonly CaptureSpec[],
  options: { sshConfig?: string },
) => Promise<Map<CaptureSpec, CaptureTarget[]>>;

export interface CaptureSessionHandlers {
  /**
   * An interface's id becomes known: before any of its packets (the recorder adds its IDB
   * here). Again, same id, when it came back with other addresses or another link type.
   */
  onInterface(iface: InterfaceDescriptor): void;
  /** The record is reused and `data` valid only during the call (copy what you keep). */
  onPacket(packet: FramedPacket, iface: InterfaceDescriptor): void;
  /**
   * A local capture's batch, every packet of `iface` (the addon's buffer, valid during the
   * call): when given, it takes the batch instead of onPacket taking each of its packets —
   * it walks them itself (batch.forEach), and may record the batch in one go.
   */
  onBatch?(batch: PacketBatchView, iface: InterfaceDescriptor): void;
  /** After a batch of packets: a point to flush output. */
  onBatchEnd?(): void;
  /** up / gone / retrying / stopped, with a reason (null for up). */
  onState?(iface: CaptureTarget & { id: number }, state: InterfaceState, reason: string | null): void;
  /** Cumulative counters, once a second per local interface and when a remote session ends; final at stop. */
  onStats?(stats: InterfaceStats, iface: CaptureTarget & { id: number }): void;
  onWarning?(message: string): void;
  /** Something the user should know once, not a problem (the kernel rings scaled down). */
  onNotice?(message: string): void;
}
