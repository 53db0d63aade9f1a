// The stages every run wires the same way, whatever its source (live.ts: a capture
// session; files.ts: recordings): a packet is counted, handed to the run's tap (the
// recorder, the progress meter), decoded into one reused record, correlated, and —
// with --packets — described as a line or a JSON record. Verdicts and clock offsets go
// to the TUI's model when the TUI is up, else to `out` (JSON lines or the text report).
//
//   source ─► tap ─► decode ─► correlate ─► verdicts ─► TUI model | JSON lines | text report
//                                 └──────► packet lines (--packets; live: held to be in time order)
//
// With causes (causes.ts), verdicts wait in order for the cause of each problem before
// they reach the sinks; a capture that gathers also remembers the packets of exchanges
// (packet-memory.ts), for the gatherer to know the missing packet.
//
// `packet` is the hot path: plain calls, nothing allocated unless a line is printed.
import { Correlator } from '../correlate/correlator.js';
import { decodePacket } from '../decode/decode-packet.js';
import { writePacketFields, writePacketHead, writePacketJson } from '../decode/packet-json.js';
import { describePacket } from '../decode/packet-view.js';
import { PacketRecord } from '../decode/record.js';
import {
  linktypeName,
  type ClockRecord,
  type ContractRecord,
  type ExchangeRecord,
  type InterfaceRecord,
  type FramedPacket,
  type InterfaceDescriptor,
  type PacketView,
  type SummaryRecord,
} from '../events/types.js';
import { formatTimestamp } from '../framing/timestamp.js';
import type { AnnotationTable } from '../sinks/annotations.js';
import { JsonBytes } from '../shared/json-bytes.js';
import type { JudgedExchange } from '../shared/judged-exchange.js';
import { ExchangeOutput } from '../sinks/exchange-output.js';
import type { LineWriter } from '../sinks/line-writer.js';
import { formatPacketLine } from '../sinks/packet-text.js';
import { TimeOrderBuffer } from '../sources/time-order.js';
import type { TuiModel } from '../ui/model.js';
import type { Tui, TuiOptions } from '../ui/tui.js';
import { VerdictOrder, type CauseProvider } from './causes.js';
import type { PacketMemory } from './packet-memory.js';
import { FINISH_STEP } from './timing.js';

/** Whatever sees every packet before it is decoded (the recorder; a progress meter). */
export interface PacketTap {
  packet(p: FramedPacket): void;
}

/**
 * Another sink of the run's records (the HTML report): every record the JSON lines would
 * hold — interfaces, states, counters, verdicts it wants, clock offsets, the summary —
 * whatever the output shows.
 */
export interface RecordSink {
  record(r: ContractRecord): void;
  /** whether a verdict of this status is wanted as a record (asked once per verdict) */
  wants(status: ExchangeRecord['status']): boolean;
}

/** The TUI, when it is up: its model takes the verdicts, and is told when to redraw. */
export interface TuiSink {
  model: TuiModel;
  changed(): void;
}

export interface StagesOptions {
  /**
   * true: a live capture — verdicts are given as the wall clock passes (Correlator
   * advance()), lifecycle lines are flushed at once, and packet lines are held to come
   * out in time order. false: a replay — packet time judges.
   */
  live: boolean;
  out: LineWriter;
  json: boolean;
  /** --packets: a line (or a JSON record) per packet */
  packets: boolean;
  tui: TuiSink | null;
  tap?: PacketTap;
  /** another sink of every record (--report) */
  records?: RecordSink | null;
  /** the non-ok verdicts a recording's packets are annotated with (-w, replay --annotate) */
  annotations?: AnnotationTable | null;
  /** where problem verdicts get their causes (live: the gatherer; a replay: its recording) */
  causes?: CauseProvider | null;
  /** the packets of exchanges, remembered for the gatherer (live, gathering) */
  memory?: PacketMemory | null;
  /**
   * A verdict with its cause goes to the sinks (the recording keeps the cause): in
   * verdict order, so a replay pairs causes of verdicts that share kind, key and time
   * the same way.
   */
  onCause?: (ex: ExchangeRecord, cause: NonNullable<ExchangeRecord['cause']>) => void;
}

