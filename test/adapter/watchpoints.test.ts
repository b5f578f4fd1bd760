/** The watchpoint manager on its own: covers, modes and their changes, threads, counts. */
import * as assert from 'node:assert/strict';
import { coverRange } from '../../src/adapter/cover';
import { SUMMARY_MAX, WatchpointManager } from '../../src/adapter/watchpoints';
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

const ROUNDS = 30;
const names = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`);

/** n u64 globals written ROUNDS times each by main, while a second thread keeps the other CPU busy. */
function many(n: number): string {
  return `machine x86_64 cpus=2 timeslice=7 mux=11
${names(n).map((v) => `global ${v}: u64`).join('\n')}
global spin: u64
thread main {
  spawn other
  repeat ${ROUNDS} {
${names(n).map((v) => `    ${v} = ${v} + 1`).join('\n')}
  }
  join other
}
thread other { repeat 200 { spin = spin + 1 } }`;
}

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

  it('auto mode serves every watchpoint: pinned while they fit, then the newest turn flexible to share', () => {
    for (const n of [5, 6, 8, 32]) {
      const m = load(many(n));
      m.run(50); // threads on CPUs, registers installed
      const changes: string[] = [];
      const wm = new WatchpointManager(m, (info, why) => changes.push(`${info.label} ${why}`));
      const infos = names(n).map((v) => wm.add({ label: v, addr: m.evaluate(v, null).addr!, size: 8, access: 'w', mode: 'auto' }));
      const now = wm.list();
      assert.ok(now.every((w) => w.state === 'active'), `${n} auto watchpoints all active: ${now.map((w) => w.message).join(' | ')}`);
      // The fewest demotions: three stay pinned and the rest share the register kept for flexible ones.
      assert.deepEqual(now.map((w) => w.mode), names(n).map((_, i) => (i < 3 ? 'pinned' : 'flexible')), `n=${n}`);
      assert.deepEqual(changes, ['v3 downgraded'], 'the fourth one gives its register up when the fifth comes');
      assert.equal(infos[4].state, 'active');
      assert.ok(infos.every((w) => w.summary.length <= SUMMARY_MAX));
    }
  });

  it('one request at a time: each new auto watchpoint is accepted, and removal upgrades flexible ones back to pinned', () => {
    const m = load(many(6));
    m.run(50);
    const changes: string[] = [];
    const wm = new WatchpointManager(m, (info, why) => changes.push(`${info.label} ${why}`));
    const ids: number[] = [];
    const v0Before = Number(m.evaluate('v0', null).value);
    for (const v of names(6)) {
      // VS Code sends the whole list each time; the session keeps what it has and adds the new one.
      ids.push(wm.batch(() => wm.add({ label: v, addr: m.evaluate(v, null).addr!, size: 8, access: 'w', mode: 'auto' })).id);
      assert.ok(wm.list().every((w) => w.state === 'active'), `after ${v}`);
    }
    assert.deepEqual(wm.list().map((w) => w.mode), ['pinned', 'pinned', 'pinned', 'flexible', 'flexible', 'flexible']);
    changes.length = 0;
    wm.remove(ids[5]);
    wm.remove(ids[4]);
    assert.deepEqual(changes, ['v3 upgraded'], 'with one flexible left it takes the last register pinned');
    assert.deepEqual(wm.list().map((w) => w.mode), ['pinned', 'pinned', 'pinned', 'pinned']);
    // Pinned ones never miss: every write to v0 is caught.
    const v0 = wm.find(ids[0])!;
    let stops = 0;
    for (;;) {
      const { stop } = runToStop(m);
      if (stop.reason !== 'data') break;
      stops++;
    }
    assert.equal(wm.find(ids[0])!.hits, ROUNDS - v0Before, 'every write to v0 since it was watched');
    assert.ok(ROUNDS - v0Before > 20);
    assert.equal(wm.find(ids[0])!.timeRunning, wm.find(ids[0])!.timeEnabled);
    assert.ok(stops >= ROUNDS && v0.mode === 'pinned');
  });

  it('pinned-mode watchpoints are refused with a short reason naming the holders, auto ones are not', () => {
    const m = load(many(6));
    m.run(50);
    const wm = new WatchpointManager(m);
    const add = (v: string, mode: 'auto' | 'pinned' | 'flexible') => wm.add({ label: v, addr: m.evaluate(v, null).addr!, size: 8, access: 'w', mode });
    for (const v of ['v0', 'v1', 'v2', 'v3']) add(v, 'pinned');
    const e = add('v4', 'pinned');
    assert.equal(e.state, 'rejected');
    assert.ok(e.summary.length <= SUMMARY_MAX, e.summary);
    assert.equal(e.summary, 'v4 refused: DR0–DR3 held by v0, v1, v2 and v3.');
    assert.match(e.message, /^v4 refused: .* In flexible mode it would time-share/);
    const f = add('v5', 'flexible');
    assert.equal(f.state, 'rejected', 'four pinned-mode watchpoints leave nothing to share');
    assert.match(f.detail, /must stay pinned/);
  });

  it('a mode switch either succeeds or changes nothing at all, and says what would make it succeed', () => {
    const m = load(many(6));
    m.run(50);
    const wm = new WatchpointManager(m);
    const add = (v: string, mode: 'auto' | 'pinned' | 'flexible') => wm.add({ label: v, addr: m.evaluate(v, null).addr!, size: 8, access: 'w', mode });
    const [a, b, c] = ['v0', 'v1', 'v2'].map((v) => add(v, 'pinned'));
    const d = add('v3', 'flexible');
    const e = add('v4', 'flexible');
    assert.deepEqual([d.state, e.state], ['active', 'active']);
    const before = JSON.stringify([m.kernel.snapshot(), wm.list()]);
    assert.throws(() => wm.setMode(d.id, 'pinned'), (err: Error) => {
      assert.match(err.message, /^Cannot make v3 pinned: DR0–DR3 held by v0, v1, v2 and 1 kept for sharing; it stays flexible\. It would succeed after removing one of v0, v1 and v2 or making it flexible\.$/);
      return true;
    });
    assert.equal(JSON.stringify([m.kernel.snapshot(), wm.list()]), before, 'no register, time or counter moved');
    // Making one of the pinned flexible succeeds; then v3 can be pinned.
    assert.equal(wm.setMode(a.id, 'flexible').mode, 'flexible');
    assert.equal(wm.setMode(d.id, 'pinned').mode, 'pinned');
    assert.deepEqual(wm.list().map((w) => w.mode), ['flexible', 'pinned', 'pinned', 'pinned', 'flexible']);
    // A rejected one that cannot be switched says so, and stays rejected.
    const r = add('v5', 'pinned');
    assert.equal(r.state, 'rejected');
    const again = JSON.stringify([m.kernel.snapshot(), wm.list()]);
    assert.throws(() => wm.setMode(r.id, 'pinned'), /^Error: Cannot make v5 pinned: .*it stays rejected/);
    assert.equal(JSON.stringify([m.kernel.snapshot(), wm.list()]), again);
    // Made flexible, it joins the sharing.
    assert.equal(wm.setMode(r.id, 'flexible').state, 'active');
    void b; void c;
  });

  it('making a watchpoint pinned turns the newest auto ones flexible to make room', () => {
    const m = load(many(6));
    m.run(50);
    const changes: string[] = [];
    const wm = new WatchpointManager(m, (info, why) => changes.push(`${info.label} ${why}`));
    const add = (v: string, mode: 'auto' | 'pinned' | 'flexible') => wm.add({ label: v, addr: m.evaluate(v, null).addr!, size: 8, access: 'w', mode });
    for (const v of ['v0', 'v1', 'v2', 'v3']) add(v, 'auto');
    const e = add('v4', 'flexible');
    assert.deepEqual(wm.list().map((w) => w.mode), ['pinned', 'pinned', 'pinned', 'flexible', 'flexible']);
    changes.length = 0;
    assert.equal(wm.setMode(e.id, 'pinned').mode, 'pinned');
    assert.deepEqual(changes, ['v2 downgraded']);
    assert.deepEqual(wm.list().map((w) => w.mode), ['pinned', 'pinned', 'flexible', 'flexible', 'pinned']);
  });

  it('a watchpoint that can never be pinned says so, and auto runs it flexible', () => {
    const m = load(`machine x86_64 cpus=1
