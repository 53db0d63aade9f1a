// Opening a recording's file: a root tool writing where an unprivileged user may point it.
//
// The file is created with O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, so a symbolic link is
// never followed (a dangling one would otherwise create its target) and nothing existing
// is clobbered. An existing name is refused (code EEXIST) unless `overwrite`; a symbolic
// link always (code ELOOP). With `overwrite` the existing file is opened O_NOFOLLOW
// without O_CREAT and replaced only when it is a regular file of ours with one link —
// another user's file could be held open by them to read the capture, and a hard link
// would clobber the other name too — made 0600 first, then truncated. An existing device
// or FIFO (`-w /dev/null`, a pipe to Wireshark) is written as it is, without
// --overwrite: nothing in it is replaced.
import { closeSync, constants, fchmodSync, fstatSync, ftruncateSync, openSync } from 'node:fs';
import { errnoCode, reason, RecordingError } from './recording-error.js';

export interface RecordingOpenOptions {
  /** replace an existing regular file (never a symbolic link) instead of refusing it */
  overwrite?: boolean;
}

/** A recording's file, open for writing. */
export interface OpenedRecording {
  fd: number;
  /** a regular file (not a device or a FIFO), made 0600 */
  regular: boolean;
}

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const EXISTING_FLAGS = constants.O_WRONLY | constants.O_NOFOLLOW;

/**
 * Creates `path` (mode 0600) or, with `overwrite`, replaces the regular file there (see
 * the top of this file). Throws RecordingError: code EEXIST for a name taken, ELOOP for
 * a symbolic link.
 */
export function openRecording(path: string, options: RecordingOpenOptions): OpenedRecording {
  const fd = openWithoutClobbering(path, options.overwrite === true);
  try {
    // The mode given to open() is cut by the umask. Only a regular file is made 0600:
    // `-w /dev/null` must not change /dev/null.
    const regular = fstatSync(fd).isFile();
    if (regular) fchmodSync(fd, 0o600);
    return { fd, regular };
  } catch (err) {
    closeSync(fd);
    throw new RecordingError(
      `cannot make recording ${path} private (mode 0600): ${reason(err)}`,
      path,
      errnoCode(err),
      err,
    );
  }
}

/** Opens `path` without following a symbolic link or clobbering a file; returns the fd. */
function openWithoutClobbering(path: string, overwrite: boolean): number {
  // A name that vanishes between the two opens is tried again; twice is plenty.
  for (let attempt = 0; ; attempt++) {
    try {
      return openSync(path, CREATE_FLAGS, 0o600);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST' || attempt === 2) throw cannotCreate(path, err);
    }
    let fd: number;
    try {
      fd = openSync(path, EXISTING_FLAGS);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue;
      if (errnoCode(err) === 'ELOOP')
        throw new RecordingError(
          `${path} is a symbolic link; not following it`,
          path,
          'ELOOP',
          err,
          'a symbolic link',
        );
      throw cannotCreate(path, err);
    }
    let refusal: string | null = null;
    try {
      const st = fstatSync(fd);
      // A device or a FIFO is written as it is; a regular file is replaced or refused.
      if (st.isFile()) {
        refusal = replaceRefusal(st, overwrite);
        if (refusal === null) {
          // private before it is emptied: a failure leaves the old content, not a readable capture
          fchmodSync(fd, 0o600);
          ftruncateSync(fd, 0);
        }
      }
    } catch (err) {
      closeSync(fd);
      throw cannotCreate(path, err);
    }
    if (refusal !== null) {
      closeSync(fd);
      throw new RecordingError(`${path} ${refusal}`, path, 'EEXIST', undefined, 'it exists');
    }
    return fd;
  }
}

/** Why an existing regular file may not be replaced by a recording or a report (null: it may). */
export function replaceRefusal(st: { nlink: number; uid: number }, overwrite: boolean): string | null {
  if (!overwrite) return 'exists (give --overwrite to replace it, or another name)';
  if (st.nlink > 1)
    return `has ${st.nlink} hard links; not replacing it (remove it first, or give another name)`;
  const me = process.geteuid?.();
  if (me !== undefined && st.uid !== me)
    return `belongs to another user (uid ${st.uid}); not replacing it (remove it first, or give another name)`;
  return null;
}

function cannotCreate(path: string, err: unknown): RecordingError {
  const why = reason(err, path);
  return new RecordingError(`cannot create recording ${path}: ${why}`, path, errnoCode(err), err, why);
}
