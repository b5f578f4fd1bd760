/**
 * The extension's desktop entry (package.json `main`), in the Node extension host: the adapter reads
 * programs with Node's file system, and besides inline it can run as a separate process
 * (dist/debugAdapter.js) or connect to a debug adapter server. Everything else is in extensionCore.ts.
 */
import * as vscode from 'vscode';
import { nodeFiles } from './adapter/nodeFiles';
import { activateWith, type HwbpExtensionApi } from './extensionCore';

export type { HwbpExtensionApi } from './extensionCore';

export function activate(context: vscode.ExtensionContext): HwbpExtensionApi {
  return activateWith(context, {
    files: nodeFiles,
    adapterFor(mode, ctx) {
      const settings = vscode.workspace.getConfiguration('hwbp');
      if (mode === 'external') return new vscode.DebugAdapterExecutable(process.execPath, [ctx.asAbsolutePath('dist/debugAdapter.js')]);
      if (mode === 'server') return new vscode.DebugAdapterServer(settings.get<number>('serverPort', 4711), '127.0.0.1');
      return undefined;
    },
  });
}

export function deactivate(): void {
  // Everything is disposed through the context's subscriptions.
}
