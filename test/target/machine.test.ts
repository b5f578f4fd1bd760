import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Machine, MachineEvent } from '../../src/target';
import { load, outputOf, runToStop } from '../support/hwsim';

const RACE = readFileSync('examples/race.hwsim', 'utf8');

/** Three threads printing their progress: the interleaving shows in the output order. */
const CHATTY = `
machine x86_64 cpus=2 timeslice=3
thread main {
  spawn a
  spawn b
  repeat 4 { print "m" }
  join a
  join b
}
thread a { repeat 4 { print "a" } }
thread b { repeat 4 { print "b" } }
`;

describe('the machine', () => {
  describe('determinism and scheduling', () => {
    it('the race example loses updates for most seeds (instructions interleave inside `counter = counter + 1`)', () => {
      const totals = [1, 2, 3, 4, 5, 6, 7, 8].map((seed) => Number(/^counter = (\d+)$/.exec(outputOf(RACE, { seed })[0])![1]));
      // Two threads add 1000 each: a lost update leaves less; nothing can leave more, or less than 1000.
      for (const t of totals) assert.ok(t >= 1000 && t <= 2000, `counter = ${t}`);
      assert.ok(totals.filter((t) => t < 2000).length >= 6, `lost updates for most seeds: ${totals.join(', ')}`);
      assert.ok(new Set(totals).size > 1, `the seed changes how many are lost: ${totals.join(', ')}`);
    });

    it('the same seed gives the same interleaving; other seeds other ones', () => {
      const runs = (seed: number) => outputOf(CHATTY, { seed }).join('');
      assert.equal(runs(1), runs(1));
      const seen = new Set([1, 2, 3, 4, 5, 6, 7, 8].map(runs));
      assert.ok(seen.size > 1, 'the seed changes the interleaving');
      for (const s of seen) assert.equal(s.length, 12);
    });

    it('keeps a pinned thread on its CPU and migrates others to an idle CPU', () => {
      const m = load(`
machine x86_64 cpus=3 timeslice=5
thread main on 2 {
  spawn w1
  spawn w2
  repeat 50 { yield }
  join w1
  join w2
}
thread w1 { repeat 50 { yield } }
thread w2 { repeat 50 { yield } }
`);
      const cpusOf = new Map<string, Set<number>>();
      for (let i = 0; i < 2000 && m.state !== 'exited'; i++) {
        m.run(1);
        for (const t of m.threadInfos()) if (t.state === 'running') (cpusOf.get(t.name) ?? cpusOf.set(t.name, new Set()).get(t.name)!).add(t.cpu!);
      }
      assert.deepEqual([...cpusOf.get('main')!], [2]);
      const workers = new Set([...cpusOf.get('w1')!, ...cpusOf.get('w2')!]);
      assert.ok(workers.has(0) && workers.has(1), `workers ran on ${[...workers]}`);
    });
  });

  describe('debug exceptions', () => {
    const WATCHED = `
machine x86_64 cpus=1
global x: u32 = 5
global y: u32
thread main {
  y = 1
  x = x + 1
  y = x
  print "done"
}`;

    it('a data watchpoint traps after the write, with old and new values, at the writing line', () => {
      const m = load(WATCHED);
      const addr = m.evaluate('x', null).addr!;
      const ev = m.kernel.perfEventOpen({ type: 'w', addr, len: 4 }, { pid: m.threadInfos()[0].pid!, cpu: -1 });
      m.setStopping(ev.id, true);
      const { stop } = runToStop(m);
      assert.equal(stop.reason, 'data');
      assert.deepEqual(stop.hits.map((h) => [h.kind, h.oldValue, h.newValue, h.hit.matches[0].registerName]), [['write', '5', '6', 'DR0']]);
      assert.equal(stop.location?.line, 7);
      assert.equal(m.evaluate('x', null).value, '6', 'the write has happened');
      assert.equal(m.evaluate('y', null).value, '1', 'the next statement has not');
      const rest = runToStop(m);
      assert.deepEqual([rest.stop.reason, rest.output], ['exited', ['done']]);
    });

    it('an execute breakpoint faults before the statement, and resuming runs it once', () => {
      const m = load(WATCHED);
      const stmt = m.allStatements().find((s) => s.span.line === 8)!;
      let fired = 0;
      const ev = m.kernel.perfEventOpen({ type: 'x', addr: stmt.codeAddr, len: 8 }, { pid: m.threadInfos()[0].pid!, cpu: -1 }, { onHit: () => fired++ });
      m.setStopping(ev.id, true);
      const { stop } = runToStop(m);
      assert.deepEqual([stop.reason, stop.location?.line], ['exec', 8]);
      assert.equal(m.evaluate('y', null).value, '1', 'y = x has not run yet');
      const rest = runToStop(m);
      assert.equal(rest.stop.reason, 'exited');
      assert.equal(m.evaluate('y', null).value, '6');
      assert.equal(fired, 1, 'the statement was fetched once');
    });

    it('a read watchpoint (arm64) reports the value read', () => {
      const m = load(WATCHED.replace('x86_64', 'arm64'));
      const ev = m.kernel.perfEventOpen({ type: 'r', addr: m.evaluate('x', null).addr!, len: 4 }, { pid: m.threadInfos()[0].pid!, cpu: -1 });
      m.setStopping(ev.id, true);
      const { stop } = runToStop(m);
      assert.deepEqual([stop.reason, stop.hits[0].kind, stop.hits[0].newValue, stop.location?.line], ['data', 'read', '5', 7]);
    });

    it('a flexible watchpoint misses accesses while scheduled out (same seed, same misses)', () => {
      const src = `
machine x86_64 cpus=1 mux=7
global hot: u32
thread main {
  repeat 100 { hot = hot + 1 }
}`;
      const caught = () => {
        const m = load(src);
        const pid = m.threadInfos()[0].pid!;
        const addr = m.evaluate('hot', null).addr!;
        // Five flexible watchpoints on four registers: each is out one interval in five.
        const evs = [0, 1, 2, 3, 4].map(() => m.kernel.perfEventOpen({ type: 'w', addr, len: 4, pinned: false }, { pid, cpu: -1 }));
        // Read them as main exits: its breakpoints are released with it.
        let counts: ReturnType<typeof evs[0]['read']>[] = [];
        m.on((e) => { if (e.kind === 'thread' && e.state === 'exited') counts = evs.map((x) => x.read()); });
        runToStop(m);
        return counts;
      };
      const counts = caught();
      for (const c of counts) {
        assert.ok(c.count < 100 && c.count > 60, `caught ${c.count} of 100`);
        assert.ok(Math.abs(c.estimate! - 100) < 15, `estimate ${c.estimate}`);
      }
      assert.deepEqual(caught(), counts);
    });

    it('the debugger reads and writes memory without triggering watchpoints', () => {
      const m = load(WATCHED);
      const addr = m.evaluate('x', null).addr!;
      const ev = m.kernel.perfEventOpen({ type: 'rw', addr, len: 4 }, { pid: m.threadInfos()[0].pid!, cpu: -1 });
      m.kernel.contextSwitch(0, m.threadInfos()[0].pid);
      m.evaluate('x + 1', 1);
      m.assign('x', '41', 1);
      m.memory.write(addr, new Uint8Array([42, 0, 0, 0]));
      assert.equal(ev.read().count, 0);
      assert.equal(m.evaluate('x', 1).value, '42');
      m.kernel.contextSwitch(0, null);
    });
  });

  describe('runtime errors stop the machine with a clear exception', () => {
    const cases: [string, string, RegExp][] = [
      ['segmentation fault', 'var p: *u32 = 0x1234 as *u32\n  *p = 1', /write of 4 bytes at 0x1234: no memory is mapped there .* \(t\.hwsim:6:3, thread main\)/],
      ['division by zero', 'var z: u32 = 0\n  print 5 / z', /division by zero \(t\.hwsim:6:3, thread main\)/],
      ['join of a thread never spawned', 'join other', /join other: thread other was never spawned/],
      ['spawning twice', 'spawn other\n  spawn other', /thread other was already spawned/],
    ];
    for (const [name, body, expected] of cases) {
      it(name, () => {
        const m = load(`global g: u32\nthread other {\n}\nthread main {\n  ${body}\n}`);
        const { stop } = runToStop(m);
        assert.equal(stop.reason, 'exception');
        assert.match(stop.message!, expected);
        assert.equal(m.run(10), stop, 'a faulted machine stays stopped');
      });
    }

    it('stack overflow from unbounded recursion', () => {
      const { stop } = runToStop(load('fn f(n: u64): u64 {\n  return f(n + 1)\n}\nthread main {\n  print f(0)\n}'));
      assert.equal(stop.reason, 'exception');
      assert.match(stop.message!, /stack overflow calling f/);
    });

    it('a deadlock is reported, not a hang', () => {
      const { stop } = runToStop(load('thread a {\n  sleep 5\n  join b\n}\nthread b {\n  sleep 5\n  join a\n}\nthread main {\n  spawn a\n  spawn b\n  join a\n}'));
      assert.equal(stop.reason, 'deadlock');
      assert.match(stop.message!, /every thread is blocked \(a waits for b, b waits for a, main waits for a\)/);
    });
  });

  describe('control', () => {
    it('pause stops an infinite loop', () => {
      const m = load('thread main {\n  while 1 {\n    yield\n  }\n}');
      assert.equal(m.run(50_000), null);
      m.pause();
      const stop = m.run(50_000);
      assert.deepEqual([stop?.reason, stop?.threadId], ['pause', 1]);
      assert.equal(m.run(1000), null, 'and runs on after');
    });

    it('steps into, over and out like a C debugger', () => {
      const m = load(`
fn inner(): u32 {
  var a: u32 = 1
  return a + 1
}
thread main {
  var x: u32 = 0
  x = inner()
  x = x + 1
  print x
}`);
      const where = () => `${m.frames(1)[0].fn}:${m.frames(1)[0].location.line}`;
      assert.equal(where(), 'main:7');
      const step = (kind: 'into' | 'over' | 'out') => {
        m.step(1, kind);
        const s = m.run(1000);
        assert.equal(s?.reason, 'step');
        return where();
      };
      assert.equal(step('over'), 'main:8');
      assert.equal(step('into'), 'inner:3');
      assert.equal(step('over'), 'inner:4');
      assert.equal(step('out'), 'main:9');
      assert.equal(m.frames(1).length, 1);
      assert.equal(m.evaluate('x', 1).value, '2');
      assert.equal(step('over'), 'main:10');
    });

    it('evaluates expressions in a frame with locals, globals, elements and pointers', () => {
      const m = load(`
global arr: u16[4] = {10, 20, 30, 40}
fn f(k: u32) {
  var p: *u16 = &arr[k]
  print *p
}
thread main {
  f(2)
}`);
      for (let i = 0; i < 2; i++) { m.step(1, 'into'); m.run(1000); }
      assert.deepEqual([m.frames(1)[0].fn, m.frames(1)[0].location.line], ['f', 5]);
      assert.deepEqual(m.evaluate('k * 2 + arr[3]', 1, 0), { value: '44', type: 'u32', addr: null, size: null, frame: null });
      assert.equal(m.evaluate('*p', 1, 0).value, '30');
      assert.equal(m.evaluate('arr[1]', 1, 0).addr, m.evaluate('arr', 1, 0).addr! + 2);
      assert.throws(() => m.evaluate('nope + 1', 1, 0), /unknown name 'nope'/);
      assert.throws(() => m.evaluate('f(1)', 1, 0), /does not call functions/);
      assert.throws(() => m.evaluate('1 +', 1, 0), /expected an expression/);
    });
  });

  describe('frames: identities, and the end of a watched frame', () => {
    const FRAMES = readFileSync('test/fixtures/frames.hwsim', 'utf8');
    type Ret = Extract<MachineEvent, { kind: 'return' }>;

    /** Run to the next stop at a line (a software breakpoint on its statement). */
    function runTo(m: Machine, line: number): void {
      m.setSoftwareBreakpoints([m.allStatements().find((s) => s.span.line === line)!.codeAddr]);
      assert.equal(runToStop(m).stop.reason, 'breakpoint');
      m.setSoftwareBreakpoints([]);
    }

    it('reports the end of a watched frame only, with its identity, function and line; a later call at the same address is another frame', () => {
      const m = load(FRAMES);
      const ends: Ret[] = [];
      m.on((e) => { if (e.kind === 'return') ends.push(e); });
      runTo(m, 7);
      const first = m.frames(1)[0];
      const x = m.evaluate('x', 1, 0);
      assert.deepEqual(x.frame, { threadId: 1, frameId: first.id, fn: 'first', index: 0 });
      assert.equal(m.evaluate('total', 1, 0).frame, null, 'a global belongs to no frame');
      assert.deepEqual(m.findFrame(1, first.id), { threadId: 1, frameId: first.id, fn: 'first', index: 0 });
      m.watchFrame(first.id, true);
      runTo(m, 13);
      assert.deepEqual(ends, [{ kind: 'return', threadId: 1, frameId: first.id, fn: 'first', thread: false, line: 8, killed: false }]);
      assert.equal(m.findFrame(1, first.id), null, 'gone');
      const second = m.frames(1)[0];
      assert.equal(m.evaluate('y', 1, 0).addr, x.addr, 'y lives where x did');
      assert.notEqual(second.id, first.id, 'but in another frame');
      assert.deepEqual(m.evaluate('y', 1, 0).frame?.frameId, second.id);
      runToStop(m);
      assert.equal(ends.length, 1, 'unwatched frames end silently');
    });

    it('a recursive call is another frame; calls are reported for watched functions; counted interest', () => {
      const m = load(FRAMES);
      const calls: number[] = [];
      const ends: Ret[] = [];
      m.on((e) => {
        if (e.kind === 'call') {
          calls.push(e.frameId);
          m.watchFrame(e.frameId, true);
          m.watchFrame(e.frameId, true);
          m.watchFrame(e.frameId, false); // still watched once
        }
        if (e.kind === 'return') ends.push(e);
      });
      m.watchCalls('rec', true);
      const { stop } = runToStop(m);
      assert.equal(stop.reason, 'exited');
      assert.equal(calls.length, 3, 'rec(1), rec(0) inside it, then rec(0)');
      assert.equal(new Set(calls).size, 3);
      assert.deepEqual(ends.map((e) => [e.fn, e.line, calls.indexOf(e.frameId)]), [['rec', 23, 1], ['rec', 23, 0], ['rec', 23, 2]], 'inner first');
    });

    it('a thread\'s body ends with its thread; a thread ended by main\'s return is reported as killed', () => {
      const m = load(`
machine x86_64 cpus=2
thread main {
  var a: u32 = 1
  spawn spin
  sleep 50
}
thread spin {
  var s: u32 = 0
  while 1 { s = s + 1 }
}`);
      const ends: Ret[] = [];
      m.on((e) => {
        if (e.kind === 'return') ends.push(e);
        if (e.kind === 'thread' && e.state === 'started' && e.name === 'spin') m.watchFrame(m.frames(e.threadId)[0].id, true);
      });
      m.watchFrame(m.frames(1)[0].id, true);
      assert.equal(runToStop(m).stop.reason, 'exited');
      assert.deepEqual(ends.map((e) => [e.fn, e.thread, e.killed, e.line]), [['main', true, false, 7], ['spin', true, true, 10]]);
    });
  });
});
