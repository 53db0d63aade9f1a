// The framing stage's public API (docs/architecture.md): byte streams and files in,
// interfaces, packets and statistics out; and the pcapng recorder's writer.

export { ReaderBudget } from './budget.js';
export { CaptureReader, readCaptureBytes } from './capture-reader.js';
export {
  CaptureFormatError,
  CaptureReadError,
  isCaptureInputError,
  type CaptureErrorCode,
} from './errors.js';
export { deviceComment, DeviceSplit, knownDevices, splitsByDevice, sll2Ifindex } from './device-split.js';
export {
  CaptureFileReader,
  DEFAULT_CHUNK_BYTES,
  readCaptureFile,
  type ReadFileOptions,
  type ReadFileSummary,
} from './file-source.js';
export {
  fileBaseLabel,
  fileInterfaceLabel,
  givenInterfaceLabel,
  InterfaceLabelError,
  plainFileArgument,
  type CaptureFileInput,
} from './label.js';
export {
  DEFAULT_MERGE_CHUNK_BYTES,
  MAX_PENDING_STATS,
  mergeCaptureFiles,
  type MergedInterface,
  type MergeOptions,
  type MergeSummary,
} from './merge.js';
export { maxSnaplenForLinktype } from './pcap-reader.js';
// Labels and time stamps in their text form live in shared/ (every stage reads
// them); the framing API hands them on with the records that carry them.
export { parseLabel } from '../shared/label.js';
export { formatTimestamp, parseTimestamp } from '../shared/timestamp-text.js';
export {
  DEFAULT_WRITER_BUFFER_BYTES,
  fileSink,
  PcapngWriter,
  type ByteSink,
  type PcapngWriterOptions,
  type WriterInterface,
} from './pcapng-writer.js';
export {
  compareTimestamps,
  describeOutOfRange,
  makeTimestampConverter,
  MAX_TIMESTAMP_SEC,
  resolutionNs,
  timestampToNanoUnits,
  timestampToUnits,
  unitsToTimestamp,
  type TimestampConverter,
} from './timestamp.js';
export {
  MAX_BLOCK_BYTES,
  MAX_INTERFACE_ADDRESSES,
  MAX_KEPT_TEXT_BYTES,
  MAX_INTERFACES,
  MAX_SECTION_INTERFACES,
  type ByteOrder,
  type CaptureFormat,
  type CaptureHandlers,
  type CaptureInterface,
  type CapturePacket,
  type CaptureReaderOptions,
  type CaptureSection,
  type TimestampResolution,
} from './types.js';
