/**
 * The URI of the program a launch configuration names. `program` is what VS Code resolved `${file}`
 * or `${workspaceFolder}/…` to: a path, in the file system of the workspace folders. On the desktop
 * that is the `file` scheme; in the browser (a web worker extension host) the folders live behind
 * another scheme, such as code-server's `vscode-remote`, and a path means that folder's file
 * system, not `file:`. A program given as a URI is taken as it is.
 */
import * as vscode from 'vscode';

const URI_LIKE = /^[a-zA-Z][a-zA-Z0-9+.-]+:/;
const DRIVE = /^[a-zA-Z]:[\\/]/;

export function programUri(program: string, folder?: vscode.Uri): vscode.Uri {
  if (program.trim() === '') throw new Error('the program path is empty');
  if (URI_LIKE.test(program) && !DRIVE.test(program)) return vscode.Uri.parse(program, true);
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri);
  const base = folder ?? folders[0];
  const absolute = program.startsWith('/') || program.startsWith('\\') || DRIVE.test(program);
  if (!absolute) {
    if (base === undefined) throw new Error(`'${program}' is a relative path, and no folder is open to resolve it against`);
    return vscode.Uri.joinPath(base, program);
  }
  const slashed = program.replace(/\\/g, '/');
  const path = slashed.startsWith('/') ? slashed : `/${slashed}`;
  // The folder that holds the path tells the file system; without one, the first folder's.
  const home = folders.find((f) => path.startsWith(f.path.endsWith('/') ? f.path : `${f.path}/`)) ?? base;
  if (home === undefined || home.scheme === 'file') return vscode.Uri.file(program);
  return home.with({ path, query: '', fragment: '' });
}
