/**
 * The extension's browser entry (package.json `browser`), in a web worker extension host (VS Code
 * for the Web, or code-server when it has no Node host for us). No Node here: the adapter reads
 * programs through vscode.workspace.fs, and it runs inline, the only mode a web extension has; the
 * hwbp.adapter setting's other modes are explained once and not used. Everything else is in
 * extensionCore.ts, as on the desktop.
 */
import * as vscode from 'vscode';
import { activateWith, type HwbpExtensionApi } from './extensionCore';
import { workspaceFiles } from './workspaceFiles';

export type { HwbpExtensionApi } from './extensionCore';

export function activate(context: vscode.ExtensionContext): HwbpExtensionApi {
  let told = false;
  return activateWith(context, {
    files: workspaceFiles,
    adapterFor(mode) {
      if (mode !== 'inline' && !told) {
        told = true;
        void vscode.window.showInformationMessage(`hwbp: in the browser the debug adapter runs inside the extension host; the setting hwbp.adapter = '${mode}' applies on the desktop only.`);
      }
      return undefined;
    },
  });
}

export function deactivate(): void {
  // Everything is disposed through the context's subscriptions.
}
