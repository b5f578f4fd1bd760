/**
 * The register timeline panel: a webview that shows, per CPU register, who held it when, with hits
 * and missed accesses. The extension host only fetches: it asks the focused hwbp session for
 * `hwbp.timeline` chunks (with `since`) at every stop and at most five times a second while the
 * program runs, and posts them to the webview, whose script (media/timeline.ts, bundled into
 * dist/timeline.js) keeps the model and draws it on a canvas with timelineModel.ts. Pan and zoom
 * thus never wait on the extension host. Also the Export Trace command.
 */
import * as vscode from 'vscode';
import { programUri } from './programUri';
import type { FromWebview, ToWebview } from './timelineProtocol';
import type { TimelineChunk } from './timelineState';

export const TIMELINE_VIEW_TYPE = 'hwbp.timeline';
const TIMELINE_REQUEST = 'hwbp.timeline';
const EXPORT_REQUEST = 'hwbp.exportTrace';
const STATE_EVENT = 'hwbp.state';
/** At most this many fetches per second while a program runs. */
const MIN_FETCH_MS = 200;

export class TimelineView implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  /** The session whose timeline is shown (the focused hwbp session, or the last one if it ended). */
  private session: vscode.DebugSession | undefined;
  private since: number | undefined;
  private running = false;
  private ended = false;
  private error: string | null = null;
  private inFlight = false;
  private again = false;
  private lastFetch = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri) {
    this.disposables.push(
      vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => {
        if (e.session.type !== 'hwbp' || e.event !== STATE_EVENT || this.panel === undefined) return;
        if (this.session === undefined || this.session.id !== e.session.id) {
          if (e.session !== vscode.debug.activeDebugSession) return;
          this.follow(e.session);
        }
        const running = (e.body as { running?: boolean } | undefined)?.running === true;
        this.running = running;
        // Every stop is fetched; while running, at most five times a second.
        this.schedule(!running);
      }),
      vscode.debug.onDidChangeActiveDebugSession((s) => {
        if (this.panel !== undefined && s?.type === 'hwbp' && s.id !== this.session?.id) this.follow(s);
      }),
      vscode.debug.onDidTerminateDebugSession((s) => {
        if (s.id !== this.session?.id) return;
        this.ended = true;
        this.running = false;
        this.postStatus();
      }),
    );
  }

  /** The command Debug Registers: Show Timeline. */
  show(): void {
    if (this.panel !== undefined) {
      this.panel.reveal(undefined, false);
      return;
    }
    const panel = vscode.window.createWebviewPanel(TIMELINE_VIEW_TYPE, 'Register Timeline', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist')],
    });
    panel.webview.html = this.html(panel.webview);
    this.panel = panel;
    panel.webview.onDidReceiveMessage((m: FromWebview) => void this.onMessage(m), undefined, this.disposables);
    panel.onDidDispose(() => {
      this.panel = undefined;
      this.session = undefined;
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
    }, undefined, this.disposables);
  }

  private async onMessage(m: FromWebview): Promise<void> {
    switch (m.type) {
      case 'ready': {
        // The script (re)loaded: it has nothing, so start over from the focused session.
        const s = vscode.debug.activeDebugSession;
        this.follow(s?.type === 'hwbp' ? s : this.session);
        break;
      }
      case 'reveal':
        await this.reveal(m.line);
        break;
      case 'exportTrace':
        await vscode.commands.executeCommand('hwbp.exportTrace');
        break;
    }
  }

  /** Show `session`'s timeline from the start (or none). */
  private follow(session: vscode.DebugSession | undefined): void {
    this.session = session;
    this.since = undefined;
    this.running = false;
    this.ended = false;
    this.error = null;
    this.post({ type: 'session', name: session?.name ?? null });
    this.postStatus();
    if (session !== undefined) this.schedule(true);
  }

  private schedule(now: boolean): void {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    const wait = now ? 0 : this.lastFetch + MIN_FETCH_MS - Date.now();
    if (wait <= 0) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      void this.fetch();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.fetch();
      }, wait);
    }
  }

  private async fetch(): Promise<void> {
    const session = this.session;
    if (session === undefined || this.panel === undefined || this.ended) return;
    this.inFlight = true;
    this.lastFetch = Date.now();
    try {
      const chunk = (await session.customRequest(TIMELINE_REQUEST, this.since === undefined ? {} : { since: this.since })) as TimelineChunk;
      if (session !== this.session) return;
      this.since = chunk.seq;
      this.error = null;
      this.post({ type: 'chunk', chunk });
    } catch (e) {
      if (session === this.session && !this.ended) {
        this.error = `This session did not answer ${TIMELINE_REQUEST}: ${(e as Error).message}`;
        this.postStatus();
      }
    } finally {
      this.inFlight = false;
      if (this.again) {
        this.again = false;
        this.schedule(!this.running);
      }
    }
  }

  private postStatus(): void {
    this.post({ type: 'status', running: this.running, ended: this.ended, error: this.error });
  }

  private post(m: ToWebview): void {
    void this.panel?.webview.postMessage(m);
  }

  /** Open the session's program at `line` (1-based), beside the timeline. */
  private async reveal(line: number): Promise<void> {
    const program = this.session?.configuration.program as string | undefined;
    if (program === undefined || line < 1) {
      void vscode.window.showWarningMessage('hwbp: no source line to show for this mark.');
      return;
    }
    let uri: vscode.Uri;
    try {
      uri = programUri(program, this.session?.workspaceFolder?.uri);
    } catch (e) {
      void vscode.window.showWarningMessage(`hwbp: cannot show ${program}: ${(e as Error).message}`);
      return;
    }
    const position = new vscode.Position(line - 1, 0);
    const column = this.panel?.viewColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Beside : vscode.ViewColumn.One;
    await vscode.window.showTextDocument(uri, { viewColumn: column, selection: new vscode.Range(position, position), preserveFocus: false });
  }

  private html(webview: vscode.Webview): string {
    const nonce = makeNonce();
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'timeline.js'));
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; img-src ${webview.cspSource} data:;">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Register Timeline</title>
<style nonce="${nonce}">
  html, body { height: 100%; margin: 0; padding: 0; overflow: hidden; }
  body { display: flex; flex-direction: column; color: var(--vscode-foreground); background: var(--vscode-editor-background); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); }
  #bar { display: flex; align-items: center; gap: 8px; padding: 4px 8px; border-bottom: 1px solid var(--vscode-panel-border, transparent); }
  #status { flex: 1; color: var(--vscode-descriptionForeground); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  #status.warn { color: var(--vscode-editorWarning-foreground); }
  button { color: var(--vscode-button-secondaryForeground); background: var(--vscode-button-secondaryBackground); border: none; padding: 2px 8px; cursor: pointer; font: inherit; }
  button:hover { background: var(--vscode-button-secondaryHoverBackground); }
  #wrap { position: relative; flex: 1; min-height: 0; }
  canvas { position: absolute; inset: 0; width: 100%; height: 100%; cursor: crosshair; outline: none; }
  canvas:focus-visible { outline: 1px solid var(--vscode-focusBorder); }
  #tip { position: absolute; display: none; pointer-events: none; white-space: pre; padding: 4px 8px; z-index: 2;
    color: var(--vscode-editorHoverWidget-foreground); background: var(--vscode-editorHoverWidget-background); border: 1px solid var(--vscode-editorHoverWidget-border); }
  #empty { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; color: var(--vscode-descriptionForeground); text-align: center; padding: 16px; }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
