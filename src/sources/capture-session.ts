// One capture run over every SPEC (docs/spec-grammar.md): local interfaces
// (root namespace, named namespaces, pid:N) through the native addon, remote ones
// through ssh + tcpdump; every interface gets a run-wide id and label, and every
// packet, state change and counter reaches one set of handlers.
//
// Lifecycle, because interfaces come and go while an incident is being chased:
//   - a local interface that disappears (tap deleted with its VM, link set down)
//     is marked `gone`; the others go on. Every poll (1 s) it is opened again, and
//     when that works it is `up` again with the same id and label.
//   - an interface's own addresses (InterfaceDescriptor.addresses) are those of the
//     listing that found it; a local one that comes back takes those of the listing
//     that saw it return, and is announced again (onInterface, same id) when they
//     changed. A remote one keeps those it was attached with (asking again would take
//     another ssh session each time).
//   - a namespace deleted (`ip netns del`, the process of pid:N gone) has its
//     interfaces marked `gone` and their captures closed: an open packet socket
//     keeps a namespace alive, with its veths. One deleted and created again under
//     its name is another namespace: captured there, like an interface coming back.
//   - a SPEC with a glob is asked again every poll: an interface that now matches
//     (a new tap, a new qrouter namespace) is attached with a new id.
//   - remote interfaces restart themselves (RemoteCapture: gone/retrying, backoff);
//     remote globs are re-asked over ssh, one request at a time per host.
//   - counters: pcap_stats polled every COUNTER_POLL_MS (counter-poll.ts), cumulative over re-attachments.
//   - kernel rings: RingBudget bounds them in all (ring-budget.ts).
import {
  interfaceLabel,
  type CaptureDevice,
  type InterfaceLocation,
  type InterfaceState,
  type InterfaceStats,
} from '../events/types.js';
import type { CaptureSessionHandlers, CaptureSessionOptions } from './capture-session-contract.js';
import { discoverInterfaces, type HostInventory } from './discovery.js';
import { listNamespaces, namespacesToList } from './local-listing.js';
import { LiveCapture, netnsPathOf, type PacketBatchView } from './live-capture.js';
import { LocalInterface } from './local-interface.js';
import type { CaptureError } from './native-addon.js';
import { isCaptureError } from './native-addon.js';
import { absent, namespaceLostReason, sameAddresses } from './netns-follow.js';
import { RemoteCapture, RemoteCaptureError } from './remote-capture.js';
import { COUNTER_POLL_MS } from './counter-poll.js';
export type {
  CaptureSessionHandlers,
  CaptureSessionOptions,
  IdentityResolver,
} from './capture-session-contract.js';
import { mappedRingBytes, RingBudget } from './ring-budget.js';
import {
  captureTarget,
  resolveSpecs,
  SpecError,
  specIsOpen,
  specMatches,
  specSelectsNamespace,
  type CaptureSpec,
  type CaptureTarget,
  type FoundInterface,
} from './spec.js';

// Counters are read this often so that a drop is known before the verdicts of its time
// are given (the capture command holds verdicts for longer than this).
const DEFAULT_POLL_MS = COUNTER_POLL_MS;
/**
 * Local namespaces are listed (links down or up, interfaces back, new glob matches) this
 * often: an interface that appears is attached within about a second. Listing one costs
 * a thread entering the namespace and pcap_findalldevs — with 100 namespaces, every
 * 250 ms took most of a core.
 */
const DISCOVERY_MS = 1000;
/** Several times the addon's ring-block timeout (50 ms, native/capture_handle.h). */
const LOCAL_STOP_SETTLE_MS = 150;

interface RemoteEntry {
  kind: 'remote';
  target: CaptureTarget;
  id: number;
  capture: RemoteCapture;
}

type Entry = LocalInterface | RemoteEntry;

/** A capture that cannot start; one line for the user. */
export class CaptureStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaptureStartError';
  }
}

export class CaptureSession {
  readonly #specs: readonly CaptureSpec[];
  readonly #options: CaptureSessionOptions;
  readonly #entries: Entry[] = [];
  readonly #byLabel = new Map<string, Entry>();
  #handlers: CaptureSessionHandlers | null = null;
  #timer: NodeJS.Timeout | null = null;
  #remotePolls = new Map<string, Promise<void>>();
  /** the local namespaces being listed (#discoverLocal), or null */
  #localDiscovery: Promise<void> | null = null;
  /** when the last #discoverLocal began (performance.now) */
  #discoveredAt = -Infinity;
  #stopped = false;
  #nextId = 0;
  readonly #rings: RingBudget;

