// A file of the project (the native addon, a shipped recording), found from the module
// that asks for it. That module runs from src/ (tests), dist/ (single modules) or
// dist/app/ (the bundled CLI), at different depths: the file is looked for in each
// directory upwards instead of at one hard-coded depth.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Directories looked in above the module's own: deeper than any of src/, dist/ or dist/app/ needs. */
const MAX_LEVELS_UP = 5;

/** `relative` (a path inside the project) in the first directory upwards from `moduleUrl` that has it, or null. */
export function findProjectFile(moduleUrl: string, relative: string): string | null {
  let dir = path.dirname(fileURLToPath(moduleUrl));
  for (let level = 0; level <= MAX_LEVELS_UP; level++) {
    const candidate = path.join(dir, relative);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return null;
}
