// Time stamps on the report page: the records carry `sec.nsec` text (docs/json-lines.md
// "Time stamps"); the page shows them as UTC and orders by them. Records may come from
// a file, so text that is not a time stamp is shown as it is and never throws.
import { parseTimestamp } from '../shared/timestamp-text.js';

/** Whether time stamp `a` is before `b`; false when either is not a time stamp. */
export function earlier(a: string, b: string): boolean {
  try {
    const x = parseTimestamp(a);
    const y = parseTimestamp(b);
    return x.sec < y.sec || (x.sec === y.sec && x.nsec < y.nsec);
  } catch {
    return false;
  }
}

/** `2026-11-22 10:23:47.112200674 UTC` from `1795352627.112200674`; the text as it is if it is not a time stamp. */
export function utc(ts: string): string {
  try {
    const { sec, nsec } = parseTimestamp(ts);
    const date = new Date(sec * 1000);
    if (Number.isNaN(date.getTime())) return ts;
    return `${date.toISOString().slice(0, 19).replace('T', ' ')}.${String(nsec).padStart(9, '0')} UTC`;
  } catch {
    return ts;
  }
}
