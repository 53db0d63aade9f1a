// What the native addon's batch-to-EPB conversion looks like to the code that calls it
// (the recorder, sinks/recording-batch.ts) and to the code that loads it
// (sources/native-addon.ts): one type for both sides.

/** native/epb.h: converts records from byte `from`; returns packets; state = [next from, next at]. */
export type EpbConverter = (
  batch: ArrayBuffer,
  from: number,
  end: number,
  maxPackets: number,
  out: Uint8Array,
  at: number,
  outEnd: number,
  interfaceIndex: number,
  unitNs: number,
  state: Float64Array,
) => number;
