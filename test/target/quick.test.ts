/**
 * The run-ahead interpreter (src/target/quick.ts) against the compiled closures (execute.ts), the
 * reference: one instruction at a time on random operands, every operator and width, registers or
 * immediates, division by zero, and the quiet frame loads and stores.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import type { CompiledFunction, ExecThread, Port } from '../../src/target/codegen';
import { Executor, FLAG_FIRST, FLAG_PRIVATE, FLAG_STACK } from '../../src/target/execute';
import type { AluOp, Instr, InstrBody } from '../../src/target/isa';
import { Segment, type Value } from '../../src/target/memory';
import { encodeQuick, runQuick, type AheadState } from '../../src/target/quick';
import { translate } from '../../src/target/translate';
import { intType, type IntType, type LoweredFunction, type ValueType } from '../../src/target/types';

const NAMES = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'u64', 'i64', 'tid'] as const;
const PTR: ValueType = { k: 'ptr', to: intType('u32') } as ValueType;
const FRAME = 0x1000;

/** A value of type t (numbers up to 32 bits, bigints for 64), biased to the edges. */
function valueOf(t: ValueType): fc.Arbitrary<Value> {
  if (t.k === 'ptr') return fc.integer({ min: 0, max: 0xffff_ffff });
  const it = t as IntType;
  if (it.size === 8) {
    return fc.oneof(fc.constantFrom(0n, 1n, -1n, 63n), fc.bigInt({ min: it.signed ? -(1n << 63n) : 0n, max: it.signed ? (1n << 63n) - 1n : (1n << 64n) - 1n }));
  }
  const bits = it.size * 8;
  const min = it.signed ? -(2 ** (bits - 1)) : 0;
  const max = it.signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  return fc.oneof(fc.constantFrom(0, 1, min, max, 31, 32), fc.integer({ min, max }));
}

// 32-bit types weigh more: the switch does their arithmetic itself (the others go through their closures).
const typeArb: fc.Arbitrary<ValueType> = fc.oneof(
  { arbitrary: fc.constantFrom(...NAMES).map((n) => intType(n) as ValueType), weight: 2 },
  { arbitrary: fc.constantFrom('u32', 'i32').map((n) => intType(n) as ValueType), weight: 3 },
  { arbitrary: fc.constant(PTR), weight: 1 },
);
const ALU: AluOp[] = ['+', '-', '*', '/', '%', '<<', '>>', '&', '|', '^', '==', '!=', '<', '<=', '>', '>='];
const CMP = ['==', '!=', '<', '<=', '>', '>='] as const;

/** An instruction with the values of r0 and r1 it runs on. */
const case_: fc.Arbitrary<{ body: InstrBody; r0: Value; r1: Value }> = typeArb.chain((type) => {
  const v = valueOf(type);
  const alu = fc.record({ fn: fc.constantFrom(...ALU), imm: fc.option(v, { nil: null }) })
    .filter(({ fn }) => type.k !== 'ptr' || (CMP as readonly string[]).includes(fn))
    .map(({ fn, imm }) => ({ op: 'alu', fn, d: 2, a: 0, b: 1, imm, type }) as InstrBody);
  const bcmp = fc.record({ fn: fc.constantFrom(...CMP), imm: fc.option(v, { nil: null }) })
    .map(({ fn, imm }) => ({ op: 'bcmp', fn, a: 0, b: 1, imm, type, target: 7 }) as InstrBody);
  const others = fc.constantFrom<InstrBody>(
    { op: 'bz', a: 0, target: 5 }, { op: 'bnz', a: 1, target: 5 }, { op: 'jmp', target: 3 }, { op: 'mov', d: 2, a: 1 },
  );
  const li = v.map((value) => ({ op: 'li', d: 2, value, type }) as InstrBody);
  const frame = fc.constantFrom(0, 4, 8).chain((disp) => fc.constantFrom<InstrBody>(
    { op: 'ld', d: 2, mem: { base: 'fp', disp, index: -1, scale: 1, wideIndex: false }, type },
    { op: 'st', mem: { base: 'fp', disp, index: -1, scale: 1, wideIndex: false }, a: 0, type },
  ));
  return fc.record({ body: fc.oneof(alu, bcmp, others, li, frame), r0: v, r1: v });
});

function thread(r0: Value, r1: Value, bytes: number[]): ExecThread {
  const stack = new Segment('stack', FRAME - 0x100, 0x200);
  stack.bytes.set(bytes, 0x100);
  return { cpu: 0, frames: [], stack, regs: [r0, r1, 0], fp: FRAME };
}

type Runner = (flags: Uint8Array, ops: CompiledFunction['code'], mask: number, th: ExecThread, s: AheadState, limit: number, missMask: number) => void;

