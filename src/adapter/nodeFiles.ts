/**
 * The program's files through Node's file system: for the adapter process (`hwbp dap`), the CLI
 * and the desktop extension. Node-only: the web entry never imports it (eslint.config.mjs lets
 * only this file and the stdio/TCP entry use Node built-ins below the extension).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { FileReadError, type ProgramFiles } from './files';

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  ENOTDIR: 'a part of the path is not a folder',
};

export const nodeFiles: ProgramFiles = {
  resolve: (path) => resolve(path),
  async read(path) {
    try {
      return await readFile(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new FileReadError(code !== undefined && code in REASONS ? REASONS[code] : (e as Error).message);
    }
  },
};
