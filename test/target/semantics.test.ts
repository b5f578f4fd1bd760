import * as assert from 'node:assert/strict';
import { STACK_TOP } from '../../src/target';
import { load, outputOf, runToStop } from '../support/hwsim';

const program = (body: string, decls = '') => `${decls}\nthread main {\n${body}\n}\n`;

describe('semantics', () => {
  it('wraps arithmetic at the declared width', () => {
    const out = outputOf(program(`
  var a: u8 = 250
  a = a + 10
  var b: i8 = 127
  b = b + 1
  var c: u16 = 0
  c = c - 1
  var d: i32 = 2147483647
  d = d + 1
  var e: u32 = 0
  e = e - 1
  var f: u64 = 0
  f = f - 1
  var g: i64 = 9223372036854775807
  g = g + 1
  var h: u32 = 65536
  h = h * h
  print a, " ", b, " ", c, " ", d, " ", e, " ", f, " ", g, " ", h`));
    assert.deepEqual(out, ['4 -128 65535 -2147483648 4294967295 18446744073709551615 -9223372036854775808 0']);
  });

  it('divides, shifts and compares as C does', () => {
    const out = outputOf(program(`
  var a: i32 = -7
  var b: i32 = 2
  var u: u32 = 4294967295
  var s: i32 = -1
  var big: i64 = -9
  var w: u64 = 1
  print a / b, " ", a % b, " ", u / 2, " ", a >> 1, " ", u >> 28, " ", 1 << 31, " ", big / 2, " ", big % 4
  print (s < 0), " ", (u > 0), " ", (s as u32) == u, " ", w << 63, " ", (w << 64)
  print (300 as u8), " ", (-1 as u16), " ", (70000 as i16), " ", (u as i8), " ", (big as u8)`));
    // u/2 is unsigned; constant expressions are exact, as in Go (1 << 31 is 2147483648, not C's
    // INT_MIN); shifts of 64-bit values take the count modulo 64.
    assert.deepEqual(out, [
      '-3 -1 2147483647 -4 15 2147483648 -4 -1',
      '1 1 1 9223372036854775808 1',
      '44 65535 4464 -1 247',
    ]);
  });

  it('mixes signed and unsigned with the usual conversions', () => {
    const out = outputOf(program(`
  var s: i32 = -1
  var u: u32 = 1
  var c: u8 = 200
  var d: u8 = 100
  print s < u, " ", c + d, " ", (s as i64) < (u as i64)`));
    // i32 vs u32 compares as unsigned (so -1 is not less than 1); u8 + u8 promotes to i32 (300).
    assert.deepEqual(out, ['0 300 1']);
  });

  it('has pointers: address-of, dereference, arithmetic, difference', () => {
    const out = outputOf(program(`
  var p: *u32 = &arr[1]
  *p = 7
  var q: *u32 = p + 2
  *q = 9
  var r: *u8 = &bytes[0]
  print arr[1], " ", arr[3], " ", q - p, " ", p[2], " ", *(r + 2), " ", (p as u64) == 0x601004`,
    'global arr: u32[4]\nglobal bytes: u8[4] = {1, 2, 3, 4}'));
    assert.deepEqual(out, ['7 9 2 9 3 1']);
  });

  it('keeps locals on the thread stack, a new frame per call', () => {
    const m = load(`
fn depth(n: u32): u32 {
  var mine: u32 = n
  if n == 0 { return 0 }
  return depth(n - 1) + mine
}
thread main {
  var total: u32 = depth(3)
  print total
}`);
    const frames: number[] = [];
    // Step into the recursion and look at the locals' addresses.
    for (let i = 0; i < 200 && frames.length < 4; i++) {
      m.step(1, 'into');
      const stop = m.run(10_000);
      assert.ok(stop);
      const f = m.frames(1);
      if (f[0].fn === 'depth' && f.length - 1 > frames.length) {
        const mine = m.locals(1, 0).find((v) => v.name === 'n');
        frames.push(mine!.addr);
      }
    }
    assert.equal(frames.length, 4);
    for (let i = 1; i < frames.length; i++) assert.ok(frames[i] < frames[i - 1], 'each deeper frame sits lower on the stack');
    assert.ok(frames.every((a) => a < STACK_TOP && a > STACK_TOP - 0x10000), 'inside main\'s stack');
    const { output } = runToStop(m);
    assert.deepEqual(output, ['6']);
  });

  it('loops: break and continue go to the right places in while, for and repeat', () => {
    const out = outputOf(program(`
  var log: u32 = 0
  for i: u32 in 0..10 {
    if i == 2 { continue }
    if i == 5 { break }
    log = log * 10 + i
  }
  var n: u32 = 0
  repeat 6 {
    n = n + 1
    if n == 2 { continue }
    if n == 4 { break }
    log = log * 10 + n
  }
  var w: u32 = 0
  while 1 {
    w = w + 1
    if w < 3 { continue }
    break
  }
  print log, " ", n, " ", w`));
    assert.deepEqual(out, ['13413 4 3']);
  });
});
