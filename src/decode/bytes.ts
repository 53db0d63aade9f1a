// Tiny big-endian readers for the decoders (docs/architecture.md "Decoding"). They do no bounds checks:
// every caller has checked, once per header, that the bytes it reads are present.
// Small and monomorphic so that V8 inlines them into the decoders' hot loops.

/** Unsigned 16-bit big-endian value at `o`. */
export function u16be(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

/** Unsigned 24-bit big-endian value at `o` (VXLAN/Geneve VNI). */
export function u24be(b: Uint8Array, o: number): number {
  return (b[o] << 16) | (b[o + 1] << 8) | b[o + 2];
}

/** Unsigned 32-bit big-endian value at `o` (`>>> 0` keeps it non-negative). */
export function u32be(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** Unsigned 32-bit little-endian value at `o` (DLT_NULL address family). */
export function u32le(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}
