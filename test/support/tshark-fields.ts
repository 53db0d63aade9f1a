// tshark reading a capture file as fields, one row a packet: the independent reader
// the tests hold files against.
import { spawnSync } from 'node:child_process';

export interface TsharkFields {
  /** one row a packet, its fields in the order asked */
  rows: string[][];
  status: number | null;
  /** what tshark said on stderr, less its warning about running as root (not about the file) */
  stderr: string;
}

/** The `fields` of every packet of `file` (of those `filter` keeps, when given). */
export function tsharkFields(file: string, fields: readonly string[], filter?: string): TsharkFields {
  const r = spawnSync(
    'tshark',
    [
      '-r',
      file,
      ...(filter !== undefined ? ['-Y', filter] : []),
      ...['-T', 'fields', '-E', 'separator=/t'],
      ...fields.flatMap((f) => ['-e', f]),
    ],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const rows = r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
  return { rows, status: r.status, stderr: r.stderr.replace(/^Running as user "root".*\n/m, '') };
}

/** The rows of tsharkFields; an error when tshark fails. */
export function tsharkRows(file: string, fields: readonly string[], filter?: string): string[][] {
  const r = tsharkFields(file, fields, filter);
  if (r.status !== 0) throw new Error(`tshark -r ${file} exited ${r.status}: ${r.stderr.trim()}`);
  return r.rows;
}
