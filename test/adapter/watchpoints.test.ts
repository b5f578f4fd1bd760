/** The watchpoint manager on its own: covers, modes, ptrace slots and their stubs, threads, counts. */
import * as assert from 'node:assert/strict';
import { coverRange } from '../../src/adapter/cover';
import { WatchpointManager } from '../../src/adapter/watchpoints';
import type { Machine } from '../../src/target';
import { load, runToStop } from '../support/hwsim';

const SRC = `
machine x86_64 cpus=1 mux=5
global a: u32
global b: u32
global c: u32
global d: u32
global e: u32
global pairs: u64[2]
global len: u32
global cpu: u32
thread main {
  spawn late
  repeat 20 { a = a + 1 }
  len = cpu + 1
  join late
}
thread late {
  e = 1
}`;

function manager(m: Machine) {
  const wm = new WatchpointManager(m);
  const add = (name: string, mode: 'pinned' | 'flexible' | 'auto' = 'auto') => {
    const r = m.evaluate(name, null);
    return wm.add({ label: name, addr: r.addr!, size: r.size!, access: 'w', mode });
  };
  return { wm, add };
}

describe('watchpoint manager', () => {
  it('covers a range with one register per doubleword touched, the smallest aligned one on x86', () => {
    assert.deepEqual(coverRange(0x1000, 4, 'x86_64'), [{ addr: 0x1000, len: 4 }]);
    assert.deepEqual(coverRange(0x1003, 2, 'x86_64'), [{ addr: 0x1000, len: 8 }]);
    assert.deepEqual(coverRange(0x1006, 4, 'x86_64'), [{ addr: 0x1006, len: 2 }, { addr: 0x1008, len: 2 }]);
    assert.deepEqual(coverRange(0x1000, 16, 'x86_64'), [{ addr: 0x1000, len: 8 }, { addr: 0x1008, len: 8 }]);
    assert.deepEqual(coverRange(0x1003, 2, 'arm64'), [{ addr: 0x1003, len: 2 }], 'arm64 selects bytes exactly');
  });

  it('pinned watchpoints take the thread\'s virtual DRn through ptrace and reuse a removed one\'s stub', () => {
    const m = load(SRC);
    const { wm, add } = manager(m);
    const a = add('a', 'pinned');
    const b = add('b', 'pinned');
    assert.deepEqual([a.ptraceSlots, b.ptraceSlots], [{ 1: [0] }, { 1: [1] }]);
    const stubOfA = a.eventIds[0];
    wm.remove(a.id);
    // The stub stays, disabled, holding its reservation (Linux frees ptrace breakpoints only at thread exit).
    const snap = m.kernel.snapshot();
    assert.deepEqual(snap.events.find((e) => e.id === stubOfA)?.state, 'off');
    assert.equal(m.kernel.peekUser(1, 848 + 7 * 8) & 0x3, 0, 'DR7 slot 0 disabled');
    const c = add('c', 'pinned');
    assert.deepEqual([c.ptraceSlots, c.eventIds], [{ 1: [0] }, [stubOfA]], 'c reuses DR0 and its stub');
    assert.equal(m.kernel.peekUser(1, 848), m.evaluate('c', null).addr, 'DR0 now holds c');
  });

  it('a lingering stub counts against flexible ones, and the refusal names it', () => {
    const m = load(SRC);
    const { wm, add } = manager(m);
    const ws = ['a', 'b', 'c', 'd'].map((n) => add(n, 'pinned'));
    wm.remove(ws[3].id);
    const e = add('e', 'flexible');
    assert.equal(e.state, 'rejected');
    assert.match(e.message, /held by .*#4 ptrace DR3 \(pid 1\).*kept free for time-sharing/);
  });

  it('sets watchpoints on threads that start later, and keeps counts and times after they exit', () => {
    const m = load(SRC);
    const { wm, add } = manager(m);
    const e = add('e', 'pinned');
    const a = add('a', 'flexible');
    let stops = 0;
    m.on((ev) => { if (ev.kind === 'thread' && ev.state === 'started') assert.ok(wm.find(e.id)!.ptraceSlots[2], 'installed on late'); });
    for (;;) {
      const { stop } = runToStop(m);
      if (stop.reason !== 'data') break;
      stops++;
    }
    const after = wm.find(e.id)!;
    assert.equal(after.hits, 1);
    assert.ok(after.timeEnabled > 0 && after.timeRunning === after.timeEnabled, 'pinned: always running while enabled');
    const flex = wm.find(a.id)!;
    assert.ok(flex.hits >= 1 && stops >= 1);
    assert.ok(flex.timeRunning <= flex.timeEnabled);
  });

  it('refuses what the hardware cannot do, before touching anything', () => {
    const m = load(SRC);
    const { wm } = manager(m);
    assert.throws(() => wm.add({ label: 'a', addr: m.evaluate('a', null).addr!, size: 4, access: 'r', mode: 'auto' }), /cannot trap on reads alone/);
    assert.throws(() => wm.add({ label: 'x', addr: 0x601000, size: 65, access: 'w', mode: 'auto' }), /1 to 64 bytes/);
    assert.equal(m.kernel.isUsed(), false);
  });

  it('a watchpoint scoped to a frame is deleted when the frame returns, and the return\'s own read of it is not reported', () => {
    const m = load(`
machine x86_64 cpus=1
fn f(): u32 {
  var x: u32 = 0
  x = 7
  return x
}
fn g(): u32 {
  var y: u32 = 1
  y = y + 1
  return y
}
thread main {
  var r: u32 = f()
  r = r + g()
}`);
    const changes: [string, string, number][] = [];
    const wm = new WatchpointManager(m, (info, why) => changes.push([why, info.message, info.hits]));
    m.setSoftwareBreakpoints([m.allStatements().find((s) => s.span.line === 5)!.codeAddr]);
    assert.equal(runToStop(m).stop.reason, 'breakpoint');
    m.setSoftwareBreakpoints([]);
    const x = m.evaluate('x', 1, 0);
    assert.throws(() => wm.add({ label: 'x', addr: x.addr!, size: 4, access: 'rw', mode: 'auto', scope: { threadId: 1, frameId: 999, fn: 'f' } }), /the frame of f it belongs to has already returned/);
    const w = wm.add({ label: 'x', addr: x.addr!, size: 4, access: 'rw', mode: 'auto', scope: { threadId: 1, frameId: x.frame!.frameId, fn: 'f' } });
    const first = runToStop(m).stop;
    assert.deepEqual([first.reason, first.location?.line, first.hits[0].kind, first.hits[0].newValue], ['data', 5, 'write', '7']);
    // `return x` reads x in the instruction that ends the frame; g's y then lives at x's address.
    const rest = runToStop(m).stop;
    assert.equal(rest.reason, 'exited', `${rest.reason} at line ${rest.location?.line}`);
    assert.deepEqual(changes, [['deleted', 'Watchpoint on x deleted: f() returned (line 6)', 2]]);
    assert.deepEqual([wm.list(), wm.find(w.id)], [[], undefined]);
    assert.ok(m.kernel.snapshot().events.every((e) => e.state === 'off'), 'every register released');
  });
});
