// One capture of every device (`tcpdump -i any`, libpcap's "any") seen as the devices
// it holds (docs/spec-grammar.md "Captures of every device"). A router's `-i any` capture sees a
// forwarded packet twice, coming in on one device and leaving by another; as a single
// interface that is one sighting, and a reply dropped inside the router after it came
// in "was seen" — the capture's verdict would be ok. LINUX_SLL2 records carry the
// device's ifindex in every packet's header, so each device becomes an interface of
// its own and the packet's path through the box is hops like any other.
//
// Which captures are split: LINUX_SLL2 ones whose recorded name is `any`, or that
// record no name (a pcap file: what `tcpdump -i any -w` writes). A named SLL2
// interface (`tcpdump -y LINUX_SLL2 -i eth0`, or a device already split and
// recorded) is one device. LINUX_SLL (v1) carries no ifindex and is not split.
//
// Names: a file records only the ifindex, so a device is `<label>#if<ifindex>`
// (`router#if3`) unless the capture says which device has the index: a comment
// `hopscope: device <ifindex> <name> [<address/len> ...]` (DEVICE_COMMENT_PREFIX)
// names it in the capture's namespace and host (`qrouter-1/qr-56c7`) — in the IDB for
// the devices listed when the capture began, in a statistics block before its first
// packet for a device a live capture found later (a VM's tap made after the start,
// `learn`). A live capture asks its namespace at such a device's first packet
// (`lookup`: the device may be gone by the next listing).
//
// Ids: a capture's first device takes the capture's id, every other one the next id
// of the stream (`allocate`), when its first packet comes; each is announced then,
// before that packet. The capture itself is not announced: its statistics blocks are
// every device's — the capture's drops may have been any device's packets — so each
// goes to every device found so far, and a device found later is given the blocks
// before it (the last MAX_KEPT_STATS).
//
// Bounds: MAX_DEVICES over all the captures of a stream (a compute node's `any` holds
// four devices per VM; a hostile file could name 2^32 ifindexes): past it, a capture's
// packets of a new ifindex go to the device it found last.

import {
  interfaceLabel,
  LINKTYPE,
  type CaptureDevice,
  type InterfaceDescriptor,
  type InterfaceStats,
} from '../events/types.js';
import { parseLabel } from '../shared/label.js';
import { MAX_INTERFACES } from './budget.js';

/** Start of the IDB comment that names one device of a split capture. */
export const DEVICE_COMMENT_PREFIX = 'hopscope: device ';
/** Bytes of a LINUX_SLL2 header before the ifindex, and the ifindex's own. */
const SLL2_IFINDEX_AT = 4;
const SLL2_IFINDEX_END = 8;
/** Devices all the captures of a stream are split into at most (framing's MAX_INTERFACES). */
export const MAX_DEVICES = MAX_INTERFACES;
/** Statistics blocks of a capture kept for its devices found later. */
export const MAX_KEPT_STATS = 256;

/** Whether a capture interface is split by device (see the header). */
export function splitsByDevice(linktype: number, name: string | null): boolean {
  if (linktype !== LINKTYPE.LINUX_SLL2) return false;
  if (name === null || name.length === 0) return true;
  return parseLabel(name).name === 'any';
}

/** The comment that names `device` (see the header). */
export function deviceComment(device: CaptureDevice): string {
  return `${DEVICE_COMMENT_PREFIX}${[device.ifindex, device.name, ...device.addresses].join(' ')}`;
}

/** The devices an interface's comments name; other comments, and malformed ones, are ignored. */
export function knownDevices(comments: readonly string[]): CaptureDevice[] {
  const devices: CaptureDevice[] = [];
  for (const c of comments) {
    if (!c.startsWith(DEVICE_COMMENT_PREFIX)) continue;
    const [index, name, ...addresses] = c.slice(DEVICE_COMMENT_PREFIX.length).split(' ');
    const ifindex = Number(index);
    // (Linux names: 1..15 bytes, no '/' and no white space)
    if (!Number.isInteger(ifindex) || ifindex < 0 || name === undefined || !/^[^/\s]{1,15}$/.test(name))
      continue;
    devices.push({ ifindex, name, addresses });
  }
  return devices;
}

/** The ifindex a LINUX_SLL2 packet was captured on; 0 when its header is cut short. */
export function sll2Ifindex(data: Uint8Array, offset: number, caplen: number): number {
  if (caplen < SLL2_IFINDEX_END) return 0;
  const at = offset + SLL2_IFINDEX_AT;
  return ((data[at] << 24) | (data[at + 1] << 16) | (data[at + 2] << 8) | data[at + 3]) >>> 0;
}

interface SplitCapture<I extends InterfaceDescriptor> {
  capture: I;
  known: Map<number, CaptureDevice>;
  /** ifindex → the device's id */
  ids: Map<number, number>;
  /** the devices' ids, in order of their first packet */
  devices: number[];
  /** its statistics blocks so far (the last MAX_KEPT_STATS) */
  stats: InterfaceStats[];
}

/**
 * Announces a device (before its first packet): `device` is the capture's descriptor
 * with the device's id, label, name and addresses; `stats`, the capture's statistics
 * blocks so far, as the device's; `looked`, the device as `lookup` found it when the
 * capture was not told of it (null otherwise): a recording names it then.
 */
