// The replay's decoder thread (started by decoder-thread-boot.ts): reads the capture
// files merged by time, decodes and classifies every packet, and sends the packets of
// exchanges, in order, with the files' interfaces, sections, statistics and warnings,
// through the shared slot ring. Packets of no exchange are only counted. With
// --packets --json it also writes every packet's JSON line (decode/packet-json.ts, as
// the replay's own thread would) and sends the lines in order with the packets: a
// packet's line after the packet itself (whose correlation may print verdicts first).
import { once } from 'node:events';
import { parentPort } from 'node:worker_threads';
import { classify, Classified } from '../correlate/classify.js';
import { Kind } from '../correlate/kinds/table.js';
import { DnsTcpStreams } from '../correlate/dns-tcp.js';
import { decodePacket } from '../decode/decode-packet.js';
import { writePacketJson } from '../decode/packet-json.js';
import { PacketRecord } from '../decode/record.js';
import { isCaptureInputError } from '../framing/errors.js';
import { InterfaceLabelError } from '../framing/label.js';
import { mergeCaptureFiles } from '../framing/merge.js';
import { JsonBytes } from '../shared/json-bytes.js';
import { writeEvent, writeLines, writePacket, writeProgress } from './decoded-records.js';
import type { DecoderEvent, DecoderThreadInput, ThreadInterface } from './file-decoder-thread.js';
import { SlotWriter } from './slot-ring.js';

/** Progress is noted about this often (bytes read). */
const PROGRESS_EVERY_BYTES = 4 * 1024 * 1024;
/**
 * The first slots are handed on after this many packets, then twice as many each time
 * until slots go full: the correlating thread starts while this one reads on.
 */
const FIRST_HANDOVER_PACKETS = 512;
/** Packet lines are sent once this many bytes wait (or before anything else is sent). */
const LINES_SEND_BYTES = 64 * 1024;

// Started early (decoder-thread-boot.ts): the input comes once the replay knows it.
if (parentPort === null) throw new Error('file-decoder-worker: not started as a worker thread');
const [input] = (await once(parentPort, 'message')) as [DecoderThreadInput];
const w = new SlotWriter(input.ring);

// Events go in batches: a file can describe 65,536 interfaces (framing's limit), or hold
// a million section or statistics blocks, and an event each (a v8 serializer and its
// buffer apiece) took over 100 MB more at peak than a few dozen batches. A batch is
// sent when full and before any packet, so the correlating thread still learns of
// every interface and statistics block before the packets that follow it.
const EVENTS_PER_BATCH = 1024;
let batch: DecoderEvent[] = [];
let batched = 0;
/** --packets --json: the lines not sent yet, and the last packet's number */
const lines = input.packetLines ? new JsonBytes(LINES_SEND_BYTES + 16 * 1024) : null;
let lineNumber = 0;
const sendLines = (): void => {
  if (lines === null || lines.pos === 0) return;
  writeLines(w, lines.buf, 0, lines.pos);
  lines.pos = 0;
};
const sendBatch = (): void => {
  sendLines();
  writeEvent(w, batch);
  batch = [];
  batched = 0;
};
const send = (event: DecoderEvent): void => {
  batch.push(event);
  if (++batched === EVENTS_PER_BATCH) sendBatch();
};
/** Interfaces found one after another go as one list (no record around each). */
const sendInterface = (iface: ThreadInterface): void => {
  const last = batch[batch.length - 1];
  if (last?.type === 'interfaces') last.list.push(iface);
  else batch.push({ type: 'interfaces', list: [iface] });
  if (++batched === EVENTS_PER_BATCH) sendBatch();
};

const rec = new PacketRecord();
const c = new Classified();
const dnsTcp = new DnsTcpStreams();
const linktypes: number[] = [];
const labels: string[] = [];
const counts: number[] = [];
let packets = 0;
let lastSec = 0;
let lastNsec = 0;
let bytesRead = 0;
let progressAt = PROGRESS_EVERY_BYTES;
let failure: string | null = null;
let refused: string | null = null;
let handoverAt = FIRST_HANDOVER_PACKETS;
let sentInSlot = 0;

/** Sends `c`, classified already; hands the slot on when it holds enough. */
function sendPacket(iface: number, sec: number, nsec: number): void {
  if (batch.length > 0) sendBatch();
  sendLines();
  writePacket(w, c, iface, sec, nsec);
  if (++sentInSlot === handoverAt) {
    w.publish();
    sentInSlot = 0;
    handoverAt *= 2;
  }
}

try {
  await mergeCaptureFiles(
    input.files,
    (iface) => {
      linktypes[iface.id] = iface.linktype;
      labels[iface.id] = iface.label;
      counts[iface.id] = 0;
      // Not `capture` (the file's own record of it, comments and all): nothing there uses it.
      const {
        id,
        label,
        host,
        netns,
        name,
        linktype,
        snaplen,
        description,
        file,
        fileInterfaceId,
        tsResolutionNs,
        addresses,
        mac,
        deviceOf,
      } = iface;
      sendInterface({
        id,
        label,
        host,
        netns,
        name,
        linktype,
        snaplen,
        description,
        file,
        fileInterfaceId,
        tsResolutionNs,
        addresses,
        ...(mac != null ? { mac } : {}),
        ...(deviceOf !== undefined ? { deviceOf } : {}),
      });
    },
    (p) => {
      packets++;
      counts[p.interfaceId]++;
      lastSec = p.tsSec;
      lastNsec = p.tsNsec;
      // what a pcap record costs in the file: header and captured bytes
      bytesRead += p.caplen + 24;
      decodePacket(p.data, p.offset, p.offset + p.caplen, linktypes[p.interfaceId], p.len, rec);
      classify(rec, c);
      if (c.kind !== Kind.None) sendPacket(p.interfaceId, p.tsSec, p.tsNsec);
      // DNS over TCP: the messages the segment begins or completes (as Correlator.packet does)
      if (dnsTcp.segment(rec, c, p.interfaceId))
        while (dnsTcp.next(c)) sendPacket(p.interfaceId, p.tsSec, p.tsNsec);
      if (lines !== null) {
        writePacketJson(lines, rec, ++lineNumber, labels[p.interfaceId], p.tsSec, p.tsNsec, p.caplen, p.len);
        lines.byte(0x0a);
        if (lines.pos >= LINES_SEND_BYTES) sendLines();
      }
      if (bytesRead >= progressAt) {
        sendLines();
        writeProgress(w, bytesRead);
        progressAt = bytesRead + PROGRESS_EVERY_BYTES;
      }
    },
    {
      blocking: true,
      ...(input.clockAheadNs !== undefined ? { clockAheadNs: input.clockAheadNs } : {}),
      onSection: (section) => send({ type: 'section', comments: section.comments }),
      onStats: (stats) => send({ type: 'stats', stats }),
      onWarning: (message) => send({ type: 'warning', message }),
    },
  );
} catch (err) {
  // A damaged file, or one the system would not read (EACCES, EIO): what came before
  // the fault has been sent; the replay reports it in one line. So does a file whose
  // interfaces cannot be named as asked (LABEL=FILE, HOST:=FILE).
  if (err instanceof InterfaceLabelError) refused = err.message;
  else if (!isCaptureInputError(err)) throw err;
  else failure = err.message;
}
sendLines();
writeProgress(w, bytesRead);
send({ type: 'end', packets, counts, lastSec, lastNsec, failure, refused });
sendBatch();
w.publish();
