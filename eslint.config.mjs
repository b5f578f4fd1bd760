// Lint configuration. Besides style, it enforces the layer rule of the project:
// views -> (DAP messages only) -> adapter -> target -> hwbp, imports only point downward.
// And no Node below the extension: hwbp, target, adapter and views also run in a browser's web
// worker (package.json `browser`), so they take the program's text and a file reader instead of
// importing Node built-ins. The Node-only files are listed in NODE_ONLY.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The adapter as a Node program (stdio/TCP) and Node's file reader: never in the browser bundle. */
const NODE_ONLY = ['src/adapter/debugAdapter.ts', 'src/adapter/wire.ts', 'src/adapter/nodeFiles.ts'];

const NODE_IMPORTS = {
  group: ['node:*', ...builtinModules.flatMap((m) => [m, `${m}/**`])],
  message: 'No Node built-ins here: this code also runs in the browser (web worker). Take the program text or a ProgramFiles (src/adapter/files.ts) from the entry instead.',
};
const NODE_ONLY_IMPORTS = {
  group: ['**/nodeFiles', '**/adapter/wire', '**/adapter/debugAdapter', './wire', './debugAdapter'],
  message: 'Node-only module (see NODE_ONLY in eslint.config.mjs): the browser bundle must not reach it.',
};
const NODE_GLOBALS = ['Buffer', 'process', 'setImmediate', 'clearImmediate', '__dirname', '__filename', 'require', 'global'].map((name) => ({
  name,
  message: `${name} is Node's: this code also runs in the browser (web worker).`,
}));

/**
 * Forbid imports of the given sibling layers from files of one layer; `node: true` also forbids
 * Node built-ins and Node-only globals (except in NODE_ONLY files, which get the layer rule alone).
 */
function layer(files, forbidden, why, { node = true } = {}) {
  const layerPatterns = forbidden.length > 0 ? [{ group: forbidden, message: why }] : [];
  const configs = [{
    files,
    ...(node ? { ignores: NODE_ONLY } : {}),
    rules: {
      'no-restricted-imports': ['error', { patterns: node ? [...layerPatterns, NODE_IMPORTS, NODE_ONLY_IMPORTS] : layerPatterns }],
      ...(node ? { 'no-restricted-globals': ['error', ...NODE_GLOBALS] } : {}),
    },
  }];
  if (node && layerPatterns.length > 0) {
    configs.push({ files: NODE_ONLY.filter((f) => files.some((g) => f.startsWith(g.replace('**', '')))), rules: { 'no-restricted-imports': ['error', { patterns: layerPatterns }] } });
  }
  return configs.filter((c) => c.files.length > 0);
}

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', '.vscode-test/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { project: false } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'eqeqeq': ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    // Plain CommonJS helpers that tools load directly (mocha reporter).
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  ...layer(['src/hwbp/**'],
    ['**/target', '**/target/**', '**/adapter', '**/adapter/**', '**/gdb', '**/gdb/**', '**/elf', '**/elf/**', '**/views', '**/views/**', '**/cli/**', 'vscode', '@vscode/*'],
    'src/hwbp is the bottom layer: it depends on nothing of ours and on no editor or protocol package.'),
  ...layer(['src/target/**'],
    ['**/adapter', '**/adapter/**', '**/gdb', '**/gdb/**', '**/elf', '**/elf/**', '**/views', '**/views/**', 'vscode', '@vscode/*'],
    'src/target may only import src/hwbp.'),
  ...layer(['src/adapter/**'],
    ['**/views', '**/views/**', '**/gdb', '**/gdb/**', '**/elf', '**/elf/**', 'vscode'],
    'src/adapter speaks DAP; it never imports views, the GDB stub, the ELF writer or the vscode API.'),
  // The GDB stub and the ELF writer serve the Node CLI only (a TCP server, files): Node is allowed there.
  ...layer(['src/gdb/**'],
    ['**/views', '**/views/**', '**/cli/**', 'vscode', '@vscode/*'],
    'src/gdb (the GDB remote stub) sits beside src/adapter, above target and hwbp; it never imports views, the CLI or editor packages.',
    { node: false }),
  ...layer(['src/elf/**'],
    ['**/adapter', '**/adapter/**', '**/gdb', '**/gdb/**', '**/views', '**/views/**', '**/cli/**', 'vscode', '@vscode/*'],
    'src/elf (the ELF/DWARF writer) reads a lowered program of src/target only.',
    { node: false }),
  ...layer(['src/views/**'],
    ['**/adapter', '**/adapter/**', '**/target', '**/target/**', '**/hwbp', '**/hwbp/**', '**/gdb', '**/gdb/**', '**/elf', '**/elf/**'],
    'Views learn state only through DAP messages (custom events/requests), never from adapter, target or hwbp objects.'),
  // The browser entry and what only it and the shared activation use.
  ...layer(['src/webExtension.ts', 'src/extensionCore.ts', 'src/workspaceFiles.ts', 'src/web/**', 'media/**'], [], ''),
);
