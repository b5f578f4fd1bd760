/**
 * The Debug Registers tree view in the Run and Debug container. It learns everything from the
 * focused hwbp session's `hwbp.state` custom event and request (never from adapter objects), and
 * turns the plain-data model of registersModel.ts into tree items, a badge and a status bar item.
 */
import * as vscode from 'vscode';
import { buildTree, statusOf, type ViewNode } from './registersModel';
import type { SessionState } from './state';

export const VIEW_ID = 'hwbp.registers';
const STATE = 'hwbp.state';
/** At most this many refreshes per second while a program runs. */
const MIN_REFRESH_MS = 100;

export class RegistersView implements vscode.TreeDataProvider<ViewNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ViewNode | undefined | void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<ViewNode>;
  private readonly status: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  /** Latest state per session id; the view shows the focused session's. */
  private readonly states = new Map<string, SessionState>();
  private roots: ViewNode[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastRefresh = 0;
  /** The stop whose CPU was last revealed. */
  private lastStop: string | null = null;

  constructor() {
    this.view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
    this.status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
    this.status.command = `${VIEW_ID}.focus`;
    this.disposables.push(
      this.view, this.status, this.changed,
      vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => {
        if (e.session.type !== 'hwbp' || e.event !== STATE) return;
        this.states.set(e.session.id, e.body as SessionState);
        if (e.session === vscode.debug.activeDebugSession) this.scheduleRefresh();
      }),
      vscode.debug.onDidChangeActiveDebugSession(() => void this.fetch()),
      vscode.debug.onDidTerminateDebugSession((s) => {
        this.states.delete(s.id);
        this.refresh();
      }),
    );
    this.refresh();
  }

  /** Ask the focused session for its state (on focus change, and for the refresh command). */
  async fetch(): Promise<void> {
    const s = vscode.debug.activeDebugSession;
    if (s?.type === 'hwbp') {
      try {
        this.states.set(s.id, (await s.customRequest(STATE)) as SessionState);
      } catch {
        // The session is starting or ending: the next event brings the state.
      }
    }
    this.refresh();
  }

  private scheduleRefresh(): void {
    const wait = this.lastRefresh + MIN_REFRESH_MS - Date.now();
    if (wait <= 0) {
      this.refresh();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.refresh();
      }, wait);
    }
  }

  /** The state shown now: the focused hwbp session's, or null. */
  current(): SessionState | null {
    const s = vscode.debug.activeDebugSession;
    return s?.type === 'hwbp' ? this.states.get(s.id) ?? null : null;
  }

  refresh(): void {
    this.lastRefresh = Date.now();
    const state = this.current();
    this.roots = buildTree(state);
    this.revealStoppedCpu(state);
    const status = statusOf(state);
    this.view.message = state === null ? 'No hwbp debug session is active. Open a .hwsim file and press F5.' : undefined;
    this.view.badge = status === null ? undefined : { value: status.free, tooltip: `${status.free} free debug register${status.free === 1 ? '' : 's'} on the focused thread's CPU` };
    if (status === null) {
      this.status.hide();
    } else {
      this.status.text = `$(chip) ${status.text}`;
      this.status.tooltip = status.tooltip;
      this.status.show();
    }
    this.changed.fire();
  }

  /**
   * VS Code remembers each node's expanded state by id and ignores a later `expanded`, so at a new
   * stop the stopped thread's CPU is expanded explicitly: that is where the registers that matter are.
   */
  private revealStoppedCpu(state: SessionState | null): void {
    const key = state === null || state.running || state.stoppedThreadId === null ? null : `${state.stoppedThreadId}@${state.kernel?.cpus.map((c) => c.time).join(',')}`;
    if (key === null || key === this.lastStop || !this.view.visible) return;
    this.lastStop = key;
    const node = this.roots.find((n) => n.expanded === true && n.id.startsWith('cpu'));
    if (node !== undefined) void Promise.resolve(this.view.reveal(node, { expand: true, select: false, focus: false })).catch(() => undefined);
  }

  getParent(): ViewNode | undefined {
    // Only CPU nodes (roots) are revealed.
    return undefined;
  }

  getTreeItem(node: ViewNode): vscode.TreeItem {
    const item = new vscode.TreeItem(
      node.label,
      node.children === undefined || node.children.length === 0
        ? vscode.TreeItemCollapsibleState.None
        : node.expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed,
    );
    item.id = node.id;
    item.description = node.description;
    if (node.tooltip !== undefined) item.tooltip = new vscode.MarkdownString(node.tooltip);
    if (node.icon !== undefined) item.iconPath = new vscode.ThemeIcon(node.icon);
    item.contextValue = node.contextValue;
    return item;
  }

  getChildren(node?: ViewNode): ViewNode[] {
    return node === undefined ? this.roots : node.children ?? [];
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
