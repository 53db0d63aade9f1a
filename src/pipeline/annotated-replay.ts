// `replay FILES… --annotate OUT.pcapng`: once the replay has judged every exchange, every
// packet of the replay is written to OUT, those of non-ok exchanges with their verdict as
// a packet comment (sinks/annotations.ts). OUT was opened before the replay as -w opens a
// recording (O_EXCL|O_NOFOLLOW, mode 0600; --overwrite replaces a regular file of ours).
//
// Two ways, by what was replayed:
// - one pcapng file: copied block by block (sinks/pcapng-annotate.ts), so everything it
//   holds stays — statistics blocks, the section's comments (the reference clock), the
//   comments its packets already carry — and a replay of OUT judges as this one did;
// - several files, or a pcap (tcpdump's): merged again by time, as the replay read
//   them, into one pcapng (framing's writer): an interface block per interface, named
//   by its label, the first section's reference clock, and the packets. Their
//   statistics blocks and comments are not carried over.
// A file that turned out damaged is written up to its fault, as the replay read it.
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { clockReferenceComment, parseClockReference } from '../correlate/clock.js';
import type { FramedPacket } from '../events/types.js';
import { isCaptureInputError } from '../framing/errors.js';
import { PcapngWriter } from '../framing/index.js';
import { InterfaceLabelError, type CaptureFileInput } from '../framing/label.js';
import { mergeCaptureFiles } from '../framing/merge.js';
import { BLOCK_SHB } from '../framing/pcapng-blocks.js';
import type { AnnotationTable } from '../sinks/annotations.js';
import { copyAnnotated } from '../sinks/pcapng-annotate.js';
import type { RecordingFile } from '../sinks/recording-file.js';

/** Writes the annotated replay of `files` into `out` and closes it; returns the packets annotated. */
export async function writeAnnotatedReplay(
  files: readonly CaptureFileInput[],
  labels: readonly string[],
  out: RecordingFile,
  table: AnnotationTable,
): Promise<number> {
  try {
    if (files.length === 1 && files[0].label === null && files[0].host === null && isPcapng(files[0].path)) {
      const input = openSync(files[0].path, constants.O_RDONLY);
      try {
        return copyAnnotated(input, out, table, files[0].path, labels);
      } finally {
        closeSync(input);
      }
    }
    return await mergeAnnotated(files, out, table);
  } finally {
    out.close();
  }
}

function isPcapng(path: string): boolean {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    const head = new Uint8Array(4);
    return readSync(fd, head, 0, 4, 0) === 4 && new DataView(head.buffer).getUint32(0, true) === BLOCK_SHB;
  } finally {
    closeSync(fd);
  }
}

async function mergeAnnotated(
  files: readonly CaptureFileInput[],
  out: RecordingFile,
  table: AnnotationTable,
): Promise<number> {
  let reference: string | null | undefined;
  let writer: PcapngWriter | null = null;
  /** merged interface id → its index in the table, -1 when none of its packets is annotated */
  const ix: number[] = [];
  const comments: string[] = [];
  let annotated = 0;
  // The section header goes first: made once the files' first sections are known.
  const writerNow = (): PcapngWriter =>
    (writer ??= new PcapngWriter(out, {
      ...(reference !== undefined ? { comment: clockReferenceComment(reference) } : {}),
    }));
  const onPacket = (p: FramedPacket): void => {
    const w = writerNow();
    const i = ix[p.interfaceId];
    const n = i >= 0 ? table.match(i, p.tsSec, p.tsNsec) : 0;
    if (n === 0) {
      w.writePacket(p);
      return;
    }
    comments.length = 0;
    for (let k = 0; k < n; k++) {
      const text = table.comment(i, table.matchFrom + k);
      if (!comments.includes(text)) comments.push(text);
    }
    w.writeCommentedPacket(p, comments);
    annotated++;
  };
  try {
    await mergeCaptureFiles(
      files,
      (iface) => {
        writerNow().addInterface(iface);
        ix[iface.id] = table.interfaceIndex(iface.label);
      },
      onPacket,
      {
        onSection: (section) => {
          reference ??= parseClockReference(section.comments);
        },
      },
    );
  } catch (err) {
    // The replay said what is wrong with the file: the packets before the fault are written.
    if (!isCaptureInputError(err) && !(err instanceof InterfaceLabelError)) throw err;
  }
  writerNow().flush();
  return annotated;
}
