import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { INSTRUCTION_SIZE, loadProgram, TEXT_BASE, type Machine } from '../../src/target';
import { WatchpointManager } from '../../src/adapter/watchpoints';
import { load, outputOf, runToStop } from '../support/hwsim';

/** The instructions of a function, as the Disassembly view shows them. */
function disassembly(m: Machine, fn: string): { addr: number; text: string; line: number }[] {
  const lowered = m.program.functions.get(fn) ?? m.program.threads.find((t) => t.name === fn)!.fn;
  return lowered.instrs.map((i) => {
    const info = m.instructionAt(i.addr)!;
    return { addr: i.addr, text: info.text, line: info.statement.span.line };
  });
}

/** Run until a debugger stop (or the end), counting printed lines. */
function stopOf(m: Machine) {
  return runToStop(m).stop;
}

const RACE = `
machine x86_64 cpus=2 timeslice=50 mux=200
global counter: u32 = 0
fn bump(times: u32) {
  var i: u32 = 0
  while i < times {
    counter = counter + 1
    i = i + 1
  }
}
thread main on 0 {
  spawn worker
  bump(1000)
  join worker
  print counter
}
thread worker on 1 {
  bump(1000)
}
`;

describe('instructions', () => {
  it('a statement compiles to loads, arithmetic and a store, each at its own address', () => {
    const m = load(RACE);
    const code = disassembly(m, 'bump');
    const line7 = code.filter((i) => i.line === 7).map((i) => i.text.replace(/r\d+/g, 'r'));
    assert.deepEqual(line7, ['ld.u32 r, [0x601000]', 'add.u32 r, r, 1', 'st.u32 [0x601000], r']);
    // Addresses are consecutive from the text segment's start, 4 bytes apart, functions in declaration order.
    assert.equal(code[0].addr, TEXT_BASE);
    code.forEach((i, k) => assert.equal(i.addr, TEXT_BASE + k * INSTRUCTION_SIZE));
    // A statement's address is its first instruction's.
    const stmt = m.allStatements().find((s) => s.span.line === 7)!;
    assert.equal(stmt.codeAddr, code.find((i) => i.line === 7)!.addr);
    // The loop condition is one compare-and-branch to just past the loop.
    const cond = code.filter((i) => i.line === 6).map((i) => i.text);
    assert.match(cond[cond.length - 1], /^bge\.u32 r\d+, r\d+, 0x[0-9a-f]+$/);
  });

  it('every instruction class is selected and computes what the operators mean', () => {
    const m = load(`
machine x86_64 cpus=1
global g: u32 = 5
global arr: i64[4]
global p: *i64
fn sq(x: i32): i32 { return x * x }
thread t { sleep 3 }
thread main {
  var a: i32 = -7
  var b: u8 = 200
  var c: i64 = 0
  var q: *i64 = &arr[1]
  arr[2] = 40
  p = &arr[0]
  c = *(q + 1) + 2
  var d: i64 = (q + 2) - p
  var e: i32 = sq(a) + (b as i32)
  var f: i32 = -a + ~0 + !a
  var l: i32 = (a < 0 && g == 5) + (a > 0 || g != 5)
  spawn t
  yield
  join t
  if a != -7 { print "wrong" }
  print c, " ", d, " ", e, " ", f, " ", l, " ", b + 100
}`);
    const out = runToStop(m);
    assert.equal(out.stop.reason, 'exited');
    // c = arr[2] + 2; d = 3 elements; e = 49 + 200; f = 7 - 1 + 0; l = 1 + 0; b + 100 promotes to i32.
    assert.deepEqual(out.output, ['42 3 249 6 1 300']);
    const ops = new Set<string>();
    for (const f of [...m.program.functions.values(), ...m.program.threads.map((t) => t.fn)]) {
      for (const i of f.instrs) ops.add(i.op);
    }
    for (const op of ['li', 'lea', 'ld', 'st', 'alu', 'un', 'cvt', 'padd', 'pdiff', 'bcmp', 'bz', 'jmp', 'call', 'ret', 'spawn', 'join', 'yield', 'sleep', 'print']) {
      assert.ok(ops.has(op), `${op} is selected somewhere`);
    }
  });

  it('atomics, mutexes and thread instances are single instructions', () => {
    const m = load(`
machine x86_64 cpus=2
global safe: u32 = 0
global m: mutex
global ids: tid[4]
thread worker(n: u32) {
  var old: u32 = atomic_add(&safe, n)
  lock m
  safe = safe + 1
  unlock m
}
thread main {
  ids[1] = spawn worker(5)
  join ids[1]
  print safe
}`);
    const worker = disassembly(m, 'worker').map((i) => ({ ...i, text: i.text.replace(/r\d+/g, 'r') }));
    const at = (line: number) => worker.filter((i) => i.line === line).map((i) => i.text);
    assert.equal(at(7).filter((t) => /^xadd\.u32 r, \[r\], r$/.test(t)).length, 1, at(7).join('; '));
    assert.deepEqual(at(8), ['lea r, [0x601004]', 'lock [r]']);
    assert.deepEqual(at(10), ['lea r, [0x601004]', 'unlock [r]']);
    const main = disassembly(m, 'main').map((i) => i.text.replace(/r\d+/g, 'r'));
    assert.ok(main.includes('spawn worker(r) → r'), main.join('\n'));
    assert.ok(main.includes('join r'), main.join('\n'));
    assert.deepEqual(runToStop(m).output, ['6']);
  });

  it('`counter = counter + 1` loses updates when threads interleave inside it, on two CPUs or by preemption on one', () => {
    const two = Number(outputOf(RACE)[0]);
    assert.ok(two < 2000 && two >= 1000, `two CPUs: counter = ${two}`);
    const oneCpu = RACE.replace('cpus=2', 'cpus=1').replace('thread worker on 1', 'thread worker');
    // Preempted between its load and its store, a thread stores a stale sum over the other's work.
    const preempted = Number(outputOf(oneCpu)[0]);
    assert.ok(preempted < 2000, `one CPU, timeslice 50: counter = ${preempted}`);
    // With no preemption at all (each runs to its end in one timeslice) nothing interleaves: no loss.
    assert.equal(Number(outputOf(oneCpu.replace('timeslice=50', 'timeslice=1000000'))[0]), 2000);
  });

  it('a data watchpoint traps after the instruction that wrote, at that instruction and its line', () => {
    const m = load(RACE);
    const wm = new WatchpointManager(m);
    wm.add({ label: 'counter', addr: m.evaluate('counter', null).addr!, size: 4, access: 'w', mode: 'auto' });
    const stop = stopOf(m);
    assert.equal(stop.reason, 'data');
    const store = disassembly(m, 'bump').find((i) => i.text.startsWith('st.u32 [0x601000]'))!;
    assert.deepEqual([stop.location?.line, stop.location?.pc], [7, store.addr]);
    // The stack shows the same place while the thread stands there.
    assert.equal(m.frames(stop.threadId!)[0].location.pc, store.addr);
    // The store has happened: an instruction step from there shows the instruction after it, executing nothing more.
    m.step(stop.threadId!, 'instruction');
    // The other thread may hit the watchpoint first (it runs meanwhile); the step stays pending.
    let next = stopOf(m);
    while (next.reason === 'data' && next.threadId !== stop.threadId) next = stopOf(m);
    assert.equal(next.reason, 'step');
    assert.equal(next.threadId, stop.threadId);
    assert.equal(m.frames(stop.threadId!)[0].location.pc, store.addr + 4);
    assert.equal(m.thread(stop.threadId!).frames.length, 2);
  });

  it('a write that stores what another thread just stored is flagged as a lost update', () => {
    const m = load(RACE);
    const wm = new WatchpointManager(m);
    wm.add({ label: 'counter', addr: m.evaluate('counter', null).addr!, size: 4, access: 'w', mode: 'auto' });
    let flagged = null;
    for (let i = 0; i < 3000 && flagged === null; i++) {
      const stop = stopOf(m);
      if (stop.reason !== 'data') break;
      const h = stop.hits[0];
      if (h.sameAs !== null) flagged = { h, thread: m.thread(stop.threadId!).name };
    }
    assert.ok(flagged !== null, 'a lost update is seen');
    // Stored the same as the other thread's previous write: the memory already held that value.
    assert.equal(flagged.h.oldValue, flagged.h.newValue);
    assert.notEqual(flagged.h.sameAs!.thread, flagged.thread);
  });

  it('instruction steps execute one instruction; nexti steps over a call', () => {
    const m = load(RACE);
    m.setSoftwareBreakpoints([m.allStatements().find((s) => s.span.line === 7)!.codeAddr]);
    const bp = stopOf(m);
    assert.equal(bp.reason, 'breakpoint');
    m.setSoftwareBreakpoints([]);
    const tid = bp.threadId!;
    const pcs = [m.frames(tid)[0].location.pc];
    for (let k = 0; k < 3; k++) {
      m.step(tid, 'instruction');
      const s = stopOf(m);
      assert.equal(s.reason, 'step');
      pcs.push(m.frames(tid)[0].location.pc);
    }
    // ld, add, st, then the first instruction of `i = i + 1`: four consecutive addresses.
    assert.deepEqual(pcs.map((p) => p - pcs[0]), [0, 4, 8, 12]);
    assert.equal(m.frames(tid)[0].location.line, 8);

    // nexti over `bump(1000)` in main: one step, back in main at the next instruction.
    const main = load(RACE);
    const call = disassembly(main, 'main').find((i) => i.text.startsWith('call bump'))!;
    main.setSoftwareBreakpoints([call.addr]);
    assert.equal(stopOf(main).reason, 'breakpoint');
    main.setSoftwareBreakpoints([]);
    main.step(1, 'instruction-over');
    const over = stopOf(main);
    assert.deepEqual([over.reason, main.frames(1).length, main.frames(1)[0].location.pc], ['step', 1, call.addr + 4]);
    // stepi into the call instead lands on bump's first instruction.
    const into = load(RACE);
    into.setSoftwareBreakpoints([call.addr]);
    stopOf(into);
    into.setSoftwareBreakpoints([]);
    into.step(1, 'instruction');
    stopOf(into);
    assert.deepEqual([into.frames(1)[0].fn, into.frames(1)[0].location.pc], ['bump', disassembly(into, 'bump')[0].addr]);
  });

  it('an instruction breakpoint in the middle of a statement stops before that instruction', () => {
    const m = load(RACE);
    const add = disassembly(m, 'bump').find((i) => i.text.startsWith('add.u32') && i.line === 7)!;
    m.setSoftwareBreakpoints([add.addr]);
    const s = stopOf(m);
    assert.deepEqual([s.reason, s.location?.line, m.frames(s.threadId!)[0].location.pc], ['breakpoint', 7, add.addr]);
  });

  it('instruction selection agrees with the debugger\'s evaluator on random expressions', () => {
    const leaf = fc.oneof(
      fc.constantFrom('a', 'b', 'c', 'x[1]', 'x[i]', '*p'),
      fc.integer({ min: 0, max: 300 }).map(String),
    );
    const expr = fc.letrec<{ e: string }>((tie) => ({
      e: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.tuple(tie('e'), fc.constantFrom('+', '-', '*', '&', '|', '^', '<<', '>>', '<', '==', '!=', '>=', '&&', '||'), tie('e')).map(([l, op, r]) => `(${l} ${op} ${r})`),
        fc.tuple(fc.constantFrom('-', '~', '!'), tie('e')).map(([op, e]) => `${op}(${e})`),
        tie('e').map((e) => `((${e}) as u8)`),
      ),
    })).e;
    fc.assert(fc.property(expr, fc.integer({ min: -50, max: 50 }), fc.integer({ min: 0, max: 1000 }), (e, a, b) => {
      const loaded = loadProgram(`
machine x86_64 cpus=1
global a: i32 = ${a}
global b: u32 = ${b}
global c: i32 = 3
global x: i32[3] = { 7, -2, 9 }
global i: u32 = 2
global p: *i32
global r: i32
thread main {
  p = &x[0]
  r = (${e}) as i32
}`, 'p.hwsim');
      // Constant subexpressions are exact: some do not fit anywhere (a compile-time error). Not this test's business.
      fc.pre(loaded.machine !== null);
      const m = loaded.machine!;
      m.setSoftwareBreakpoints([m.allStatements().find((s) => s.text.startsWith('r ='))!.codeAddr]);
      assert.equal(stopOf(m).reason, 'breakpoint');
      const expected = m.evaluate(`(${e}) as i32`, 1).value;
      m.setSoftwareBreakpoints([]);
      assert.equal(stopOf(m).reason, 'exited');
      assert.equal(m.evaluate('r', null).value, expected, `r = ${e}`);
    }), { numRuns: 150, seed: 20261130 });
  });
});
