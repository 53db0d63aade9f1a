import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/**
 * Which folders of src/ each folder may import (docs/architecture.md "Imports"): a
 * folder imports its own files and those listed, nothing else. `folder/module` allows
 * one module of a folder. Every folder of src/ is listed (a test checks it).
 */
export const LAYERS = {
  events: [],
  shared: ['events'],
  decode: ['events', 'shared'],
  framing: ['events', 'shared', 'decode'],
  correlate: ['events', 'shared', 'decode'],
  sources: ['events', 'shared', 'decode', 'framing'],
  sinks: ['events', 'shared', 'framing'],
  ui: ['events', 'shared', 'sinks/exchange-text'],
  lab: ['events', 'shared'],
  path: ['events', 'shared', 'decode', 'sources'],
  evidence: ['events', 'shared', 'sources'],
  pipeline: [
    'events',
    'shared',
    'decode',
    'framing',
    'correlate',
    'sources',
    'sinks',
    'ui',
    'lab',
    'path',
    'evidence',
  ],
};
// cli wires the stages: everything the pipeline may use, and the pipeline.
LAYERS.cli = [...LAYERS.pipeline, 'pipeline'];

/** Files allowed one more folder than their own folder is, and why. */
export const LAYER_EXCEPTIONS = [
  {
    // The replay's decoder thread classifies every packet on its own thread and hands
    // the correlator only the packets of exchanges: it runs correlate's classify.
    files: [
      'src/sources/file-decoder-worker.ts',
      'src/sources/file-decoder-thread.ts',
      'src/sources/decoded-records.ts',
    ],
    also: ['correlate'],
  },
];

const FOLDERS = Object.keys(LAYERS);

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** no-restricted-imports patterns forbidding, from `folder`, every folder (or module) not in `allowed`. */
function layerPatterns(folder, allowed) {
  const message = `src/${folder}/ may import only ${LAYERS[folder].map((a) => (a.includes('/') ? `${a}.ts` : `${a}/`)).join(', ') || 'its own files'} (docs/architecture.md "Imports")`;
  const patterns = [];
  for (const other of FOLDERS) {
    if (other === folder || allowed.includes(other)) continue;
    const modules = allowed.filter((a) => a.startsWith(`${other}/`)).map((a) => a.slice(other.length + 1));
    // `../x/`, `../../x/`: a relative import that leaves this folder for folder x.
    const except = modules.length > 0 ? `(?!(?:${modules.map(escape).join('|')})\\.js$)` : '';
    patterns.push({ regex: `^(?:\\.\\./)+${escape(other)}/${except}`, message });
  }
  return patterns;
}

function layerRule(folder, allowed) {
  return {
    'no-restricted-imports': [
      'error',
      {
        patterns: layerPatterns(folder, allowed),
        // The terminal UI's library is loaded only with the UI.
        paths:
          folder === 'ui'
            ? []
            : [{ name: 'blessed', message: 'only src/ui/ imports blessed (loaded with the TUI)' }],
      },
    ],
  };
}

const layerBlocks = [
  ...FOLDERS.map((folder) => ({
    files: [`src/${folder}/**/*.ts`],
    rules: layerRule(folder, LAYERS[folder]),
  })),
  ...LAYER_EXCEPTIONS.map(({ files, also }) => {
    const folder = files[0].split('/')[1];
    return { files, rules: layerRule(folder, [...LAYERS[folder], ...also]) };
  }),
  {
    // A dynamic import() is not seen by no-restricted-imports: only the top may load lazily.
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**', 'src/pipeline/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportExpression', message: 'dynamic import() only in src/cli/ and src/pipeline/' },
      ],
    },
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'native/build/', 'captures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...layerBlocks,
);
