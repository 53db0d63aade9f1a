// The options capture and replay share: what they print (packet lines, JSON records),
// the HTML page of --report FILE, and --overwrite for the files they write.
import type { OptionSpec } from './args.js';

export const OUTPUT_OPTIONS: readonly OptionSpec[] = [
  { name: 'packets', kind: 'flag' },
  { name: 'json', kind: 'flag' },
  { name: 'report', kind: 'string' },
  { name: 'overwrite', kind: 'flag' },
];
