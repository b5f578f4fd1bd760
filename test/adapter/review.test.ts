/** Session behaviours found wrong in review, kept right. */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';

const ADAPTER = join(__dirname, '..', '..', 'src', 'adapter', 'debugAdapter.js');
const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures');

async function session(program: string, extra: Record<string, unknown> = {}): Promise<DebugClient> {
  const dc = new DebugClient('node', ADAPTER, 'hwbp');
  await dc.start();
  await Promise.all([dc.configurationSequence(), dc.launch({ program: join(FIXTURES, program), stopOnEntry: true, ...extra } as DebugProtocol.LaunchRequestArguments), dc.waitForEvent('stopped')]);
  return dc;
}

const id = async (dc: DebugClient, name: string) => (await dc.dataBreakpointInfoRequest({ name })).body.dataId!;
const resume = async (dc: DebugClient) => (await Promise.all([dc.continueRequest({ threadId: 1 }), dc.waitForEvent('stopped')]))[1] as DebugProtocol.StoppedEvent;

describe('debug adapter: review regressions', function () {
  this.timeout(30_000);
  let dc: DebugClient | undefined;
  afterEach(async () => {
    await dc?.stop();
    dc = undefined;
  });

  it('removing data breakpoints that share a register works, and later requests too', async () => {
    dc = await session('watch.hwsim');
    const c = await id(dc, 'counter');
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: c }, { dataId: c, condition: 'counter > 5' }] });
    await dc.setDataBreakpointsRequest({ breakpoints: [] });
    const again = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: await id(dc, 'other') }] });
    assert.equal(again.body.breakpoints[0].verified, true);
    const state = (await dc.customRequest('hwbp.state')).body;
    assert.equal(state.kernel.events.length, 1, 'only the new watchpoint holds a register');
  });

  it('a condition that never holds does not freeze the adapter: pause still answers', async () => {
    dc = await session('loop.hwsim');
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: await id(dc, 'h'), condition: 'h == 0' }] });
    await dc.continueRequest({ threadId: 1 });
    await new Promise((r) => setTimeout(r, 300));
    const [, ev] = await Promise.all([dc.pauseRequest({ threadId: 1 }), dc.waitForEvent('stopped', 5000)]);
    assert.equal((ev as DebugProtocol.StoppedEvent).body.reason, 'pause');
  });

  it('stepping over a call with a false-condition breakpoint inside still ends the step', async () => {
    dc = await session('watch.hwsim');
    await dc.setBreakpointsRequest({ source: { path: join(FIXTURES, 'watch.hwsim') }, breakpoints: [{ line: 23 }] });
    await resume(dc);
    await dc.setBreakpointsRequest({ source: { path: join(FIXTURES, 'watch.hwsim') }, breakpoints: [{ line: 13, condition: 'n == 1000' }] });
    const [, ev] = await Promise.all([dc.nextRequest({ threadId: 1 }), dc.waitForEvent('stopped')]);
    assert.equal((ev as DebugProtocol.StoppedEvent).body.reason, 'step');
    assert.equal((await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].name, 'main');
  });

  it('continuing after a step that a watchpoint interrupted runs on, not into the old step', async () => {
    dc = await session('watch.hwsim');
    await dc.setBreakpointsRequest({ source: { path: join(FIXTURES, 'watch.hwsim') }, breakpoints: [{ line: 23 }] });
    await resume(dc);
    await dc.setBreakpointsRequest({ source: { path: join(FIXTURES, 'watch.hwsim') }, breakpoints: [] });
    // The worker writes `other` while main steps over bump(): the watchpoint interrupts the step.
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: await id(dc, 'other') }] });
    const [, ev] = await Promise.all([dc.nextRequest({ threadId: 1 }), dc.waitForEvent('stopped')]);
    assert.equal((ev as DebugProtocol.StoppedEvent).body.reason, 'data breakpoint');
    await dc.setDataBreakpointsRequest({ breakpoints: [] });
    const [, end] = await Promise.all([dc.continueRequest({ threadId: 1 }), Promise.race([dc.waitForEvent('stopped'), dc.waitForEvent('terminated')])]);
    assert.equal(end.event, 'terminated', 'the old step does not come back');
  });

  it('restart after an exception runs the program again from the start', async () => {
    dc = await session('fault.hwsim');
    let ev = await resume(dc);
    assert.equal(ev.body.reason, 'exception');
    await Promise.all([dc.restartRequest({}), dc.waitForEvent('stopped')]);
    const output = dc.assertOutput('stdout', 'x');
    ev = await resume(dc);
    await output;
    assert.equal(ev.body.reason, 'exception', 'it ran to the fault again instead of exiting at once');
  });

  it('a rejected pinned watchpoint is taken when a register frees up', async () => {
    dc = await session('watch.hwsim', { watchpointMode: 'pinned' });
    const ids = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((n) => id(dc!, n)));
    const first = await dc.setDataBreakpointsRequest({ breakpoints: ids.map((dataId) => ({ dataId })) });
    assert.equal(first.body.breakpoints[4].verified, false);
    const second = await dc.setDataBreakpointsRequest({ breakpoints: ids.slice(1).map((dataId) => ({ dataId })) });
    assert.equal(second.body.breakpoints[3].verified, true, 'e takes the stub a left');
  });

  it('re-sending source breakpoints keeps their ids and hit counts', async () => {
    dc = await session('watch.hwsim');
    const source = { path: join(FIXTURES, 'watch.hwsim') };
    const a = await dc.setBreakpointsRequest({ source, breakpoints: [{ line: 22, hitCondition: '2' }] });
    const b = await dc.setBreakpointsRequest({ source, breakpoints: [{ line: 22, hitCondition: '2' }, { line: 27 }] });
    assert.equal(b.body.breakpoints[0].id, a.body.breakpoints[0].id);
  });

  it('hitBreakpointIds name only the breakpoints whose condition held', async () => {
    dc = await session('watch.hwsim');
    const c = await id(dc, 'counter');
    const set = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: c }, { dataId: c, condition: 'counter == 3' }] });
    const ev = await resume(dc);
    assert.deepEqual(ev.body.hitBreakpointIds, [set.body.breakpoints[0].id]);
  });
});
