// Exit statuses (DESIGN §2): 0 success, 1 lost/unanswered exchanges found, 2 usage or environment error.
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
