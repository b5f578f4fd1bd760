// Lint configuration. Besides style, it enforces the layer rule of the project:
// views -> (DAP messages only) -> adapter -> target -> hwbp, imports only point downward.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Forbid imports of the given sibling layers from files of one layer. */
function layer(files, forbidden, why) {
  return {
    files,
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: forbidden, message: why }],
      }],
    },
  };
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
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  layer(['src/hwbp/**'],
    ['**/target', '**/target/**', '**/adapter', '**/adapter/**', '**/gdb', '**/gdb/**', '**/elf', '**/elf/**', '**/views', '**/views/**', '**/cli/**', 'vscode', '@vscode/*'],
    'src/hwbp is the bottom layer: it depends on nothing of ours and on no editor or protocol package.'),
  layer(['src/target/**'],
    ['**/adapter', '**/adapter/**', '**/gdb', '**/gdb/**', '**/elf', '**/elf/**', '**/views', '**/views/**', 'vscode', '@vscode/*'],
    'src/target may only import src/hwbp.'),
  layer(['src/adapter/**'],
    ['**/views', '**/views/**', 'vscode'],
    'src/adapter speaks DAP; it never imports views or the vscode API.'),
  layer(['src/gdb/**'],
    ['**/views', '**/views/**', '**/cli/**', 'vscode', '@vscode/*'],
    'src/gdb (the GDB remote stub) sits beside src/adapter, above target and hwbp; it never imports views, the CLI or editor packages.'),
  layer(['src/elf/**'],
    ['**/adapter', '**/adapter/**', '**/gdb', '**/gdb/**', '**/views', '**/views/**', '**/cli/**', 'vscode', '@vscode/*'],
    'src/elf (the ELF/DWARF writer) reads a lowered program of src/target only.'),
  layer(['src/views/**'],
    ['**/adapter', '**/adapter/**', '**/target', '**/target/**', '**/hwbp', '**/hwbp/**'],
    'Views learn state only through DAP messages (custom events/requests), never from adapter, target or hwbp objects.'),
);
