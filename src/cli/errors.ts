// Exit statuses (DESIGN §2): 0 success, 1 lost/unanswered exchanges found, 2 usage or environment error.
import type { SummaryRecord } from '../events/types.js';

export const EXIT_OK = 0;
export const EXIT_PROBLEMS_FOUND = 1;
export const EXIT_USAGE = 2;

/** An error the user can fix: printed as one line `hopscope: <message>`, exit 2. */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = EXIT_USAGE) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/**
 * The exit status a run's verdicts call for (capture and replay alike): 1 when an
 * exchange was lost or unanswered, like diff finding a difference; otherwise 0 (an
 * error or inconclusive verdict says something about the network or the capture, not
 * that a request went unanswered).
 */
export function exitStatus(summary: SummaryRecord): number {
  return summary.lost > 0 || summary.unanswered > 0 ? EXIT_PROBLEMS_FOUND : EXIT_OK;
}
