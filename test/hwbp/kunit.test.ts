/**
 * The nine constraint cases of the kernel's KUnit test (kernel/events/hw_breakpoint_test.c),
 * re-expressed against our perf front door, for x86 (one pool of 4) and for arm64's data pool.
 * Every breakpoint is pinned, rw, len 1, at its own address, as in the kernel test.
 */
import * as assert from 'node:assert/strict';
import { createKernel, HwbpError, type Kernel, type PerfEvent, type Task } from '../../src/hwbp';

const MAX_TEST_BREAKPOINTS = 512;
const BREAK_VARS = 0x10000;

interface Profile {
  name: string;
  slots: number;
  make(cpus: number): Kernel;
}

const profiles: Profile[] = [
  { name: 'x86_64 (DR0–DR3)', slots: 4, make: (cpus) => createKernel({ arch: 'x86_64', cpus }) },
  { name: 'arm64 data pool (4 watchpoints)', slots: 4, make: (cpus) => createKernel({ arch: 'arm64', cpus }) },
  { name: 'arm64 data pool (6 watchpoints)', slots: 6, make: (cpus) => createKernel({ arch: 'arm64', cpus, dataSlots: 6 }) },
];

for (const profile of profiles) {
  describe(`KUnit constraint cases: ${profile.name}`, () => {
    const N = profile.slots;
    const CPUS = 4;
    let k: Kernel;
    let bps: (PerfEvent | null)[];
    let idx: number;
    let current: Task;
    let other: Task;

    const register = (cpu: number, task: Task | null): PerfEvent =>
      k.perfEventOpen({ type: 'rw', addr: BREAK_VARS + idx, len: 1 }, { pid: task?.pid ?? -1, cpu });

    /** fill_one_bp_slot(): must succeed. */
    const fillOne = (cpu: number, task: Task | null) => {
      assert.equal(bps[idx], null, `slot ${idx} reused`);
      bps[idx] = register(cpu, task);
      idx++;
    };

    /** fill_bp_slots(): N - skip successes; returns whether it could be called again. */
    const fill = (cpu: number, task: Task | null, skip: number): boolean => {
      for (let i = 0; i < N - skip; i++) fillOne(cpu, task);
      return idx + N <= MAX_TEST_BREAKPOINTS;
    };

    const expectNoSpace = (cpu: number, task: Task | null) => {
      assert.throws(() => register(cpu, task), (e: unknown) => e instanceof HwbpError && e.code === 'ENOSPC',
        `expected ENOSPC for cpu ${cpu}, ${task === null ? 'no task' : `task ${task.name}`}`);
    };

    const unregister = (i: number) => {
      const bp = bps[i];
      assert.ok(bp, `no breakpoint at ${i}`);
      bp.close();
      bps[i] = null;
    };

    beforeEach(() => {
      k = profile.make(CPUS);
      bps = new Array<PerfEvent | null>(MAX_TEST_BREAKPOINTS).fill(null);
      idx = 0;
      current = k.createTask('current');
      other = k.createTask('hw_breakpoint_dummy_task');
      assert.equal(k.isUsed(), false);
    });

    afterEach(function () {
      if (this.currentTest?.state === 'failed') return;
      for (let i = 0; i < bps.length; i++) if (bps[i] !== null) unregister(i);
      // test_exit(): everything released leaves no trace in any counter.
      assert.equal(k.isUsed(), false, 'constraint counters not back to zero after releasing everything');
    });

    it('test_one_cpu', () => {
      fill(0, null, 0);
      expectNoSpace(-1, current);
      expectNoSpace(0, null);
    });

    it('test_many_cpus: CPUs are independent', () => {
      for (let cpu = 0; cpu < CPUS; cpu++) {
        const more = fill(cpu, null, 0);
        expectNoSpace(cpu, null);
        if (!more) break;
      }
    });

    it('test_one_task_on_all_cpus', () => {
      fill(-1, current, 0);
      expectNoSpace(-1, current);
      expectNoSpace(0, current);
      expectNoSpace(0, null);
      // Remove one and adding back a CPU target works.
      unregister(0);
      fillOne(0, null);
    });

    it('test_two_tasks_on_all_cpus: tasks are independent', () => {
      fill(-1, current, 0);
      fill(-1, other, 0);
      expectNoSpace(-1, current);
      expectNoSpace(-1, other);
      expectNoSpace(0, current);
      expectNoSpace(0, other);
      expectNoSpace(0, null);
      // Removing one of the first task's does not make room for a CPU target: the other task is still full.
      unregister(0);
      expectNoSpace(0, null);
    });

    it('test_one_task_on_one_cpu', () => {
      fill(0, current, 0);
      expectNoSpace(-1, current);
      expectNoSpace(0, current);
      expectNoSpace(0, null);
      // Special vs. above: the task's constraints are CPU-dependent.
      unregister(0);
      fillOne(0, null);
    });

    it('test_one_task_mixed', () => {
      assert.ok(N >= 3);
      fillOne(0, current);
      fill(-1, current, 1);
      expectNoSpace(-1, current);
      expectNoSpace(0, current);
      expectNoSpace(0, null);
      // Transition from CPU-dependent pinned count to CPU-independent.
      unregister(0);
      unregister(1);
      fillOne(0, null);
      fillOne(0, null);
      expectNoSpace(0, null);
    });

    it('test_two_tasks_on_one_cpu', () => {
      fill(0, current, 0);
      fill(0, other, 0);
      expectNoSpace(-1, current);
      expectNoSpace(-1, other);
      expectNoSpace(0, current);
      expectNoSpace(0, other);
      expectNoSpace(0, null);
      // Can still create breakpoints on some other CPU.
      fill(1, null, 0);
    });

    it('test_two_tasks_on_one_all_cpus', () => {
      fill(0, current, 0);
      fill(-1, other, 0);
      expectNoSpace(-1, current);
      expectNoSpace(-1, other);
      expectNoSpace(0, current);
      expectNoSpace(0, other);
      expectNoSpace(0, null);
      // Cannot create breakpoints on some other CPU either.
      expectNoSpace(1, null);
    });

    it('test_task_on_all_and_one_cpu', () => {
      assert.ok(N >= 3);
      fill(-1, current, 2);
      // Transitioning from only all-CPU breakpoints to mixed.
      const taskOnCpu = idx;
      fillOne(0, current);
      fillOne(-1, current);
      expectNoSpace(-1, current);
      expectNoSpace(0, current);
      expectNoSpace(0, null);
      // We should still be able to use up another CPU's slots.
      const cpuTarget = idx;
      fillOne(1, null);
      expectNoSpace(1, null);
      // Transitioning back to task target on all CPUs; the CPU target on cpu1 still blocks.
      unregister(taskOnCpu);
      expectNoSpace(-1, current);
      // Remove it and try again.
      unregister(cpuTarget);
      fillOne(-1, current);
      expectNoSpace(-1, current);
      expectNoSpace(0, current);
      expectNoSpace(0, null);
      expectNoSpace(1, null);
    });
  });
}
