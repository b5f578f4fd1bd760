/**
 * Scripted debug sessions: the built adapter (out/src/adapter/debugAdapter.js) over stdio, driven
 * by @vscode/debugadapter-testsupport's DebugClient, as VS Code drives it.
 */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';

const ADAPTER = join(__dirname, '..', '..', 'src', 'adapter', 'debugAdapter.js');
const PROGRAM = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'watch.hwsim');

type Stopped = DebugProtocol.StoppedEvent;

async function session(extra: Record<string, unknown> = {}, stopOnEntry = true): Promise<DebugClient> {
  const dc = new DebugClient('node', ADAPTER, 'hwbp');
  await dc.start();
  await Promise.all([
    dc.configurationSequence(),
    dc.launch({ program: PROGRAM, stopOnEntry, ...extra } as DebugProtocol.LaunchRequestArguments),
    stopOnEntry ? dc.waitForEvent('stopped') : Promise.resolve(),
  ]);
  return dc;
}

async function dataId(dc: DebugClient, args: DebugProtocol.DataBreakpointInfoArguments): Promise<string> {
  const r = await dc.dataBreakpointInfoRequest(args);
  assert.ok(r.body.dataId, r.body.description);
  return r.body.dataId;
}

async function watch(dc: DebugClient, bps: DebugProtocol.DataBreakpoint[]): Promise<DebugProtocol.Breakpoint[]> {
  return (await dc.setDataBreakpointsRequest({ breakpoints: bps })).body.breakpoints;
}

async function resume(dc: DebugClient, threadId = 1): Promise<Stopped> {
  const [, ev] = await Promise.all([dc.continueRequest({ threadId }), dc.waitForEvent('stopped')]);
  return ev as Stopped;
}

async function top(dc: DebugClient, threadId: number): Promise<DebugProtocol.StackFrame> {
  return (await dc.stackTraceRequest({ threadId })).body.stackFrames[0];
}

