// findProjectFile (src/shared/project-file.ts): a project's file is found from a module
// at any of the depths it runs from (src/…, dist/…, dist/app/), nearest first, and
// not found beyond the levels it looks up.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findProjectFile } from '../../src/shared/project-file.js';

const root = mkdtempSync(join(tmpdir(), 'hopscope-project-file-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function file(...parts: string[]): string {
  const p = join(root, ...parts);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, '');
  return p;
}

describe('findProjectFile', () => {
  it('finds the file from a module one, two or three directories below the project', () => {
    const recording = file('project', 'captures', 'x.pcapng');
    for (const module of [
      ['project', 'dist', 'app', 'main.js'],
      ['project', 'dist', 'cli', 'commands', 'demo.js'],
      ['project', 'src', 'main.ts'],
    ])
      expect(findProjectFile(pathToFileURL(file(...module)).href, join('captures', 'x.pcapng'))).toBe(
        recording,
      );
  });

  it('takes the nearest, and says null when no directory upwards has it', () => {
    const near = file('project', 'dist', 'captures', 'y.pcapng');
    file('project', 'captures', 'y.pcapng');
    const module = pathToFileURL(file('project', 'dist', 'app', 'main.js')).href;
    expect(findProjectFile(module, join('captures', 'y.pcapng'))).toBe(near);
    expect(findProjectFile(module, join('captures', 'none.pcapng'))).toBeNull();
  });
});
