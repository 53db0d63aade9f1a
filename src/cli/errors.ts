// Exit statuses (docs/json-lines.md "Exit status"): 0 success, 1 lost/unanswered
// exchanges found, 2 usage or environment error.
import type { SummaryRecord } from '../events/types.js';
import { EXIT_USAGE } from '../shared/user-error.js';

export const EXIT_OK = 0;
export const EXIT_PROBLEMS_FOUND = 1;
export { EXIT_USAGE };
export { UserError } from '../shared/user-error.js';

/**
 * The exit status the verdicts call for: 1 (EXIT_PROBLEMS_FOUND) when any exchange was
 * lost or unanswered, like diff finding a difference; otherwise 0 (an error or
 * inconclusive verdict says something about the network or the capture, not that a
 * request went unanswered).
 */
export function exitStatus(summary: SummaryRecord): number {
  return summary.lost > 0 || summary.unanswered > 0 ? EXIT_PROBLEMS_FOUND : EXIT_OK;
}
