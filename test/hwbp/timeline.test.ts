/**
 * The register timeline (src/hwbp/recorder.ts) against the scheduler it records:
 *  - random sessions (fast-check): replaying the recorded intervals after every step gives exactly
 *    the registers the kernel's snapshot shows, every removal is recorded with the start it had,
 *    intervals on one register never overlap; every hit is recorded in the register and interval
 *    that caught it; a miss is recorded exactly for the eligible flexible breakpoints that were not
 *    installed on that CPU and matched the access (computed independently from the snapshot);
 *  - a long tick records what stepping one unit at a time records, record for record;
 *  - the ring keeps the newest `capacity` records and counts the rest as dropped, by kind, also
 *    when a long tick stands for millions of rotations.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { createKernel, HwbpError, type Kernel, type KernelTimeline, type PerfEvent, type Task } from '../../src/hwbp';
import { TimelineRing, KIND_HIT, KIND_INTERVAL, KIND_MISS } from '../../src/hwbp/recorder';

type Op =
  | { kind: 'task' }
  | { kind: 'exit'; t: number }
  | { kind: 'open'; t: number; cpu: number; type: 'w' | 'rw' | 'x'; pinned: boolean; slot: number }
  | { kind: 'close'; e: number }
  | { kind: 'toggle'; e: number; disabled: boolean }
  | { kind: 'modify'; e: number; slot: number }
  | { kind: 'switch'; cpu: number; t: number }
  | { kind: 'tick'; cpu: number; dt: number }
  | { kind: 'access'; cpu: number; slot: number; offset: number; size: number; access: 'read' | 'write' | 'exec' };

interface Setup {
  name: string;
  cpus: number;
  make(capacity?: number): Kernel;
  execLen: number;
}

const setups: Setup[] = [
  { name: 'x86_64, 2 CPUs', cpus: 2, make: (c) => createKernel({ arch: 'x86_64', cpus: 2, muxInterval: 3, timelineCapacity: c }), execLen: 8 },
  {
    name: 'arm64, 2 CPUs, 2 breakpoint + 2 watchpoint registers', cpus: 2, execLen: 4,
    make: (c) => createKernel({ arch: 'arm64', cpus: 2, muxInterval: 4, instSlots: 2, dataSlots: 2, timelineCapacity: c }),
  },
];

const BASE = 0x601000;

function opArb(cpus: number, longTicks: boolean): fc.Arbitrary<Op> {
  const cpu = fc.integer({ min: 0, max: cpus - 1 });
  const index = fc.nat(30);
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant<Op>({ kind: 'task' }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('exit' as const), t: index }) },
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('open' as const), t: fc.integer({ min: -2, max: 30 }), cpu: fc.integer({ min: -1, max: cpus - 1 }),
        type: fc.constantFrom<'w' | 'rw' | 'x'>('w', 'rw', 'x', 'w'), pinned: fc.boolean(), slot: fc.nat(7),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('close' as const), e: index }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('toggle' as const), e: index, disabled: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('modify' as const), e: index, slot: fc.nat(7) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('switch' as const), cpu, t: fc.integer({ min: -1, max: 30 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('tick' as const), cpu, dt: longTicks ? fc.integer({ min: 0, max: 200 }) : fc.integer({ min: 0, max: 12 }) }) },
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant('access' as const), cpu, slot: fc.nat(7), offset: fc.integer({ min: -2, max: 8 }),
        size: fc.constantFrom(1, 2, 4, 8), access: fc.constantFrom<'read' | 'write' | 'exec'>('read', 'write', 'exec'),
      }),
    },
  );
}

/** Applies ops to a kernel; refusals (ENOSPC, EINVAL, …) change nothing and are skipped. */
class Driver {
  readonly tasks: Task[] = [];
  readonly events: PerfEvent[] = [];
  constructor(readonly k: Kernel, readonly setup: Setup, readonly stepTicks = false) {}

