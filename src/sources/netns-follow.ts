// A local namespace's interfaces as a capture session follows them: whether a listing
// changed an interface's addresses, whether an opening error means "not there (yet)",
// and whether a namespace's name still leads to the namespace a capture was opened in.
import { stat } from 'node:fs/promises';
import type { CaptureError, CaptureErrorCode } from './native-addon.js';
import { isCaptureError } from './native-addon.js';

/** Opening errors that mean "not there (yet)": the interface is waited for, not fatal. */
const ABSENT: ReadonlySet<CaptureErrorCode> = new Set<CaptureErrorCode>([
  'ERR_NO_SUCH_DEVICE',
  'ERR_NETNS_NOT_FOUND',
  'ERR_IFACE_DOWN',
  'ERR_IFACE_GONE',
]);

/** Whether two address lists hold the same addresses (listings may order them differently). */
export function sameAddresses(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

export function absent(err: unknown): err is CaptureError {
  return isCaptureError(err) && ABSENT.has(err.code);
}

/**
 * Inode of the namespace a path leads to now (stat follows /proc/N/ns/net and the bind
 * mount of /run/netns/NAME), null when there is none (deleted, the process gone), or
 * undefined when that cannot be told (then nothing is concluded).
 */
export async function namespaceInode(path: string): Promise<number | null | undefined> {
  try {
    return (await stat(path)).ino;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? null : undefined;
  }
}

/** Why the interfaces of `netns` are gone: it was deleted, or its name now leads to another one. */
export function namespaceLostReason(netns: string, replaced: boolean): string {
  const pid = /^pid:(\d+)$/.exec(netns);
  if (pid !== null) {
    return replaced
      ? `the namespace of process ${pid[1]} is another one now`
      : `process ${pid[1]} exited (namespace ${netns} gone)`;
  }
  return replaced
    ? `namespace ${netns} deleted (its name names a new namespace now)`
    : `namespace ${netns} deleted`;
}
