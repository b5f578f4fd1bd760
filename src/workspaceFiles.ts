/**
 * The program's files through the editor's workspace file system (vscode.workspace.fs), for the
 * web entry: a browser's web worker has no Node `fs`. A path is canonical as its URI's text, which
 * is also what VS Code sends back in `source.path` for a file that is not in the `file` scheme,
 * and what it opens when the adapter names it in a stack frame.
 */
import * as vscode from 'vscode';
import { FileReadError, type ProgramFiles } from './adapter/files';
import { programUri } from './views/programUri';

const REASONS: Record<string, string> = {
  FileNotFound: 'no such file',
  FileIsADirectory: 'is a directory',
  NoPermissions: 'permission denied',
  Unavailable: 'the file system is unavailable',
};

export const workspaceFiles: ProgramFiles = {
  resolve: (path) => programUri(path).toString(),
  async read(path) {
    let bytes: Uint8Array;
    try {
      bytes = await vscode.workspace.fs.readFile(vscode.Uri.parse(path, true));
    } catch (e) {
      const code = e instanceof vscode.FileSystemError ? e.code : undefined;
      throw new FileReadError(code !== undefined && code in REASONS ? REASONS[code] : (e as Error).message);
    }
    return new TextDecoder().decode(bytes);
  },
};