  apply(op: Op): ReturnType<Kernel['access']> | undefined {
    const k = this.k;
    const pick = <T>(list: T[], i: number): T | undefined => (list.length === 0 ? undefined : list[i % list.length]);
    try {
      switch (op.kind) {
        case 'task': if (this.tasks.length < 3) this.tasks.push(k.createTask()); return;
        case 'exit': {
          const t = pick(this.tasks, op.t);
          if (t === undefined) return;
          k.exitTask(t);
          this.tasks.splice(this.tasks.indexOf(t), 1);
          return;
        }
        case 'open': {
          const t = op.t < 0 ? undefined : pick(this.tasks, op.t);
          if (t === undefined && op.cpu < 0) return;
          const len = op.type === 'x' ? this.setup.execLen : 8;
          this.events.push(k.perfEventOpen({ type: op.type, addr: BASE + 8 * op.slot, len, pinned: op.pinned }, { pid: t?.pid ?? -1, cpu: op.cpu }, { owner: `o${this.events.length}` }));
          return;
        }
        case 'close': pick(this.events, op.e)?.close(); return;
        case 'toggle': {
          const e = pick(this.events, op.e);
          if (op.disabled) e?.disable(); else e?.enable();
          return;
        }
        case 'modify': pick(this.events, op.e)?.modify({ addr: BASE + 8 * op.slot }); return;
        case 'switch': k.contextSwitch(op.cpu, op.t < 0 ? null : pick(this.tasks, op.t) ?? null); return;
        case 'tick':
          if (this.stepTicks) for (let i = 0; i < op.dt; i++) k.tick(op.cpu, 1);
          else k.tick(op.cpu, op.dt);
          return;
        case 'access': return k.access(op.cpu, BASE + 8 * op.slot + op.offset, op.size, op.access);
      }
    } catch (e) {
      if (!(e instanceof HwbpError)) throw e;
    }
    return undefined;
  }
}

const key = (cpu: number, cls: number, reg: number) => `${cpu}:${cls}:${reg}`;
const MASK: Record<string, string[]> = { w: ['write'], rw: ['read', 'write'], x: ['exec'], r: ['read'] };

/** The replayed registers, checked against every chunk and the kernel's snapshot. */
class Replay {
  private readonly held = new Map<string, { event: number; start: number }>();
  private readonly lastEnd = new Map<string, number>();
  seq = 0;

  step(k: Kernel, clocksBefore: number[]): KernelTimeline {
    const chunk = k.timeline(this.seq);
    assert.ok(chunk.seq >= this.seq);
    this.seq = chunk.seq;
    const iv = chunk.intervals;
    for (let i = 0; i < iv.cpu.length; i++) {
      const kk = key(iv.cpu[i], iv.cls[i], iv.reg[i]);
      assert.ok(iv.end[i] >= iv.start[i], `interval ${kk} ends before it starts`);
      assert.ok(iv.end[i] <= chunk.now[iv.cpu[i]], 'an interval ends in the future');
      assert.ok(iv.start[i] >= (this.lastEnd.get(kk) ?? 0), `intervals overlap on ${kk}`);
      const had = this.held.get(kk);
      if (had !== undefined) {
        assert.deepEqual({ event: iv.event[i], start: iv.start[i] }, had, `register ${kk} was recorded leaving with another occupant or start`);
        this.held.delete(kk);
      } else {
        assert.ok(iv.start[i] >= clocksBefore[iv.cpu[i]], `interval on ${kk} starts before this step but was never open`);
      }
      this.lastEnd.set(kk, iv.end[i]);
    }
    const open = new Map<string, { event: number; start: number }>();
    const op = chunk.open;
    for (let i = 0; i < op.cpu.length; i++) {
      const kk = key(op.cpu[i], op.cls[i], op.reg[i]);
      const now = { event: op.event[i], start: op.start[i] };
      const had = this.held.get(kk);
      if (had !== undefined) assert.deepEqual(now, had, `register ${kk} changed occupant without a record`);
      else assert.ok(now.start >= clocksBefore[op.cpu[i]] && now.start >= (this.lastEnd.get(kk) ?? 0), `open interval on ${kk} starts too early`);
      open.set(kk, now);
    }
    for (const kk of this.held.keys()) assert.ok(open.has(kk), `register ${kk} was vacated without a record`);
    this.held.clear();
    for (const [kk, v] of open) this.held.set(kk, v);
    // The replay is what the kernel says its registers hold.
    const snap = k.snapshot();
    const fromSnapshot = new Map<string, number>();
    for (const cpu of snap.cpus) cpu.classes.forEach((c, cls) => c.registers.forEach((r, reg) => {
      if (r.occupant !== null) fromSnapshot.set(key(cpu.cpu, cls, reg), r.occupant.eventId);
    }));
    assert.deepEqual(new Map([...this.held].map(([kk, v]) => [kk, v.event])), fromSnapshot);
    return chunk;
  }

  occupant(cpu: number, cls: number, reg: number): number | undefined {
    return this.held.get(key(cpu, cls, reg))?.event;
  }
}

