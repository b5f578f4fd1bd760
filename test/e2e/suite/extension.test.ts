/** Runs inside a real VS Code extension host, with the real vscode API. */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { HwbpExtensionApi } from '../../../src/extension';

const EXTENSION_ID = 'hwbp-debug.hwbp-debug';

function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the tests need a workspace folder with the examples');
  return vscode.Uri.file(join(folder.uri.fsPath, name));
}

/** Every DAP message the hwbp adapter sends, seen through a tracker. */
const sent: { type: string; event?: string; body?: unknown }[] = [];
vscode.debug.registerDebugAdapterTrackerFactory('hwbp', {
  createDebugAdapterTracker: () => ({ onDidSendMessage: (m) => sent.push(m) }),
});

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('hwbp-debug in a real VS Code', () => {
  it('activates on a .hwsim file and reports its problems', async () => {
    const doc = await vscode.workspace.openTextDocument(workspaceFile('race.hwsim'));
    await vscode.window.showTextDocument(doc);
    const ext = vscode.extensions.getExtension<HwbpExtensionApi>(EXTENSION_ID);
    assert.ok(ext, 'the extension is installed');
    await until('activation', () => ext.isActive);
    assert.equal(doc.languageId, 'hwsim');
    const broken = await vscode.workspace.openTextDocument({ language: 'hwsim', content: 'thread main {\n  x = 1\n}\n' });
    const problems = await until('diagnostics', () => {
      const d = vscode.languages.getDiagnostics(broken.uri);
      return d.length > 0 ? d : undefined;
    });
    assert.equal(problems[0].message, "unknown name 'x'");
    assert.equal(problems[0].range.start.line, 1);
  });

  it('contributes its commands', async () => {
    const commands = await vscode.commands.getCommands(true);
    for (const c of ['hwbp.registers.refresh', 'hwbp.timeline.show', 'hwbp.exportTrace', 'hwbp.watchpoint.makePinned', 'hwbp.watchpoint.makeFlexible', 'hwbp.watchpoint.remove']) {
      assert.ok(commands.includes(c), c);
    }
  });

  it('a debug session started with startDebugging stops at a data breakpoint, and the view shows the register', async () => {
    const folder = vscode.workspace.workspaceFolders![0];
    const started = await vscode.debug.startDebugging(folder, { type: 'hwbp', request: 'launch', name: 'e2e', program: workspaceFile('race.hwsim').fsPath, stopOnEntry: true });
    assert.ok(started);
    const session = await until('the session', () => vscode.debug.activeDebugSession);
    assert.equal(session.type, 'hwbp');
    await until('stop on entry', () => sent.some((m) => m.event === 'stopped'));
    const info = await session.customRequest('dataBreakpointInfo', { name: 'counter' });
    const set = await session.customRequest('setDataBreakpoints', { breakpoints: [{ dataId: info.dataId, accessType: 'write' }] });
    assert.equal(set.breakpoints[0].verified, true);
    const before = sent.filter((m) => m.event === 'stopped').length;
    await session.customRequest('continue', { threadId: 1 });
    const stop = await until('the data breakpoint', () => sent.filter((m) => m.event === 'stopped')[before]);
    assert.equal((stop.body as { reason: string }).reason, 'data breakpoint');
    // main (cpu0, DR0) or worker (cpu1, DR1: the program's perf user holds DR0 there) writes first.
    assert.match((stop.body as { description: string }).description, /Hardware watchpoint (DR0 \(cpu0\)|DR1 \(cpu1\)): counter written 0 → 1/);
    const api = vscode.extensions.getExtension<HwbpExtensionApi>(EXTENSION_ID)!.exports;
    // The view refreshes from the state event that follows the stop.
    const dr0 = await until('DR0 occupied in the view', () => {
      const roots = api.registersView.getChildren();
      const cpu0 = roots.find((n) => n.label === 'cpu0');
      const reg = cpu0 === undefined ? undefined : api.registersView.getChildren(cpu0).find((n) => n.label === 'DR0');
      return reg !== undefined && reg.description !== 'free' ? reg : undefined;
    });
    assert.deepEqual(api.registersView.getChildren().map((n) => n.label), ['cpu0', 'cpu1', 'Watchpoints', 'Constraint table']);
    assert.match(dr0.description!, /^counter · w 0x601000\/4 · pinned$/);
    await vscode.debug.stopDebugging(session);
  });
});