/** The two ways of running ahead: the interpreter, and the function's code translated to JavaScript. */
const RUNNERS: Record<string, (instrs: Instr[], flags: Uint8Array, mask: number) => Runner> = {
  interpreter: (instrs, flags) => {
    const q = encodeQuick(instrs, flags);
    return (...args) => runQuick(q, ...args);
  },
  translated: (instrs, flags) => {
    const run = translate(encodeQuick(instrs, flags), instrs, flags);
    assert.ok(run !== null, 'this host can translate');
    return run;
  },
  'translated, stops written in': (instrs, flags, mask) => {
    const run = translate(encodeQuick(instrs, flags), instrs, flags, mask);
    assert.ok(run !== null, 'this host can translate');
    return run;
  },
};

for (const [name, makeRunner] of Object.entries(RUNNERS)) describe(`running ahead (${name})`, () => {
  it('computes what the compiled closures compute, instruction by instruction', () => {
    const port = { memory: null, access: () => null, hit: () => undefined } as unknown as Port;
    fc.assert(fc.property(case_, fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 16, maxLength: 16 }), ({ body, r0, r1 }, bytes) => {
      const ins = { ...body, stmt: 0, first: true, addr: 0x400000 } as Instr;
      const lowered = { name: 'f', kind: 'fn', instrs: [ins], statements: [], params: [] } as unknown as LoweredFunction;
      const fn = { lowered, code: [], flags: new Uint8Array(0), frameBytes: 32 } as unknown as CompiledFunction;
      new Executor(port, new Map()).compileFunction(fn, false);
      const memory = ins.op === 'ld' || ins.op === 'st';
      const flags = fn.flags;
      assert.equal((flags[0] & (FLAG_PRIVATE | FLAG_STACK)) !== 0, true);
      // The reference: the closure (the checked access for loads and stores).
      const ref = thread(r0, r1, bytes);
      let refNext: number | 'fault';
      try {
        refNext = fn.code[0](ref);
      } catch {
        refNext = 'fault';
      }
      const th = thread(r0, r1, bytes);
      const s: AheadState = { pc: 0, left: 100, slots: 0, ran: 0, statements: 0, accesses: 0, missState: 12345, sliceCheck: false };
      // A miss needs the draw's low 31 bits all zero: practically never.
      makeRunner([ins], flags, FLAG_PRIVATE | FLAG_STACK)(flags, fn.quiet, FLAG_PRIVATE | FLAG_STACK, th, s, 1, 0x7fff_ffff);
      if (s.slots === 1 && s.ran === 0) return; // a cache miss took the one slot: nothing ran
      if (refNext === 'fault') {
        assert.deepEqual([s.ran, s.pc, th.regs], [0, 0, ref.regs], 'a faulting instruction is left to run in its own turn');
        return;
      }
      assert.equal(s.ran, 1);
      assert.equal(s.pc, refNext, `next pc of ${JSON.stringify(body, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x))}`);
      assert.deepEqual(th.regs, ref.regs);
      assert.deepEqual([...th.stack.bytes], [...ref.stack.bytes]);
      assert.equal(s.statements, (flags[0] & FLAG_FIRST) !== 0 ? 1 : 0);
      assert.equal(s.accesses, memory ? 1 : 0);
    }), { numRuns: 5000, seed: 7 });
  });

  it('stops before an instruction outside the mask, and after the one that ends the timeslice', () => {
    const port = { memory: null, access: () => null, hit: () => undefined } as unknown as Port;
    const u32 = intType('u32');
    const body: InstrBody[] = [
      { op: 'alu', fn: '+', d: 0, a: 0, b: -1, imm: 1, type: u32 },
      { op: 'alu', fn: '+', d: 0, a: 0, b: -1, imm: 1, type: u32 },
      { op: 'print', parts: ['x'] },
    ];
    const instrs = body.map((b, i) => ({ ...b, stmt: i, first: true, addr: 0x400000 + 4 * i }) as Instr);
    const lowered = { name: 'f', kind: 'fn', instrs, statements: [], params: [] } as unknown as LoweredFunction;
    const fn = { lowered, code: [], flags: new Uint8Array(0), frameBytes: 32 } as unknown as CompiledFunction;
    new Executor(port, new Map()).compileFunction(fn, false);
    const run = makeRunner(instrs, fn.flags, FLAG_PRIVATE);
    const s: AheadState = { pc: 0, left: 100, slots: 0, ran: 0, statements: 0, accesses: 0, missState: 1, sliceCheck: false };
    const th = thread(5, 0, []);
    run(fn.flags, fn.quiet, FLAG_PRIVATE, th, s, 100, 7);
    assert.deepEqual([s.pc, s.ran, s.slots, s.sliceCheck, th.regs[0]], [2, 2, 2, false, 7], 'stops before print');
    const t2 = thread(5, 0, []);
    const s2: AheadState = { ...s, pc: 0, left: 1, sliceCheck: false };
    run(fn.flags, fn.quiet, FLAG_PRIVATE, t2, s2, 100, 7);
    assert.deepEqual([s2.pc, s2.ran, s2.left, s2.sliceCheck, t2.regs[0]], [1, 1, 0, true, 6], 'the timeslice ends after one');
  });
});
