/**
 * The copy-on-write register checkpoint: over random sessions (open, close, enable, disable,
 * modify, context switches, exits, ticks that rotate flexible breakpoints, accesses that hit),
 * registersAtCheckpoint() must equal, byte for byte as JSON, the CPUs of a real snapshot() taken
 * at the latest checkpointRegisters().
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { createKernel, HwbpError, type CpuSnapshot, type Kernel, type PerfEvent, type Task } from '../../src/hwbp';

type Op =
  | { kind: 'task' }
  | { kind: 'exit'; t: number }
  | { kind: 'open'; t: number; cpu: number; type: 'w' | 'rw' | 'x' | 'r'; pinned: boolean; disabled: boolean; slot: number }
  | { kind: 'close'; e: number }
  | { kind: 'toggle'; e: number; disabled: boolean }
  | { kind: 'modify'; e: number; slot: number }
  | { kind: 'switch'; cpu: number; t: number }
  | { kind: 'tick'; cpu: number; dt: number }
  | { kind: 'access'; cpu: number; slot: number; access: 'read' | 'write' | 'exec' }
  | { kind: 'checkpoint' }
  | { kind: 'compare' };

function opArb(cpus: number): fc.Arbitrary<Op> {
  const cpu = fc.integer({ min: 0, max: cpus - 1 });
  const index = fc.nat(50);
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant<Op>({ kind: 'task' }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('exit' as const), t: index }) },
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('open' as const), t: fc.integer({ min: -2, max: 50 }), cpu: fc.integer({ min: -1, max: cpus - 1 }),
        type: fc.constantFrom<'w' | 'rw' | 'x' | 'r'>('w', 'rw', 'x', 'r'), pinned: fc.constantFrom(true, false, false), disabled: fc.boolean(), slot: fc.nat(7),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('close' as const), e: index }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('toggle' as const), e: index, disabled: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('modify' as const), e: index, slot: fc.nat(7) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('switch' as const), cpu, t: fc.integer({ min: -1, max: 50 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('tick' as const), cpu, dt: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 60 })) }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('access' as const), cpu, slot: fc.nat(7), access: fc.constantFrom<'read' | 'write' | 'exec'>('read', 'write', 'exec'),
      }),
    },
    { weight: 4, arbitrary: fc.constant<Op>({ kind: 'checkpoint' }) },
    { weight: 2, arbitrary: fc.constant<Op>({ kind: 'compare' }) },
  );
}

const setups: { name: string; cpus: number; make: () => Kernel; execLen: number }[] = [
  { name: 'x86_64, 3 CPUs, mux 5', cpus: 3, make: () => createKernel({ arch: 'x86_64', cpus: 3, muxInterval: 5 }), execLen: 8 },
  {
    name: 'arm64, 2 CPUs, 2 breakpoint + 3 watchpoint registers, mux 3', cpus: 2,
    make: () => createKernel({ arch: 'arm64', cpus: 2, muxInterval: 3, instSlots: 2, dataSlots: 3 }), execLen: 4,
  },
];

/** Apply one op; refusals (ENOSPC, EINVAL, …) are part of a random session and change nothing. */
function apply(k: Kernel, op: Op, tasks: Task[], events: PerfEvent[], execLen: number): void {
  const pick = <T>(list: T[], i: number): T | undefined => (list.length === 0 ? undefined : list[i % list.length]);
  try {
    switch (op.kind) {
      case 'task': tasks.push(k.createTask()); break;
      case 'exit': {
        const t = pick(tasks, op.t);
        if (t === undefined) break;
        tasks.splice(tasks.indexOf(t), 1);
        k.exitTask(t);
        break;
      }
      case 'open': {
        const t = op.t < 0 ? undefined : pick(tasks, op.t);
        const ev = k.perfEventOpen(
          { type: op.type, addr: 0x1000 + 8 * op.slot, len: op.type === 'x' ? execLen : 8, pinned: op.pinned, disabled: op.disabled },
          { pid: t?.pid ?? -1, cpu: op.cpu },
        );
        events.push(ev);
        break;
      }
      case 'close': {
        const ev = pick(events, op.e);
        if (ev === undefined) break;
        events.splice(events.indexOf(ev), 1);
        ev.close();
        break;
      }
      case 'toggle': {
        const ev = pick(events, op.e);
        if (op.disabled) ev?.disable();
        else ev?.enable();
        break;
      }
      case 'modify': pick(events, op.e)?.modify({ addr: 0x1000 + 8 * op.slot }); break;
      case 'switch': k.contextSwitch(op.cpu, op.t < 0 ? null : pick(tasks, op.t) ?? null); break;
      case 'tick': k.tick(op.cpu, op.dt); break;
      case 'access': k.access(op.cpu, 0x1000 + 8 * op.slot, op.access === 'exec' ? 1 : 8, op.access); break;
      default: break;
    }
  } catch (e) {
    if (!(e instanceof HwbpError)) throw e;
  }
}

