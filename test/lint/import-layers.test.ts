// The import rule of docs/architecture.md, as eslint enforces it: a module that
// imports a folder its own folder may not import fails `npm run lint`, and the tree
// as it is passes.
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { LAYERS } from '../../eslint.config.js';

const ROOT = join(import.meta.dirname, '..', '..');
const LAYER_RULES = new Set(['no-restricted-imports', 'no-restricted-syntax']);

const eslint = new ESLint({ cwd: ROOT });

async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, filePath) });
  return result.messages.filter((m) => m.ruleId !== null && LAYER_RULES.has(m.ruleId)).map((m) => m.message);
}

const folders = Object.keys(LAYERS);

describe('imports one way (eslint no-restricted-imports)', () => {
  it('fails a file in src/decode/ that imports src/cli/', async () => {
    const probe = join(ROOT, 'src', 'decode', `layer-probe-${process.pid}.ts`);
    writeFileSync(
      probe,
      "import { UserError } from '../cli/errors.js';\n\nexport const probe = UserError;\n",
    );
    try {
      const [result] = await eslint.lintFiles([probe]);
      expect(result.errorCount).toBe(1);
      expect(result.messages[0].ruleId).toBe('no-restricted-imports');
      expect(result.messages[0].message).toContain('src/decode/ may import only events/, shared/');
    } finally {
      rmSync(probe, { force: true });
    }
  });

  it('lists every folder of src/', () => {
    const present = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    for (const folder of present) expect(folders, `src/${folder}/ is not in LAYERS`).toContain(folder);
  });

  for (const folder of folders) {
    it(`src/${folder}/ imports what it may and nothing else`, async () => {
      const allowed: readonly string[] = LAYERS[folder];
      for (const other of folders) {
        if (other === folder) continue;
        // From a nested folder too (src/cli/commands, src/lab/scenarios).
        for (const [file, up] of [
          [`src/${folder}/probe.ts`, '../'],
          [`src/${folder}/nested/probe.ts`, '../../'],
        ]) {
          const errors = await layerErrors(
            file,
            `import type { T } from '${up}${other}/some-module.js';\nexport type U = T;\n`,
          );
          if (allowed.includes(other)) expect(errors, `${file} → ${other}/`).toEqual([]);
          else expect(errors, `${file} → ${other}/`).toHaveLength(1);
        }
      }
    });
  }

  it('src/ui/ may take the text of verdicts from sinks/exchange-text.ts and nothing else of sinks/', async () => {
    expect(
      await layerErrors('src/ui/probe.ts', "export { offsetText } from '../sinks/exchange-text.js';\n"),
    ).toEqual([]);
    expect(
      await layerErrors('src/ui/probe.ts', "export { LineWriter } from '../sinks/line-writer.js';\n"),
    ).toHaveLength(1);
  });

  it('only src/ui/ imports blessed, and only cli/ and pipeline/ import lazily', async () => {
    expect(
      await layerErrors('src/sinks/probe.ts', "import blessed from 'blessed';\nexport const b = blessed;\n"),
    ).toHaveLength(1);
    expect(
      await layerErrors('src/ui/probe.ts', "import blessed from 'blessed';\nexport const b = blessed;\n"),
    ).toEqual([]);
    expect(
      await layerErrors('src/decode/probe.ts', "export const later = () => import('../decode/record.js');\n"),
    ).toHaveLength(1);
    expect(
      await layerErrors('src/cli/probe.ts', "export const later = () => import('../ui/tui.js');\n"),
    ).toEqual([]);
  });

  it('the tree as it is keeps the rule', async () => {
    const results = await eslint.lintFiles([join(ROOT, 'src')]);
    const broken = results.flatMap((r) =>
      r.messages
        .filter((m) => m.ruleId !== null && LAYER_RULES.has(m.ruleId))
        .map((m) => `${r.filePath.slice(ROOT.length + 1)}:${m.line}: ${m.message}`),
    );
    expect(broken).toEqual([]);
  });
});
