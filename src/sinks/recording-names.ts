// The names of a recording's files (src/sinks/pcapng-recorder.ts "Ring buffer" and
// "Default path"): a ring's numbered files, another recording of the same run, the
// default name in the working directory, and taking the first free name of a series.
import { readdirSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { BufferPool } from './buffer-pool.js';
import { errnoCode, reason, RecordingError } from './recording-error.js';
import { RecordingFile } from './recording-file.js';

/** Names tried for a file (a series, a ring's next number) before giving up. */
export const MAX_NAMES_TRIED = 1000;

/**
 * The path of file number `n` of a recording (0 is the path itself): `name.pcapng` →
 * `name-1.pcapng`, `name-2.pcapng`, ...; a path without extension gets `-n` appended.
 */
export function recordingFilePath(path: string, n: number): string {
  if (n === 0) return path;
  const ext = extname(path);
  const stem = ext === '' ? path : path.slice(0, -ext.length);
  return `${stem}-${n}${ext}`;
}

/**
 * The names of another recording in the same run (the TUI's `r` after a stop), next to
 * `-w name.pcapng`: `name.2.pcapng`, `name.3.pcapng`, ... (k = 1, 2, ...); the recorder
 * takes the first that does not exist.
 */
export function nextRecordingSeries(written: string): (k: number) => string {
  const ext = extname(written);
  const stem = ext === '' ? written : written.slice(0, -ext.length);
  return (k) => `${stem}.${k + 1}${ext}`;
}

/** `hopscope-YYYYMMDD-HHMMSS` in UTC. */
export function defaultRecordingStem(date: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return (
    `hopscope-${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}` +
    `-${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`
  );
}

const RECORDING_EXT = '.pcapng';

/** A name another file (or a symbolic link) holds: the next name of a series is tried. */
export function nameTaken(err: RecordingError): boolean {
  return err.code === 'EEXIST' || err.code === 'ELOOP';
}

/**
 * The default names in `directory` (listed now): `hopscope-YYYYMMDD-HHMMSS.pcapng`, then
 * `_2`, `_3`, ...; the recorder takes the first it can create.
 */
export function defaultRecordingSeries(directory: string, date: Date): (k: number) => string {
  const stem = defaultRecordingStem(date);
  let names: string[] = [];
  try {
    names = readdirSync(directory);
  } catch {
    // unreadable: the exclusive create below still never takes an existing name
  }
  // A ring buffer of that second whose first file is gone (--max-files) keeps its name too.
  const ringOf = (s: string): boolean =>
    names.some((n) => n.startsWith(`${s}-`) && n.endsWith(RECORDING_EXT));
  const free: string[] = [];
  let n = 1;
  return (k) => {
    while (free.length < k) {
      const s = n === 1 ? stem : `${stem}_${n}`;
      n++;
      if (!ringOf(s)) free.push(join(directory, `${s}${RECORDING_EXT}`));
    }
    return free[k - 1];
  };
}

/** The working directory, or why a recording cannot go there (it was removed). */
export function workingDirectory(): string {
  try {
    return process.cwd();
  } catch (err) {
    throw new RecordingError(
      `cannot record in the working directory: ${reason(err)}`,
      '.',
      errnoCode(err),
      err,
      reason(err),
    );
  }
}

/** Creates the first name of `series` that does not exist yet (exclusively: no race). */
export function openFirstFree(series: (k: number) => string, pool: BufferPool): RecordingFile {
  for (let k = 1; ; k++) {
    const path = resolve(series(k));
    try {
      return RecordingFile.open(path, pool);
    } catch (err) {
      if (!(err instanceof RecordingError) || !nameTaken(err) || k === MAX_NAMES_TRIED) throw err;
    }
  }
}