export type DeviceAnnouncer<I extends InterfaceDescriptor> = (
  device: I,
  capture: I,
  stats: readonly InterfaceStats[],
  looked: CaptureDevice | null,
) => void;

/** Device `ifindex` of capture `captureId` as its namespace has it now, or null. */
export type DeviceLookup = (captureId: number, ifindex: number) => CaptureDevice | null;

/**
 * The split captures of one stream. `route` is on the packet path: a Map lookup per
 * packet of a split capture, nothing else.
 */
export class DeviceSplit<I extends InterfaceDescriptor> {
  /** capture id → its split, or undefined when it is not split */
  readonly #split: Array<SplitCapture<I> | undefined> = [];
  readonly #allocate: () => number;
  readonly #announce: DeviceAnnouncer<I>;
  readonly #lookup: DeviceLookup | null;
  /** devices found so far, over every capture */
  #devices = 0;

  /**
   * @param allocate the stream's next interface id
   * @param announce a device is known (before its first packet)
   * @param lookup asks for a device the capture was not told of (a live capture's
   *   namespace), at its first packet
   */
  constructor(allocate: () => number, announce: DeviceAnnouncer<I>, lookup: DeviceLookup | null = null) {
    this.#allocate = allocate;
    this.#announce = announce;
    this.#lookup = lookup;
  }

  /** Whether any capture is split (false: route is never needed). */
  get active(): boolean {
    return this.#split.length > 0;
  }

  /** Takes `capture` as split by device, naming the devices it knows (InterfaceDescriptor.devices). */
  add(capture: I): void {
    this.#split[capture.id] = {
      capture,
      known: new Map((capture.devices ?? []).map((d) => [d.ifindex, d])),
      ids: new Map(),
      devices: [],
      stats: [],
    };
  }

  /**
   * Devices split capture `id` names later (a statistics block's comments, knownDevices):
   * named so from their first packet on. A device found before keeps its name.
   */
  learn(id: number, devices: readonly CaptureDevice[]): void {
    const split = this.#split[id];
    if (split === undefined) return;
    for (const d of devices) if (!split.ids.has(d.ifindex)) split.known.set(d.ifindex, d);
  }

  /**
   * A statistics block of split capture `s.interfaceId`, as each of its devices' so far:
   * all but the first marked `deviceCopy` (what a block says once, its cause comments,
   * is read from the first).
   */
  stats(s: InterfaceStats): InterfaceStats[] {
    const split = this.#split[s.interfaceId];
    if (split === undefined) return [s];
    if (split.stats.push(s) > MAX_KEPT_STATS) split.stats.shift();
    return split.devices.map((id, k) => copyFor(s, id, k > 0));
  }

  /** Whether interface `id` is a split capture (its packets go through route). */
  isSplit(id: number): boolean {
    return this.#split[id] !== undefined;
  }

  /** The ids of the devices found so far in split capture `id` (empty for any other). */
  devicesOf(id: number): readonly number[] {
    return this.#split[id]?.devices ?? [];
  }

  /**
   * The id of the device a packet of split capture `id` was captured on (announcing
   * the device at its first packet).
   */
  route(id: number, data: Uint8Array, offset: number, caplen: number): number {
    const s = this.#split[id];
    if (s === undefined) return id;
    const ifindex = sll2Ifindex(data, offset, caplen);
    const known = s.ids.get(ifindex);
    if (known !== undefined) return known;
    if (this.#devices >= MAX_DEVICES && s.devices.length > 0) return s.devices[s.devices.length - 1];
    return this.#device(s, ifindex);
  }

  #device(s: SplitCapture<I>, ifindex: number): number {
    // (the first device takes the capture's own id: ids stay dense, as announced)
    const id = s.devices.length === 0 ? s.capture.id : this.#allocate();
    const capture = s.capture;
    let named = s.known.get(ifindex);
    let looked: CaptureDevice | null = null;
    if (named === undefined && this.#lookup !== null) {
      looked = this.#lookup(capture.id, ifindex);
      if (looked !== null) s.known.set(ifindex, (named = looked));
    }
    const { label, name } = deviceLabel(capture.label, ifindex, s.known);
    const { devices: _, ...parent } = capture;
    const device: I = {
      ...(parent as I),
      id,
      label,
      name,
      addresses: named?.addresses ?? [],
      description: `ifindex ${ifindex} of ${capture.label}`,
      deviceOf: capture.id,
    };
    // (the blocks so far were given to no device yet when this is the first)
    const copies = s.devices.length > 0;
    s.ids.set(ifindex, id);
    s.devices.push(id);
    this.#devices++;
    this.#announce(
      device,
      capture,
      s.stats.map((b) => copyFor(b, id, copies)),
      looked,
    );
    return id;
  }
}

/** The label and name of device `ifindex` of the capture labelled `captureLabel` (see the header). */
export function deviceLabel(
  captureLabel: string,
  ifindex: number,
  known: ReadonlyMap<number, CaptureDevice>,
): { label: string; name: string } {
  const loc = parseLabel(captureLabel);
  const name = known.get(ifindex)?.name ?? `${loc.name}#if${ifindex}`;
  return { label: interfaceLabel({ ...loc, name }), name };
}

function copyFor(s: InterfaceStats, id: number, deviceCopy: boolean): InterfaceStats {
  return deviceCopy ? { ...s, interfaceId: id, deviceCopy } : { ...s, interfaceId: id };
}
