// The error a user can fix (a typo in a SPEC, a missing program, a lab that exists):
// the CLI prints its message as one line, `hopscope: <message>`, and exits with its
// status. Here rather than in cli/ so the lab, which the CLI runs, throws it too.

/** Exit status of a usage or environment error. */
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