  private constructor(
    specs: readonly CaptureSpec[],
    targets: readonly CaptureTarget[],
    options: CaptureSessionOptions,
  ) {
    this.#specs = specs;
    this.#options = options;
    this.#rings = new RingBudget(options.bufferSize);
    for (const t of targets) this.#addTarget(t);
  }

  /**
   * Asks every host named by the specs what exists and resolves the specs (a spec
   * that matches nothing throws a SpecError listing what exists; a cloud identity,
   * the nearest names). Nothing is opened yet.
   */
  static async resolve(
    specs: readonly CaptureSpec[],
    options: CaptureSessionOptions = {},
  ): Promise<CaptureSession> {
    // Cloud identities (port:, router:, dhcp:, ip:) name their interfaces from a listing of their own.
    const withIdentity = specs.find((s) => s.identity !== undefined);
    if (withIdentity !== undefined && options.identities === undefined)
      throw new SpecError(`${JSON.stringify(withIdentity.text)}: cloud identities are not resolved here`);
    const named =
      options.identities === undefined
        ? new Map<CaptureSpec, CaptureTarget[]>()
        : await options.identities(specs, { sshConfig: options.sshConfig });
    const plain = specs.filter((s) => s.identity === undefined);
    const inventories = await Promise.all(
      [...new Set(plain.map((s) => s.host))].map((host) => {
        const forHost = plain.filter((s) => s.host === host);
        const scope = forHost.some((s) => s.netns.kind !== 'root') ? 'all' : 'root';
        const pids = forHost.flatMap((s) => (s.netns.kind === 'pid' ? [s.netns.pid] : []));
        return discoverInterfaces({ host, scope, pids, sshConfig: options.sshConfig });
      }),
    );
    // In the order the specs were given (the first target's host is the clock reference), each once.
    const targets: CaptureTarget[] = [];
    const seen = new Set<string>();
    for (const spec of specs) {
      for (const t of named.get(spec) ?? resolveSpecs([spec], inventories)) {
        if (seen.has(t.label)) continue;
        seen.add(t.label);
        targets.push(t);
      }
    }
    return new CaptureSession(plain, targets, options);
  }

  /** Targets in id order (grows as globs attach new interfaces). */
  get targets(): Array<CaptureTarget & { id: number }> {
    return this.#entries.map((e) => ({ ...e.target, id: e.id }));
  }

  get hasRemote(): boolean {
    return this.#entries.some((e) => e.kind === 'remote');
  }

  /**
   * The earliest time (epoch seconds) after which packets of a local capture may still
   * wait unread in its kernel ring — its last batch ended full, and the event loop's
   * turn came before the rest was read (native/capture_handle.h) — or null when every
   * ring was read to its end. Nothing stamped later may be judged yet.
   */
  unreadAfter(): number | null {
    let earliest: number | null = null;
    for (const e of this.#entries)
      if (e.kind === 'local' && e.unreadAfterS >= 0 && (earliest === null || e.unreadAfterS < earliest))
        earliest = e.unreadAfterS;
    return earliest;
  }

  /** An id no interface of this run has (for a device of an `any` capture: framing/device-split.ts). */
  newInterfaceId(): number {
    return this.#nextId++;
  }

  /**
   * Device `ifindex` of capture `id` (an `any` capture) as its namespace has it now; null
   * when that capture is remote (its packets alone do not say) or not open.
   */
  deviceAt(id: number, ifindex: number): CaptureDevice | null {
    const e = this.#entries.find((x) => x.id === id);
    return e?.kind === 'local' && e.capture !== null ? e.capture.deviceAt(ifindex) : null;
  }

  #addTarget(target: CaptureTarget): Entry {
    const id = this.#nextId++;
    let entry: Entry;
    if (target.host === null) {
      entry = new LocalInterface(target, id);
    } else {
      entry = { kind: 'remote', target, id, capture: this.#remoteCapture(target, id) };
    }
    this.#entries.push(entry);
    this.#byLabel.set(target.label, entry);
    return entry;
  }

  #remoteCapture(target: CaptureTarget, id: number): RemoteCapture {
    const info = { ...target, id };
    return new RemoteCapture(
      {
        host: target.host as string,
        netns: target.netns,
        iface: target.name,
        filter: this.#options.filter,
        sshConfig: this.#options.sshConfig,
        snaplen: this.#options.snaplen,
        interfaceId: id,
        addresses: target.addresses,
        mac: target.mac ?? null,
        tcpdumpPath: this.#options.tcpdumpPath,
        sshProgram: this.#options.sshProgram,
        backoff: this.#options.remoteBackoff,
        startTimeoutMs: this.#options.remoteStartTimeoutMs,
      },
      {
        onInterface: (desc) => this.#handlers?.onInterface(desc),
        onPacket: (p) => {
          const h = this.#handlers;
          const entry = this.#byLabel.get(target.label) as RemoteEntry;
          const desc = entry.capture.descriptor;
          if (h !== null && desc !== null) h.onPacket(p, desc);
        },
        onBatchEnd: () => this.#handlers?.onBatchEnd?.(),
        onState: (state, reason) => this.#handlers?.onState?.(info, state, reason),
        onStats: (stats) => this.#handlers?.onStats?.(stats, info),
        onWarning: (message) => this.#handlers?.onWarning?.(message),
      },
    );
  }

