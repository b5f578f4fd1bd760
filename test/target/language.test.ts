import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkProgram, loadProgram } from '../../src/target';
import { errorsOf, outputOf } from '../support/hwsim';

describe('the .hwsim language', () => {
  it('parses and runs examples/race.hwsim as written', () => {
    const src = readFileSync('examples/race.hwsim', 'utf8');
    assert.deepEqual(checkProgram(src, 'race.hwsim'), []);
    const { machine } = loadProgram(src, 'race.hwsim');
    assert.ok(machine);
    assert.deepEqual(machine.config, { arch: 'x86_64', cpus: 2, timeslice: 50, mux: 200, seed: 1, stack: 0x10000 });
    assert.deepEqual(machine.globals().map((g) => [g.name, g.type, g.addr]), [['counter', 'u32', 0x601000], ['flags', 'u8[4]', 0x601004], ['log', 'u64[8]', 0x601100]]);
  });

  it('every example checks clean', () => {
    for (const f of ['race', 'race-fixed', 'overrun', 'multiplex', 'contention', 'arm64-read']) {
      assert.deepEqual(checkProgram(readFileSync(`examples/${f}.hwsim`, 'utf8'), f), [], f);
    }
  });

  it('has every statement form', () => {
    const out = outputOf(`
global g: i32 = 5
global arr: u16[3] = {1, 2, 3}
fn add(a: i32, b: i32): i32 {
  return a + b
}
fn nothing() {
  return
}
thread main {
  var x: i32 = add(2, 3)
  var p: *i32 = &x
  *p = *p * 2
  if x > 5 { print "big ", x } else { print "small" }
  if x == 0 { print "zero" } else if x == 10 { print "ten" } else { print "other" }
  var n: u32 = 0
  while n < 10 {
    n = n + 1
    if n == 3 { continue }
    if n == 6 { break }
  }
  print "n=", n
  var sum: u32 = 0
  for i: u32 in 0..5 { sum = sum + i }
  for j in 1..4 { sum = sum + j * 100 }
  repeat 3 { sum = sum + 1000 }
  print "sum=", sum
  nothing()
  yield
  sleep 3
  arr[2] = arr[0] + arr[1] as u16
  print "arr2=", arr[2], " g=", g, " cast=", (300 as u8), " neg=", -x
}
`);
    assert.deepEqual(out, ['big 10', 'ten', 'n=6', 'sum=3610', 'arr2=3 g=5 cast=44 neg=-10']);
  });

  describe('diagnostics: all at once, file:line:col, never a stack trace', () => {
    const cases: [string, string, RegExp][] = [
      ['unexpected character', 'thread main {\n  var x: u8 = 1 $ 2\n}', /^t\.hwsim:2:17: error: unexpected character '\$'/],
      ['unterminated string', 'thread main {\n  print "abc\n}', /^t\.hwsim:2:9: error: unterminated string/],
      ['malformed number', 'thread main {\n  var x: u8 = 12ab\n}', /^t\.hwsim:2:15: error: malformed number '12ab'/],
      ['missing closing brace', 'thread main {\n  var x: u8 = 1\n', /^t\.hwsim:3:1: error: expected '}' to close the block opened at line 1/],
      ['unknown type', 'global x: u9', /^t\.hwsim:1:11: error: expected a type/],
      ['unknown name', 'thread main {\n  y = 1\n}', /^t\.hwsim:2:3: error: unknown name 'y'/],
      ['value too large for its type', 'global x: u8 = 256', /^t\.hwsim:1:16: error: 256 does not fit in u8/],
      ['pointer/integer mismatch', 'thread main {\n  var p: *u8 = 5\n}', /^t\.hwsim:2:16: error: cannot use the number 5 as a pointer/],
      ['wrong argument count', 'fn f(a: u8) {\n}\nthread main {\n  f(1, 2)\n}', /^t\.hwsim:4:3: error: 'f' takes 1 argument, not 2/],
      ['unknown thread', 'thread main {\n  spawn nobody\n}', /^t\.hwsim:2:9: error: unknown thread 'nobody'/],
      ['duplicate global', 'global x: u8\nglobal x: u8\nthread main {\n}', /^t\.hwsim:2:8: error: global 'x' is defined twice/],
      ['break outside a loop', 'thread main {\n  break\n}', /^t\.hwsim:2:3: error: 'break' outside a loop/],
      ['return value in a thread', 'thread main {\n  return 1\n}', /^t\.hwsim:2:10: error: a thread has no return value/],
      ['no main thread', 'thread other {\n}', /^t\.hwsim:1:1: error: the program needs a 'thread main/],
      ['expression statement', 'thread main {\n  1 + 2\n}', /^t\.hwsim:2:3: error: this expression does nothing on its own/],
      ['unknown machine setting', 'machine x86_64 cpus=2 speed=3\nthread main {\n}', /^t\.hwsim:1:23: error: unknown machine setting 'speed'/],
      ['pinned to a missing CPU', 'machine x86_64 cpus=2\nthread main on 5 {\n}', /^t\.hwsim:2:16: error: thread 'main' is pinned to cpu 5/],
      ['overlapping fixed globals', 'global a: u64 @ 0x602000\nglobal b: u32 @ 0x602004\nthread main {\n}', /^t\.hwsim:2:1: error: 'b' at 0x602004 overlaps 'a'/],
      ['constant division by zero', 'thread main {\n  var x: u32 = 1 / 0\n}', /^t\.hwsim:2:16: error: division by zero/],
      ['perf target missing', 'perf pinned w 0x601000 len 4\nthread main {\n}', /^t\.hwsim:2:1: error: a perf breakpoint needs a target/],
    ];
    for (const [name, src, expected] of cases) {
      it(name, () => {
        // Snippets without a main thread get that error too; the one under test must be there.
        const errors = errorsOf(src).filter((e) => !/needs a 'thread main/.test(e) || /no main/.test(name));
        assert.equal(errors.length, 1, errors.join('\n'));
        assert.match(errors[0], expected, errors.join('\n'));
      });
    }

    it('reports several errors at once, in order, without follow-on noise', () => {
      const errors = errorsOf(`
global a: u8 = 300
thread main {
  var x: u32 = nope
  x = x +
  y = 2
  var z: u8 = 1
}
`);
      // A trailing '+' continues the expression on the next line, so line 6 is where it goes wrong;
      // the recovery then goes on with line 7 and finds nothing else.
      assert.equal(errors.length, 3, errors.join('\n'));
      assert.match(errors[0], /2:16: error: 300 does not fit in u8/);
      assert.match(errors[1], /4:16: error: unknown name 'nope'/);
      assert.match(errors[2], /6:5: error: expected the end of the statement, found '='/);
    });

    it('a program with errors never starts', () => {
      const { machine, diagnostics } = loadProgram('thread main {\n  print "x"\n  q = 1\n}', 't.hwsim');
      assert.equal(machine, null);
      assert.equal(diagnostics.length, 1);
    });
  });
});
