// A capture batch (capture_handle.h "Batch layout") turned into pcapng Enhanced Packet
// Blocks, in C: what a live recording (src/sinks/pcapng-recorder.ts writeBatch) writes
// per packet, without a JavaScript loop over the bytes.
//
//   batchToEpbs(batch: ArrayBuffer, from: number, end: number, maxPackets: number,
//               out: Uint8Array, at: number, outEnd: number,
//               interfaceIndex: number, unitNs: 1 | 1000, state: Float64Array) → packets
//
// Converts the batch's records from byte `from` (a record's start) up to `end`, at most
// maxPackets, into EPBs written at out[at..outEnd), each whole or not at all, and stops
// at the first that does not fit. Returns the packets converted; state[0] is the batch
// offset of the next record, state[1] the offset in `out` after the last EPB.
//
// An EPB is the one src/framing/pcapng-writer.ts writes for a packet without a direction:
// type 6, total length, interface index, the time stamp in the interface's units (ns, or
// µs for a source that stamps in µs) as high and low 32 bits, captured and original
// length, the bytes padded with zeros to 4, no options, the total length again — little
// endian, as every section the writer makes. Exported only on little-endian hosts (the
// batch's words are in host order); the recorder writes packet by packet without it.
#pragma once

#include <napi.h>

namespace hopscope {

void InitEpb(Napi::Env env, Napi::Object exports);

}  // namespace hopscope
