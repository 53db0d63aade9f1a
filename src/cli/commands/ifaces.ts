// `hopscope ifaces`: not available until the live-capture engine lands.
import { UserError } from '../errors.js';

export async function runIfaces(_argv: string[]): Promise<number> {
  throw new UserError(
    'ifaces: not implemented yet (it arrives with the live-capture engine); meanwhile: ip -br link, ip netns list',
  );
}