  /**
   * Opens every local capture and starts every remote one. All or nothing: when one
   * cannot start (no permission, a bad filter, ssh or tcpdump failing), everything
   * opened is closed and a CaptureStartError says why. A local interface that is
   * absent at this moment (it matched during resolve and vanished) starts `gone`.
   */
  async start(handlers: CaptureSessionHandlers): Promise<void> {
    this.#handlers = handlers;
    const notice = this.#rings.plan(this.#entries.filter((e) => e.kind === 'local').length);
    if (notice !== null) handlers.onNotice?.(notice);
    try {
      for (const e of this.#entries) if (e.kind === 'local') this.#openLocal(e, true);
      const remotes = this.#entries.filter((e): e is RemoteEntry => e.kind === 'remote');
      const started = await Promise.allSettled(remotes.map((e) => e.capture.start()));
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) {
        const err: unknown = failed.reason;
        throw new CaptureStartError(err instanceof Error ? err.message : String(err));
      }
    } catch (err) {
      await this.stop();
      if (err instanceof CaptureStartError) throw err;
      if (isCaptureError(err) || err instanceof RemoteCaptureError) throw new CaptureStartError(err.message);
      throw err;
    }
    const poll = this.#options.pollIntervalMs ?? DEFAULT_POLL_MS;
    this.#timer = setInterval(() => this.#poll(), poll);
  }

