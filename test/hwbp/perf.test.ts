import * as assert from 'node:assert/strict';
import {
  createKernel, HistogramAccounting, NoSpaceError, type ConstraintAccounting, type Kernel, type SlotRequest,
} from '../../src/hwbp';
import { assertErrno, errnoOf } from '../support/errno';

const attr = (addr: number) => ({ type: 'w' as const, addr, len: 8 });

describe('perf front door', () => {
  describe('createKernel', () => {
    it('rejects bad machine descriptions by name', () => {
      assertErrno(() => createKernel({ cpus: 0 }), 'EINVAL', 'cpus 0');
      assertErrno(() => createKernel({ cpus: 2.5 }), 'EINVAL', 'cpus 2.5');
      assertErrno(() => createKernel({ cpus: 1, arch: 'mips' as 'arm64' }), 'EINVAL', 'arch mips');
      assertErrno(() => createKernel({ cpus: 1, muxInterval: 0 }), 'EINVAL', 'muxInterval');
      assertErrno(() => createKernel({ cpus: 1, arch: 'arm64', dataSlots: 17 }), 'EINVAL', 'dataSlots 17');
      assertErrno(() => createKernel({ cpus: 1, arch: 'x86_64', dataSlots: 2 }), 'EINVAL', 'DR0–DR3');
    });
  });

  describe('perfEventOpen targets', () => {
    let k: Kernel;
    beforeEach(() => { k = createKernel({ cpus: 2 }); });

    it("uses perf's pid/cpu meaning and rejects pid -1 with cpu -1", () => {
      const t = k.createTask();
      const snap = () => k.snapshot().events.map((e) => [e.pid, e.cpu]);
      k.perfEventOpen(attr(0x1000), { pid: -1, cpu: 1 });
      k.perfEventOpen(attr(0x1008), { pid: t.pid, cpu: -1 });
      k.perfEventOpen(attr(0x1010), { pid: t.pid, cpu: 0 });
      assert.deepEqual(snap(), [[null, 1], [t.pid, -1], [t.pid, 0]]);
      assertErrno(() => k.perfEventOpen(attr(0x1018), { pid: -1, cpu: -1 }), 'EINVAL', 'pid -1 with cpu -1');
    });

    it('names the unknown task or CPU', () => {
      assertErrno(() => k.perfEventOpen(attr(0x1000), { pid: 42, cpu: -1 }), 'ESRCH', 'pid 42');
      assertErrno(() => k.perfEventOpen(attr(0x1000), { pid: 0, cpu: -1 }), 'ESRCH', 'pid 0');
      assertErrno(() => k.perfEventOpen(attr(0x1000), { pid: -1, cpu: 2 }), 'EINVAL', 'target.cpu 2');
      assertErrno(() => k.perfEventOpen(attr(0x1000), { pid: -1, cpu: -2 }), 'EINVAL', 'target.cpu -2');
      assertErrno(() => k.perfEventOpen(attr(0x1000), null as unknown as { pid: number; cpu: number }), 'EINVAL', 'target');
      assertErrno(() => k.perfEventOpen(null as never, { pid: -1, cpu: 0 }), 'EINVAL', 'attr');
      assertErrno(() => k.perfEventOpen({ ...attr(0x1000), pinned: 'yes' as unknown as boolean }, { pid: -1, cpu: 0 }), 'EINVAL', 'attr.pinned');
      assert.equal(k.isUsed(), false);
    });

    it('a refused request changes nothing, and its error names the holders', () => {
      const t = k.createTask('worker');
      for (let i = 0; i < 4; i++) k.perfEventOpen(attr(0x1000 + 8 * i), { pid: t.pid, cpu: -1 }, { owner: `watch v${i}` });
      const before = k.snapshot();
      let err: unknown;
      try { k.perfEventOpen(attr(0x2000), { pid: -1, cpu: 1 }); } catch (e) { err = e; }
      assert.ok(err instanceof NoSpaceError);
      assert.match(err.message, /cpu1 while pid \d+ runs there: 4 registers, held by #1 watch v0/);
      assert.deepEqual(err.detail.holders.map((h) => h.owner), ['watch v0', 'watch v1', 'watch v2', 'watch v3']);
      assert.deepEqual(err.detail.registerNames, ['DR0', 'DR1', 'DR2', 'DR3']);
      assert.deepEqual(k.snapshot(), before);
    });
  });

  describe('checkPlan', () => {
    it('answers whether closing and opening a set of events would all fit, and changes nothing', () => {
      const k = createKernel({ cpus: 2 });
      const t = k.createTask('main');
      k.contextSwitch(0, t);
      const evs = [0, 1, 2].map((i) => k.perfEventOpen(attr(0x1000 + 8 * i), { pid: t.pid, cpu: -1 }, { owner: `watch v${i}` }));
      k.tick(0, 5);
      const before = JSON.stringify(k.snapshot());
      const pinned = (addr: number) => ({ attr: attr(addr), target: { pid: t.pid, cpu: -1 }, owner: 'watch n' });
      const flexible = (addr: number) => ({ attr: { ...attr(addr), pinned: false }, target: { pid: t.pid, cpu: -1 }, owner: 'watch f' });
      assert.equal(k.checkPlan([], [pinned(0x2000)]), null, 'a fourth pinned fits');
      const refused = k.checkPlan([], [flexible(0x2008), pinned(0x2000)]);
      assert.ok(refused instanceof NoSpaceError);
      // The explanation counts the plan's own flexible one as holding the kept register.
      assert.match(refused.message, /held by #1 watch v0 \(pid 1\), #2 watch v1 \(pid 1\), #3 watch v2 \(pid 1\), one register kept for 1 flexible breakpoint\(s\) \(watch f\)/);
      // Turning v2 flexible makes room for both.
      assert.equal(k.checkPlan([evs[2].id], [flexible(0x1010), flexible(0x2008), pinned(0x2000)]), null);
      const pinnedAgain = k.checkPlan([], [pinned(0x2000), pinned(0x2008)]);
      assert.ok(pinnedAgain instanceof NoSpaceError);
      assert.match(pinnedAgain.message, /watch n \(planned\) \(pid 1\)/, 'a planned pinned one is named as planned');
      assert.equal(errnoOf(() => { const e = k.checkPlan([], [{ attr: attr(0x1), target: { pid: t.pid, cpu: -1 } }]); if (e) throw e; }), 'EINVAL', 'misaligned: the parse error is returned');
      assertErrno(() => k.checkPlan([999], []), 'EBADF', 'event 999');
      assert.equal(JSON.stringify(k.snapshot()), before, 'no register, reservation, time or count changed');
    });
  });

  describe('enable, disable, read, close', () => {
    it('disabling uninstalls but keeps the reservation; closing twice is EBADF', () => {
      const k = createKernel({ cpus: 1 });
      const e = k.perfEventOpen(attr(0x1000), { pid: -1, cpu: 0 });
      assert.equal(e.read().state, 'active');
      e.disable();
      assert.equal(e.read().state, 'off');
      assert.equal(k.access(0, 0x1000, 8, 'write'), null);
      assert.equal(k.snapshot().constraints[0].cpus[0].nr_cpu_bp_pinned, 1);
      e.enable();
      assert.ok(k.access(0, 0x1000, 8, 'write'));
      e.close();
      assert.equal(k.isUsed(), false);
      assertErrno(() => e.close(), 'EBADF', `event ${e.id}`);
      assertErrno(() => e.enable(), 'EBADF');
      assertErrno(() => e.modify({ addr: 0x2000 }), 'EBADF');
    });
  });

  describe('modify', () => {
    it('moves the watched address without touching the accounting', () => {
      const k = createKernel({ cpus: 1 });
      const e = k.perfEventOpen(attr(0x1000), { pid: -1, cpu: 0 });
      const table = k.snapshot().constraints;
      e.modify({ addr: 0x2000, len: 4 });
      assert.deepEqual(k.snapshot().constraints, table);
      assert.equal(k.access(0, 0x1000, 8, 'write'), null);
      assert.ok(k.access(0, 0x2000, 4, 'write'));
    });

    it('parses first and changes nothing on error; pinned and unknown fields cannot change', () => {
      const k = createKernel({ cpus: 1 });
      const e = k.perfEventOpen(attr(0x1000), { pid: -1, cpu: 0 });
      const before = k.snapshot();
      assertErrno(() => e.modify({ addr: 0x1004 }), 'EINVAL', 'aligned');
      assertErrno(() => e.modify({ type: 'r' }), 'EINVAL', 'attr.type r');
      assertErrno(() => e.modify({ pinned: false }), 'EINVAL', 'pinned cannot be changed');
      assertErrno(() => e.modify({ color: 1 } as never), 'EINVAL', 'field color');
      assert.deepEqual(k.snapshot(), before);
    });

    it('on x86 a type change stays in the one shared pool and always succeeds', () => {
      const k = createKernel({ cpus: 1 });
      const evs = [0, 1, 2, 3].map((i) => k.perfEventOpen(attr(0x1000 + 8 * i), { pid: -1, cpu: 0 }));
      evs[0].modify({ type: 'x', addr: 0x401000, len: 8 });
      assert.ok(k.access(0, 0x401000, 1, 'exec'));
    });

    it('on arm64 a class change re-reserves, and rolls back to the old reservation when the new class is full', () => {
      const k = createKernel({ arch: 'arm64', cpus: 1, instSlots: 1, dataSlots: 2 });
      k.perfEventOpen({ type: 'x', addr: 0x400000, len: 4 }, { pid: -1, cpu: 0 });
      const w = k.perfEventOpen({ type: 'rw', addr: 0x1000, len: 8 }, { pid: -1, cpu: 0 });
      const before = k.snapshot();
      assertErrno(() => w.modify({ type: 'x', addr: 0x400010, len: 4 }), 'ENOSPC', 'BVR0');
      assert.deepEqual(k.snapshot(), before, 'the data reservation is back and nothing moved');
      // With the breakpoint register free, the same change moves the reservation across pools.
      k.event(1)!.close();
      w.modify({ type: 'x', addr: 0x400010, len: 4 });
      const [inst, data] = k.snapshot().constraints;
      assert.deepEqual([inst.cpus[0].nr_cpu_bp_pinned, data.cpus[0].nr_cpu_bp_pinned], [1, 0]);
    });
  });

  describe('wide breakpoints', () => {
    it('open one CPU-bound breakpoint per CPU and close them together', () => {
      const k = createKernel({ cpus: 3 });
      const wide = k.registerWideBreakpoint(attr(0x1000), { owner: 'wide counter' });
      const snap = k.snapshot();
      assert.deepEqual(snap.events.map((e) => [e.cpu, e.pid, e.wideId, e.state]), [[0, null, wide.id, 'active'], [1, null, wide.id, 'active'], [2, null, wide.id, 'active']]);
      for (let c = 0; c < 3; c++) assert.ok(k.access(c, 0x1000, 8, 'write'));
      wide.close();
      assert.equal(k.isUsed(), false);
    });

    it('are all or nothing, and never hold a slot while they might still fail', () => {
      // Record every reservation the kernel makes, through a pass-through accounting.
      const log: string[] = [];
      const k = createKernel({
        cpus: 4,
        accounting: (slots, cpus): ConstraintAccounting => {
          const inner = new HistogramAccounting(slots, cpus);
          return {
            admits: (r: SlotRequest) => inner.admits(r),
            add: (r: SlotRequest) => { log.push(`add cpu${r.cpu}`); inner.add(r); },
            remove: (r: SlotRequest) => { log.push(`remove cpu${r.cpu}`); inner.remove(r); },
            isUsed: () => inner.isUsed(),
            table: () => inner.table(),
          };
        },
      });
      for (let i = 0; i < 4; i++) k.perfEventOpen(attr(0x9000 + 8 * i), { pid: -1, cpu: 3 });
      log.length = 0;
      const before = k.snapshot();
      assertErrno(() => k.registerWideBreakpoint(attr(0x1000)), 'ENOSPC', 'wide', 'cpu3');
      assert.deepEqual(log, [], 'a failed wide registration reserved nothing at any moment');
      assert.deepEqual(k.snapshot(), before);
      // So a concurrent per-CPU request on cpu0 is never refused because of it.
      assert.equal(errnoOf(() => k.perfEventOpen(attr(0x2000), { pid: -1, cpu: 0 })), 'ok');
      // With room everywhere, an invalid wide request is refused by parsing, also without reserving anything.
      for (let id = 1; id <= 4; id++) k.event(id)!.close();
      log.length = 0;
      assertErrno(() => k.registerWideBreakpoint({ type: 'w', addr: 0x1001, len: 8 }), 'EINVAL', 'aligned');
      assert.deepEqual(log, []);
    });
  });

  describe('tasks', () => {
    it('exit releases every breakpoint the task holds and frees its CPU', () => {
      const k = createKernel({ cpus: 2 });
      const t = k.createTask('leaky');
      for (let i = 0; i < 3; i++) k.perfEventOpen(attr(0x1000 + 8 * i), { pid: t.pid, cpu: i === 0 ? 1 : -1 });
      k.perfEventOpen({ ...attr(0x2000), pinned: false }, { pid: t.pid, cpu: -1 });
      k.contextSwitch(1, t);
      assert.equal(k.snapshot().cpus[1].classes[0].registers.filter((r) => r.occupant).length, 4);
      k.exitTask(t);
      assert.equal(k.isUsed(), false);
      assert.equal(k.snapshot().cpus[1].runningPid, null);
      assert.equal(k.snapshot().cpus[1].classes[0].registers.filter((r) => r.occupant).length, 0);
      assertErrno(() => k.perfEventOpen(attr(0x1000), { pid: t.pid, cpu: -1 }), 'ESRCH');
      assertErrno(() => k.exitTask(t), 'ESRCH');
    });

    it('a task runs on one CPU at a time; bad CPUs and ticks are named', () => {
      const k = createKernel({ cpus: 2 });
      const t = k.createTask();
      k.contextSwitch(0, t);
      assertErrno(() => k.contextSwitch(1, t), 'EINVAL', 'running on cpu0');
      k.contextSwitch(0, null);
      k.contextSwitch(1, t);
      assert.deepEqual(k.runningTask(1), { pid: t.pid, name: t.name });
      assertErrno(() => k.contextSwitch(5, t), 'EINVAL', 'cpu 5');
      assertErrno(() => k.tick(0, -1), 'EINVAL', 'elapsed -1');
      assertErrno(() => k.tick(0, Number.NaN), 'EINVAL', 'elapsed NaN');
    });
  });

  it('the snapshot is plain JSON data', () => {
    const k = createKernel({ cpus: 2, muxInterval: 5 });
    const t = k.createTask('main');
    k.perfEventOpen(attr(0x1000), { pid: t.pid, cpu: -1 });
    k.perfEventOpen({ ...attr(0x1008), pinned: false }, { pid: -1, cpu: 1 });
    k.contextSwitch(0, t);
    k.tick(0, 12);
    k.access(0, 0x1000, 8, 'write');
    const snap = k.snapshot();
    assert.deepEqual(JSON.parse(JSON.stringify(snap)), snap);
    assert.equal(snap.cpus[0].runningName, 'main');
    assert.deepEqual(snap.constraints[0].cpus[1], {
      cpu: 1, nr_cpu_bp_pinned: 0, nr_bp_flexible: 1, task_bp_pinned: [1, 0, 0, 0], task_bp_demand: [1, 0, 0, 0], worst_case: 2,
    });
    assert.deepEqual(snap.events[0].installedOn, { cpu: 0, register: 0, registerName: 'DR0' });
    assert.equal(snap.events[0].count, 1);
  });
});
