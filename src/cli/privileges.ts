// What this process may do, from its effective capabilities (/proc/self/status CapEff):
// a root shell without CAP_NET_RAW cannot capture, a user with it can — checking the
// uid alone would tell both wrong.
import { readFileSync } from 'node:fs';

const CAP_NET_RAW = 13;
const CAP_SYS_ADMIN = 21;

function effectiveCaps(): bigint | null {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m === null ? null : BigInt(`0x${m[1]}`);
  } catch {
    return null;
  }
}

function has(cap: number): boolean {
  const caps = effectiveCaps();
  // Without /proc, fall back on the uid.
  if (caps === null) return process.getuid?.() === 0;
  return (caps & (1n << BigInt(cap))) !== 0n;
}

/** Opening a packet socket: CAP_NET_RAW (root has it). */
export function canCapture(): boolean {
  return has(CAP_NET_RAW);
}

/** Entering another network namespace (setns): CAP_SYS_ADMIN (root has it). */
export function canEnterNamespaces(): boolean {
  return has(CAP_SYS_ADMIN);
}
