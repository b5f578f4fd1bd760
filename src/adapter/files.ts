/**
 * How the adapter reaches the program's file. The adapter itself runs anywhere (a Node process, the
 * desktop extension host, a browser's web worker), so it is handed the file access of the place it
 * runs in: Node's file system (nodeFiles.ts) or the editor's workspace file system (the web entry).
 */

/** The file access a session is given. Paths are what the client sends (`program`, `source.path`). */
export interface ProgramFiles {
  /**
   * The canonical form of a path, so that two spellings of one file compare equal (Node: resolved
   * against the working directory and normalized). Must not touch the file.
   */
  resolve(path: string): string;
  /**
   * The file's text. Rejects with a FileReadError whose message says why in a few words
   * ('no such file', 'is a directory', …).
   */
  read(path: string): Promise<string>;
}

/** A file could not be read; the message is short and meant for the user. */
export class FileReadError extends Error {}

/** The last part of a path or URI, whichever separator it uses. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  for (let i = parts.length - 1; i >= 0; i--) if (parts[i] !== '') return parts[i];
  return path;
}
