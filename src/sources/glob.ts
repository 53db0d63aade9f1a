// Shell-style globs for interface and namespace names (`tap*`, `qrouter-*`,
// `qr-5f3a9c2?-*`, `eth[01]`), as fnmatch(3) without flags reads them: `*` any run
// of characters, `?` one character, `[...]` a class (`[!...]`/`[^...]` negated),
// `\` quotes the next character. Names never contain `/`, so no path rules apply.

/** True when the text contains a glob character (and so names a set, not one interface). */
export function isGlob(text: string): boolean {
  return /[*?[]/.test(text);
}

function escapeRegExp(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

/**
 * Compiles a glob into an anchored RegExp. A `[` without its `]` is an ordinary
 * character, as in fnmatch. The loop is bounded by the pattern's length.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '^';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '*') {
      // Collapse runs of * so a hostile pattern cannot ask for catastrophic backtracking.
      while (glob[i + 1] === '*') i++;
      re += '.*';
    } else if (ch === '?') re += '.';
    else if (ch === '\\' && i + 1 < glob.length) re += escapeRegExp(glob[++i]);
    else if (ch === '[') {
      // A ']' right after '[' (or after '[!'/'[^') is a member of the class, not its end.
      const negate = glob[i + 1] === '!' || glob[i + 1] === '^';
      const first = i + (negate ? 2 : 1);
      const close = glob.indexOf(']', first + 1);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      const body = glob.slice(first, close);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, (c) => `\\${c}`)}]`;
      i = close;
    } else re += escapeRegExp(ch);
  }
  return new RegExp(`${re}$`, 's');
}

/** A compiled name pattern: a glob, or an exact name when there is no glob character. */
export class NamePattern {
  readonly text: string;
  readonly isGlob: boolean;
  readonly #re: RegExp | null;

  constructor(text: string) {
    this.text = text;
    this.isGlob = isGlob(text);
    this.#re = this.isGlob ? globToRegExp(text) : null;
  }

  matches(name: string): boolean {
    return this.#re === null ? name === this.text : this.#re.test(name);
  }
}
