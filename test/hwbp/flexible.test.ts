/**
 * Flexible breakpoints: the part of the 2009 design Linux never implemented.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { createKernel, type Kernel, type PerfEvent, type Task } from '../../src/hwbp';
import { assertErrno } from '../support/errno';

const MUX = 10;

function open(k: Kernel, task: Task | null, i: number, pinned: boolean, cpu = -1): PerfEvent {
  return k.perfEventOpen({ type: 'w', addr: 0x1000 + 8 * i, len: 8, pinned }, { pid: task?.pid ?? -1, cpu: task === null ? Math.max(cpu, 0) : cpu });
}

function installed(k: Kernel, cpu = 0): (number | null)[] {
  return k.snapshot().cpus[cpu].classes[0].registers.map((r) => r.occupant?.eventId ?? null);
}

describe('flexible breakpoints', () => {
  describe('admission', () => {
    it('the first flexible breakpoint keeps a register; later ones join it for free', () => {
      const k = createKernel({ cpus: 2 });
      const t = k.createTask();
      for (let i = 0; i < 3; i++) open(k, t, i, true);
      const flex = [open(k, t, 10, false)];
      for (let i = 11; i < 20; i++) flex.push(open(k, t, i, false)); // ten flexible, one register
      assert.equal(k.snapshot().constraints[0].cpus[0].worst_case, 4);
      assertErrno(() => open(k, t, 3, true), 'ENOSPC', 'kept for 10 flexible');
      for (const f of flex) f.close();
      open(k, t, 3, true); // with no flexible left, the fourth pinned fits
    });

    it('a pinned request may not take the last register from flexible ones of another owner', () => {
      const k = createKernel({ cpus: 2 });
      const t = k.createTask();
      open(k, null, 0, false, 1); // a CPU-bound flexible on cpu1
      for (let i = 1; i <= 3; i++) open(k, t, i, true); // task pinned: 3 + kept 1 = 4 on cpu1
      assertErrno(() => open(k, t, 4, true), 'ENOSPC', 'cpu1');
      assertErrno(() => open(k, null, 5, true, 1), 'ENOSPC', 'cpu1');
      open(k, null, 6, true, 0); // cpu0 keeps nothing for flexible: 3 + 1 fits
    });

    it('a flexible request needs one register free in every situation it can run in', () => {
      const k = createKernel({ cpus: 2 });
      const a = k.createTask('a');
      const b = k.createTask('b');
      for (let i = 0; i < 4; i++) open(k, a, i, true);
      assertErrno(() => open(k, a, 9, false), 'ENOSPC', 'kept free for time-sharing');
      assertErrno(() => open(k, null, 9, false, 0), 'ENOSPC', `while pid ${a.pid} runs`);
      open(k, b, 9, false); // task b is unaffected by task a
    });
  });

  describe('scheduling', () => {
    it('pinned breakpoints go in first and flexible ones fill the rest in round-robin order', () => {
      const k = createKernel({ cpus: 1, muxInterval: MUX });
      const t = k.createTask();
      k.contextSwitch(0, t);
      const f = [0, 1, 2].map((i) => open(k, t, i, false));
      assert.deepEqual(installed(k), [f[0].id, f[1].id, f[2].id, null]);
      const p = [3, 4].map((i) => open(k, t, i, true));
      // Two pinned evict the flexible ones that do not fit; the first two flexible stay where they were.
      const regs = installed(k);
      assert.ok(p.every((e) => regs.includes(e.id)));
      assert.deepEqual(regs.filter((id) => f.some((e) => e.id === id)).sort(), [f[0].id, f[1].id].sort());
      assert.equal(k.snapshot().cpus[0].rotating, true);
      assert.deepEqual(k.snapshot().cpus[0].flexibleOrder, f.map((e) => e.id));
    });

    it('with one register to share, runs them one after another, one mux interval each', () => {
      const k = createKernel({ cpus: 1, muxInterval: MUX });
      const t = k.createTask();
      for (let i = 0; i < 3; i++) open(k, t, i, true);
      const f = [10, 11, 12].map((i) => open(k, t, i, false));
      k.contextSwitch(0, t);
      const running = () => f.filter((e) => e.read().state === 'active').map((e) => e.id);
      const sequence = [running()];
      for (let step = 0; step < 4; step++) {
        k.tick(0, MUX - 1);
        assert.deepEqual(running(), sequence[sequence.length - 1], 'no rotation before the interval ends');
        k.tick(0, 1);
        sequence.push(running());
      }
      assert.deepEqual(sequence, [[f[0].id], [f[1].id], [f[2].id], [f[0].id], [f[1].id]]);
      // The rotating register is the one left by the pinned breakpoints: always DR3.
      assert.equal(installed(k)[3], f[1].id);
    });

    it('rotates the whole window: every running one goes to the back, the next ones take the lowest free registers', () => {
      const k = createKernel({ cpus: 1, muxInterval: MUX });
      const t = k.createTask();
      const p = [0, 1].map((i) => open(k, t, i, true));
      const f = [10, 11, 12, 13, 14].map((i) => open(k, t, i, false));
      k.contextSwitch(0, t);
      // K = 5 on F = 2: the order is a ring that each rotation shifts by 2, and the window is its first
      // two, the first in DR2 and the second in DR3 (the pinned ones hold DR0 and DR1).
      const expected = (r: number) => [p[0].id, p[1].id, f[(2 * r) % 5].id, f[(2 * r + 1) % 5].id];
      const orderAfter = (r: number) => f.map((_, j) => f[(2 * r + j) % 5].id);
      for (let r = 0; r <= 6; r++) {
        assert.deepEqual(installed(k), expected(r), `after ${r} rotations`);
        assert.deepEqual(k.snapshot().cpus[0].flexibleOrder, orderAfter(r), `order after ${r} rotations`);
        k.tick(0, MUX);
      }
      // Over 5 rotations (one lap: 5 / gcd(5, 2) rotations) each one ran exactly 2 of the 5 periods.
      const k2 = createKernel({ cpus: 1, muxInterval: MUX });
      const t2 = k2.createTask();
      for (let i = 0; i < 2; i++) open(k2, t2, i, true);
      const g = [10, 11, 12, 13, 14].map((i) => open(k2, t2, i, false));
      k2.contextSwitch(0, t2);
      for (let i = 0; i < 5 * MUX; i++) k2.tick(0, 1);
      assert.deepEqual(g.map((e) => e.read().timeRunning), g.map(() => 2 * MUX));
    });

    it('keeps each task\'s rotation phase across switches, and the idle CPU\'s own', () => {
      const k = createKernel({ cpus: 2, muxInterval: MUX });
      const [a, b] = [k.createTask('a'), k.createTask('b')];
      for (let i = 0; i < 3; i++) open(k, a, i, true);
      const fa = [10, 11].map((i) => open(k, a, i, false));
      for (let i = 0; i < 3; i++) open(k, b, 20 + i, true);
      const fb = [30, 31].map((i) => open(k, b, i, false));
      const active = (evs: PerfEvent[]) => evs.filter((e) => e.read().state === 'active').map((e) => e.id);
      k.contextSwitch(0, a);
      k.tick(0, MUX - 4); // a: 6 of its 10
      k.contextSwitch(0, b);
      k.tick(0, MUX - 2); // b: 8 of its 10; a's timer did not fire in b's time
      assert.deepEqual([active(fa), active(fb)], [[], [fb[0].id]]);
      k.contextSwitch(0, null);
      k.tick(0, 50); // an idle CPU: nothing to rotate, no phase used up
      k.contextSwitch(1, a); // a moves to cpu1 and resumes its phase there
      k.tick(1, 3);
      assert.deepEqual(active(fa), [fa[0].id]);
      k.tick(1, 1);
      assert.deepEqual(active(fa), [fa[1].id], 'a rotates after 10 units of its own time');
      k.contextSwitch(0, b);
      k.tick(0, 1);
      assert.deepEqual(active(fb), [fb[0].id]);
      k.tick(0, 1);
      assert.deepEqual(active(fb), [fb[1].id], 'b rotates after 10 units of its own time');
    });

    it('does not rotate while every flexible breakpoint fits', () => {
      const k = createKernel({ cpus: 1, muxInterval: MUX });
      const t = k.createTask();
      const f = [0, 1].map((i) => open(k, t, i, false));
      k.contextSwitch(0, t);
      k.tick(0, 20 * MUX);
      assert.deepEqual(f.map((e) => e.read().timeRunning), [20 * MUX, 20 * MUX]);
      assert.equal(k.snapshot().cpus[0].rotating, false);
    });

    it('shares one order between CPU-bound and task flexible breakpoints', () => {
      const k = createKernel({ cpus: 1, muxInterval: MUX });
      const t = k.createTask();
      for (let i = 0; i < 3; i++) open(k, null, i, true, 0);
      const f = [open(k, null, 10, false, 0), open(k, t, 11, false), open(k, t, 12, false)];
      k.contextSwitch(0, t);
      k.tick(0, 30 * MUX);
      for (const e of f) assert.equal(e.read().timeRunning / e.read().timeEnabled, 1 / 3);
    });
  });

  describe('fairness and time accounting', () => {
    for (const [K, pinned] of [[8, 1], [5, 2], [7, 0], [3, 3]] as const) {
      const F = 4 - pinned;
      it(`${K} flexible on ${F} free registers each run ${F}/${K} of the time`, () => {
        const k = createKernel({ cpus: 1, muxInterval: MUX });
        const t = k.createTask();
        for (let i = 0; i < pinned; i++) open(k, t, i, true);
        const f = Array.from({ length: K }, (_, i) => open(k, t, 10 + i, false));
        k.contextSwitch(0, t);
        const total = 37 * K * MUX + 3; // not a whole number of periods
        for (let elapsed = 0; elapsed < total; elapsed += 7) k.tick(0, Math.min(7, total - elapsed));
        for (const e of f) {
          const c = e.read();
          assert.equal(c.timeEnabled, total);
          assert.ok(Math.abs(c.timeRunning / c.timeEnabled - F / K) <= MUX / total + 1e-12,
            `event ${c.id}: ratio ${c.timeRunning / c.timeEnabled}, expected ${F}/${K} within one interval`);
        }
      });
    }

    it('counts enabled time only while the owner runs and the breakpoint is enabled', () => {
      const k = createKernel({ cpus: 2, muxInterval: MUX });
      const t = k.createTask();
      const e = open(k, t, 0, true);
      k.tick(0, 50); // t not running yet
      k.contextSwitch(0, t);
      k.tick(0, 30);
      k.contextSwitch(0, null);
      k.contextSwitch(1, t);
      k.tick(1, 20);
      e.disable();
      k.tick(1, 40);
      e.enable();
      k.tick(1, 5);
      assert.deepEqual([e.read().timeEnabled, e.read().timeRunning], [55, 55]);
    });

    it('a flexible breakpoint misses accesses while scheduled out, and the estimate scales them back', () => {
      const k = createKernel({ cpus: 1, muxInterval: MUX });
      const t = k.createTask();
      for (let i = 0; i < 3; i++) open(k, t, i, true);
      const [a, b] = [open(k, t, 10, false), open(k, t, 11, false)];
      k.contextSwitch(0, t);
      const hits: boolean[] = [];
      for (let i = 0; i < 40; i++) {
        hits.push(k.access(0, 0x1000 + 8 * 11, 8, 'write') !== null); // always writes b's address
        k.tick(0, MUX / 2);
      }
      // b runs every other interval: it sees exactly half of the writes.
      assert.equal(hits.filter(Boolean).length, 20);
      assert.deepEqual(hits.slice(0, 4), [false, false, true, true]);
      const c = b.read();
      assert.equal(c.count, 20);
      assert.equal(c.estimate, 40);
      assert.equal(a.read().count, 0);
    });

    it('reports an unknown estimate for a breakpoint that could count but never ran', () => {
      const k = createKernel({ cpus: 1, muxInterval: MUX });
      const t = k.createTask();
      for (let i = 0; i < 3; i++) open(k, t, i, true);
      const [, b] = [open(k, t, 10, false), open(k, t, 11, false)];
      k.contextSwitch(0, t);
      k.tick(0, MUX - 1);
      assert.deepEqual([b.read().state, b.read().timeRunning, b.read().estimate], ['inactive', 0, null]);
    });

    it('a long tick gives exactly what ticking one unit at a time gives', () => {
      const build = () => {
        const k = createKernel({ arch: 'arm64', cpus: 2, muxInterval: 3, instSlots: 2, dataSlots: 3 });
        const t = k.createTask('t');
        const u = k.createTask('u');
        k.perfEventOpen({ type: 'w', addr: 0x2000, len: 4 }, { pid: -1, cpu: 0 });
        for (let i = 0; i < 5; i++) k.perfEventOpen({ type: 'rw', addr: 0x1000 + 8 * i, len: 8, pinned: false }, { pid: t.pid, cpu: -1 });
        k.perfEventOpen({ type: 'w', addr: 0x3000, len: 8, pinned: false }, { pid: -1, cpu: 0 });
        for (let i = 0; i < 3; i++) k.perfEventOpen({ type: 'x', addr: 0x400000 + 4 * i, len: 4, pinned: false }, { pid: t.pid, cpu: -1 });
        k.perfEventOpen({ type: 'rw', addr: 0x5000, len: 8, pinned: false }, { pid: u.pid, cpu: 1 });
        k.contextSwitch(0, t);
        k.tick(0, 1);
        return { k, t, u };
      };
      const stepped = build();
      const jumped = build();
      const span = 3 * 7 * 60 + 2;
      for (let i = 0; i < span; i++) stepped.k.tick(0, 1);
      jumped.k.tick(0, span);
      assert.deepEqual(jumped.k.snapshot(), stepped.k.snapshot());
      // And the two stay identical afterwards: the round-robin order (keys) was carried over exactly.
      for (const { k, t, u } of [stepped, jumped]) {
        k.contextSwitch(0, null);
        k.contextSwitch(1, t);
        k.tick(1, 10);
        k.contextSwitch(1, u);
        k.contextSwitch(0, t);
        for (let i = 0; i < 17; i++) k.tick(0, 1);
      }
      assert.deepEqual(jumped.k.snapshot(), stepped.k.snapshot());
    });

    it('a long tick gives what stepping gives, for any K, F and number of rotations, in both arm64 classes', () => {
      const arb = fc.record({
        mux: fc.integer({ min: 1, max: 4 }),
        inst: fc.integer({ min: 1, max: 4 }),
        data: fc.integer({ min: 1, max: 4 }),
        // Per class: pinned (leaving at least one register), flexible of the task, CPU-bound flexible.
        pinned: fc.tuple(fc.nat(3), fc.nat(3)),
        taskFlexible: fc.tuple(fc.nat(9), fc.nat(9)),
        cpuFlexible: fc.tuple(fc.nat(3), fc.nat(3)),
        warmup: fc.nat(40),
        span: fc.integer({ min: 0, max: 400 }),
      });
      fc.assert(fc.property(arb, (c) => {
        const build = () => {
          const k = createKernel({ arch: 'arm64', cpus: 1, muxInterval: c.mux, instSlots: c.inst, dataSlots: c.data });
          const t = k.createTask('t');
          let addr = 0x10000;
          const slots = [c.inst, c.data];
          for (let cls = 0; cls < 2; cls++) {
            const type = cls === 0 ? 'x' : 'w';
            const len = cls === 0 ? 4 : 8;
            for (let i = 0; i < Math.min(c.pinned[cls], slots[cls] - 1); i++) k.perfEventOpen({ type, addr: (addr += 8), len }, { pid: t.pid, cpu: -1 });
            for (let i = 0; i < c.taskFlexible[cls]; i++) k.perfEventOpen({ type, addr: (addr += 8), len, pinned: false }, { pid: t.pid, cpu: -1 });
            for (let i = 0; i < c.cpuFlexible[cls]; i++) k.perfEventOpen({ type, addr: (addr += 8), len, pinned: false }, { pid: -1, cpu: 0 });
          }
          k.contextSwitch(0, t);
          for (let i = 0; i < c.warmup; i++) k.tick(0, 1);
          return { k, t };
        };
        const stepped = build();
        const jumped = build();
        for (let i = 0; i < c.span; i++) stepped.k.tick(0, 1);
        jumped.k.tick(0, c.span);
        assert.deepEqual(jumped.k.snapshot(), stepped.k.snapshot());
        // The keys carried over too: the same again after switching out, idling and coming back.
        for (const { k, t } of [stepped, jumped]) {
          k.contextSwitch(0, null);
          k.tick(0, 3);
          k.contextSwitch(0, t);
          for (let i = 0; i < 4 * c.mux + 1; i++) k.tick(0, 1);
        }
        assert.deepEqual(jumped.k.snapshot(), stepped.k.snapshot());
      }), { numRuns: 300 });
    });

    it('a huge tick returns promptly', () => {
      const k = createKernel({ cpus: 1, muxInterval: 1 });
      const t = k.createTask();
      for (let i = 0; i < 3; i++) open(k, t, i, true);
      const f = Array.from({ length: 7 }, (_, i) => open(k, t, 10 + i, false));
      k.contextSwitch(0, t);
      k.tick(0, 7e12);
      for (const e of f) assert.equal(e.read().timeRunning, 1e12);
    });
  });
});
