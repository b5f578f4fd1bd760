/**
 * What the desktop entry (extension.ts, Node) and the browser entry (webExtension.ts, a web worker)
 * share: it registers the debugger type `hwbp` and its configuration provider, the adapter factory,
 * diagnostics for .hwsim files, the Debug Registers view with its commands, and the register
 * timeline panel with Export Trace. What differs is handed in as a Host: how the adapter reads the
 * program, and which other ways of running the adapter there are.
 */
import * as vscode from 'vscode';
import type { ProgramFiles } from './adapter/files';
import { HwbpDebugSession } from './adapter/session';
import { checkProgram } from './target';
import { RegistersView, VIEW_ID } from './views/registersView';
import type { ViewNode } from './views/registersModel';
import { exportTrace, TimelineView } from './views/timelineView';

/** What activate() returns: enough for integration tests to look at the view's tree. */
export interface HwbpExtensionApi {
  registersView: RegistersView;
  timelineView: TimelineView;
}

/** What an entry brings: the program's file access, and the adapter modes other than inline. */
export interface Host {
  files: ProgramFiles;
  /**
   * The descriptor for the hwbp.adapter setting's mode, or undefined to run the adapter inline
   * (the default, and the only mode in the browser).
   */
  adapterFor(mode: string, context: vscode.ExtensionContext): vscode.DebugAdapterDescriptor | undefined;
}

export function activateWith(context: vscode.ExtensionContext, host: Host): HwbpExtensionApi {
  const view = new RegistersView();
  const timeline = new TimelineView(context.extensionUri);
  context.subscriptions.push(
    view,
    timeline,
    vscode.debug.registerDebugConfigurationProvider('hwbp', new ConfigurationProvider()),
    vscode.debug.registerDebugAdapterDescriptorFactory('hwbp', new AdapterFactory(context, host)),
    ...diagnostics(),
    vscode.commands.registerCommand(`${VIEW_ID}.refresh`, () => view.fetch()),
    vscode.commands.registerCommand('hwbp.timeline.show', () => timeline.show()),
    vscode.commands.registerCommand('hwbp.exportTrace', () => exportTrace()),
    vscode.commands.registerCommand('hwbp.watchpoint.makePinned', (node?: ViewNode) => setMode(view, node, 'pinned')),
    vscode.commands.registerCommand('hwbp.watchpoint.makeFlexible', (node?: ViewNode) => setMode(view, node, 'flexible')),
    vscode.commands.registerCommand('hwbp.watchpoint.remove', (node?: ViewNode) => removeWatchpoint(view, node)),
  );
  return { registersView: view, timelineView: timeline };
}

/** F5 on a .hwsim file works without a launch.json. */
class ConfigurationProvider implements vscode.DebugConfigurationProvider {
  resolveDebugConfiguration(_folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration | undefined {
    if (!config.type && !config.request && !config.name) {
      const editor = vscode.window.activeTextEditor;
      if (editor?.document.languageId === 'hwsim') {
        config.type = 'hwbp';
        config.name = `Debug ${editor.document.fileName.split(/[\\/]/).pop()}`;
        config.request = 'launch';
        config.program = '${file}';
        config.stopOnEntry = true;
      }
    }
    if (!config.program) {
      void vscode.window.showErrorMessage("hwbp: no program to debug: open a .hwsim file, or set 'program' in launch.json.");
      return undefined;
    }
    return config;
  }
}

class AdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(private readonly context: vscode.ExtensionContext, private readonly host: Host) {}

  createDebugAdapterDescriptor(): vscode.ProviderResult<vscode.DebugAdapterDescriptor> {
    const mode = vscode.workspace.getConfiguration('hwbp').get<string>('adapter', 'inline');
    return this.host.adapterFor(mode, this.context) ?? new vscode.DebugAdapterInlineImplementation(new HwbpDebugSession(this.host.files));
  }
}

/** The target's diagnostics in the Problems panel, updated as the user types. */
function diagnostics(): vscode.Disposable[] {
  const collection = vscode.languages.createDiagnosticCollection('hwsim');
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const check = (doc: vscode.TextDocument) => {
    if (doc.languageId !== 'hwsim') return;
    collection.set(doc.uri, checkProgram(doc.getText(), doc.fileName).map((d) => {
      const range = new vscode.Range(d.span.line - 1, d.span.col - 1, d.span.endLine - 1, Math.max(d.span.endCol - 1, d.span.col));
      const diag = new vscode.Diagnostic(range, d.message, d.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
      diag.source = 'hwsim';
      return diag;
    }));
  };
  const later = (doc: vscode.TextDocument) => {
    const key = doc.uri.toString();
    clearTimeout(timers.get(key));
    timers.set(key, setTimeout(() => check(doc), 200));
  };
  vscode.workspace.textDocuments.forEach(check);
  return [
    collection,
    vscode.workspace.onDidOpenTextDocument(check),
    vscode.workspace.onDidChangeTextDocument((e) => later(e.document)),
    vscode.workspace.onDidCloseTextDocument((doc) => collection.delete(doc.uri)),
  ];
}

/**
 * Switch a watchpoint's mode from the view. The adapter either makes the switch or changes nothing;
 * either way the user hears what happened, and the view shows the new state at once.
 */
async function setMode(view: RegistersView, node: ViewNode | undefined, mode: 'pinned' | 'flexible'): Promise<void> {
  const session = vscode.debug.activeDebugSession;
  if (session?.type !== 'hwbp') {
    void vscode.window.showWarningMessage('hwbp: no hwbp debug session is active.');
    return;
  }
  if (node?.breakpointId === undefined) {
    void vscode.window.showWarningMessage(`hwbp: make ${mode} works on a watchpoint in the Debug Registers view.`);
    return;
  }
  try {
    const body = (await session.customRequest('hwbp.setWatchpointMode', { id: node.breakpointId, mode })) as SetModeBody;
    const others = body.changed.filter((c) => c.label !== body.watchpoint.label).map((c) => `${c.label} ${c.why}`);
    vscode.window.setStatusBarMessage(`$(check) ${body.watchpoint.label} is now ${body.watchpoint.mode}${others.length > 0 ? ` (${others.join(', ')})` : ''}`, 5000);
  } catch (e) {
    void vscode.window.showWarningMessage((e as Error).message);
  }
  await view.fetch();
}

interface SetModeBody {
  watchpoint: { label: string; mode: string | null };
  changed: { label: string; why: string }[];
}

/** Remove the editor's breakpoint behind a watchpoint node. */
async function removeWatchpoint(view: RegistersView, node: ViewNode | undefined): Promise<void> {
  const session = vscode.debug.activeDebugSession;
  if (session?.type !== 'hwbp' || node?.breakpointId === undefined) {
    void vscode.window.showWarningMessage('hwbp: remove works on a watchpoint of the active hwbp session.');
    return;
  }
  for (const bp of vscode.debug.breakpoints) {
    const dap = await session.getDebugProtocolBreakpoint(bp);
    if (dap !== undefined && (dap as { id?: number }).id === node.breakpointId) {
      vscode.debug.removeBreakpoints([bp]);
      await view.fetch();
      return;
    }
  }
  void vscode.window.showWarningMessage(`hwbp: ${node.label} has no breakpoint in the editor to remove (it may be gone already).`);
  await view.fetch();
}
