// Exit statuses (docs/json-lines.md "Exit status"): 0 success, 1 lost/unanswered
// exchanges found, 2 usage or environment error.
import { EXIT_USAGE } from '../shared/user-error.js';

export const EXIT_OK = 0;
export const EXIT_PROBLEMS_FOUND = 1;
export { EXIT_USAGE };
export { UserError } from '../shared/user-error.js';