/** The misses an access must record, from the snapshot: eligible flexible on that CPU, not installed, matching. */
function expectedMisses(k: Kernel, op: Extract<Op, { kind: 'access' }>): number[] {
  const snap = k.snapshot();
  const byId = new Map(snap.events.map((e) => [e.id, e]));
  const addr = BASE + 8 * op.slot + op.offset;
  const end = op.access === 'exec' ? addr + 1 : addr + op.size;
  return snap.cpus[op.cpu].flexibleOrder.filter((id) => {
    const e = byId.get(id)!;
    return e.installedOn === null && MASK[e.type].includes(op.access) && addr < e.addr + e.len && end > e.addr;
  }).sort((a, b) => a - b);
}

describe('register timeline', () => {
  for (const setup of setups) {
    describe(setup.name, () => {
      it('replays exactly into the registers, with every hit and every missed access recorded (random sessions)', () => {
        fc.assert(fc.property(fc.array(opArb(setup.cpus, true), { minLength: 1, maxLength: 120 }), (ops) => {
          const k = setup.make();
          const d = new Driver(k, setup);
          const replay = new Replay();
          for (const op of ops) {
            const clocks = Array.from({ length: setup.cpus }, (_, c) => k.clock(c));
            const misses = op.kind === 'access' && op.offset >= 0 ? expectedMisses(k, op) : null;
            const hit = d.apply(op);
            const chunk = replay.step(k, clocks);
            const mk = chunk.marks;
            if (op.kind !== 'access') {
              assert.equal(mk.kind.length, 0, `${op.kind} made marks`);
              continue;
            }
            const hits: string[] = [];
            const missed: number[] = [];
            for (let i = 0; i < mk.kind.length; i++) {
              assert.equal(mk.cpu[i], op.cpu);
              assert.equal(mk.time[i], clocks[op.cpu]);
              assert.equal(mk.addr[i], BASE + 8 * op.slot + op.offset);
              if (mk.kind[i] === 0) {
                // Caught in the register and interval that held it at that moment.
                assert.equal(replay.occupant(op.cpu, mk.cls[i], mk.reg[i]), mk.event[i], 'a hit outside an interval of its register');
                hits.push(`${mk.event[i]}@${mk.reg[i]}`);
              } else {
                assert.equal(mk.reg[i], -1);
                missed.push(mk.event[i]);
              }
            }
            assert.deepEqual(hits.sort(), (hit?.matches ?? []).map((m) => `${m.eventId}@${m.register}`).sort());
            if (misses !== null) assert.deepEqual(missed.sort((a, b) => a - b), misses);
            // A missed breakpoint is in no register of that CPU.
            for (const e of missed) for (let cls = 0; cls < chunk.classes.length; cls++) {
              for (let reg = 0; reg < chunk.classes[cls].registerNames.length; reg++) assert.notEqual(replay.occupant(op.cpu, cls, reg), e);
            }
          }
        }), { numRuns: 150 });
      });

      it('a long tick records what ticking one unit at a time records, record for record', () => {
        fc.assert(fc.property(fc.array(opArb(setup.cpus, true), { minLength: 1, maxLength: 80 }), (ops) => {
          const long = new Driver(setup.make(), setup);
          const stepped = new Driver(setup.make(), setup, true);
          for (const op of ops) {
            long.apply(op);
            stepped.apply(op);
          }
          assert.deepEqual(long.k.timeline(0), stepped.k.timeline(0));
        }), { numRuns: 150 });
      });
    });
  }

  it('a long tick through a full ring keeps exactly the newest records and counts every dropped one', () => {
    const make = (capacity?: number) => {
      const k = createKernel({ cpus: 1, muxInterval: 2, timelineCapacity: capacity });
      const t = k.createTask();
      for (let i = 0; i < 7; i++) k.perfEventOpen({ type: 'w', addr: BASE + 8 * i, len: 8, pinned: i === 0 }, { pid: t.pid, cpu: -1 });
      k.contextSwitch(0, t);
      return k;
    };
    const small = make(50);
    const stepped = make();
    small.tick(0, 5001);
    for (let i = 0; i < 5001; i++) stepped.tick(0, 1);
    const all = stepped.timeline(0);
    const kept = small.timeline(0);
    const total = all.intervals.cpu.length;
    assert.ok(total > 5000);
    assert.equal(kept.intervals.cpu.length, 50);
    assert.deepEqual(kept.dropped, { intervals: total - 50, marks: 0 });
    assert.equal(kept.seq, all.seq);
    for (const col of ['cpu', 'cls', 'reg', 'start', 'end', 'event'] as const) assert.deepEqual(kept.intervals[col], all.intervals[col].slice(-50));
    assert.deepEqual(kept.open, all.open);
    // Since: only what came after.
    small.tick(0, 4);
    const next = small.timeline(kept.seq);
    assert.equal(next.intervals.cpu.length, 2 * 3);
    assert.ok(next.intervals.start.every((s) => s >= 5001 - 2));
    // Rotations without end: bounded work and memory, every interval counted.
    small.tick(0, 2 ** 40);
    const huge = small.timeline(0);
    assert.equal(huge.intervals.cpu.length, 50);
    assert.equal(huge.dropped.intervals + 50, huge.seq - 0);
    assert.equal(huge.seq, all.seq + 6 + (2 ** 40 / 2) * 3);
  });

  it('records nothing, and costs no ring, with timelineCapacity 0', () => {
    const k = createKernel({ cpus: 1, timelineCapacity: 0 });
    const t = k.createTask();
    k.perfEventOpen({ type: 'w', addr: BASE, len: 8 }, { pid: t.pid, cpu: -1 });
    k.contextSwitch(0, t);
    assert.notEqual(k.access(0, BASE, 8, 'write'), null);
    k.tick(0, 10);
    k.contextSwitch(0, null);
    assert.equal(k.recording, false);
    const tl = k.timeline(0);
    assert.deepEqual([tl.seq, tl.capacity, tl.intervals.cpu.length, tl.marks.kind.length], [0, 0, 0, 0]);
    assert.throws(() => createKernel({ cpus: 1, timelineCapacity: -1 }), /timelineCapacity/);
    assert.throws(() => createKernel({ cpus: 1, timelineCapacity: 2 ** 30 }), /timelineCapacity/);
  });

  describe('the ring buffer', () => {
    it('keeps the newest `capacity` records in order, grows to its capacity and no further, and counts drops by kind', () => {
      const capacity = 10_000;
      const ring = new TimelineRing(capacity);
      const n = 25_123;
      for (let s = 0; s < n; s++) ring.push(s % 3 === 0 ? KIND_INTERVAL : s % 3 === 1 ? KIND_HIT : KIND_MISS, s % 7, 0, s % 4, s, s, 2 * s);
      assert.equal(ring.length, capacity);
      assert.equal(ring.bytes, capacity * 29);
      assert.deepEqual([ring.firstSeq, ring.nextSeq], [n - capacity, n]);
      const dropped = n - capacity;
      const intervals = Math.ceil(dropped / 3);
      assert.deepEqual([ring.droppedIntervals, ring.droppedMarks], [intervals, dropped - intervals]);
      for (let s = ring.firstSeq; s < ring.nextSeq; s++) {
        const i = ring.indexOf(s);
        assert.equal(ring.eventAt(i), s);
        assert.equal(ring.bAt(i), 2 * s);
      }
    });

    it('grows lazily: a short run allocates one chunk, not the capacity, and a full ring holds exactly its capacity', () => {
      const ring = new TimelineRing(1 << 20);
      ring.push(KIND_INTERVAL, 0, 0, 0, 1, 0, 1);
      assert.ok(ring.bytes <= 4096 * 29);
      // A capacity that is not a whole number of chunks: the last chunk is short.
      const odd = new TimelineRing(4096 + 5);
      for (let s = 0; s < 4096 + 9; s++) odd.push(KIND_HIT, 0, 0, 0, s, s, s);
      assert.deepEqual([odd.length, odd.bytes, odd.firstSeq], [4096 + 5, (4096 + 5) * 29, 4]);
      for (let s = odd.firstSeq; s < odd.nextSeq; s++) assert.equal(odd.eventAt(odd.indexOf(s)), s);
    });

    it('fills the source line of the marks made since a sequence number, and only of marks', () => {
      const ring = new TimelineRing(8);
      ring.push(KIND_HIT, 0, 0, 0, 1, 0, 0);
      const from = ring.nextSeq;
      ring.push(KIND_INTERVAL, 0, 0, 0, 1, 0, 1);
      ring.push(KIND_MISS, 0, 0, -1, 2, 1, 0);
      ring.fillLines(from, 42);
      assert.deepEqual([0, 1, 2].map((s) => ring.lineAt(ring.indexOf(s))), [0, 0, 42]);
    });
  });
});
