// Time stamps as the JSON lines write them (docs/json-lines.md "Time stamps"):
// decimal seconds with nine digits, never a float, from the {seconds, nanoseconds}
// pairs every stage carries — nanoseconds since 1970 do not fit a double.

const NS_PER_SEC = 1_000_000_000;

/** `1700000000.123456789`: whole seconds, a dot, nine digits; negative times as `-0.500000000`. */
export function formatTimestamp(sec: number, nsec: number): string {
  if (sec < 0 && nsec > 0) {
    // {-1, 5e8} is -1 + 0.5 = -0.5: print the magnitude, not "-1.500000000".
    return `-${-sec - 1}.${String(NS_PER_SEC - nsec).padStart(9, '0')}`;
  }
  return `${sec}.${String(nsec).padStart(9, '0')}`;
}

/** Inverse of formatTimestamp; accepts 0-9 fraction digits. Throws on anything else. */
export function parseTimestamp(text: string): { sec: number; nsec: number } {
  const m = /^(-?)(\d+)(?:\.(\d{1,9}))?$/.exec(text);
  if (m === null) throw new Error(`not a timestamp: ${JSON.stringify(text)}`);
  const whole = Number(m[2]);
  const frac = m[3] !== undefined ? Number(m[3].padEnd(9, '0')) : 0;
  if (m[1] === '-' && (whole > 0 || frac > 0)) {
    return frac > 0 ? { sec: -whole - 1, nsec: NS_PER_SEC - frac } : { sec: -whole, nsec: 0 };
  }
  return { sec: whole, nsec: frac };
}