global big: u64[5]
thread main { big[0] = 1 }`);
    const wm = new WatchpointManager(m);
    const w = wm.add({ label: 'big', addr: m.evaluate('big', null).addr!, size: 40, access: 'w', mode: 'auto' });
    assert.deepEqual([w.mode, w.canPin], ['flexible', false]);
    assert.throws(() => wm.setMode(w.id, 'pinned'), /big can never be pinned: it needs 5 registers per thread and a CPU has 4/);
  });

  it('sets watchpoints on threads that start later, and keeps counts and times after they exit', () => {
    const m = load(SRC);
    const { wm, add } = manager(m);
    const e = add('e', 'pinned');
    const a = add('a', 'flexible');
    let stops = 0;
    m.on((ev) => { if (ev.kind === 'thread' && ev.state === 'started') assert.equal(wm.find(e.id)!.eventIds.length, 2, 'installed on late too'); });
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

  it('a watchpoint set before 300 thread instances start catches the writes of every one, the last too', () => {
    const m = load(`
machine x86_64 cpus=8 timeslice=5
global hits: u32
global ids: tid[300]
thread worker(n: u32) {
  sleep n
  hits = hits + 1
}
thread main {
  for i in 0..300 {
    ids[i] = spawn worker(i % 7)
  }
  for i in 0..300 {
    join ids[i]
  }
}`);
    const { wm, add } = manager(m);
    const w = add('hits', 'pinned');
    const writers = new Set<string>();
    for (;;) {
      const { stop } = runToStop(m);
      if (stop.reason !== 'data') break;
      assert.deepEqual([stop.eventIds.length, stop.location?.line], [1, 7]);
      writers.add(m.thread(stop.threadId!).name);
    }
    assert.equal(writers.size, 300);
    assert.ok(writers.has('worker#3') && writers.has('worker#302'), [...writers].slice(-3).join());
    assert.equal(wm.find(w.id)!.hits, 300);
  });

  it('refuses what the hardware cannot do, before touching anything', () => {
    const m = load(SRC);
    const { wm } = manager(m);
    assert.throws(() => wm.add({ label: 'a', addr: m.evaluate('a', null).addr!, size: 4, access: 'r', mode: 'auto' }), /cannot trap on reads alone/);
    assert.throws(() => wm.add({ label: 'x', addr: 0x601000, size: 65, access: 'w', mode: 'auto' }), /1 to 64 bytes/);
    assert.equal(m.kernel.isUsed(), false);
  });

  it('a watchpoint scoped to a frame is deleted when the frame returns; the return\'s read of it, made while the frame lives, is reported', () => {
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
    // `return x` loads x into a register while the frame still lives (its own instruction, before
    // the `ret` that ends the frame): a real read of f's x. g's y then lives at x's address, unwatched.
    const read = runToStop(m).stop;
    assert.deepEqual([read.reason, read.location?.line, read.hits[0].kind, read.hits[0].newValue], ['data', 6, 'read', '7']);
    assert.deepEqual(changes, [], 'not deleted before f returns');
    const rest = runToStop(m).stop;
    assert.equal(rest.reason, 'exited', `${rest.reason} at line ${rest.location?.line}`);
    assert.deepEqual(changes, [['deleted', 'Watchpoint on x deleted: f() returned (line 6)', 2]]);
    assert.deepEqual([wm.list(), wm.find(w.id)], [[], undefined]);
    assert.ok(m.kernel.snapshot().events.every((e) => e.state === 'off'), 'every register released');
  });
});
