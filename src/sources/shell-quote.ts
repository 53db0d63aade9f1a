// POSIX shell quoting for the one string ssh hands to the remote shell.
//
// ssh does not pass an argument vector: it joins its command arguments with
// spaces and the remote login shell parses the result. Every value that goes
// into that string is therefore single-quoted here, where the shell performs no
// expansion at all ($, `, \, ", ;, newlines are all literal); the only character
// that cannot appear inside single quotes, the quote itself, is written as
// '\'' (close, escaped quote, reopen).

/** `value` as one POSIX shell word that the shell reads back as exactly `value`. */
export function shellQuote(value: string): string {
  if (value.includes('\0')) {
    // A C string (and so an exec argument) cannot carry NUL; better to say so than truncate.
    throw new Error('a shell word cannot contain a NUL character');
  }
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/** Several words, each quoted, separated by spaces: a simple command the shell runs as `argv`. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
