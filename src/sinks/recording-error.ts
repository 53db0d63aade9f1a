// What goes wrong with a recording's file, as the operator reads it: RecordingError
// names the file and keeps the system's errno code, and reason() says why a file
// operation failed in a few words (`no space left on device`, `directory /x does not
// exist`) instead of the system's message — for the report file and annotations too.
import { basename, dirname } from 'node:path';

export class RecordingError extends Error {
  readonly path: string;
  /** errno code (ENOENT, EACCES, ENOSPC, ...) when the system gave one */
  readonly code: string | null;
  /** what went wrong, short, without the file (`no space left on device`) */
  readonly reason: string;

  constructor(message: string, path: string, code: string | null, cause?: unknown, why?: string) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'RecordingError';
    this.path = path;
    this.code = code;
    this.reason = why ?? message;
  }
}

export function errnoCode(err: unknown): string | null {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string')
    return err.code;
  return null;
}

/** A short, operator-facing reason for a failed file operation. */
export function reason(err: unknown, path?: string): string {
  switch (errnoCode(err)) {
    case 'ENOENT':
      return path !== undefined ? `directory ${dirname(path)} does not exist` : 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return path !== undefined ? `${basename(path)} is a directory` : 'is a directory';
    case 'ENOTDIR':
      return 'a component of the path is not a directory';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EROFS':
      return 'read-only file system';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EFBIG':
      return 'file too large';
    case 'EIO':
      return 'input/output error';
    case 'EPIPE':
      return 'broken pipe (its reader is gone)';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