/** On a terminal, without --json or --packets, a run shows the TUI. */
export function wantsTui(json: boolean, packets: boolean): boolean {
  return process.stdout.isTTY === true && !json && !packets;
}

/** The TUI over `model` (blessed is loaded only here, and only then). */
export async function openTui(model: TuiModel, options: TuiOptions): Promise<Tui> {
  return new (await import('../ui/tui.js')).Tui(model, options);
}

/**
 * --packets output: a line or a JSON record per packet, numbered as printed. Held (live):
 * packets of several interfaces arrive out of time order, so their lines wait for the
 * hold and come out sorted; a line that would only be skipped (stdout not read fast
 * enough) is not made.
 */
class PacketLines {
  #n = 0;
  readonly #out: LineWriter;
  readonly #json: boolean;
  /** held: the view (text), or the JSON record after its number (decode/packet-json.ts) */
  readonly #held: TimeOrderBuffer<PacketView | string> | null;
  /** where a held packet's JSON is written before it is kept as a string */
  readonly #scratch: JsonBytes | null;
  readonly #emit = (held: PacketView | string): void => {
    const n = ++this.#n;
    if (typeof held !== 'string') {
      held.n = n;
      this.#out.line(formatPacketLine(held));
      return;
    }
    const w = this.#out.record();
    if (w === null) return;
    const start = w.pos;
    writePacketHead(w, n);
    w.text(held);
    this.#out.endRecord(start);
  };

  constructor(out: LineWriter, json: boolean, held: boolean) {
    this.#out = out;
    this.#json = json;
    this.#held = held ? new TimeOrderBuffer<PacketView | string>() : null;
    this.#scratch = held && json ? new JsonBytes(4096) : null;
  }

  packet(rec: PacketRecord, label: string, p: FramedPacket): void {
    if (this.#out.saturated) {
      this.#out.skip();
      return;
    }
    const scratch = this.#scratch;
    if (this.#json && scratch === null) {
      // straight into the output's bytes: no view object, no string (decode/packet-json.ts)
      const w = this.#out.record();
      if (w === null) return;
      const start = w.pos;
      writePacketJson(w, rec, ++this.#n, label, p.tsSec, p.tsNsec, p.caplen, p.len);
      this.#out.endRecord(start);
      return;
    }
    if (scratch !== null) {
      // held: its bytes are the source's only during this call
      scratch.pos = 0;
      writePacketFields(scratch, rec, label, p.tsSec, p.tsNsec, p.caplen, p.len);
      this.#held?.push(p.tsSec, p.tsNsec, scratch.buf.toString('utf8', 0, scratch.pos));
      return;
    }
    const view = describePacket(rec, 0, label, formatTimestamp(p.tsSec, p.tsNsec), p.caplen, p.len);
    if (this.#held === null) this.#emit(view);
    else this.#held.push(p.tsSec, p.tsNsec, view);
  }

  /** Held lines of packets stamped before `horizonS` (epoch seconds), in time order. */
  release(horizonS: number): void {
    this.#held?.release(horizonS, this.#emit);
  }

  drain(): void {
    this.#held?.drain(this.#emit);
  }
}

export class Stages {
  readonly correlator: Correlator;
  /** interfaces by id, as last announced */
  readonly interfaces: InterfaceDescriptor[] = [];
  /** packets per interface id */
  readonly counts: number[] = [];
  /** interface ids by label (the annotations' clock offsets are asked by label) */
  readonly #ids = new Map<string, number>();
  /** packets in all */
  packets = 0;
  readonly #out: LineWriter;
  readonly #json: boolean;
  readonly #live: boolean;
  readonly #tui: TuiSink | null;
  readonly #tap: PacketTap | null;
  readonly #rec = new PacketRecord();
  readonly #verdicts: ExchangeOutput;
  readonly #lines: PacketLines | null;
  readonly #records: RecordSink | null;
  readonly #memory: PacketMemory | null;
  readonly #order: VerdictOrder | null;
  /** the last verdict asked about: whether the output, and the other sink, want its record */
  #outputWants = false;
  #recordsWant = false;
  #annotationsWant = false;

  constructor(options: StagesOptions) {
    this.#out = options.out;
    this.#json = options.json;
    this.#live = options.live;
    this.#tui = options.tui;
    this.#tap = options.tap ?? null;
    this.#lines = options.packets ? new PacketLines(options.out, options.json, options.live) : null;
    const verdicts = new ExchangeOutput(options.out, { json: options.json });
    this.#verdicts = verdicts;
    const tui = options.tui;
    const annotations = options.annotations ?? null;
    annotations?.setClock((label) => {
      const id = this.#ids.get(label);
      return id === undefined ? 0 : this.correlator.clockOffsetNs(id);
    });
    const records = options.records ?? null;
    this.#records = records;
    this.#memory = options.memory ?? null;
    // The TUI when it is up, else stdout; and the other sink of records, when there is one.
    // Stdout takes a verdict as judged (with --json, written straight from the correlator
    // when nothing else asked for its record), or as its record (one with its cause).
    const primary: RecordSink & { judged(j: JudgedExchange): void; clock(c: ClockRecord): void } =
      tui !== null
        ? {
            record: (ex) => {
              tui.model.exchange(ex as ExchangeRecord);
              tui.changed();
            },
            judged: (j) => {
              tui.model.exchange(j.record());
              tui.changed();
            },
            wants: (status) => tui.model.wants(status),
            clock: (c) => tui.model.clock(c),
          }
        : {
            record: (ex) => verdicts.exchange(ex as ExchangeRecord),
            judged: (j) => verdicts.judged(j),
            wants: (status) => verdicts.wants(status),
            clock: (c) => verdicts.clock(c),
          };
    const memory = this.#memory;
    // (the memory moves a remote sighting back onto its host's clock to find its packet)
    const withClocks = (c: ClockRecord): void => {
      memory?.clock(c.host, c.offsetMs);
      primary.clock(c);
    };
    // With causes, a verdict goes to the sinks through the order (it may wait for its cause).
    const order =
      options.causes == null
        ? null
        : new VerdictOrder(options.causes, (ex, output, other) => {
            if (ex.cause !== undefined) options.onCause?.(ex, ex.cause);
            if (output) primary.record(ex);
            if (other) records?.record(ex);
          });
    this.#order = order;
    this.correlator = new Correlator({
      // each sink is asked (their counts depend on it); the record goes where it is wanted
      onExchange: (judged) => {
        // as judged: the sightings' clock offsets are those the verdict used (a cause
        // found later joins the same record, and the comment is made at the end)
        if (this.#annotationsWant) annotations?.exchange(judged.record());
        if (order !== null && !order.passesAtOnce(judged.status))
          order.add(judged.record(), this.#outputWants, this.#recordsWant);
        else {
          // the other sink first: once it asked for the record, the output writes that
          if (this.#recordsWant) records?.record(judged.record());
          if (this.#outputWants) primary.judged(judged);
        }
      },
      wants: (status) => {
        this.#outputWants = primary.wants(status);
        this.#recordsWant = records?.wants(status) ?? false;
        this.#annotationsWant = annotations?.wants(status) ?? false;
        return this.#outputWants || this.#recordsWant || this.#annotationsWant;
      },
      onClock: (c) => {
        withClocks(c);
        records?.record(c);
      },
      advanceWithPackets: !options.live,
      // live, with causes: a problem's cause is read while its verdict waits for the hold
      ...(options.live && options.causes?.anticipate !== undefined
        ? { onOverdue: options.causes.anticipate.bind(options.causes) }
        : {}),
    });
  }

  /** A record of the run's lifecycle (state, counters) for the other sink of records. */
  lifecycle(r: ContractRecord): void {
    this.#records?.record(r);
  }

  /** Where the interface labelled `label` is: its host and namespace, as a key; null when not known. */
  namespaceOf(label: string): { key: string; host: string | null; netns: string | null } | null {
    const id = this.#ids.get(label);
    const iface = id === undefined ? undefined : this.interfaces[id];
    if (iface === undefined) return null;
    return { key: `${iface.host ?? ''}\u0000${iface.netns ?? ''}`, host: iface.host, netns: iface.netns };
  }

  /**
   * An interface is known (again, same id, when its addresses or link type changed):
   * before any packet of it. With --json, its `interface` record (`file`: a replay's).
   */
  interface(iface: InterfaceDescriptor, file?: string): void {
    this.interfaces[iface.id] = iface;
    this.#ids.set(iface.label, iface.id);
    this.counts[iface.id] ??= 0;
    this.#memory?.interface(iface);
    this.#tui?.model.addInterface(iface.id, iface.label);
    this.correlator.addInterface({
      id: iface.id,
      label: iface.label,
      host: iface.host,
      netns: iface.netns,
      tsResolutionNs: iface.tsResolutionNs,
      addresses: iface.addresses,
      mac: iface.mac ?? null,
      ...(iface.deviceOf !== undefined ? { capture: iface.deviceOf } : {}),
    });
    if (this.#json || this.#records !== null) {
      const record: InterfaceRecord = {
        type: 'interface',
        id: iface.id,
        label: iface.label,
        host: iface.host,
        netns: iface.netns,
        name: iface.name,
        linktype: linktypeName(iface.linktype),
        tsResolutionNs: iface.tsResolutionNs,
        addresses: iface.addresses,
        file,
      };
      this.#records?.record(record);
      if (this.#json) {
        this.#out.line(JSON.stringify(record));
        if (this.#live) this.#out.flush();
      }
    }
  }

  /** One packet of `iface` (its record and bytes are the source's: valid during the call). */
  packet(p: FramedPacket, iface: InterfaceDescriptor): void {
    this.packets++;
    this.counts[iface.id]++;
    this.#tui?.model.packet(iface.id);
    this.#tap?.packet(p);
    const rec = this.#rec;
    decodePacket(p.data, p.offset, p.offset + p.caplen, iface.linktype, p.len, rec);
    this.correlator.packet(rec, iface.id, p.tsSec, p.tsNsec);
    if (this.#memory !== null && this.correlator.lastWasExchange) this.#memory.keep(p, iface.id);
    this.#lines?.packet(rec, iface.label, p);
  }

  /** Live: held packet lines stamped before `horizonS` come out. */
  releaseLines(horizonS: number): void {
    this.#lines?.release(horizonS);
  }

  /** Every held packet line comes out (the source has stopped). */
  drainLines(): void {
    this.#lines?.drain();
  }

  /**
   * The exchanges still open are judged — in steps, each after stdout's reader has
   * caught up — at (sec, nsec) on the reference clock (live: where every capture
   * stopped), or without a time where each interface stopped (a replay). Returns the
   * run's summary once every verdict, with its cause, has gone to the sinks.
   */
  async finish(sec?: number, nsec?: number, beforeCauses?: () => void): Promise<SummaryRecord> {
    while (!this.correlator.finishSome(FINISH_STEP, sec, nsec)) if (this.#out.full) await this.#out.drained();
    const summary = this.correlator.finish(sec, nsec);
    beforeCauses?.();
    await this.causesSettled();
    return summary;
  }

  /** Resolves once every verdict so far has gone to the sinks (with causes, it may wait for one). */
  causesSettled(): Promise<void> {
    return this.#order?.settled() ?? Promise.resolve();
  }

  /** The summary record, or the clock offsets and summary line of the text report (not in the TUI). */
  printSummary(summary: SummaryRecord): void {
    this.#records?.record(summary);
    this.#verdicts.summary(summary);
  }
}
