// Small non-cryptographic hashing for fingerprints and keys: murmur3-style 32-bit
// mixing and finaliser. Every value is a signed 32-bit integer — a small integer to V8,
// so a hash passed between functions or stored in a field is never boxed on the heap
// (the decoder thread hashes several times per packet).
export const HASH_SEED = 0x9747b28c;

/** Mixes one 32-bit value into the state. */
export function mix(h: number, k: number): number {
  k = Math.imul(k | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/**
 * A view of the last buffer hashed: its words are read with one load each, not four
 * byte loads. Packets come from a few reused buffers (a reader's chunk, a capture
 * batch), so the view is rarely remade.
 */
let words: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
let wordsOf: Uint8Array | null = null;

function wordView(b: Uint8Array): DataView<ArrayBufferLike> {
  if (b !== wordsOf) {
    words = new DataView(b.buffer, b.byteOffset, b.byteLength);
    wordsOf = b;
  }
  return words;
}

/** Mixes bytes b[start, end) into the state, four at a time (little-endian words). */
export function hashBytes(h: number, b: Uint8Array, start: number, end: number): number {
  const view = wordView(b);
  let i = start;
  for (; i + 4 <= end; i += 4) h = mix(h, view.getInt32(i, true));
  let tail = 0;
  let shift = 0;
  for (; i < end; i++, shift += 8) tail |= b[i] << shift;
  return mix(h, tail ^ (end - start));
}

/**
 * hashBytes of the bytes with ASCII letters lower-cased (a DNS name compares without
 * case): four bytes folded at once — a byte 0x41..0x5a gets bit 0x20, others stay.
 */
export function hashFoldedBytes(h: number, b: Uint8Array, start: number, end: number): number {
  const view = wordView(b);
  let i = start;
  for (; i + 4 <= end; i += 4) h = mix(h, foldWord(view.getInt32(i, true)));
  let tail = 0;
  let shift = 0;
  for (; i < end; i++, shift += 8) tail |= b[i] << shift;
  return mix(h, foldWord(tail) ^ (end - start));
}

/** Lower-cases the ASCII capitals among a word's four bytes. */
function foldWord(w: number): number {
  const low7 = w & 0x7f7f7f7f;
  // per byte (no carry crosses bytes: each sum stays below 0x100): >= 0x41, and >= 0x5b
  const atLeastA = (low7 + 0x3f3f3f3f) & 0x80808080;
  const pastZ = (low7 + 0x25252525) & 0x80808080;
  const capital = atLeastA & ~pastZ & ~w & 0x80808080;
  return w | (capital >>> 2);
}

/** The final value: murmur3's finaliser, a signed 32-bit integer (a bijection of the state). */
export function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The low 30 bits of finish(h), never negative. */
export function finish30(h: number): number {
  return finish(h) & 0x3fffffff;
}
