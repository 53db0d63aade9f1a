// `hopscope capture`: not available until the live-capture engine lands.
import { UserError } from '../errors.js';

export async function runCapture(_argv: string[]): Promise<number> {
  throw new UserError(
    'capture: live capture is not implemented yet (it arrives with the live-capture engine); use `hopscope replay` on a recording',
  );
}
