// The one error a remote capture fails with: a value that cannot be sent to a
// remote shell, a session that failed before tcpdump listened, a stop before the
// start. Its message is one line for the user; `kind` says which failure it was.
import type { RemoteFailureKind } from './tcpdump-stderr.js';

export type RemoteCaptureErrorKind = RemoteFailureKind | 'invalid_argument' | 'stopped';

/** A remote capture that cannot start; `message` is one line for the user. */
export class RemoteCaptureError extends Error {
  readonly kind: RemoteCaptureErrorKind;
  constructor(kind: RemoteCaptureErrorKind, message: string) {
    super(message);
    this.name = 'RemoteCaptureError';
    this.kind = kind;
  }
}

/** Refuses a value given for a remote capture (an interface name, a host, a filter). */
export function invalidArgument(message: string): never {
  throw new RemoteCaptureError('invalid_argument', message);
}

/** A value as a message quotes it. */
export function show(value: string): string {
  return JSON.stringify(value);
}

/** Characters no value sent to a remote shell may hold. */
// eslint-disable-next-line no-control-regex
export const CONTROL = /[\u0000-\u001f\u007f]/;