describe('debug adapter (DAP over stdio)', function () {
  this.timeout(30_000);
  let dc: DebugClient;
  afterEach(async () => {
    await dc?.stop();
  });

  it('stops on entry with the program\'s threads and frames', async () => {
    dc = await session();
    const threads = (await dc.threadsRequest()).body.threads;
    assert.deepEqual(threads.map((t) => t.name), ['main (cpu0)']);
    const f = await top(dc, 1);
    assert.deepEqual([f.name, f.line, f.source?.name], ['main', 19, 'watch.hwsim']);
    // The instruction it stands at: the first of line 19's, as the Disassembly view shows it.
    const dis = (await dc.customRequest('disassemble', { memoryReference: f.instructionPointerReference, instructionCount: 1 })).body.instructions[0];
    assert.deepEqual([dis.address, dis.line], [f.instructionPointerReference, 19]);
    // VS Code's Disassembly view, left open into another session, asks with an empty reference: no instructions, no error.
    const none = await dc.customRequest('disassemble', { memoryReference: '', instructionOffset: -50, instructionCount: 100 });
    assert.deepEqual([none.success, none.body.instructions], [true, []]);
    const scopes = (await dc.scopesRequest({ frameId: f.id })).body.scopes.map((s) => s.name);
    assert.deepEqual(scopes, ['Locals', 'Globals', 'Registers (cpu0)']);
    // The Registers scope: the frame's machine registers (pc where it stands, fp, sp, r0…), then the debug registers.
    const regsRef = (await dc.scopesRequest({ frameId: f.id })).body.scopes[2].variablesReference;
    const regs = (await dc.variablesRequest({ variablesReference: regsRef })).body.variables;
    const names = regs.map((v) => v.name);
    assert.deepEqual(names.slice(0, 4), ['pc', 'fp', 'sp', 'r0']);
    assert.equal(regs[0].value, f.instructionPointerReference);
    assert.ok(names.indexOf('DR0') > names.indexOf('r0') && names.includes('DR7'), names.join(' '));
  });

  it('stops at a source breakpoint and steps over, into and out', async () => {
    dc = await session();
    const set = await dc.setBreakpointsRequest({ source: { path: PROGRAM }, breakpoints: [{ line: 23 }] });
    assert.equal(set.body.breakpoints[0].verified, true);
    const ev = await resume(dc);
    assert.deepEqual([ev.body.reason, ev.body.hitBreakpointIds], ['breakpoint', [set.body.breakpoints[0].id]]);
    assert.equal((await top(dc, 1)).line, 23);
    const step = async (req: Promise<unknown>) => { await Promise.all([req, dc.waitForEvent('stopped')]); return top(dc, 1); };
    let f = await step(dc.stepInRequest({ threadId: 1 }));
    assert.deepEqual([f.name, f.line], ['bump', 13]);
    f = await step(dc.nextRequest({ threadId: 1 }));
    assert.deepEqual([f.name, f.line], ['bump', 14]);
    f = await step(dc.stepOutRequest({ threadId: 1 }));
    assert.deepEqual([f.name, f.line], ['main', 21]);
  });

  it('data breakpoint on a global: stops after the write, names the register and the change', async () => {
    dc = await session();
    const info = await dc.dataBreakpointInfoRequest({ name: 'counter' });
    assert.deepEqual([info.body.accessTypes, info.body.canPersist], [['write', 'readWrite'], true]);
    const [bp] = await watch(dc, [{ dataId: info.body.dataId!, accessType: 'write' }]);
    assert.equal(bp.verified, true);
    assert.match(bp.message!, /^Pinned: always in a debug register/);
    const ev = await resume(dc);
    assert.equal(ev.body.reason, 'data breakpoint');
    assert.deepEqual(ev.body.hitBreakpointIds, [bp.id]);
    assert.equal(ev.body.description, 'Hardware watchpoint DR0 (cpu0): counter written 0 → 1');
    assert.equal((await top(dc, 1)).line, 22, 'the editor shows the writing line');
  });

  it('thread instances are named NAME#tid in the Threads view and in their stack traces', async () => {
    const INSTANCES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'instances.hwsim');
    dc = await session({ program: INSTANCES });
    await dc.setBreakpointsRequest({ source: { path: INSTANCES }, breakpoints: [{ line: 7 }] });
    const ev = await resume(dc, 2);
    const tid = ev.body.threadId!;
    assert.ok(tid >= 3, `stopped in thread ${tid}`);
    const threads = (await dc.threadsRequest()).body.threads;
    assert.ok(threads.some((t) => t.id === tid && new RegExp(`^worker#${tid} \\(cpu\\d\\)$`).test(t.name)), JSON.stringify(threads));
    const frames = (await dc.stackTraceRequest({ threadId: tid })).body.stackFrames;
    assert.deepEqual(frames.map((f) => [f.name, f.line]), [[`worker#${tid}`, 7]]);
    const locals = (await dc.scopesRequest({ frameId: frames[0].id })).body.scopes[0].variablesReference;
    const vars = (await dc.variablesRequest({ variablesReference: locals })).body.variables;
    assert.deepEqual(vars.map((v) => [v.name, v.value]), [['n', String(tid - 2)]]);
  });

  it('data breakpoint on a local, from the Variables view, readWrite', async () => {
    dc = await session();
    await dc.setBreakpointsRequest({ source: { path: PROGRAM }, breakpoints: [{ line: 14 }] });
    await resume(dc);
    const f = await top(dc, 1);
    const locals = (await dc.scopesRequest({ frameId: f.id })).body.scopes[0].variablesReference;
    const vars = (await dc.variablesRequest({ variablesReference: locals })).body.variables;
    assert.deepEqual(vars.map((v) => [v.name, v.value]), [['n', '1'], ['local', '2']]);
    const info = await dc.dataBreakpointInfoRequest({ variablesReference: locals, name: 'local' });
    assert.equal(info.body.canPersist, false, 'a local belongs to its frame');
    await dc.setBreakpointsRequest({ source: { path: PROGRAM }, breakpoints: [] });
    const [bp] = await watch(dc, [{ dataId: info.body.dataId!, accessType: 'readWrite' }]);
    const ev = await resume(dc);
    assert.deepEqual([ev.body.reason, ev.body.hitBreakpointIds], ['data breakpoint', [bp.id]]);
    assert.match(ev.body.description!, /local read \(2\)/, 'readWrite: the read in local = local + 1 comes first');
  });

  describe('a local\'s data breakpoint ends with its frame', () => {
    const FRAMES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'frames.hwsim');

    /** Record breakpoint events, console lines and stops from now on. */
    function record(client: DebugClient) {
      const seen = { breakpoints: [] as DebugProtocol.BreakpointEvent[], console: [] as string[], stops: [] as Stopped[] };
      client.on('breakpoint', (e: DebugProtocol.BreakpointEvent) => seen.breakpoints.push(e));
      client.on('output', (e: DebugProtocol.OutputEvent) => { if (e.body.category === 'console') seen.console.push(e.body.output); });
      client.on('stopped', (e: Stopped) => seen.stops.push(e));
      return seen;
    }

    it('first() returns: deleted, unverified with the reason, said in the console; second()\'s y at the same address never hits', async () => {
      dc = await session({ program: FRAMES });
      await dc.setBreakpointsRequest({ source: { path: FRAMES }, breakpoints: [{ line: 7 }] });
      await resume(dc);
      const f = await top(dc, 1);
      assert.deepEqual([f.name, f.line], ['first', 7]);
      const locals = (await dc.scopesRequest({ frameId: f.id })).body.scopes[0].variablesReference;
      const info = await dc.dataBreakpointInfoRequest({ variablesReference: locals, name: 'x' });
      assert.equal(info.body.canPersist, false);
      assert.match(info.body.description, /^x \(4 bytes at 0x7ffd[0-9a-f]+, until first\(\) returns\)$/);
      // Stop in second() before y = 7, after `var y: u32 = 0` wrote the address x had.
      await dc.setBreakpointsRequest({ source: { path: FRAMES }, breakpoints: [{ line: 13 }] });
      const [bp] = await watch(dc, [{ dataId: info.body.dataId!, accessType: 'write' }]);
      assert.equal(bp.verified, true);
      let ev = await resume(dc);
      assert.deepEqual([ev.body.reason, ev.body.hitBreakpointIds, ev.body.description], ['data breakpoint', [bp.id], 'Hardware watchpoint DR0 (cpu0): x written 0 → 7']);
      const seen = record(dc);
      ev = await resume(dc);
      assert.deepEqual([ev.body.reason, (await top(dc, 1)).name, (await top(dc, 1)).line], ['breakpoint', 'second', 13], 'no hit on y');
      const deleted = 'Watchpoint on x deleted: first() returned (line 8)';
      assert.deepEqual(seen.breakpoints.map((e) => [e.body.reason, e.body.breakpoint.id, e.body.breakpoint.verified, e.body.breakpoint.message]), [['changed', bp.id, false, deleted]]);
      assert.deepEqual(seen.console, [deleted + '\n']);
      const y = (await dc.evaluateRequest({ expression: '&y', frameId: (await top(dc, 1)).id })).body.result;
      assert.equal(y, info.body.description.match(/at (0x[0-9a-f]+)/)![1], 'y lives where x did');
      // VS Code re-sends the whole list: the dead frame's dataId is not re-armed on y.
      const [again] = await watch(dc, [{ dataId: info.body.dataId!, accessType: 'write' }]);
      assert.deepEqual([again.verified, again.reason], [false, 'failed']);
      assert.equal(again.message, 'x was a local of first() in a frame that no longer exists (first() returned (line 8)); set the data breakpoint again from a live frame');
      const state = (await dc.customRequest('hwbp.state')).body;
      assert.deepEqual([state.watchpoints, state.kernel.events.filter((e: { owner: string }) => /watch/.test(e.owner))], [[], []], 'no register held');
      await dc.setBreakpointsRequest({ source: { path: FRAMES }, breakpoints: [] });
      await Promise.all([dc.continueRequest({ threadId: 1 }), dc.waitForEvent('terminated')]);
      assert.equal(seen.stops.length, 1, 'only the breakpoint in second() stopped');
    });

    it('recursion: the inner call\'s v never hits the outer call\'s watchpoint, which ends when the outer call returns', async () => {
      dc = await session({ program: FRAMES });
      await dc.setBreakpointsRequest({ source: { path: FRAMES }, breakpoints: [{ line: 19, condition: 'n == 1' }] });
      await resume(dc);
      const f = await top(dc, 1);
      // From the Watch view: an expression evaluated in a frame.
      const info = await dc.dataBreakpointInfoRequest({ name: 'v', frameId: f.id });
      assert.match(info.body.description, /until rec\(\) returns/);
      await dc.setBreakpointsRequest({ source: { path: FRAMES }, breakpoints: [] });
      const [bp] = await watch(dc, [{ dataId: info.body.dataId! }]);
      const seen = record(dc);
      for (const [line, change] of [[20, '2 → 4'], [22, '4 → 8']] as const) {
        const ev = await resume(dc);
        assert.deepEqual([ev.body.hitBreakpointIds, ev.body.description], [[bp.id], `Hardware watchpoint DR0 (cpu0): v written ${change}`]);
        const frames = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
        assert.deepEqual(frames.map((x) => [x.name, x.line]), [['rec', line], ['main', 29]], 'the outer call, not the inner one');
      }
      // The outer call returns; then rec(0) puts its v at the same address.
      await Promise.all([dc.continueRequest({ threadId: 1 }), dc.waitForEvent('terminated')]);
      const deleted = 'Watchpoint on v deleted: rec() returned (line 23)';
      assert.deepEqual(seen.breakpoints.map((e) => [e.body.reason, e.body.breakpoint.id, e.body.breakpoint.verified, e.body.breakpoint.message]), [['changed', bp.id, false, deleted]]);
      assert.deepEqual(seen.console, [deleted + '\n']);
      assert.equal(seen.stops.length, 2, 'no hit after the frame returned');
    });

    it('a forged or stale frame dataId is refused, and restart ends a local\'s breakpoint', async () => {
      dc = await session({ program: FRAMES });
      await dc.setBreakpointsRequest({ source: { path: FRAMES }, breakpoints: [{ line: 7 }] });
      await resume(dc);
      const id = await dataId(dc, { name: 'x', frameId: (await top(dc, 1)).id });
      const { scope, ...unscoped } = JSON.parse(id.slice('hwbp:'.length));
      const bad = await watch(dc, [
        { dataId: 'hwbp:' + JSON.stringify(unscoped) },
        { dataId: 'hwbp:' + JSON.stringify({ ...unscoped, scope: { ...scope, frameId: scope.frameId + 1000 } }) },
        { dataId: 'hwbp:' + JSON.stringify({ ...unscoped, scope: { ...scope, run: 'elsewhere' } }) },
      ]);
      assert.deepEqual(bad.map((b) => b.verified), [false, false, false]);
      assert.match(bad[0].message!, /malformed dataId .*a local's dataId names its frame/);
      assert.match(bad[1].message!, /x was a local of first\(\) in a frame that no longer exists \(first\(\) has returned\)/);
      assert.match(bad[2].message!, /\(it was in an earlier run of the program\)/);
      const [bp] = await watch(dc, [{ dataId: id }]);
      assert.equal(bp.verified, true);
      const seen = record(dc);
      await Promise.all([dc.customRequest('restart'), dc.waitForEvent('stopped')]);
      assert.deepEqual(seen.breakpoints.map((e) => [e.body.breakpoint.id, e.body.breakpoint.verified, e.body.breakpoint.message]), [[bp.id, false, 'Watchpoint on x deleted: the program restarted']]);
      const [again] = await watch(dc, [{ dataId: id }]);
      assert.match(again.message!, /\(it was in an earlier run of the program\)/);
    });
  });

  it('the fifth pinned watchpoint on x86 is unverified and says why', async () => {
    dc = await session({ watchpointMode: 'pinned' });
    const ids = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((name) => dataId(dc, { name })));
    const bps = await watch(dc, ids.map((id) => ({ dataId: id, accessType: 'write' })));
    assert.deepEqual(bps.map((b) => b.verified), [true, true, true, true, false]);
    assert.equal(bps[4].reason, 'failed');
    // The first sentence fits a line of the Breakpoints view; the kernel's explanation follows.
    assert.match(bps[4].message!, /^e refused: DR0–DR3 held by a, b, c and d\. No DR0–DR3 register left for a pinned breakpoint of pid 1 .* In flexible mode it would time-share/);
    assert.doesNotMatch(bps[4].message!, /instead\. In flexible/, 'the hint is given once');
  });

  it('auto mode (the default) serves five watchpoints added one request at a time, and upgrades when one goes', async () => {
    dc = await session();
    const ids = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((name) => dataId(dc, { name })));
    const events: DebugProtocol.BreakpointEvent[] = [];
    dc.on('breakpoint', (e) => events.push(e as DebugProtocol.BreakpointEvent));
    let bps: DebugProtocol.Breakpoint[] = [];
    // As VS Code sends them: the whole list again each time one is added.
    for (let n = 1; n <= 5; n++) {
      const next = await watch(dc, ids.slice(0, n).map((id) => ({ dataId: id, accessType: 'write' })));
      assert.deepEqual(next.slice(0, n - 1).map((b) => b.id), bps.map((b) => b.id), 'unchanged breakpoints keep their ids');
      bps = next;
      assert.ok(bps.every((b) => b.verified), bps.map((b) => b.message).join('\n'));
    }
    assert.deepEqual(bps.map((b) => b.message!.split(':')[0]), ['Pinned', 'Pinned', 'Pinned', 'Time-shared', 'Time-shared']);
    // d gave its register up when e came, and the client was told.
    assert.deepEqual(events.map((e) => [e.body.reason, e.body.breakpoint.id, e.body.breakpoint.verified]), [['changed', bps[3].id, true]]);
    assert.match(events[0].body.breakpoint.message!, /^Time-shared/);
    events.length = 0;
    const four = await watch(dc, ids.slice(1).map((id) => ({ dataId: id, accessType: 'write' })));
    assert.deepEqual(events.map((e) => [e.body.reason, e.body.breakpoint.id, e.body.breakpoint.message!.split(':')[0]]), [
      ['changed', bps[3].id, 'Pinned'], ['changed', bps[4].id, 'Pinned'],
    ], 'a removed: d and e take the registers pinned');
    assert.ok(four.every((b) => /^Pinned/.test(b.message!)));
    const state = (await dc.customRequest('hwbp.state')).body;
    assert.deepEqual(state.watchpoints.map((w: { watchpoint: { mode: string } }) => w.watchpoint.mode), ['pinned', 'pinned', 'pinned', 'pinned']);
  });

  it('auto mode serves eight watchpoints set in one request: three pinned, five time-shared, and pinned ones miss nothing', async () => {
    dc = await session();
    const names = ['counter', 'a', 'b', 'c', 'd', 'e', 'other', 'pair'];
    const ids = await Promise.all(names.map((name) => dataId(dc, { name })));
    const bps = await watch(dc, ids.map((id) => ({ dataId: id, accessType: 'write' })));
    assert.ok(bps.every((b) => b.verified), bps.map((b) => b.message).join('\n'));
    const modes = (await dc.customRequest('hwbp.state')).body.watchpoints.map((w: { watchpoint: { mode: string } }) => w.watchpoint.mode);
    assert.deepEqual(modes, ['pinned', 'pinned', 'pinned', 'flexible', 'flexible', 'flexible', 'flexible', 'flexible']);
    // counter is pinned: each of main's ten writes stops the program.
    let counterStops = 0;
    for (;;) {
      const [, ev] = await Promise.all([dc.continueRequest({ threadId: 1 }), Promise.race([dc.waitForEvent('stopped'), dc.waitForEvent('terminated')])]);
      if (ev.event === 'terminated') break;
      if ((ev as Stopped).body.hitBreakpointIds?.includes(bps[0].id!)) counterStops++;
    }
    assert.equal(counterStops, 10);
  });

  it('hwbp.setWatchpointMode either switches or fails naming the holders, and then nothing changes', async () => {
    dc = await session({ watchpointMode: 'pinned' });
    const ids = await Promise.all(['a', 'b', 'c', 'd', 'e', 'other'].map((name) => dataId(dc, { name })));
    const bps = await watch(dc, ids.slice(0, 5).map((id) => ({ dataId: id, accessType: 'write' })));
    assert.deepEqual(bps.map((b) => b.verified), [true, true, true, true, false]);
    for (const i of [3, 4]) await dc.customRequest('hwbp.setWatchpointMode', { id: bps[i].id, mode: 'flexible' });
    const all = await watch(dc, ids.map((id) => ({ dataId: id, accessType: 'write' })));
    assert.deepEqual(all.map((b) => b.verified), [true, true, true, true, true, false], 'd and e share; a pinned-mode "other" has no room');
    const state = async () => JSON.stringify((await dc.customRequest('hwbp.state')).body);
    const before = await state();
    await assert.rejects(dc.customRequest('hwbp.setWatchpointMode', { id: all[3].id, mode: 'pinned' }),
      /^Error: Cannot make d pinned: DR0–DR3 held by a, b, c and 1 kept for sharing; it stays flexible\. It would succeed after removing one of a, b and c or making it flexible\.$/);
    assert.equal(await state(), before, 'nothing moved');
    await assert.rejects(dc.customRequest('hwbp.setWatchpointMode', { id: all[5].id, mode: 'pinned' }), /Cannot make other pinned: .* it stays rejected\./);
    assert.equal(await state(), before, 'nothing moved');
    const events: DebugProtocol.BreakpointEvent[] = [];
    dc.on('breakpoint', (ev) => events.push(ev as DebugProtocol.BreakpointEvent));
    const ok = (await dc.customRequest('hwbp.setWatchpointMode', { id: all[5].id, mode: 'flexible' })).body;
    assert.deepEqual([ok.watchpoint.state, ok.watchpoint.mode], ['active', 'flexible']);
    assert.deepEqual(events.map((ev) => [ev.body.breakpoint.id, ev.body.breakpoint.verified]), [[all[5].id, true]], 'the Breakpoints view hears it is verified now');
  });

  it('a flexible watchpoint misses writes while scheduled out (deterministic)', async () => {
    const hitsWith = async (mode: string) => {
      dc = await session({ watchpointMode: mode, mux: 3 });
      const ids = await Promise.all(['counter', 'a', 'b', 'c', 'd'].map((name) => dataId(dc, { name })));
      const bps = await watch(dc, ids.map((id) => ({ dataId: id })));
      let stops = 0;
      for (;;) {
        const [, ev] = await Promise.all([dc.continueRequest({ threadId: 1 }), Promise.race([dc.waitForEvent('stopped'), dc.waitForEvent('terminated')])]);
        if (ev.event === 'terminated') break;
        assert.deepEqual((ev as Stopped).body.hitBreakpointIds, [bps[0].id]);
        stops++;
      }
      return stops;
    };
    const flexible = await hitsWith('flexible');
    await dc.stop();
    assert.ok(flexible < 10 && flexible > 0, `caught ${flexible} of 10 writes`);
    assert.equal(await hitsWith('flexible'), flexible, 'same seed, same misses');
  });

  it('covers a 16-byte range with two registers', async () => {
    dc = await session();
    const info = await dc.dataBreakpointInfoRequest({ name: 'pair' });
    assert.match(info.body.description, /pair \(16 bytes at 0x/);
    const [bp] = await watch(dc, [{ dataId: info.body.dataId! }]);
    assert.match(bp.message!, /2 registers per thread/);
    const ev = await resume(dc);
    assert.match(ev.body.description!, /Hardware watchpoint DR1 \(cpu0\): pair written 0 → 7/);
  });

  it('evaluates conditions and hit counts after the trap', async () => {
    dc = await session();
    const id = await dataId(dc, { name: 'counter' });
    await watch(dc, [{ dataId: id, condition: 'counter == 3' }]);
    let ev = await resume(dc);
    assert.match(ev.body.description!, /written 2 → 3/);
    await watch(dc, [{ dataId: id, hitCondition: '%4' }]);
    ev = await resume(dc);
    assert.match(ev.body.description!, /written 6 → 7/, 'the 4th write after the change');
    const [bad] = await watch(dc, [{ dataId: id, condition: 'counter ==' }]);
    assert.deepEqual([bad.verified, bad.reason], [false, 'failed']);
    assert.match(bad.message!, /condition 'counter ==':/);
  });

  it('sets a data breakpoint on an address with bytes', async () => {
    dc = await session();
    const info = await dc.dataBreakpointInfoRequest({ name: '0x601000', asAddress: true, bytes: 4 });
    assert.deepEqual([info.body.description, info.body.canPersist], ['0x601000 (4 bytes at 0x601000)', true]);
    await watch(dc, [{ dataId: info.body.dataId! }]);
    const ev = await resume(dc);
    assert.match(ev.body.description!, /0x601000 written 0 → 1/);
    const bad = await dc.dataBreakpointInfoRequest({ name: '0x10', asAddress: true, bytes: 4 });
    assert.deepEqual([bad.body.dataId, bad.body.description], [null, 'no memory is mapped at 0x10 + 4']);
  });

  it('instruction breakpoints and hardware source breakpoints take registers', async () => {
    dc = await session();
    const dis = await dc.disassembleRequest({ memoryReference: '0x400000', instructionCount: 40 });
    // `pair[1] = 7` is two instructions: the constant into a register, then the store. Break on the
    // store, in the middle of the statement.
    const line25 = dis.body!.instructions.filter((i) => i.line === 25);
    assert.deepEqual(line25.map((i) => i.instruction.split(' ')[0]), ['li', 'st.u64']);
    assert.match(line25[0].instruction, /^li r\d+, 7$/);
    const target = line25[1];
    const ib = await dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: target.address, mode: 'hardware' }] });
    assert.equal(ib.body.breakpoints[0].verified, true);
    const ev = await resume(dc);
    assert.deepEqual([ev.body.reason, (await top(dc, 1)).line], ['instruction breakpoint', 25]);
    assert.match(ev.body.description!, /Hardware breakpoint DR\d \(cpu0\) at line 25/);
    const hb = await dc.setBreakpointsRequest({ source: { path: PROGRAM }, breakpoints: [{ line: 27, mode: 'hardware' } as DebugProtocol.SourceBreakpoint] });
    assert.equal(hb.body.breakpoints[0].verified, true);
    const ev2 = await resume(dc);
    assert.equal((await top(dc, 1)).line, 27);
    assert.equal(ev2.body.reason, 'breakpoint');
  });

  it('steps one instruction with granularity instruction (stepIn as stepi, next as nexti), and by statements without', async () => {
    dc = await session();
    const start = await top(dc, 1);
    const pc = (f: DebugProtocol.StackFrame) => parseInt(f.instructionPointerReference!, 16);
    const step = async (request: 'stepIn' | 'next', granularity?: 'instruction') => {
      await Promise.all([dc.customRequest(request, { threadId: 1, granularity }), dc.waitForEvent('stopped')]);
      return top(dc, 1);
    };
    const one = await step('stepIn', 'instruction');
    assert.equal(pc(one) - pc(start), 4, 'the next instruction');
    const dis = (await dc.disassembleRequest({ memoryReference: one.instructionPointerReference!, instructionCount: 1 })).body!.instructions[0];
    assert.equal(dis.line, one.line, 'the frame shows the line of the instruction it stands at');
    // A source step moves to the next statement, whatever instruction it stood at.
    const stmt = await step('next');
    assert.notEqual(stmt.line, one.line);
    const next = await step('next', 'instruction');
    assert.equal(pc(next) - pc(stmt), 4);
  });

  it('says when a write looks like a lost update (it stored what another thread just stored)', async () => {
    dc = await session({ program: join(__dirname, '..', '..', '..', 'examples', 'race.hwsim') });
    await watch(dc, [{ dataId: await dataId(dc, { name: 'counter' }), accessType: 'write' }]);
    let description = '';
    for (let i = 0; i < 300 && !description.includes('lost update'); i++) {
      const ev = await resume(dc, 1);
      assert.equal(ev.body.reason, 'data breakpoint');
      description = ev.body.description ?? '';
    }
    assert.match(description, /^Hardware watchpoint DR\d \(cpu\d\): counter written (\d+) → \1 — the same as (main|worker)'s write at t=\d+: a lost update\?$/);
  });

  it('reads and writes memory without triggering watchpoints', async () => {
    dc = await session();
    await watch(dc, [{ dataId: await dataId(dc, { name: 'counter' }), accessType: 'readWrite' }]);
    const read = await dc.customRequest('readMemory', { memoryReference: '0x601000', count: 4 });
    assert.deepEqual(Buffer.from(read.body.data, 'base64'), Buffer.from([0, 0, 0, 0]));
    await dc.customRequest('writeMemory', { memoryReference: '0x601000', data: Buffer.from([41, 0, 0, 0]).toString('base64') });
    const f = await top(dc, 1);
    assert.equal((await dc.evaluateRequest({ expression: 'counter', frameId: f.id })).body.result, '41');
    const ev = await resume(dc);
    assert.match(ev.body.description!, /counter read \(41\)|counter written 41 → 42/);
  });

  it('sends the hardware state as a custom event after every stop, and on request', async () => {
    dc = await session();
    const [bp] = await watch(dc, [{ dataId: await dataId(dc, { name: 'counter' }) }]);
    const events: DebugProtocol.Event[] = [];
    dc.on('hwbp.state', (e: DebugProtocol.Event) => events.push(e));
    dc.on('stopped', () => events.push({ event: 'stopped' } as DebugProtocol.Event));
    await resume(dc);
    await dc.threadsRequest(); // a round trip: everything sent before it has arrived
    const afterStop = events.slice(events.findIndex((e) => e.event === 'stopped') + 1);
    assert.ok(afterStop.length >= 1, 'a state event follows the stop');
    const state = afterStop[0].body;
    const dr0 = state.kernel.cpus[0].classes[0].registers[0];
    assert.deepEqual([dr0.name, dr0.occupant.addr, dr0.occupant.pinned], ['DR0', 0x601000, true]);
    assert.equal(state.watchpoints[0].breakpointId, bp.id);
    assert.equal(state.watchpoints[0].watchpoint.hits >= 1, true);
    assert.ok(Array.isArray(state.kernel.constraints[0].cpus));
    const onRequest = await dc.customRequest('hwbp.state');
    assert.equal(onRequest.body.kernel.cpus.length, 2);
  });

  it('accepts a persisted dataId in a second session', async () => {
    dc = await session();
    const id = await dataId(dc, { name: 'counter' });
    await dc.stop();
    dc = await session();
    const [bp] = await watch(dc, [{ dataId: id }]);
    assert.equal(bp.verified, true);
    const ev = await resume(dc);
    assert.equal(ev.body.reason, 'data breakpoint');
  });

  it('keeps answering after malformed and out-of-order requests, and never leaks registers', async () => {
    dc = new DebugClient('node', ADAPTER, 'hwbp');
    await dc.start();
    await dc.initializeRequest();
    await assert.rejects(dc.stackTraceRequest({ threadId: 1 }), /no program is running/);
    await assert.rejects(dc.launch({ program: '/nonexistent.hwsim' } as DebugProtocol.LaunchRequestArguments), /cannot read/);
    await Promise.all([dc.configurationSequence(), dc.launch({ program: PROGRAM, stopOnEntry: true } as DebugProtocol.LaunchRequestArguments), dc.waitForEvent('stopped')]);
    await assert.rejects(dc.variablesRequest({ variablesReference: 999 }), /not valid/);
    await assert.rejects(dc.scopesRequest({ frameId: 12345 }), /frame 12345 is not valid/);
    await assert.rejects(dc.customRequest('frobnicate'), /unrecognized request 'frobnicate'/);
    await assert.rejects(dc.nextRequest({ threadId: 77 }), /no thread with id 77/);
    const nothing = await dc.dataBreakpointInfoRequest({ name: 'nonexistent' });
    assert.deepEqual([nothing.body.dataId, nothing.body.description], [null, "unknown name 'nonexistent'"]);
    const huge = await dc.dataBreakpointInfoRequest({ name: 'counter', bytes: 1000 });
    assert.equal(huge.body.dataId, null);
    const bad = await watch(dc, [{ dataId: 'garbage' }, { dataId: 'hwbp:{"k":"addr"}' }]);
    assert.deepEqual(bad.map((b) => [b.verified, b.message]), [[false, "unknown dataId 'garbage'"], [false, 'malformed dataId \'hwbp:{"k":"addr"}\'']]);
    const unaligned = await dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: '0x400002' }] });
    assert.match(unaligned.body.breakpoints[0].message, /0x400002 is not the address of an instruction/);
    await assert.rejects(dc.customRequest('readMemory', { memoryReference: 'zz', count: 4 }), /'zz' is not an address/);
    // Raw garbage on the wire is ignored by the protocol layer.
    (dc as unknown as { _adapterProcess: { stdin: NodeJS.WritableStream } })._adapterProcess.stdin.write('Content-Length: 9\r\n\r\n{garbage}');
    assert.equal((await dc.threadsRequest()).body.threads.length, 1);
    // Everything it took is given back at the end of the session.
    await watch(dc, [{ dataId: await dataId(dc, { name: 'counter' }) }]);
    const state = (await dc.customRequest('hwbp.state')).body;
    assert.equal(state.kernel.events.length, 1);
    await dc.terminateRequest({});
  });
});

