// Text into HTML. Everything in a report that came from outside hopscope's own code —
// interface labels, exchange keys (DNS names are whatever a packet carried), file names,
// the command line, a cause's evidence — goes through escapeHtml, in element text and in
// double-quoted attribute values alike, so no such string can open a tag, close an
// attribute or start a character reference of its own.

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** `text` cut to `max` characters, an ellipsis at its end. */
export function cutEnd(text: string, max: number): string {
  if (text.length <= max) return text;
  return max <= 1 ? text.slice(0, max) : `${text.slice(0, max - 1)}…`;
}

/** A word of a command line as a POSIX shell would need it typed (single quotes where needed). */
export function shellWord(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
