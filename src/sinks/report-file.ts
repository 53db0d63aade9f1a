// Where an HTML report lands (`--report FILE.html`), written once at the end of a run and
// never seen half-written: the page goes to a new file in the same directory (created
// O_EXCL|O_NOFOLLOW, mode 0600, so a name planted there beforehand — a symbolic link
// to a file of root's — is never written through), is fsynced, and is then put in
// place in one step.
//
// The name's rules are those of a recording's -w (recording-file.ts), checked when the
// run starts so that an hour of capture does not end in a refusal: an existing name is
// refused unless `overwrite`; a symbolic link, a directory or a device always; with
// `overwrite`, a regular file is replaced only when it is ours and has one link. Without
// `overwrite` the finished page is hard-linked to the name, which fails rather than
// replace a file that appeared there during the run; the page then goes to the first
// free name of FILE.2.html, FILE.3.html, … and the caller is told where. With
// `overwrite`, rename() replaces the old file at once (a reader holding it open keeps
// the old page). On a file system without hard links (FAT) the name is checked free
// just before rename() instead.
//
// A failure (a full disk: ENOSPC, EDQUOT, EIO) removes the temporary file and throws
// ReportFileError naming the report and the reason in one line; nothing is left behind.
import {
  closeSync,
  constants,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  renameSync,
  statSync,
  accessSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { errnoCode, reason } from './recording-error.js';
import { nextRecordingSeries } from './recording-names.js';
import { replaceRefusal } from './recording-open.js';

export class ReportFileError extends Error {
  readonly path: string;
  /** errno code (EEXIST, ENOSPC, ...) when the system gave one */
  readonly code: string | null;

  constructor(message: string, path: string, code: string | null, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ReportFileError';
    this.path = path;
    this.code = code;
  }
}

const TEMP_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/** Names of the FILE.2.html series tried when FILE appeared during the run. */
const MAX_SERIES = 1000;
/** link() errors that mean "this file system has no hard links", not "the name is taken". */
const NO_HARD_LINKS = new Set(['EPERM', 'EOPNOTSUPP', 'ENOTSUP', 'ENOSYS']);

/**
 * Refuses, at the start of a run, a report name that could not be written at its end
 * (see the top of this file). Throws ReportFileError: code EEXIST for a name taken.
 */
export function checkReportTarget(path: string, overwrite: boolean): void {
  if (path === '') throw new ReportFileError("report needs a file name, and '' was given", path, null);
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw cannotWrite(path, err);
    st = null;
  }
  if (st !== null) {
    const refusal = existingRefusal(st, overwrite);
    if (refusal !== null) throw new ReportFileError(`report ${path} ${refusal}`, path, 'EEXIST');
  }
  const dir = dirname(path);
  try {
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw cannotWrite(path, err);
  }
}

/** Why an existing directory entry may not become the report (null: it may be replaced). */
function existingRefusal(
  st: { isSymbolicLink(): boolean; isFile(): boolean; isDirectory(): boolean; nlink: number; uid: number },
  overwrite: boolean,
): string | null {
  if (st.isSymbolicLink()) return 'is a symbolic link; not replacing it (give another name)';
  if (st.isDirectory()) return 'is a directory (give a file name)';
  if (!st.isFile()) return 'is not a regular file; not replacing it (give another name)';
  return replaceRefusal(st, overwrite);
}

function cannotWrite(path: string, err: unknown): ReportFileError {
  return new ReportFileError(`cannot write report ${path}: ${reason(err, path)}`, path, errnoCode(err), err);
}

/**
 * Writes `text` as the report at `path` (see the top of this file) and returns the path
 * it was written to: `path`, or — without `overwrite`, when a file took that name during
 * the run — the first free name of the series FILE.2.html, FILE.3.html, …
 */
export function writeReportFile(path: string, text: string, overwrite: boolean): string {
  const bytes = Buffer.from(text, 'utf8');
  const dir = dirname(path);
  let temp: string | null = null;
  try {
    const made = createTemp(dir, basename(path));
    temp = made.path;
    try {
      for (let at = 0; at < bytes.length;) at += writeSync(made.fd, bytes, at, bytes.length - at);
      fsyncSync(made.fd);
    } finally {
      closeSync(made.fd);
    }
    const written = overwrite ? replace(temp, path) : placeNew(temp, path);
    temp = null;
    syncDirectory(dir);
    return written;
  } catch (err) {
    if (temp !== null) removeQuietly(temp);
    if (err instanceof ReportFileError) throw err;
    throw cannotWrite(path, err);
  }
}

/** A new private file next to the report: `.NAME.PID.RANDOM.tmp` (0600; a umask only takes bits away). */
function createTemp(dir: string, name: string): { path: string; fd: number } {
  for (let attempt = 0; ; attempt++) {
    const path = join(dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      return { path, fd: openSync(path, TEMP_FLAGS, 0o600) };
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST' || attempt === 9) throw err;
    }
  }
}

/** `--overwrite`: the finished page takes the name, whatever file held it. */
function replace(temp: string, path: string): string {
  renameSync(temp, path);
  return path;
}

/** Without `--overwrite`: the name if it is still free, else the first free one after it. */
function placeNew(temp: string, path: string): string {
  const series = nextRecordingSeries(path);
  for (let k = 0; k < MAX_SERIES; k++) {
    const name = k === 0 ? path : series(k);
    try {
      linkSync(temp, name);
      unlinkSync(temp);
      return name;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'EEXIST') continue;
      if (code === null || !NO_HARD_LINKS.has(code)) throw err;
    }
    // No hard links here: the name is taken only if it is free now.
    if (exists(name)) continue;
    renameSync(temp, name);
    return name;
  }
  throw new ReportFileError(
    `cannot write report ${path}: it and ${MAX_SERIES - 1} names after it exist`,
    path,
    'EEXIST',
  );
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/** The new name is on disk, not only the file's content (a crash right after keeps the report). */
function syncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    fsyncSync(fd);
  } catch {
    // some file systems refuse fsync on a directory; the report is written all the same
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
