/** Edges found in review of the target, the watchpoint manager and the CLI. */
import * as assert from 'node:assert/strict';
import { WatchpointManager } from '../../src/adapter/watchpoints';
import { loadProgram } from '../../src/target';
import { errorsOf, load, outputOf, runToStop } from '../support/hwsim';

describe('target edges', () => {
  it('sleep wakes up, and a sleeping thread stands at its sleep', () => {
    assert.deepEqual(outputOf('thread main {\n  sleep 3\n  print "woke"\n}'), ['woke']);
    const m = load('thread w {\n  repeat 20 { yield }\n}\nthread main {\n  spawn w\n  join w\n  print "after"\n}', { cpus: 1 });
    for (let i = 0; i < 6; i++) m.run(1);
    assert.equal(m.threadInfos()[1].state === 'blocked' || m.threadInfos()[1].state === 'runnable', true);
    const main = m.threadInfos().find((t) => t.name === 'main')!;
    if (main.state === 'blocked') assert.equal(m.frames(main.id)[0].location.line, 6, 'shown at the join it waits in');
    assert.deepEqual(runToStop(m).output, ['after']);
  });

  it('negative initial values of narrow globals are stored', () => {
    assert.deepEqual(outputOf('global a: i32 = -1\nglobal b: i8[2] = {-5, 3}\nglobal c: i64 = -7\nthread main {\n  print a, " ", b[0], " ", b[1], " ", c\n}'), ['-1 -5 3 -7']);
  });

  describe('stepping from a stop does not skip a statement', () => {
    const src = 'global g: u32\nthread main {\n  var x: u32 = 0\n  g = 5\n  x = 1\n  x = 2\n  x = 3\n}';
    it('after a software breakpoint', () => {
      const m = load(src);
      m.setSoftwareBreakpoints([m.allStatements().find((s) => s.span.line === 5)!.codeAddr]);
      assert.equal(m.run(1000)?.reason, 'breakpoint');
      m.step(1, 'over');
      assert.deepEqual([m.run(1000)?.reason, m.frames(1)[0].location.line], ['step', 6]);
    });
    it('after a data trap', () => {
      const m = load(src);
      const ev = m.kernel.perfEventOpen({ type: 'w', addr: m.evaluate('g', null).addr!, len: 4 }, { pid: 1, cpu: -1 });
      m.setStopping(ev.id, true);
      const stop = m.run(1000);
      assert.deepEqual([stop?.reason, stop?.location?.line, m.frames(1)[0].location.line], ['data', 4, 4]);
      m.step(1, 'over');
      assert.deepEqual([m.run(1000)?.reason, m.frames(1)[0].location.line], ['step', 5]);
    });
  });

  it('for and repeat stop once per pass on their line', () => {
    const m = load('thread main {\n  var s: u32 = 0\n  for i: u32 in 0..2 {\n    s = s + i\n  }\n  repeat 2 {\n    s = s + 1\n  }\n}');
    const lines: number[] = [];
    for (let i = 0; i < 12; i++) {
      m.step(1, 'over');
      const stop = m.run(1000);
      if (stop?.reason !== 'step') break;
      lines.push(m.frames(1)[0].location.line);
    }
    assert.deepEqual(lines, [3, 4, 3, 4, 3, 6, 7, 6, 7, 6, 9]);
  });

  it('a watchpoint hit in call arguments is reported at the calling line', () => {
    const m = load('global g: u32 = 3\nfn f(v: u32): u32 {\n  var unrelated: u32 = 1\n  return v + unrelated\n}\nthread main {\n  var x: u32 = f(g)\n  print x\n}');
    const ev = m.kernel.perfEventOpen({ type: 'rw', addr: m.evaluate('g', null).addr!, len: 4 }, { pid: 1, cpu: -1 });
    m.setStopping(ev.id, true);
    const stop = m.run(1000);
    assert.deepEqual([stop?.reason, stop?.location?.line, stop?.hits[0].newValue], ['data', 7, '3']);
  });

  it('locals stay visible at the closing brace', () => {
    const m = load('fn f() {\n  var x: u32 = 7\n}\nthread main {\n  f()\n}');
    for (let i = 0; i < 2; i++) { m.step(1, 'into'); m.run(1000); }
    assert.deepEqual([m.frames(1)[0].fn, m.frames(1)[0].location.line], ['f', 3]);
    assert.equal(m.evaluate('x', 1).value, '7');
    assert.deepEqual(m.locals(1, 0).map((v) => v.name), ['x']);
  });

  it('shifts take the type of their (promoted) left operand, a constant one its own', () => {
    // 1 is an i32, so 1 << 31 wraps negative, and a count of 40 is taken modulo 32.
    assert.deepEqual(outputOf('thread main {\n  var n: u32 = 1\n  var k: u32 = 31\n  var w: u64 = 40\n  var x: i32 = -8 >> n\n  print x, " ", 1 << k, " ", 1 << w\n}'), ['-4 -2147483648 256']);
  });

  it('pointers far beyond user space do not wrap to 0', () => {
    const { stop } = runToStop(load('thread main {\n  var p: *u8 = (0 - 1) as *u8\n  *p = 1\n}'));
    assert.equal(stop.reason, 'exception');
    assert.doesNotMatch(stop.message!, /at 0x0:/);
  });

  it('for evaluates its bounds left to right', () => {
    assert.deepEqual(outputOf('fn f(): u32 {\n  print "from"\n  return 0\n}\nfn g(): u32 {\n  print "to"\n  return 2\n}\nthread main {\n  for i in f()..g() {\n  }\n}'), ['from', 'to']);
  });

  describe('no crash, one clear diagnostic', () => {
    const cases: [string, string, RegExp][] = [
      ['a number with no digits', 'global a: u32 = 0x_\nthread main {\n}', /malformed number '0x_'/],
      ['a fixed global over a stack', 'global g: u32 @ 0x7ffdfffff000\nthread main {\n}', /would overlap the thread stacks/],
      ['a fixed global running into the text segment', 'global g: u8[8192] @ 0x3ff000\nthread main {\n}', /would overlap the text segment/],
      ['a frame larger than the stack', 'thread main {\n  var a: u8[70000]\n}', /'main' take 70000 bytes, more than a thread's stack/],
      ['too many threads', `${Array.from({ length: 65 }, (_, i) => `thread t${i} {\n}`).join('\n')}\nthread main {\n}`, /66 threads: at most 64 are supported/],
      ['a global beyond the size limit', 'global big: u64[1000000]\nthread main {\n}', /'big' takes 8000000 bytes; globals are limited to 4194304 bytes each/],
      ['absurd nesting', `thread main {\n  var x: u32 = ${'('.repeat(1000)}1${')'.repeat(1000)}\n}`, /more than 256 operators/],
      ['an endless sum', `global g: u32\nthread main {\n  g = ${Array(5000).fill('g').join(' + ')}\n}`, /more than 256 operators/],
    ];
    for (const [name, src, expected] of cases) {
      it(name, () => {
        const errors = errorsOf(src);
        assert.equal(errors.length, 1, errors.join('\n'));
        assert.match(errors[0], expected);
        assert.equal(loadProgram(src, 't.hwsim').machine, null);
      });
    }
  });

  describe('recovery reports what follows and nothing invented', () => {
    it('after a dangling initialiser, the next line is still checked', () => {
      const errors = errorsOf('thread main {\n  var x: u32 =\n  var y: u32 = zz\n}');
      assert.equal(errors.length, 2, errors.join('\n'));
      assert.match(errors[1], /3:16: error: unknown name 'zz'/);
    });
    it('a broken global does not swallow the next declaration', () => {
      const errors = errorsOf('global x: u32 =\nfn f() {\n  var a: u32 = nope\n}\nthread main {\n  f()\n}');
      assert.equal(errors.length, 2, errors.join('\n'));
      assert.match(errors[1], /3:16: error: unknown name 'nope'/);
    });
    it('an error in a condition still checks the body', () => {
      const errors = errorsOf('thread main {\n  if nope1 {\n    var y: u32 = nope2\n  }\n}');
      assert.deepEqual(errors.map((e) => e.replace(/^t\.hwsim:/, '')), ["2:6: error: unknown name 'nope1'", "3:18: error: unknown name 'nope2'"]);
    });
    it('a failed for header does not leak its variable', () => {
      assert.deepEqual(errorsOf('thread main {\n  for i: u8 in 0..1000 {\n  }\n  var i: u32 = 1\n}').length, 1);
    });
    it('a malformed number gives one message', () => {
      assert.equal(errorsOf('machine x86_64 cpus=0x\nthread main {\n}').length, 1);
      assert.equal(errorsOf('global a: u8[12abc]\nthread main {\n}').length, 1);
    });
  });

  describe('watchpoint manager', () => {
    it('a refused mode switch keeps the watchpoint as it was', () => {
      const m = load('global a: u64\nglobal b: u64\nglobal c: u64\nglobal e: u64\nglobal f: u64\nthread main {\n  a = 1\n}');
      const wm = new WatchpointManager(m);
      const watch = (name: string, mode: 'pinned' | 'flexible') => wm.add({ label: name, addr: m.evaluate(name, null).addr!, size: 8, access: 'w', mode });
      watch('a', 'pinned');
      watch('b', 'pinned');
      watch('c', 'pinned');
      const e = watch('e', 'flexible');
      watch('f', 'flexible'); // its kept register stays: e cannot be the fourth pinned one
      assert.throws(() => wm.setMode(e.id, 'pinned'), /Cannot make e pinned: .*it stays flexible/);
      assert.deepEqual([wm.find(e.id)!.state, wm.find(e.id)!.mode], ['active', 'flexible']);
    });
  });
});
