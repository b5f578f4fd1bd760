/** The Debug Registers view's model, fed with real state from the adapter over DAP. */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { HwbpState } from '../../src/adapter/session';
import { buildTree, estimateLine, statusOf, type ViewNode } from '../../src/views/registersModel';
import type { SessionState } from '../../src/views/state';

// Compile-time check: what the adapter sends is what the views read.
const _compatible: (s: HwbpState) => SessionState = (s) => s;
void _compatible;

const ADAPTER = join(__dirname, '..', '..', 'src', 'adapter', 'debugAdapter.js');
const ROOT = join(__dirname, '..', '..', '..');

function find(nodes: ViewNode[], id: string): ViewNode {
  for (const n of nodes) {
    if (n.id === id) return n;
    const inner = n.children === undefined ? undefined : findOrNull(n.children, id);
    if (inner) return inner;
  }
  throw new Error(`no node ${id}`);
}

function findOrNull(nodes: ViewNode[], id: string): ViewNode | null {
  try {
    return find(nodes, id);
  } catch {
    return null;
  }
}

describe('Debug Registers view model', function () {
  this.timeout(30_000);
  let dc: DebugClient | undefined;
  afterEach(async () => {
    await dc?.stop();
    dc = undefined;
  });

  async function stateAfterHit(program: string, watches: string[], mode = 'auto'): Promise<SessionState> {
    const client = new DebugClient('node', ADAPTER, 'hwbp');
    dc = client;
    await client.start();
    await Promise.all([client.configurationSequence(), client.launch({ program: join(ROOT, program), stopOnEntry: true, watchpointMode: mode } as DebugProtocol.LaunchRequestArguments), client.waitForEvent('stopped')]);
    const ids = [];
    for (const w of watches) ids.push({ dataId: (await client.dataBreakpointInfoRequest({ name: w })).body.dataId! });
    await client.setDataBreakpointsRequest({ breakpoints: ids });
    await Promise.all([client.continueRequest({ threadId: 1 }), client.waitForEvent('stopped')]);
    return (await client.customRequest('hwbp.state')).body as SessionState;
  }

  it('shows each CPU with its registers, occupants, DR7 and DR6', async () => {
    const state = await stateAfterHit('examples/race.hwsim', ['counter']);
    const tree = buildTree(state);
    assert.deepEqual(tree.map((n) => n.label), ['cpu0', 'cpu1', 'Watchpoints', 'Constraint table']);
    const dr0 = find(tree, 'cpu0/DR0');
    assert.match(dr0.description!, /^counter · w 0x601000\/4 · pinned$/);
    assert.equal(dr0.contextValue, 'register.used');
    assert.match(dr0.tooltip!, /held by #\d+ watch counter \(main\) \(pid 1\)/);
    // On cpu1 the perf user from the program holds DR0.
    assert.match(find(tree, 'cpu1/DR0').description!, /perf pinned rw 0x601100 len 8 cpu 1 .* pinned/);
    assert.match(find(tree, 'cpu0/DR7').description!, /^0x[0-9a-f]+$/);
    assert.deepEqual(find(tree, 'cpu0/DR7').children!.map((c) => c.description!.split(' · ')[0]), ['enabled G', 'off', 'off', 'off']);
    // DR6 of the CPU that took the trap names the register that matched (which thread writes first
    // depends on how the instructions interleave: main on cpu0, or worker on cpu1).
    const stopped = state.threads.find((t) => t.id === state.stoppedThreadId)!;
    const cpu = `cpu${stopped.cpu}`;
    const reg = state.kernel!.cpus[stopped.cpu!].classes[0].registers.find((r) => r.occupant?.owner.startsWith('watch counter'))!.name;
    assert.match(find(tree, `${cpu}/DR6`).description!, new RegExp(`hit: ${reg}`));
    assert.equal(find(tree, cpu).expanded, true, 'the stopped thread\'s CPU is expanded');
    // The status bar counts the stopped CPU's registers: cpu1 also carries the program's perf user.
    const used = stopped.cpu === 0 ? 1 : 2;
    assert.deepEqual(statusOf(state), { text: `DR ${used}/4`, tooltip: `${cpu}: ${used} of 4 debug registers installed; ${4 - used} free`, free: 4 - used });
  });

  it('lists watchpoints with mode, state, hits and the kernel\'s constraint table', async () => {
    const state = await stateAfterHit('examples/race.hwsim', ['counter']);
    const tree = buildTree(state);
    const w = find(tree, 'Watchpoints'.toLowerCase()).children![0];
    assert.equal(w.contextValue, 'watchpoint.pinned');
    assert.match(w.description!, /^pinned · active · 1 hit$/);
    assert.equal(typeof w.breakpointId, 'number');
    const row = find(tree, 'constraints/mixed/0');
    assert.match(row.description!, /nr_cpu_bp_pinned 0 · nr_bp_flexible 0 · task_bp_pinned \[\d+,\d+,0,0\] · worst \d\/4/);
  });

  it('shows flexible watchpoints waiting their turn, and rejected ones with the reason', async () => {
    const state = await stateAfterHit('examples/multiplex.hwsim', ['a', 'b', 'c', 'd', 'e', 'f'], 'flexible');
    const ws = find(buildTree(state), 'watchpoints').children!;
    assert.equal(ws.length, 6);
    assert.ok(ws.every((w) => w.contextValue === 'watchpoint.flexible.pinnable'), 'make pinned is offered: it can succeed');
    assert.ok(ws.some((w) => /waiting \(time-shared\)/.test(w.description!)), ws.map((w) => w.description).join('\n'));
    // Each estimate comes with its error bound, from the hits it rests on and the share it ran.
    const shared = state.watchpoints.find((w) => w.watchpoint !== null && w.watchpoint.timeRunning < w.watchpoint.timeEnabled)!;
    const node = ws.find((w) => w.breakpointId === shared.breakpointId)!;
    const info = shared.watchpoint!;
    assert.ok(node.tooltip!.includes(estimateLine(info.hits, info.estimate, info.timeRunning / info.timeEnabled)), node.tooltip);
    assert.equal(estimateLine(100, 400.4, 0.25), '≈ 400 accesses (running 25% of the time; ±17% if the accesses are spread evenly over time)');
    assert.equal(estimateLine(20116 * 4, 80464, 0.25).replace(/±[\d.]+%/, '±x%'), '≈ 80,464 accesses (running 25% of the time; ±x% if the accesses are spread evenly over time)');
    assert.match(estimateLine(0, null, 0.5), /no estimate/);
    await dc!.stop();
    dc = undefined;
    const pinned = await stateAfterHit('examples/multiplex.hwsim', ['a', 'b', 'c', 'd', 'e'], 'pinned');
    const rejected = find(buildTree(pinned), 'watchpoints').children![4];
    assert.equal(rejected.contextValue, 'watchpoint.rejected.pinnable');
    assert.match(rejected.description!, /^pinned · rejected: e refused: DR0–DR3 held by a, b, c and d\.$/, 'the short reason; the rest is in the tooltip');
    assert.match(rejected.tooltip!, /No DR0–DR3 register left for a pinned breakpoint/);
  });

  it('never counts reserved registers as free: a refused watchpoint shows none free, even before its thread runs', async () => {
    const client = new DebugClient('node', ADAPTER, 'hwbp');
    dc = client;
    await client.start();
    await Promise.all([client.configurationSequence(), client.launch({ program: join(ROOT, 'examples/multiplex.hwsim'), stopOnEntry: true, watchpointMode: 'pinned' } as DebugProtocol.LaunchRequestArguments), client.waitForEvent('stopped')]);
    const ids = [];
    for (const w of ['a', 'b', 'c', 'd', 'e']) ids.push({ dataId: (await client.dataBreakpointInfoRequest({ name: w })).body.dataId! });
    const bps = (await client.setDataBreakpointsRequest({ breakpoints: ids })).body.breakpoints;
    assert.equal(bps[4].verified, false);
    const state = (await client.customRequest('hwbp.state')).body as SessionState;
    const status = statusOf(state)!;
    assert.equal(status.free, 0, status.tooltip);
    const installed = state.kernel!.cpus[0].classes[0].registers.filter((r) => r.occupant !== null).length;
    assert.equal(status.text, installed < 4 ? `DR ${installed}/4 · 4 reserved` : 'DR 4/4');
    assert.match(status.tooltip, /; 0 free$/);
  });

  it('is empty without a session', () => {
    assert.deepEqual(buildTree(null), []);
    assert.equal(statusOf(null), null);
  });
});