describe('debug adapter: the register timeline (hwbp.timeline, hwbp.exportTrace)', function () {
  this.timeout(30_000);
  let dc: DebugClient;
  afterEach(async () => {
    await dc?.stop();
  });

  it('answers who held each register, with the watchpoint label, breakpoint id, hits and lines; since makes it incremental', async () => {
    dc = await session();
    const id = await dataId(dc, { name: 'counter' });
    const [bp] = await watch(dc, [{ dataId: id, accessType: 'write' }]);
    assert.equal(bp.verified, true);
    const first = await resume(dc);
    assert.equal(first.body.reason, 'data breakpoint');
    const t1 = (await dc.customRequest('hwbp.timeline')).body;
    assert.deepEqual(t1.classes, [{ name: 'mixed', registerNames: ['DR0', 'DR1', 'DR2', 'DR3'] }]);
    assert.equal(t1.arch, 'x86_64');
    assert.equal(t1.capacity, 1 << 20);
    const ours = t1.events.filter((e: { label: string }) => e.label === 'counter');
    assert.ok(ours.length >= 1);
    assert.ok(ours.every((e: { breakpointId: number; access: string; pinned: boolean }) => e.breakpointId === bp.id && e.access === 'w' && e.pinned));
    const hits = t1.marks.kind.map((k: number, i: number) => ({ k, line: t1.marks.line[i], event: t1.marks.event[i] })).filter((m: { k: number }) => m.k === 0);
    assert.equal(hits.length, 1);
    assert.equal(hits[0].line, 22); // counter = counter + 1
    assert.equal((await top(dc, 1)).line, 22);
    // The register holding counter on main's CPU is open, since it was installed.
    const i = t1.open.event.indexOf(hits[0].event);
    assert.ok(i >= 0 && t1.open.start[i] <= t1.marks.time[0] && t1.open.reg[i] === t1.marks.reg[0]);
    // Only what is new since: the next hit, not the first again.
    await resume(dc);
    const t2 = (await dc.customRequest('hwbp.timeline', { since: t1.seq })).body;
    assert.ok(t2.seq > t1.seq);
    assert.deepEqual(t2.marks.kind, [0]);
    assert.ok(t2.marks.time[0] > t1.marks.time[0]);
    assert.deepEqual((await dc.customRequest('hwbp.timeline', { since: t2.seq })).body.marks.kind, []);
    const trace = (await dc.customRequest('hwbp.exportTrace')).body;
    assert.ok(trace.traceEvents.some((e: { ph: string; name: string }) => e.ph === 'X' && e.name === 'counter'));
    assert.equal(trace.traceEvents.filter((e: { ph: string; name: string }) => e.ph === 'i' && e.name === 'hit counter').length, 2);
    assert.deepEqual([trace.otherData.droppedIntervals, trace.otherData.droppedMarks], [0, 0]);
    await assert.rejects(dc.customRequest('hwbp.timeline', { since: -1 }), /^Error: hwbp.timeline: since must be an integer between 0 and 9007199254740991, got -1$/);
  });

  it('honours the timelineCapacity launch attribute (0: no recording)', async () => {
    dc = await session({ timelineCapacity: 0 });
    const t = (await dc.customRequest('hwbp.timeline')).body;
    assert.deepEqual([t.capacity, t.seq], [0, 0]);
  });
});
