/** Atomics, mutexes, threads with parameters, tids and thread instances (issue 10's language forms). */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { StopEvent } from '../../src/target';
import { errorsOf, load, outputOf, runToStop } from '../support/hwsim';

/** Run to the end: the stop must be the program's own (exited, deadlock or exception). */
function finish(src: string): { output: string[]; stop: StopEvent } {
  return runToStop(load(src), 50_000_000);
}

describe('atomics, mutexes and thread instances', () => {
  describe('atomic operations', () => {
    it('atomic_add, cas and xchg return the old value and write as documented', () => {
      const out = outputOf(`
global safe: u32 = 5
thread main {
  var a: u32 = atomic_add(&safe, 1)
  print a, " ", safe
  var old: u32 = cas(&safe, 6, 9)
  print old, " ", safe
  var failed: u32 = cas(&safe, 6, 100)
  print failed, " ", safe
  var prev: u32 = xchg(&safe, 0)
  print prev, " ", safe
  atomic_add(&safe, 3)
  print safe
  // Like a call, an atomic inside an expression runs first, as its own micro-operation.
  print safe, " ", atomic_add(&safe, 1) + 10, " ", safe
}`);
      assert.deepEqual(out, ['5 6', '6 9', '9 9', '9 0', '3', '4 13 4']);
    });

    it('wrap at their width, signed and unsigned, 8 to 64 bits, through pointers', () => {
      const out = outputOf(`
global b: u8 = 250
global s: i16 = 32767
global w: u64 = 18446744073709551615
global n: i64 = -1
global arr: i32[4]
thread main {
  print atomic_add(&b, 10), " ", b
  print atomic_add(&s, 1), " ", s
  print atomic_add(&w, 2), " ", w
  print cas(&n, -1, -9223372036854775808), " ", n
  var p: *i32 = &arr[2]
  print xchg(p, -7), " ", arr[2], " ", cas(p + 1, 1, 2), " ", arr[3]
}`);
      assert.deepEqual(out, ['250 4', '32767 -32768', '18446744073709551615 1', '-1 -9223372036854775808', '0 -7 0 0']);
    });

    it('64 threads × 1000 atomic_add on 64 CPUs lose nothing', () => {
      const out = outputOf(`
machine x86_64 cpus=64 timeslice=3
global safe: u32 = 0
global ids: tid[64]
thread worker(n: u32) {
  repeat n {
    atomic_add(&safe, 1)
  }
}
thread main {
  for i in 0..64 {
    ids[i] = spawn worker(1000)
  }
  for i in 0..64 {
    join ids[i]
  }
  print safe
}`);
      assert.deepEqual(out, ['64000']);
    });

    it('a cas loop builds any read-modify-write: 16 threads double-and-add without losing a step', () => {
      const out = outputOf(`
machine x86_64 cpus=16 timeslice=2
global x: u64 = 0
global steps: u32 = 0
thread worker(n: u32) {
  repeat n {
    var done: u32 = 0
    while done == 0 {
      var seen: u64 = x
      if cas(&x, seen, seen + 1) == seen { done = 1 }
    }
    atomic_add(&steps, 1)
  }
}
thread main {
  var ts: tid[16]
  for i in 0..16 { ts[i] = spawn worker(50) }
  for i in 0..16 { join ts[i] }
  print x, " ", steps
}`);
      assert.deepEqual(out, ['800 800']);
    });
  });

  it('examples/race-fixed.hwsim reads like race.hwsim and always prints counter = 2000', () => {
    const fixed = readFileSync('examples/race-fixed.hwsim', 'utf8');
    const race = readFileSync('examples/race.hwsim', 'utf8');
    const differ = race.split('\n').filter((line, i) => fixed.split('\n')[i] !== line);
    assert.deepEqual(differ, ['// race.hwsim: two threads increment a shared counter', '    counter = counter + 1']);
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      for (const timeslice of [1, 3, 50]) assert.deepEqual(outputOf(fixed, { seed, timeslice }), ['counter = 2000'], `seed ${seed} timeslice ${timeslice}`);
    }
  });

  describe('mutexes', () => {
    it('a mutex-protected counter is exact with 64 threads on 64 CPUs', () => {
      const { output, stop } = finish(`
machine x86_64 cpus=64 timeslice=2
global m: mutex
global counter: u32 = 0
thread worker(n: u32) {
  repeat n {
    lock m
    var c: u32 = counter
    yield
    counter = c + 1
    unlock m
  }
}
thread main {
  var ts: tid[64]
  for i in 0..64 { ts[i] = spawn worker(100) }
  for i in 0..64 { join ts[i] }
  print counter
}`);
      assert.deepEqual([stop.reason, output], ['exited', ['6400']]);
    });

    it('without the mutex the same counter loses updates (the test can tell)', () => {
      const { output } = finish(`
machine x86_64 cpus=64 timeslice=2
global counter: u32 = 0
thread worker(n: u32) {
  repeat n {
    var c: u32 = counter
    yield
    counter = c + 1
  }
}
thread main {
  var ts: tid[64]
  for i in 0..64 { ts[i] = spawn worker(100) }
  for i in 0..64 { join ts[i] }
  print counter
}`);
      assert.ok(Number(output[0]) < 6400, `counter ${output[0]}`);
    });

    it('a waiter sleeps (blocked, running nothing) and waiters get the mutex in FIFO order', () => {
      const m = load(`
machine x86_64 cpus=4
global m: mutex
thread a { sleep 10
  lock m
  print "a"
  unlock m }
thread b { sleep 20
  lock m
  print "b"
  unlock m }
thread c { sleep 30
  lock m
  print "c"
  unlock m }
thread main {
  lock m
  spawn c
  spawn b
  spawn a
  sleep 200
  unlock m
  join a
  join b
  join c
}`);
      m.run(4 * 100);
      const blocked = m.threadInfos().filter((t) => t.state === 'blocked');
      assert.deepEqual(blocked.map((t) => t.name).sort(), ['a', 'b', 'c']);
      const before = blocked.map((t) => t.instructions);
      m.run(4 * 50);
      assert.deepEqual(m.threadInfos().filter((t) => t.state === 'blocked').map((t) => t.instructions), before, 'no spinning');
      const { output, stop } = runToStop(m);
      assert.deepEqual([stop.reason, output], ['exited', ['a', 'b', 'c']]);
    });

    it('unlock by a thread that does not hold the mutex is a runtime error naming both', () => {
      const { stop } = finish(`
global m: mutex
thread other {
  lock m
  sleep 50
}
thread main {
  spawn other
  sleep 10
  unlock m
}`);
      assert.equal(stop.reason, 'exception');
      assert.match(stop.message!, /unlock m: thread main does not hold this mutex \(it is held by other\) \(t\.hwsim:10:3, thread main\)/);
      const free = finish('global m: mutex\nthread main {\n  unlock m\n}');
      assert.match(free.stop.message!, /unlock m: thread main does not hold this mutex \(it is not locked\)/);
    });

    it('a deadlock through mutexes is reported as soon as it forms, naming the threads and mutexes', () => {
      const { stop } = finish(`
machine x86_64 cpus=2
global locks: mutex[2]
global b: mutex
thread t1 {
  lock locks[1]
  sleep 5
  lock b
}
thread t2 {
  lock b
  sleep 5
  lock locks[1]
}
thread main {
  spawn t1
  spawn t2
  repeat 1000 { yield }
}`);
      assert.equal(stop.reason, 'deadlock');
      assert.match(stop.message!, /^deadlock: (t1 waits for mutex b held by t2, t2 waits for mutex locks\[1\] held by t1|t2 waits for mutex locks\[1\] held by t1, t1 waits for mutex b held by t2)$/);
    });

    it('locking a mutex one already holds, and every thread blocked on mutexes, are deadlocks too', () => {
      const self = finish('global m: mutex\nthread main {\n  lock m\n  lock m\n}');
      assert.deepEqual([self.stop.reason, self.stop.message], ['deadlock', 'deadlock: main locks mutex m, which it already holds']);
      const all = finish(`
global m: mutex
thread holder {
  lock m
}
thread waiter {
  lock m
}
thread main {
  spawn holder
  sleep 20
  spawn waiter
  join waiter
}`);
      assert.equal(all.stop.reason, 'deadlock');
      assert.match(all.stop.message!, /^deadlock: every thread is blocked \(/);
      assert.match(all.stop.message!, /main waits for waiter/);
      assert.match(all.stop.message!, /waiter waits for mutex m held by holder/);
    });

    it('a mutex in a local or reached through a pointer works the same', () => {
      const out = outputOf(`
machine x86_64 cpus=4 timeslice=2
global total: u32
thread worker(pm: *mutex, n: u32) {
  repeat n {
    lock *pm
    var t: u32 = total
    yield
    total = t + 1
    unlock *pm
  }
}
thread main {
  var m: mutex
  var a: tid = spawn worker(&m, 200)
  var b: tid = spawn worker(&m, 200)
  join a
  join b
  print total
}`);
      assert.deepEqual(out, ['400']);
    });
  });

  describe('thread instances and tids', () => {
    it('spawn NAME(args) starts an instance named NAME#tid and gives its tid; join waits for it', () => {
      const m = load(`
machine x86_64 cpus=2
global ids: tid[3]
global sum: u32
thread worker(n: u32) {
  atomic_add(&sum, n)
  print "w", n
}
thread main {
  for i in 0..3 {
    ids[i] = spawn worker(i + 1)
  }
  spawn worker(10)
  join ids[0]
  join ids[1]
  join ids[2]
  print ids[0], " ", ids[2], " ", ids[0] == ids[0], " ", ids[0] != ids[1], " ", ids[0] == 0
}`);
      const names = new Map<number, string>();
      m.on((e) => { if (e.kind === 'thread' && e.state === 'started') names.set(e.threadId, e.name); });
      const { output, stop } = runToStop(m);
      assert.equal(stop.reason, 'exited');
      assert.deepEqual([...names.entries()], [[3, 'worker#3'], [4, 'worker#4'], [5, 'worker#5'], [6, 'worker#6']]);
      assert.equal(output[output.length - 1], '3 5 1 1 0');
      assert.deepEqual(output.slice(0, -1).sort(), ['w1', 'w10', 'w2', 'w3']);
      assert.equal(m.thread(4).name, 'worker#4');
      assert.deepEqual(m.threadInfos().map((t) => t.name), ['worker', 'main', 'worker#3', 'worker#4', 'worker#5', 'worker#6']);
    });

    it('join NAME means a tid variable of that name when there is one, else the declared thread', () => {
      const out = outputOf(`
global n: u32
thread w(k: u32) {
  sleep 20
  atomic_add(&n, k)
}
thread main {
  var w: tid = spawn w(5)
  join w
  print n
}`);
      assert.deepEqual(out, ['5']);
    });

    it('the old forms keep working beside instances of the same thread', () => {
      const out = outputOf(`
global n: u32
thread w {
  atomic_add(&n, 1)
}
thread main {
  spawn w
  var t: tid = spawn w()
  join w
  join t
  print n
}`);
      assert.deepEqual(out, ['2']);
    });

    it('4096 threads alive at once on 64 CPUs, with memory proportional to use', () => {
      const m = load(`
machine x86_64 cpus=64
global gate: mutex
global done: u32
global ids: tid[4096]
thread worker(n: u32) {
  lock gate
  unlock gate
  atomic_add(&done, n)
}
thread main {
  lock gate
  for i in 0..4096 {
    ids[i] = spawn worker(1)
  }
  sleep 100
  unlock gate
  for i in 0..4096 {
    join ids[i]
  }
  print done
}`);
      let alive = 1; // main
      let peak = 0;
      let peakMapped = 0;
      m.on((e) => {
        if (e.kind !== 'thread') return;
        alive += e.state === 'started' ? 1 : -1;
        if (alive > peak) { peak = alive; peakMapped = m.mappedBytes; }
      });
      const { output, stop } = runToStop(m, 50_000_000);
      assert.deepEqual([stop.reason, output], ['exited', ['4096']]);
      assert.equal(peak, 4097);
      // Each stack holds one small frame: a page, not its 64 KiB (4097 full stacks would be 256 MiB).
      assert.ok(peakMapped < 4097 * 8192 + (1 << 20), `mapped ${peakMapped} bytes`);
      assert.ok(m.mappedBytes < 64 * 4096 + (1 << 20), `after the run: ${m.mappedBytes} bytes`);
    });

    it('a stack is backed as deep as it has been used, and keeps its contents as it grows', () => {
      const m = load(`
machine x86_64 cpus=2 stack=0x100000
global out: u64[2]
fn sum(n: u64): u64 {
  var pad: u64[8]
  pad[3] = n
  if n == 0 { return 0 }
  var r: u64 = sum(n - 1)
  return r + pad[3]
}
thread worker(k: u32, depth: u64) {
  out[k] = sum(depth)
}
thread main {
  var a: tid = spawn worker(0, 2000)
  var b: tid = spawn worker(1, 3)
  join a
  join b
  print out[0], " ", out[1]
}`);
      const before = m.mappedBytes;
      const output: string[] = [];
      m.on((e) => { if (e.kind === 'output') output.push(e.text); });
      let deepest = 0;
      for (let i = 0; i < 100_000 && m.state !== 'exited'; i++) {
        m.run(100);
        deepest = Math.max(deepest, m.mappedBytes - before);
      }
      assert.deepEqual(output, ['2001000 6']);
      // 2001 frames of 112 bytes (locals and the return address) need about 220 KiB, not the 1 MiB reserved.
      assert.ok(deepest > 200_000 && deepest < 600_000, `grew by ${deepest} bytes`);
      assert.equal(m.mappedBytes, before, 'the instances\' stacks are gone with them');
    });

    it('stack slots are reused: 9000 threads one after another', () => {
      const out = outputOf(`
global n: u32
thread worker(k: u32) {
  atomic_add(&n, k)
}
thread main {
  repeat 9000 {
    var t: tid = spawn worker(2)
    join t
  }
  print n
}`);
      assert.deepEqual(out, ['18000']);
    });

    it('too many threads alive at once is a clear runtime stop', () => {
      const { stop } = finish(`
global m: mutex
thread worker {
  lock m
}
thread main {
  lock m
  repeat 9000 {
    spawn worker()
  }
}`);
      assert.equal(stop.reason, 'exception');
      assert.match(stop.message!, /spawn worker: too many threads alive at once \(at most 8128 started with spawn NAME\(…\)\) \(t\.hwsim:9:5, thread main\)/);
    });

    it('join of a tid that names no thread, or itself, is a runtime error', () => {
      const bad = finish('thread main {\n  var t: tid\n  join t\n}');
      assert.match(bad.stop.message!, /join: no thread has tid 0 \(t\.hwsim:3:3, thread main\)/);
      const self = finish('global me: tid\nthread w {\n  sleep 5\n  join me\n}\nthread main {\n  me = spawn w()\n  sleep 20\n}');
      assert.match(self.stop.message!, /join: thread w#3 cannot join itself/);
    });
  });

  describe('watchpoints see atomics and mutexes', () => {
    const SRC = `
machine x86_64 cpus=1
global m: mutex
global x: u32 = 5
thread main {
  atomic_add(&x, 2)
  cas(&x, 1, 3)
  cas(&x, 7, 8)
  xchg(&x, 4)
  lock m
  unlock m
}`;

    function hits(type: 'w' | 'rw', name: string): string[][] {
      const m = load(SRC);
      const ev = m.kernel.perfEventOpen({ type, addr: m.evaluate(name, null).addr!, len: 4 }, { pid: m.threadInfos()[0].pid!, cpu: -1 });
      m.setStopping(ev.id, true);
      const out: string[][] = [];
      for (;;) {
        const { stop } = runToStop(m);
        if (stop.reason !== 'data') break;
        for (const h of stop.hits) out.push([String(stop.location!.line), h.kind, h.oldValue ?? '-', h.newValue]);
      }
      return out;
    }

    it('a w watchpoint traps on atomics that wrote (not a failed cas), with old and new values', () => {
      assert.deepEqual(hits('w', 'x'), [['6', 'write', '5', '7'], ['8', 'write', '7', '8'], ['9', 'write', '8', '4']]);
    });

    it('an rw watchpoint traps on every atomic: a failed cas as a read', () => {
      assert.deepEqual(hits('rw', 'x'), [['6', 'write', '5', '7'], ['7', 'read', '7', '7'], ['8', 'write', '7', '8'], ['9', 'write', '8', '4']]);
    });

    it('lock and unlock are writes of the owner\'s tid to the mutex word', () => {
      assert.deepEqual(hits('w', 'm'), [['10', 'write', '0', '1'], ['11', 'write', '1', '0']]);
    });
  });

  describe('checker diagnostics', () => {
    const cases: [string, string, string][] = [
      ['a mutex used as a number', 'global m: mutex\nglobal x: u32\nthread main {\n  x = m + 1\n}', 't.hwsim:4:7: error: \'m\' is a mutex, not a value: use lock and unlock on it (or & for its address)'],
      ['assigning a mutex', 'global m: mutex\nthread main {\n  m = 0\n}', 't.hwsim:3:3: error: a mutex cannot be assigned: it changes only with lock and unlock'],
      ['a mutex with an initial value', 'global m: mutex = 1\nthread main {\n}', 't.hwsim:1:19: error: \'m\' is a mutex: it starts free and takes no initial value'],
      ['lock of a non-mutex', 'global x: u32\nthread main {\n  lock x\n}', 't.hwsim:3:8: error: lock needs a mutex, not a u32'],
      ['unlock of a tid', 'global t: tid\nthread main {\n  unlock t\n}', 't.hwsim:3:10: error: unlock needs a mutex, not a tid'],
      ['lock of an address', 'global m: mutex\nthread main {\n  lock &m\n}', 't.hwsim:3:8: error: lock takes the mutex itself (lock m), not its address'],
      ['unlock of a pointer to a mutex', 'thread main {\n  var m: mutex\n  var pm: *mutex = &m\n  unlock pm\n}', 't.hwsim:4:10: error: unlock needs a mutex, not a *mutex (through the pointer: unlock *…)'],
      ['lock with nothing', 'thread main {\n  lock\n}', 't.hwsim:3:1: error: expected a mutex after lock, found \'}\' on a new line'],
      ['join of a non-tid', 'global x: u32\nthread main {\n  join x\n}', 't.hwsim:3:8: error: join needs a thread name or a tid, not a u32'],
      ['join of a number', 'thread main {\n  join 5\n}', 't.hwsim:2:8: error: join needs a thread name or a tid, not a number'],
      ['join of a thread that runs only as instances', 'thread w(n: u32) {\n}\nthread main {\n  join w\n}', 't.hwsim:4:8: error: thread \'w\' has parameters, so it runs only as instances: join an instance\'s tid (t = spawn w(…), then join t)'],
      ['spawn with too many arguments', 'thread w(n: u32) {\n}\nthread main {\n  spawn w(1, 2)\n}', 't.hwsim:4:3: error: thread \'w\' takes 1 argument, not 2'],
      ['spawn with an argument of the wrong type', 'global x: u32\nthread w(n: u32) {\n}\nthread main {\n  spawn w(&x)\n}', 't.hwsim:5:11: error: cannot use a *u32 where a u32 is expected; cast it (… as u32)'],
      ['spawn without the arguments', 'thread w(n: u32) {\n}\nthread main {\n  spawn w\n}', 't.hwsim:4:3: error: thread \'w\' takes 1 argument: spawn w(…) starts an instance with them'],
      ['spawn of a function', 'fn f() {\n}\nthread main {\n  spawn f()\n}', 't.hwsim:4:9: error: \'f\' is a function, not a thread; call it with f(…)'],
      ['spawn of main', 'global t: tid\nthread main {\n  t = spawn main()\n}', 't.hwsim:3:13: error: thread main starts the program; it cannot be spawned'],
      ['spawn in an expression without parentheses', 'global t: tid\nthread w {\n}\nthread main {\n  t = spawn w\n}', 't.hwsim:5:7: error: spawn w has no value: spawn w(…) starts a new instance and gives its tid'],
      ['a tid used as a number', 'global t: tid\nglobal x: u32\nthread main {\n  x = t\n}', 't.hwsim:4:7: error: a tid is not a number: cannot use it as a u32 (cast it: … as u32)'],
      ['arithmetic on a tid', 'global t: tid\nthread main {\n  t = t + 1\n}', 't.hwsim:3:7: error: \'+\' is not defined on a tid (a thread id is not a number)'],
      ['a number as a tid', 'global t: tid\nthread main {\n  t = 3\n}', 't.hwsim:3:7: error: cannot use the number 3 as a tid'],
      ['atomic on a non-pointer', 'global x: u32\nthread main {\n  atomic_add(x, 1)\n}', 't.hwsim:3:14: error: atomic_add needs a pointer to an integer first (such as &x), not a u32'],
      ['atomic on a tid', 'global t: tid\nthread main {\n  xchg(&t, 1)\n}', 't.hwsim:3:8: error: xchg needs a pointer to an integer first (such as &x), not a *tid'],
      ['cas with two arguments', 'global x: u32\nthread main {\n  cas(&x, 1)\n}', 't.hwsim:3:3: error: cas takes 3 arguments (a pointer, the expected value and the new one), not 2'],
      ['an atomic operand that does not fit', 'global x: u8\nthread main {\n  atomic_add(&x, 300)\n}', 't.hwsim:3:18: error: 300 does not fit in u8'],
      ['an atomic on the right of &&', 'global x: u32\nthread main {\n  if x == 1 && cas(&x, 1, 2) == 1 { x = 3 }\n}', 't.hwsim:3:16: error: a call on the right of && or || is not supported; assign the call to a variable first'],
      ['a function named like a built-in', 'fn cas(a: u32) {\n}\nthread main {\n}', 't.hwsim:1:4: error: \'cas\' is a built-in atomic operation; choose another name'],
      ['a mutex parameter', 'thread w(m: mutex) {\n}\nthread main {\n}', 't.hwsim:1:10: error: parameter \'m\' cannot be a mutex; pass a pointer (*mutex)'],
      ['main with parameters', 'thread main(n: u32) {\n}', 't.hwsim:1:13: error: thread main starts the program; it takes no parameters'],
    ];
    for (const [what, src, expected] of cases) {
      it(what, () => {
        assert.deepEqual(errorsOf(src), [expected]);
      });
    }

    it('every bad form in one program is reported at once, each at its line and column', () => {
      const errors = errorsOf(`
global m: mutex
global x: u32
global t: tid
thread w(n: u32) {
}
thread main {
  x = m + 1
  lock x
  join x
  t = spawn w(1, 2)
  x = xchg(&t, 1)
  t = t + 1
  spawn nope(1)
}`);
      assert.deepEqual(errors.map((e) => e.split(': error')[0]), ['t.hwsim:8:7', 't.hwsim:9:8', 't.hwsim:10:8', 't.hwsim:11:7', 't.hwsim:12:12', 't.hwsim:13:7', 't.hwsim:14:9']);
    });
  });
});