  /** Opens a local capture; `initial` makes errors other than absence fatal. */
  #openLocal(e: LocalInterface, initial: boolean): void {
    const t = e.target;
    let open = 0;
    let openBytes = 0;
    for (const o of this.#entries) {
      if (o.kind === 'local' && o.capture !== null) {
        open++;
        openBytes += o.ringBytes;
      }
    }
    const ring = this.#rings.sizeFor(open, openBytes);
    let capture: LiveCapture;
    try {
      capture = LiveCapture.open({
        iface: t.name,
        netnsPath: t.netns === null ? undefined : netnsPathOf(t.netns),
        filter: this.#options.filter,
        snaplen: this.#options.snaplen,
        bufferSize: ring.bytes,
        // TPACKET_V3 blocks: drop-free in bursts where immediate mode is not (LocalCaptureOptions).
        immediate: false,
        interfaceId: e.id,
      });
    } catch (err) {
      if (absent(err)) {
        if (e.state !== 'gone') this.#setState(e, 'gone', err.message);
        return;
      }
      if (initial) throw err;
      this.#handlers?.onWarning?.(`${t.label}: ${(err as Error).message}`);
      return;
    }
    if (ring.notice !== null) {
      this.#rings.told();
      this.#handlers?.onNotice?.(ring.notice);
    }
    if (capture.warning !== null) this.#handlers?.onWarning?.(`${t.label}: ${capture.warning}`);
    if (
      e.descriptor === null ||
      e.descriptor.linktype !== capture.linktype ||
      !sameAddresses(e.descriptor.addresses, e.addresses)
    ) {
      if (e.descriptor !== null && e.descriptor.linktype !== capture.linktype) {
        // Same name, different link type: a different interface in all but name.
        this.#handlers?.onWarning?.(
          `${t.label}: came back with another link type; recorded as a new interface`,
        );
      }
      e.descriptor = {
        host: null,
        netns: t.netns,
        name: t.name,
        id: e.id,
        label: t.label,
        linktype: capture.linktype,
        snaplen: capture.snaplen,
        // The addon asks libpcap for nanosecond stamps; where it refused, µs ones are scaled.
        tsResolutionNs: capture.tsPrecision === 'nano' ? 1 : 1000,
        addresses: e.addresses,
        mac: t.mac ?? null,
      };
      this.#handlers?.onInterface(e.descriptor);
    }
    e.attach(capture, mappedRingBytes(ring.bytes));
    const handlers = this.#handlers;
    capture.start(
      (batch: PacketBatchView) => {
        // (per batch: the descriptor is replaced when the interface's addresses change)
        const desc = e.descriptor;
        e.unreadAfterS = batch.more && batch.lastTsSec >= 0 ? batch.lastTsSec + batch.lastTsNsec / 1e9 : -1;
        // (an empty batch only says the ring was read to its end)
        if (handlers === null || desc === null || batch.count === 0) return;
        if (handlers.onBatch !== undefined) handlers.onBatch(batch, desc);
        else batch.forEach((p) => handlers.onPacket(p, desc));
        handlers.onBatchEnd?.();
      },
      (err) => this.#lost(e, err),
    );
    this.#setState(e, 'up', null);
  }

  #lost(e: LocalInterface, err: CaptureError): void {
    if (e.capture === null) return;
    e.retire();
    this.#setState(e, 'gone', err.message);
  }

  #setState(e: LocalInterface, state: InterfaceState, reason: string | null): void {
    if (e.state === state) return;
    e.state = state;
    this.#handlers?.onState?.({ ...e.target, id: e.id }, state, reason);
  }

  /**
   * Reads the local captures' kernel counters now (pcap_stats, a getsockopt each) and
   * reports those that changed — with `dropsOnly`, those whose drop counter grew. The
   * poll reports every change, every COUNTER_POLL_MS; live judging reads before each
   * judge tick for drops only, so that a drop before a deadline is known when the
   * exchange is judged whatever the poll's phase (and the counters of a busy interface
   * are not reported ten times a second).
   */
  readCounters(dropsOnly = false): void {
    if (this.#stopped) return;
    for (const e of this.#entries) {
      if (e.kind !== 'local') continue;
      const s = e.changedStats(dropsOnly);
      if (s !== null) this.#handlers?.onStats?.(s, { ...e.target, id: e.id });
    }
  }

  #poll(): void {
    if (this.#stopped) return;
    this.readCounters();
    if (this.#localDiscovery === null && performance.now() - this.#discoveredAt >= DISCOVERY_MS) {
      this.#discoveredAt = performance.now();
      this.#localDiscovery = this.#discoverLocal()
        .catch((err: unknown) => {
          this.#handlers?.onWarning?.(
            `looking for interfaces: ${err instanceof Error ? err.message : String(err)}`,
          );
        })
        .finally(() => {
          this.#localDiscovery = null;
        });
    }
    for (const host of new Set(
      this.#specs.filter((s) => s.host !== null && specIsOpen(s)).map((s) => s.host),
    )) {
      if (host !== null && !this.#remotePolls.has(host)) {
        const p = this.#attachRemoteMatches(host).finally(() => this.#remotePolls.delete(host));
        this.#remotePolls.set(host, p);
      }
    }
  }

  /**
   * Lists the local namespaces that matter — those of the captured interfaces and those
   * an open glob selects — off this thread (local-listing.ts), then acts on what they
   * hold now:
   * - a link set down (a DHCP client, `ip link set … down`) keeps its packet socket but
   *   carries nothing: it is shown `gone` while down and `up` again when it comes back,
   *   without re-opening (so nothing between is lost);
   * - an interface that went away is re-opened once it is listed again;
   * - a namespace whose name leads nowhere now, or to another namespace than the one a
   *   capture was opened in (compared by inode), lost its interfaces: their captures are
   *   closed (an open packet socket would keep it, and its veths, alive) and shown `gone`;
   *   listed again under that name, they are re-opened in the new namespace;
   * - interfaces that match a glob and are not captured yet get attached.
   */
  async #discoverLocal(): Promise<void> {
    const open = this.#specs.filter((s) => s.host === null && specIsOpen(s));
    const captured: Array<string | null> = [];
    for (const e of this.#entries) if (e.kind === 'local') captured.push(e.target.netns);
    const { interfaces: listed, inodes } = await listNamespaces(namespacesToList(captured, open));
    if (this.#stopped) return;
    for (const e of this.#entries) {
      if (e.kind !== 'local') continue;
      const netns = e.target.netns;
      const inode = netns === null ? undefined : inodes.get(netns);
      const opened = e.capture === null ? null : e.capture.netnsInode;
      // No namespace under the name now, or another one than the capture's (an addon
      // built before it reported inodes gives null: then only the first is told).
      const lost = inode === null || (inode !== undefined && opened !== null && inode !== opened);
      if (e.capture !== null && netns !== null && lost) {
        e.retire();
        this.#setState(e, 'gone', namespaceLostReason(netns, inode !== null));
      }
      const now = listed.get(netns)?.get(e.target.name);
      if (e.capture === null) {
        if (now !== undefined) {
          e.addresses = now.addresses;
          this.#openLocal(e, false);
        }
      } else if (e.target.name !== 'any' && now !== undefined) {
        if (!now.up)
          this.#setState(e, 'gone', 'link is down (still attached: capture resumes when it is up)');
        else if (e.state !== 'up') {
          // Its link up again (`ip link set … up`): with the addresses it has now.
          this.#readdress(e, now.addresses);
          this.#setState(e, 'up', null);
        }
      }
    }
    for (const [netns, names] of listed) {
      if (!open.some((s) => specSelectsNamespace(s, netns))) continue;
      for (const [name, found] of names) this.#attachIfNew(open, { host: null, netns, name }, found);
    }
  }

  /** Announces the interface again (same id) when its addresses are not those it was announced with. */
  #readdress(e: LocalInterface, addresses: string[]): void {
    e.addresses = addresses;
    const d = e.descriptor;
    if (d === null || sameAddresses(d.addresses, addresses)) return;
    e.descriptor = { ...d, addresses };
    this.#handlers?.onInterface(e.descriptor);
  }

  async #attachRemoteMatches(host: string): Promise<void> {
    const open = this.#specs.filter((s) => s.host === host && specIsOpen(s));
    let inv: HostInventory;
    try {
      const pids = open.flatMap((s) => (s.netns.kind === 'pid' ? [s.netns.pid] : []));
      const scope = open.some((s) => s.netns.kind !== 'root') ? 'all' : 'root';
      inv = await discoverInterfaces({ host, scope, pids, sshConfig: this.#options.sshConfig });
    } catch {
      return; // the host is unreachable for now; its captures report that themselves
    }
    if (this.#stopped) return;
    for (const ns of inv.inventories) {
      for (const iface of ns.interfaces)
        this.#attachIfNew(open, { host, netns: ns.netns, name: iface.name }, iface);
      // (`ip addr` lists no `any`: a namespace is one, named by the devices it holds)
      if (ns.error === null) {
        const devices = ns.interfaces.map(({ ifindex, name, addresses }) => ({ ifindex, name, addresses }));
        this.#attachIfNew(open, { host, netns: ns.netns, name: 'any' }, { addresses: [], devices });
      }
    }
  }

  /** Attaches the interface at `loc`, found after the start, when an open spec names it and it is not captured. */
  #attachIfNew(open: readonly CaptureSpec[], loc: InterfaceLocation, found: FoundInterface): void {
    const spec = open.find((s) => specMatches(s, loc));
    if (spec === undefined || this.#byLabel.has(interfaceLabel(loc))) return;
    const entry = this.#addTarget(captureTarget(spec, loc, found));
    const label = entry.target.label;
    if (entry.kind === 'local') this.#openLocal(entry, false);
    else {
      entry.capture.start().catch((err: unknown) => {
        this.#handlers?.onWarning?.(`${label}: ${err instanceof Error ? err.message : String(err)}`);
      });
    }
  }

  /** Current cumulative counters of every interface. */
  stats(): InterfaceStats[] {
    return this.#entries.map((e) => (e.kind === 'local' ? e.stats(false) : e.capture.stats()));
  }

  /**
   * Stops everything: local captures closed at once, remote ones told to stop and
   * drained (their last packets and final counts arrive first). Returns the final
   * counters, one per interface in id order. Idempotent.
   */
  async stop(): Promise<InterfaceStats[]> {
    const first = !this.#stopped;
    this.#stopped = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    // Packets of the last moments sit in a ring block the kernel hands over after its
    // timeout: let the event loop take them before the sockets close.
    if (first && this.#entries.some((e) => e.kind === 'local' && e.capture !== null)) {
      await new Promise((resolve) => setTimeout(resolve, LOCAL_STOP_SETTLE_MS));
    }
    const finals: Array<Promise<InterfaceStats>> = this.#entries.map(async (e) => {
      if (e.kind === 'remote') return e.capture.stop();
      e.retire();
      const s = e.stats(true);
      this.#setState(e, 'stopped', 'capture ended');
      return s;
    });
    const stats = await Promise.all(finals);
    await Promise.allSettled([...this.#remotePolls.values(), this.#localDiscovery]);
    return stats;
  }
}
