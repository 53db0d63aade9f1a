// A Map with a size limit that forgets its oldest entries (first in, first out). The
// insertion order is kept in a ring of keys, so forgetting costs O(1) — asking a JS
// Map for its first key would walk over the tombstones its deletions leave. Writing an
// existing key again (or updating an object value in place) does not make it younger.
export class BoundedMap<K, V> {
  readonly #map = new Map<K, V>();
  readonly #ring: K[] = [];
  #next = 0;

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new Error(`BoundedMap limit must be at least 1, got ${limit}`);
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    return this.#map.get(key);
  }

  set(key: K, value: V): void {
    if (this.#map.has(key)) {
      this.#map.set(key, value);
      return;
    }
    if (this.#ring.length < this.limit) this.#ring.push(key);
    else {
      this.#map.delete(this.#ring[this.#next]);
      this.#ring[this.#next] = key;
      this.#next = (this.#next + 1) % this.limit;
    }
    this.#map.set(key, value);
  }
}