describe('register checkpoint (copy-on-write)', () => {
  it('is null until a checkpoint is taken', () => {
    const k = createKernel({ cpus: 2 });
    assert.equal(k.registersAtCheckpoint(), null);
    k.checkpointRegisters();
    assert.equal(JSON.stringify(k.registersAtCheckpoint()), JSON.stringify(k.snapshot().cpus));
  });

  for (const setup of setups) {
    it(`equals the snapshot taken at the latest checkpoint over random sessions (${setup.name})`, () => {
      fc.assert(
        fc.property(fc.array(opArb(setup.cpus), { minLength: 1, maxLength: 120 }), (ops) => {
          const k = setup.make();
          const tasks: Task[] = [];
          const events: PerfEvent[] = [];
          let expected: string | null = null;
          const compare = (where: string) => {
            const got = k.registersAtCheckpoint();
            assert.equal(got === null ? null : JSON.stringify(got), expected, where);
          };
          for (const [step, op] of ops.entries()) {
            if (op.kind === 'checkpoint') {
              k.checkpointRegisters();
              expected = JSON.stringify(k.snapshot().cpus);
            } else if (op.kind === 'compare') {
              compare(`step ${step}`);
            } else {
              apply(k, op, tasks, events, setup.execLen);
            }
          }
          compare('end');
        }),
        { numRuns: 300 },
      );
    });
  }

  it('holds across a tick that jumps over many rotations at once', () => {
    const k = createKernel({ cpus: 1, muxInterval: 10 });
    const t = k.createTask();
    for (let i = 0; i < 7; i++) k.perfEventOpen({ type: 'w', addr: 0x1000 + 8 * i, len: 8, pinned: false }, { pid: t.pid, cpu: -1 });
    k.contextSwitch(0, t);
    k.tick(0, 3);
    k.checkpointRegisters();
    const at = JSON.stringify(k.snapshot().cpus);
    k.tick(0, 95); // rotations at 10, 20, …, 90: several at once
    assert.notEqual(JSON.stringify(k.snapshot().cpus), at);
    assert.equal(JSON.stringify(k.registersAtCheckpoint()), at);
  });

  it('builds the view once per checkpoint, and copies nothing for CPUs that did not change', () => {
    const k = createKernel({ cpus: 4, muxInterval: 10 });
    const t = k.createTask('busy');
    for (let i = 0; i < 6; i++) k.perfEventOpen({ type: 'w', addr: 0x1000 + 8 * i, len: 8, pinned: false }, { pid: t.pid, cpu: -1 });
    k.contextSwitch(1, t);
    k.checkpointRegisters();
    const at = JSON.stringify(k.snapshot().cpus);
    // cpu1 rotates (six flexible on four registers); cpu0, cpu2 and cpu3 only tick.
    for (let i = 0; i < 100; i++) for (let c = 0; c < 4; c++) k.tick(c, 1);
    assert.notEqual(JSON.stringify(k.snapshot().cpus), at);
    const first: CpuSnapshot[] = k.registersAtCheckpoint()!;
    assert.equal(JSON.stringify(first), at);
    assert.equal(k.registersAtCheckpoint(), first);
    const scheduler = (k as unknown as { scheduler: { cpus: { saved: { epoch: number } }[]; checkpointEpoch: number } }).scheduler;
    assert.deepEqual(scheduler.cpus.map((c) => c.saved.epoch === scheduler.checkpointEpoch), [false, true, false, false]);
  });
});
