// `hopscope replay`: not available until the framing and decoding stages land.
import { UserError } from '../errors.js';

export async function runReplay(_argv: string[]): Promise<number> {
  throw new UserError('replay: not implemented yet (it arrives with the framing and decoding stages)');
}
