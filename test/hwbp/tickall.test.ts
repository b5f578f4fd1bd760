/**
 * Two kernel calls the simulator leans on to run ahead:
 * - tickAllBy(n) leaves the kernel as n calls of tickAll() would: every CPU's clock, the registers,
 *   the counts, hits and missed accesses, and the timeline record for record (the intervals of
 *   different CPUs may be recorded in another order: it pays the time lazily, CPU by CPU);
 * - watches(lo, hi) tells whether any open breakpoint (installed or waiting, of any task or CPU)
 *   covers a byte of the range, and watchGeneration moves whenever that could change.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { createKernel, type Kernel, type KernelTimeline } from '../../src/hwbp';

/** A timeline as sets of records, in a canonical order (what tickAllBy keeps), without the sequence bookkeeping. */
function canonical(tl: KernelTimeline): unknown {
  const rows = <T extends Record<string, unknown[]>>(cols: T): string[] => {
    const keys = Object.keys(cols);
    const n = keys.length === 0 ? 0 : cols[keys[0]].length;
    return Array.from({ length: n }, (_, i) => keys.map((k) => String(cols[k][i])).join(',')).sort();
  };
  return { intervals: rows(tl.intervals), open: rows(tl.open), marks: rows(tl.marks), seq: tl.seq };
}

interface Shape {
  cpus: number;
  mux: number;
  /** Per CPU: how many flexible breakpoints its task has (more than 4 rotate). */
  flexible: number[];
  pinned: boolean;
  steps: number[];
}

const shape: fc.Arbitrary<Shape> = fc.integer({ min: 1, max: 4 }).chain((cpus) => fc.record({
  cpus: fc.constant(cpus),
  mux: fc.integer({ min: 1, max: 40 }),
  flexible: fc.array(fc.integer({ min: 0, max: 12 }), { minLength: cpus, maxLength: cpus }),
  pinned: fc.boolean(),
  steps: fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 12 }),
}));

function build(s: Shape): Kernel {
  const k = createKernel({ arch: 'x86_64', cpus: s.cpus, muxInterval: s.mux });
  s.flexible.forEach((n, cpu) => {
    const t = k.createTask(`t${cpu}`);
    for (let i = 0; i < n; i++) k.perfEventOpen({ type: 'rw', addr: 0x601000 + 64 * cpu + 4 * i, len: 4, pinned: false }, { pid: t.pid, cpu: -1 });
    if (s.pinned) k.perfEventOpen({ type: 'w', addr: 0x602000 + 8 * cpu, len: 8, pinned: true }, { pid: -1, cpu });
    k.contextSwitch(cpu, t);
  });
  return k;
}

describe('kernel: tickAllBy and watches', () => {
  it('tickAllBy(n) is n × tickAll(): clocks, registers, counts and the timeline', () => {
    fc.assert(fc.property(shape, (s) => {
      const one = build(s);
      const many = build(s);
      for (const n of s.steps) {
        one.tickAllBy(n);
        for (let i = 0; i < n; i++) many.tickAll();
        assert.deepEqual(one.snapshot(), many.snapshot());
      }
      assert.deepEqual(canonical(one.timeline(0)), canonical(many.timeline(0)));
      assert.ok(one.timeline(0).intervals.cpu.length > 0 || s.flexible.every((n) => n <= 4) || s.steps.every((n) => n < s.mux));
    }), { numRuns: 150, seed: 11 });
  });

  it('time owed, then accesses and checkpoints: the same hits, missed accesses and registers at the checkpoint as when it is paid at once', () => {
    const accessArb = fc.record({
      cpu: fc.nat(3), word: fc.nat(40), kind: fc.constantFrom('read', 'write') as fc.Arbitrary<'read' | 'write'>, size: fc.constantFrom(1, 2, 4, 8),
      checkpoint: fc.boolean(),
    });
    fc.assert(fc.property(shape, fc.array(fc.tuple(fc.nat(120), accessArb), { minLength: 1, maxLength: 40 }), (s, script) => {
      const lazy = build(s);
      const eager = build(s);
      for (const [n, a] of script) {
        lazy.tickAllBy(n);
        eager.tickAllBy(n);
        eager.clock(0); // any call but access() pays the time owed
        const cpu = a.cpu % s.cpus;
        const addr = 0x601000 + 64 * (a.word % 4) + 2 * a.word;
        const l = lazy.access(cpu, addr, a.size, a.kind);
        const e = eager.access(cpu, addr, a.size, a.kind);
        assert.deepEqual(l, e);
        if (a.checkpoint) {
          // Marked while time is owed: the registers at the mark are still the ones paid up to it.
          lazy.checkpointRegisters();
          eager.checkpointRegisters();
        }
      }
      assert.deepEqual(lazy.registersAtCheckpoint(), eager.registersAtCheckpoint());
      assert.deepEqual(lazy.snapshot(), eager.snapshot());
      assert.deepEqual(canonical(lazy.timeline(0)), canonical(eager.timeline(0)));
    }), { numRuns: 200, seed: 12 });
  });

  it('tickAllBy refuses a bad count and changes nothing', () => {
    const k = createKernel({ arch: 'x86_64', cpus: 2 });
    for (const bad of [-1, 1.5, NaN, Infinity]) assert.throws(() => k.tickAllBy(bad), /tickAllBy/);
    assert.deepEqual([k.clock(0), k.clock(1)], [0, 0]);
  });

  it('watches() sees every open breakpoint, installed or not; watchGeneration moves on open, modify and close', () => {
    const k = createKernel({ arch: 'x86_64', cpus: 1 });
    const t = k.createTask('t');
    const other = k.createTask('other'); // never runs: its breakpoints are never installed
    const g0 = k.watchGeneration;
    assert.equal(k.watches(0x7000, 0x8000), false);
    const ev = k.perfEventOpen({ type: 'w', addr: 0x7ff0, len: 8, pinned: true }, { pid: other.pid, cpu: -1 });
    assert.ok(k.watchGeneration > g0);
    assert.equal(k.watches(0x7000, 0x8000), true);
    assert.equal(k.watches(0x7000, 0x7ff0), false, 'up to, not including, its first byte');
    assert.equal(k.watches(0x7ff8, 0x9000), false, 'from just past its last byte');
    const g1 = k.watchGeneration;
    ev.modify({ addr: 0x9000 });
    assert.ok(k.watchGeneration > g1);
    assert.equal(k.watches(0x7000, 0x8000), false);
    assert.equal(k.watches(0x9004, 0x9005), true);
    const g2 = k.watchGeneration;
    ev.disable();
    assert.equal(k.watches(0x9004, 0x9005), true, 'a disabled breakpoint still counts (it may be enabled again)');
    ev.close();
    assert.ok(k.watchGeneration > g2);
    assert.equal(k.watches(0x9004, 0x9005), false);
    // Flexible ones waiting for a register count too.
    for (let i = 0; i < 6; i++) k.perfEventOpen({ type: 'rw', addr: 0xa000 + 8 * i, len: 4, pinned: false }, { pid: t.pid, cpu: -1 });
    k.contextSwitch(0, t);
    for (let i = 0; i < 6; i++) assert.equal(k.watches(0xa000 + 8 * i, 0xa000 + 8 * i + 1), true, `flexible ${i}`);
  });
});
