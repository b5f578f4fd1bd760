/**
 * Property-based test: random sequences of open/close/enable/disable/modify/context switch/tick/
 * exit, driven against the kernel and against the brute-force reference model in
 * test/support/scanAccounting.ts. After every step:
 *  - the kernel admitted or refused exactly what the model did, with the same errno;
 *  - the invariant holds, recomputed by brute force from the kernel's own snapshot;
 *  - the constraint tables (histograms included) equal the model's, computed by scanning;
 *  - no register is double-booked, every eligible pinned breakpoint is installed, flexible ones
 *    fill exactly the registers left, and nothing ineligible is installed;
 * and releasing everything at the end leaves every counter at zero.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { createKernel, type Kernel, type KernelSnapshot, type PerfEvent, type SlotRequest, type Task } from '../../src/hwbp';
import { errnoOf } from '../support/errno';
import { ScanAccounting } from '../support/scanAccounting';

type Op =
  | { kind: 'task' }
  | { kind: 'exit'; t: number }
  | { kind: 'open'; t: number; cpu: number; type: 'r' | 'w' | 'rw' | 'x'; pinned: boolean; disabled: boolean; slot: number }
  | { kind: 'close'; e: number }
  | { kind: 'toggle'; e: number; disabled: boolean }
  | { kind: 'modify'; e: number; type: 'w' | 'rw' | 'x' | 'r' }
  | { kind: 'switch'; cpu: number; t: number }
  | { kind: 'tick'; cpu: number; dt: number }
  | { kind: 'access'; cpu: number; slot: number; offset: number; size: number; access: 'read' | 'write' | 'exec' };

interface Setup {
  name: string;
  cpus: number;
  make(): Kernel;
  classOf(type: string): number;
  slots: number[];
  execLen: number;
}

const setups: Setup[] = [
  {
    name: 'x86_64, 3 CPUs', cpus: 3, make: () => createKernel({ arch: 'x86_64', cpus: 3, muxInterval: 5 }),
    classOf: () => 0, slots: [4], execLen: 8,
  },
  {
    name: 'arm64, 3 CPUs, 2 breakpoint + 3 watchpoint registers', cpus: 3,
    make: () => createKernel({ arch: 'arm64', cpus: 3, muxInterval: 5, instSlots: 2, dataSlots: 3 }),
    classOf: (type) => (type === 'x' ? 0 : 1), slots: [2, 3], execLen: 4,
  },
];

function opArb(cpus: number): fc.Arbitrary<Op> {
  const cpu = fc.integer({ min: 0, max: cpus - 1 });
  const index = fc.nat(50);
  const type = fc.constantFrom<'r' | 'w' | 'rw' | 'x'>('w', 'rw', 'x', 'r', 'w', 'rw');
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant<Op>({ kind: 'task' }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('exit' as const), t: index }) },
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('open' as const), t: fc.integer({ min: -2, max: 50 }), cpu: fc.integer({ min: -1, max: cpus - 1 }),
        type, pinned: fc.boolean(), disabled: fc.boolean(), slot: fc.nat(15),
      }),
    },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('close' as const), e: index }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('toggle' as const), e: index, disabled: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('modify' as const), e: index, type }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('switch' as const), cpu, t: fc.integer({ min: -1, max: 50 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), cpu, dt: fc.integer({ min: 0, max: 40 }) }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('access' as const), cpu, slot: fc.nat(15), offset: fc.integer({ min: -3, max: 9 }),
        size: fc.constantFrom(1, 2, 4, 8), access: fc.constantFrom<'read' | 'write' | 'exec'>('read', 'write', 'exec'),
      }),
    },
  );
}

interface ModelEvent {
  handle: PerfEvent;
  req: SlotRequest;
  cls: number;
}

function run(setup: Setup, ops: Op[]): void {
  const kernel = setup.make();
  const model = setup.slots.map((n) => new ScanAccounting(n, setup.cpus));
  const tasks: Task[] = [];
  const events: ModelEvent[] = [];
  const lenOf = (type: string) => (type === 'x' ? setup.execLen : 4);
  const invalid = (type: string) => setup.name.startsWith('x86') && type === 'r';

  for (const [step, op] of ops.entries()) {
    const where = `step ${step} ${JSON.stringify(op)}`;
    switch (op.kind) {
      case 'task':
        tasks.push(kernel.createTask());
        break;
      case 'exit': {
        if (tasks.length === 0) break;
        const [task] = tasks.splice(op.t % tasks.length, 1);
        kernel.exitTask(task);
        for (let i = events.length - 1; i >= 0; i--) {
          if (events[i].req.pid === task.pid) {
            model[events[i].cls].remove(events[i].req);
            events.splice(i, 1);
          }
        }
        break;
      }
      case 'open': {
        const task = op.t < 0 || tasks.length === 0 ? null : tasks[op.t % tasks.length];
        const pid = task?.pid ?? -1;
        const cls = setup.classOf(op.type);
        const req: SlotRequest = { pid, cpu: op.cpu, pinned: op.pinned, weight: 1 };
        let expected: string;
        if (pid === -1 && op.cpu === -1) expected = 'EINVAL';
        else if (!model[cls].admits(req)) expected = 'ENOSPC'; // reservation is decided before parsing
        else if (invalid(op.type)) expected = 'EINVAL';
        else expected = 'ok';
        let handle: PerfEvent | undefined;
        const got = errnoOf(() => {
          handle = kernel.perfEventOpen(
            { type: op.type, addr: 0x1000 + 8 * op.slot, len: lenOf(op.type), pinned: op.pinned, disabled: op.disabled },
            { pid, cpu: op.cpu });
        });
        assert.equal(got, expected, where);
        if (handle !== undefined) {
          model[cls].add(req);
          events.push({ handle, req, cls });
        }
        break;
      }
      case 'close': {
        if (events.length === 0) break;
        const [ev] = events.splice(op.e % events.length, 1);
        ev.handle.close();
        model[ev.cls].remove(ev.req);
        break;
      }
      case 'toggle': {
        if (events.length === 0) break;
        const ev = events[op.e % events.length];
        if (op.disabled) ev.handle.disable();
        else ev.handle.enable();
        break;
      }
      case 'modify': {
        if (events.length === 0) break;
        const ev = events[op.e % events.length];
        const cls = setup.classOf(op.type);
        let expected = 'ok';
        if (invalid(op.type)) expected = 'EINVAL'; // modify parses first
        else if (cls !== ev.cls) {
          model[ev.cls].remove(ev.req);
          if (!model[cls].admits(ev.req)) expected = 'ENOSPC';
          model[ev.cls].add(ev.req);
        }
        const got = errnoOf(() => ev.handle.modify({ type: op.type, len: lenOf(op.type) }));
        assert.equal(got, expected, where);
        if (got === 'ok' && cls !== ev.cls) {
          model[ev.cls].remove(ev.req);
          model[cls].add(ev.req);
          ev.cls = cls;
        }
        break;
      }
      case 'switch': {
        const task = op.t < 0 || tasks.length === 0 ? null : tasks[op.t % tasks.length];
        const snap = kernel.snapshot();
        const elsewhere = task !== null && snap.tasks.find((t) => t.pid === task.pid)?.runningOn;
        const expected = task !== null && elsewhere !== null && elsewhere !== undefined && elsewhere !== op.cpu ? 'EINVAL' : 'ok';
        assert.equal(errnoOf(() => kernel.contextSwitch(op.cpu, task)), expected, where);
        break;
      }
      case 'tick':
        kernel.tick(op.cpu, op.dt);
        break;
      case 'access': {
        // Expected: every register installed on that CPU right now whose type and bytes match.
        const addr = 0x1000 + 8 * op.slot + op.offset;
        const end = op.access === 'exec' ? addr + 1 : addr + op.size;
        const want = { read: ['r', 'rw'], write: ['w', 'rw'], exec: ['x'] }[op.access];
        const expected = kernel.snapshot().cpus[op.cpu].classes.flatMap((c) => c.registers)
          .filter((r) => r.occupant !== null && want.includes(r.occupant.type))
          .filter((r) => {
            const o = r.occupant!;
            const hi = o.type === 'x' ? o.addr + 1 : o.addr + o.len;
            return addr < hi && end > o.addr;
          })
          .map((r) => r.occupant!.eventId).sort((a, b) => a - b);
        const hit = kernel.access(op.cpu, addr, op.size, op.access);
        assert.deepEqual(hit === null ? [] : hit.matches.map((m) => m.eventId).sort((a, b) => a - b), expected, where);
        break;
      }
    }
    check(setup, kernel, model, where);
  }

  // Release everything: every counter must be back to zero.
  for (const ev of events) ev.handle.close();
  for (const task of tasks) kernel.exitTask(task);
  assert.equal(kernel.isUsed(), false, 'counters not zero after releasing everything');
  for (const table of kernel.snapshot().constraints) {
    for (const row of table.cpus) {
      assert.equal(row.nr_cpu_bp_pinned + row.nr_bp_flexible + row.worst_case, 0);
      assert.ok(row.task_bp_pinned.every((v) => v === 0) && row.task_bp_demand.every((v) => v === 0));
    }
  }
}

function check(setup: Setup, kernel: Kernel, model: ScanAccounting[], where: string): void {
  const snap: KernelSnapshot = kernel.snapshot();

  // The invariant, recomputed from what the kernel says is open (independent of its counters).
  const fresh = setup.slots.map((n) => new ScanAccounting(n, setup.cpus));
  for (const ev of snap.events) {
    fresh[setup.classOf(ev.type)].add({ pid: ev.pid ?? -1, cpu: ev.cpu, pinned: ev.pinned, weight: 1 });
  }
  fresh.forEach((f, cls) => assert.ok(f.invariantHolds(), `invariant broken in class ${cls} after ${where}`));

  // Constraint tables equal the brute-force ones.
  snap.constraints.forEach((table, cls) => {
    const expected = model[cls].table();
    assert.deepEqual(table.cpus, expected.cpus, `constraint table (class ${cls}) after ${where}`);
    assert.deepEqual(table.cpu_pinned, expected.cpu_pinned, `cpu_pinned histogram after ${where}`);
    assert.deepEqual(table.tsk_pinned_all, expected.tsk_pinned_all, `tsk_pinned_all histogram after ${where}`);
  });

  // Scheduling: registers, eligibility, pinned first, flexible fill the rest.
  const seen = new Set<number>();
  for (const cpu of snap.cpus) {
    cpu.classes.forEach((klass, cls) => {
      const eligible = snap.events.filter((ev) => setup.classOf(ev.type) === cls && !ev.disabled
        && (ev.pid === null ? ev.cpu === cpu.cpu : ev.pid === cpu.runningPid && (ev.cpu === -1 || ev.cpu === cpu.cpu)));
      const installed = klass.registers.filter((r) => r.occupant !== null).map((r) => r.occupant!.eventId);
      for (const id of installed) {
        assert.ok(!seen.has(id), `event ${id} installed twice (${where})`);
        seen.add(id);
        assert.ok(eligible.some((ev) => ev.id === id), `event ${id} installed on cpu${cpu.cpu} but not eligible (${where})`);
      }
      const pinned = eligible.filter((ev) => ev.pinned);
      const flexible = eligible.filter((ev) => !ev.pinned);
      for (const ev of pinned) assert.ok(installed.includes(ev.id), `pinned ${ev.id} not installed on cpu${cpu.cpu} (${where})`);
      const flexibleInstalled = installed.filter((id) => flexible.some((ev) => ev.id === id)).length;
      assert.equal(flexibleInstalled, Math.min(flexible.length, klass.slots - pinned.length), `flexible fill on cpu${cpu.cpu} (${where})`);
    });
  }
  for (const ev of snap.events) {
    assert.notEqual(ev.state, 'error', `event ${ev.id} in error state (${where})`);
    assert.equal(ev.installedOn !== null, seen.has(ev.id), `event ${ev.id} installedOn disagrees with registers (${where})`);
    assert.ok(ev.timeRunning <= ev.timeEnabled, `event ${ev.id} ran longer than it was enabled (${where})`);
  }
}

describe('property: kernel vs brute-force reference model', function () {
  this.timeout(120000);
  for (const setup of setups) {
    it(`identical decisions, invariant, tables and scheduling (${setup.name})`, () => {
      fc.assert(fc.property(fc.array(opArb(setup.cpus), { minLength: 1, maxLength: 80, size: 'max' }), (ops) => run(setup, ops)), { numRuns: 300 });
    });
  }
});
