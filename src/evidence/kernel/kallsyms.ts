// Kernel addresses → `function+0xoffset`, from /proc/kallsyms (text symbols only).
//
// The few distinct places drops come from are looked up, not the whole table kept:
// each lookup of addresses not seen yet reads the file once, keeping for each
// address the closest symbol at or below it, and the answers are cached. Without
// root the file shows every address as 0 (kptr_restrict): the address is then given
// as it is.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export const KALLSYMS_PATH = '/proc/kallsyms';

export class Kallsyms {
  readonly #path: string;
  readonly #cache = new Map<string, string>();

  constructor(path: string = KALLSYMS_PATH) {
    this.#path = path;
  }

  /** `hex` addresses (16 digits, as the tracer gives them) → their names. */
  async symbolise(addresses: readonly string[]): Promise<Map<string, string>> {
    const wanted = [...new Set(addresses)].filter((a) => !this.#cache.has(a));
    if (wanted.length > 0) await this.#lookUp(wanted);
    return new Map(addresses.map((a) => [a, this.#cache.get(a) ?? `0x${a.replace(/^0+/, '')}`]));
  }

  async #lookUp(wanted: string[]): Promise<void> {
    const targets = wanted.map((a) => BigInt(`0x${a}`));
    const best: Array<{ at: bigint; name: string } | null> = targets.map(() => null);
    try {
      const lines = createInterface({ input: createReadStream(this.#path), crlfDelay: Infinity });
      for await (const line of lines) {
        // `ffffffff81000000 T _stext` (a module's symbols add ` [module]`)
        const type = line.charCodeAt(17);
        // t/T text symbols only
        if (type !== 0x74 && type !== 0x54) continue;
        const at = BigInt(`0x${line.slice(0, 16)}`);
        if (at === 0n) continue;
        for (let k = 0; k < targets.length; k++) {
          const b = best[k];
          if (at <= targets[k] && (b === null || at > b.at)) {
            const end = line.indexOf(' ', 19);
            best[k] = { at, name: end < 0 ? line.slice(19) : line.slice(19, end) };
          }
        }
      }
    } catch {
      // unreadable: addresses stay as they are
    }
    for (let k = 0; k < wanted.length; k++) {
      const b = best[k];
      // more than 1 MiB past the closest symbol: not inside it
      if (b !== null && targets[k] - b.at < 0x100000n) {
        this.#cache.set(wanted[k], `${b.name}+0x${(targets[k] - b.at).toString(16)}`);
      } else this.#cache.set(wanted[k], `0x${wanted[k].replace(/^0+/, '')}`);
    }
  }
}