</style>
</head>
<body>
<div id="bar">
  <span id="status" role="status">No hwbp debug session is active.</span>
  <button id="fit" title="Show the whole recording, and follow new data (double-click the timeline, or 0)">Fit</button>
  <button id="export" title="Save the session's timeline as a Chrome trace (opens in ui.perfetto.dev)">Export Trace…</button>
</div>
<div id="wrap">
  <canvas id="timeline" tabindex="0" role="img" aria-label="Register timeline" aria-describedby="lanes"></canvas>
  <div id="empty">No hwbp debug session is active. Open a .hwsim file and press F5.</div>
  <div id="tip" role="tooltip"></div>
  <ul id="lanes" class="sr-only"></ul>
</div>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

function makeNonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 32; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}

/** The command Export Trace…: the session's timeline as a Chrome Trace Event Format file. */
export async function exportTrace(): Promise<void> {
  const session = vscode.debug.activeDebugSession;
  if (session?.type !== 'hwbp') {
    void vscode.window.showWarningMessage('hwbp: no hwbp debug session is active: start one (F5 on a .hwsim file) to export its trace.');
    return;
  }
  const folder = session.workspaceFolder?.uri ?? vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    title: 'Export the register timeline as a trace',
    saveLabel: 'Export Trace',
    defaultUri: folder === undefined ? vscode.Uri.file('trace.json') : vscode.Uri.joinPath(folder, 'trace.json'),
    filters: { 'Chrome trace (JSON)': ['json'] },
  });
  if (target === undefined) return;
  let trace: unknown;
  try {
    trace = await session.customRequest(EXPORT_REQUEST);
  } catch (e) {
    void vscode.window.showErrorMessage(`hwbp: the session did not export its trace: ${(e as Error).message}`);
    return;
  }
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(JSON.stringify(trace)));
  const where = target.scheme === 'file' ? target.fsPath : target.toString();
  void vscode.window.showInformationMessage(`hwbp: trace written to ${where}. Open it in ui.perfetto.dev or chrome://tracing.`);
}
