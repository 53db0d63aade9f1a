// `hopscope demo` (npm start): placeholder until the lab lands.
import { UserError } from '../errors.js';

export async function runDemo(_argv: string[]): Promise<number> {
  throw new UserError('demo: not implemented yet');
}
