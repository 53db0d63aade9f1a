// Many local captures (root namespace or any named namespace) run as one source:
// each interface gets a run-wide id and a label (DESIGN §3), batches from all of
// them reach one callback, and an interface that vanishes is reported, not fatal.
import { interfaceLabel, type InterfaceDescriptor, type InterfaceStats } from '../events/types.js';
import { LiveCapture, netnsPathOf, type PacketBatchView } from './live-capture.js';
import type { CaptureError } from './native-addon.js';

export interface LocalTarget {
  /** named namespace or `pid:N`; null for this process's namespace */
  netns: string | null;
  iface: string;
  /** its own addresses (`10.0.0.1/24`), where the caller listed them */
  addresses?: string[];
}

export interface LocalCaptureOptions {
  filter?: string;
  bufferSize?: number;
  snaplen?: number;
  /**
   * Immediate mode hands each packet over at once but, on links with offloads, uses
   * 64 KiB ring slots and loses bursts; the default (false) uses TPACKET_V3 blocks —
   * at most ~10 ms later, and drop-free at rates where immediate mode drops.
   */
  immediate?: boolean;
}

export interface LocalCaptureHandlers {
  onBatch(batch: PacketBatchView, iface: InterfaceDescriptor): void;
  /** the interface went away (a tap deleted with its VM); the other captures go on */
  onGone?(iface: InterfaceDescriptor, err: CaptureError): void;
}

export class LocalCaptureSet {
  private constructor(
    readonly interfaces: InterfaceDescriptor[],
    private readonly captures: LiveCapture[],
  ) {}

  /** Opens every target (all or nothing: a failure closes what was opened and throws). */
  static open(
    targets: readonly LocalTarget[],
    options: LocalCaptureOptions = {},
    firstId = 0,
  ): LocalCaptureSet {
    const captures: LiveCapture[] = [];
    const interfaces: InterfaceDescriptor[] = [];
    try {
      targets.forEach((t, i) => {
        const capture = LiveCapture.open({
          iface: t.iface,
          netnsPath: t.netns === null ? undefined : netnsPathOf(t.netns),
          filter: options.filter,
          bufferSize: options.bufferSize,
          snaplen: options.snaplen,
          immediate: options.immediate ?? false,
          interfaceId: firstId + i,
        });
        captures.push(capture);
        const loc = { host: null, netns: t.netns, name: t.iface };
        interfaces.push({
          ...loc,
          id: firstId + i,
          label: interfaceLabel(loc),
          linktype: capture.linktype,
          snaplen: capture.snaplen,
          tsResolutionNs: capture.tsPrecision === 'nano' ? 1 : 1000,
          addresses: t.addresses ?? [],
        });
      });
    } catch (err) {
      for (const c of captures) c.close();
      throw err;
    }
    return new LocalCaptureSet(interfaces, captures);
  }

  start(handlers: LocalCaptureHandlers): void {
    this.captures.forEach((capture, i) => {
      const iface = this.interfaces[i];
      capture.start(
        (batch) => handlers.onBatch(batch, iface),
        (err) => handlers.onGone?.(iface, err),
      );
    });
  }

  stats(): InterfaceStats[] {
    return this.captures.map((c) => c.stats());
  }

  /** Stops and closes every capture; returns their final counters. Idempotent. */
  close(): InterfaceStats[] {
    for (const c of this.captures) c.close();
    return this.stats();
  }
}
