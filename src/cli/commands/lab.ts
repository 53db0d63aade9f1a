// `hopscope lab`: placeholder until the lab builder lands.
import { UserError } from '../errors.js';

export async function runLab(_argv: string[]): Promise<number> {
  throw new UserError('lab: not implemented yet');
}
