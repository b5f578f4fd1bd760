/**
 * Per-CPU scheduling of breakpoints onto physical registers, and simulated time.
 *
 * Which breakpoints may count on a CPU ("eligible"): the enabled ones bound to that CPU, plus the
 * enabled ones of the task running there that apply to it. Of those, every pinned breakpoint is
 * installed (the constraint invariant guarantees they fit), then flexible ones in round-robin order
 * fill whatever registers remain. When more flexible breakpoints are eligible than registers remain,
 * the CPU is overcommitted and the order rotates as perf_rotate_context() rotates a context: every
 * flexible breakpoint that runs goes to the back of the order (keeping their relative order), all of
 * them are taken out, and the next ones in order go in. CPU-bound and task flexible breakpoints share
 * one order, so K of them sharing F registers each run F/K of the time, whoever owns them.
 *
 * The mux timer belongs to the context, not to the CPU: a task's order rotates after every mux units
 * of that task's own overcommitted running time, wherever and whenever it runs, and a CPU with no task
 * has its own phase. perf's timer is per CPU and restarts with each schedule-in; with a timeslice
 * shorter than the interval it would never fire, and even when it does, it fires in the slice of
 * whichever task happens to be aligned with it. Keeping each context's phase makes every context
 * rotate in proportion to its own time, hence the fairness bound in docs/hwbp.md.
 *
 * A breakpoint keeps its register while it stays installed; a newly installed one takes the lowest
 * free register, as arch_install_hw_breakpoint() does.
 *
 * Times are kept lazily, as perf's tstamp does: a breakpoint remembers its CPU's clock when it became
 * eligible or was installed, and the interval is added when that ends, so ticking a CPU costs nothing
 * per breakpoint.
 */
import type { ArchProfile, HwInfo, InstalledView } from './arch/profile';
import { SavedImage } from './checkpoint';
import type { Breakpoint, TaskRecord } from './model';
import { ACCESS_EXEC } from './types';
import { KIND_INTERVAL, typeNameOf, type TimelineEventInfo, type TimelineRing } from './recorder';

/** Most registers one CPU can have installed at once (arm64: 16 instruction + 16 data). */
const MAX_HOT = 32;
/** Buckets of the hash of waiting flexible ranges (8-byte granules), and the widest range hashed. */
export const COLD_BUCKETS = 2048;
export const COLD_WIDE = 256;
export const COLD_GRANULE = 8;

/** The bucket of the 8-byte granule holding byte `x` (x >>> 3 takes the granule mod 2^29; defined for any integer address). An access of at most 8 bytes touches at most two granules, so two lookups settle it. */
export function coldBucket(x: number): number {
  return (x >>> 3) & (COLD_BUCKETS - 1);
}

export class CpuState {
  readonly index: number;
  running: TaskRecord | null = null;
  /** Simulated time on this CPU. */
  clock = 0;
  /** How many of the time units Kernel.tickAllBy() has owed every CPU this one has had (added to clock). */
  ticksApplied = 0;
  /** Per slot class, the breakpoint in each physical register (null = free). */
  readonly registers: (Breakpoint | null)[][];
  /** Control register as install/uninstall maintain it (x86 DR7). */
  control = 0;
  /** Last status reported by a hit (x86 DR6). */
  status: number;
  /** Breakpoints bound to this CPU (no task), enabled or not. */
  readonly bound = new Set<Breakpoint>();
  /** Breakpoints eligible here since the last reschedule, and a spare list to build the next set in. */
  eligible: Breakpoint[] = [];
  private spare: Breakpoint[] = [];
  /** Per class: flexible eligible here in round-robin order (rebuilt by each reschedule). */
  readonly flexibleOrder: Breakpoint[][];
  /** Per class: more flexible eligible than free registers, so the order rotates. */
  readonly overcommitted: boolean[];
  /**
   * Clock value of the next rotation; Infinity while no rotation is necessary (the mux timer is off).
   * While it runs, the running context's phase is mux − (rotateAt − clock), in [0, mux): a tick that
   * reaches rotateAt rotates and re-arms, so rotateAt is always past the clock between calls.
   */
  rotateAt = Infinity;
  /** The mux phase of this CPU's own context (no task running), kept as TaskRecord.muxPhase is for tasks. */
  idlePhase = 0;

  // The hot path's copy of what is installed: dense arrays, rebuilt on every install/uninstall.
  hotCount = 0;
  /** Installed execute breakpoints, and eligible flexible ones waiting (whose misses the timeline records): an instruction fetch needs checking only if either is non-zero. */
  hotExec = 0;
  coldExec = 0;
  /** Smallest lo and largest hi over the installed registers: one comparison rejects most misses. */
  hotMinLo = Infinity;
  hotMaxHi = -Infinity;
  /**
   * Which 8-byte granules (hashed into COLD_BUCKETS buckets) an installed range touches, so that an
   * access inside [hotMinLo, hotMaxHi) that touches none of them is turned away with two lookups
   * instead of a comparison per register. Ranges longer than COLD_WIDE are not marked: while any is
   * installed (hotWide > 0) the filter is not used. hotMarked lists the buckets set (the first
   * hotMarkedCount), to clear them; every bucket at most once, so it never needs more than COLD_BUCKETS.
   */
  readonly hotFilter = new Uint8Array(COLD_BUCKETS);
  readonly hotMarked = new Int32Array(COLD_BUCKETS);
  hotMarkedCount = 0;
  hotWide = 0;
  readonly hotLo = new Float64Array(MAX_HOT);
  readonly hotHi = new Float64Array(MAX_HOT);
  readonly hotMask = new Int32Array(MAX_HOT);
  readonly hotClass = new Int32Array(MAX_HOT);
  readonly hotRegister = new Int32Array(MAX_HOT);
  readonly hotBreakpoint: (Breakpoint | null)[] = new Array<Breakpoint | null>(MAX_HOT).fill(null);
  // A copy of the flexible breakpoints eligible here, installed or not (rebuilt when the eligible set
  // changed, not at every rotation: a rotation only moves breakpoints in and out of registers, so the
  // lookup asks whether a matching one is installed). While recording, an access touching one that is
  // not installed is a missed access; and with time owed (Kernel.tickAllBy), an access touching none
  // of them, nor an installed one, cannot be affected by the rotations owed. The bounds
  // reject most accesses in two comparisons; the rest look in a hash of 8-byte granules (2048
  // buckets chained through the node arrays), whose chains list the ranges covering each granule.
  // Ranges wider than COLD_WIDE bytes are not hashed but listed apart and always compared.
  coldCount = 0;
  /** The eligible set changed since the cold copy was built. */
  coldDirty = true;
  coldMinLo = Infinity;
  coldMaxHi = -Infinity;
  coldLo = new Float64Array(8);
  coldHi = new Float64Array(8);
  coldMask = new Int32Array(8);
  coldClass = new Int32Array(8);
  /** Last lookup that matched each range (so a range in two granules' chains is reported once per access). */
  coldStamp = new Int32Array(8);
  coldBreakpoint: (Breakpoint | null)[] = new Array<Breakpoint | null>(8).fill(null);
  readonly coldHead = new Int32Array(COLD_BUCKETS).fill(-1);
  coldNodes = 0;
  coldNodeRange = new Int32Array(16);
  coldNodeNext = new Int32Array(16);
  coldNodeBucket = new Int32Array(16);
  coldWide = new Int32Array(4);
  coldWideCount = 0;
  /** This CPU as it was at the latest register checkpoint, once it has changed since (src/hwbp/checkpoint.ts). */
  readonly saved: SavedImage;

  constructor(index: number, profile: ArchProfile) {
    this.index = index;
    this.registers = profile.classes.map((c) => new Array<Breakpoint | null>(c.slots).fill(null));
    this.flexibleOrder = profile.classes.map(() => []);
    this.overcommitted = profile.classes.map(() => false);
    this.status = profile.initialStatus;
    this.saved = new SavedImage(profile.classes.map((c) => c.slots));
  }

  /** Swap in a fresh list for the next eligible set; returns it empty. */
  takeSpare(): Breakpoint[] {
    const list = this.spare;
    list.length = 0;
    return list;
  }

  retire(previous: Breakpoint[]): void {
    this.spare = previous;
  }

  view(): InstalledView {
    return {
      byClass: this.registers.map((regs) => regs.map((bp): HwInfo | null => bp?.hw ?? null)),
      control: this.control,
      status: this.status,
    };
  }
}

export class Scheduler {
  readonly cpus: CpuState[];
  /** Execute breakpoints installed or waiting, summed over the CPUs (hotExec + coldExec). */
  execWatched = 0;
  private readonly profile: ArchProfile;
  muxInterval: number;
  /** Generation counter for Breakpoint.mark. */
  private generation = 0;
  /** While above 0, install/uninstall leave the hot path's copy to be rebuilt by whoever batched them. */
  private batchingHot = 0;
  /** Source of rotation keys: a higher key runs later. */
  private rotationSeq = 0;
  /** Epoch of the latest register checkpoint (0: none taken). */
  checkpointEpoch = 0;
  /** The register timeline (null: not recording), and what it knows of the breakpoints its records name. */
  timeline: TimelineRing | null = null;
  readonly timelineEvents = new Map<number, TimelineEventInfo & { hw: HwInfo }>();
  private pruneEventsAt = 1024;

  constructor(profile: ArchProfile, cpus: number, muxInterval: number) {
    this.profile = profile;
    this.muxInterval = muxInterval;
    this.cpus = [];
    for (let c = 0; c < cpus; c++) this.cpus.push(new CpuState(c, profile));
  }

  /** Change the interval; every context's phase restarts (a saved phase may not fit the new interval). */
  setMuxInterval(interval: number, tasks: Iterable<TaskRecord>): void {
    this.muxInterval = interval;
    for (const t of tasks) t.muxPhase = 0;
    for (const c of this.cpus) {
      c.idlePhase = 0;
      if (c.rotateAt !== Infinity) c.rotateAt = c.clock + interval;
    }
  }

  /** A new flexible breakpoint joins the back of the round-robin. */
  enqueue(bp: Breakpoint): void {
    bp.rotationKey = ++this.rotationSeq;
  }

  /** Before anything a checkpoint shows changes on `cpu`: save the CPU's image once per checkpoint. */
  noteChange(cpu: CpuState): void {
    if (cpu.saved.epoch !== this.checkpointEpoch) cpu.saved.capture(cpu, this.checkpointEpoch);
  }

  /** Recompute what is eligible and installed on one CPU. Call after anything that may change it. */
  reschedule(cpu: CpuState): void {
    // Registers change one by one below; the hot path's copy is rebuilt once, at the end.
    this.batchingHot++;
    try {
      this.decide(cpu);
    } finally {
      this.batchingHot--;
    }
    if (this.batchingHot === 0) this.rebuildHot(cpu);
  }

  private decide(cpu: CpuState): void {
    this.noteChange(cpu);
    const gen = ++this.generation;
    const next = cpu.takeSpare();
    for (const bp of cpu.bound) {
      if (!bp.disabled) { bp.mark = gen; next.push(bp); }
    }
    const task = cpu.running;
    if (task !== null) {
      for (const bp of task.breakpoints) {
        if (!bp.disabled && (bp.cpu < 0 || bp.cpu === cpu.index)) { bp.mark = gen; next.push(bp); }
      }
    }
    for (const bp of cpu.eligible) {
      if (bp.mark !== gen) this.stopEligible(bp, cpu);
    }
    for (const bp of next) {
      if (bp.eligibleOn !== cpu.index) {
        bp.eligibleOn = cpu.index;
        bp.enabledSince = cpu.clock;
        cpu.coldDirty = true;
      }
    }
    cpu.retire(cpu.eligible);
    cpu.eligible = next;

    // Decide the installed set per class: every pinned one, then flexible ones in round-robin order.
    const want = ++this.generation;
    let anyOvercommitted = false;
    for (let cls = 0; cls < cpu.registers.length; cls++) {
      const slots = cpu.registers[cls].length;
      const order = cpu.flexibleOrder[cls];
      order.length = 0;
      let pinned = 0;
      for (const bp of next) {
        if (bp.cls !== cls) continue;
        if (bp.pinned) {
          // Should more pinned be eligible than registers exist (only a broken accounting allows it),
          // the ones that do not fit stay out and read as state 'error', as perf marks them.
          if (pinned < slots) bp.mark = want;
          pinned++;
        } else {
          order.push(bp);
        }
      }
      sortByRotationKey(order);
      const free = Math.max(0, slots - pinned);
      for (let i = 0; i < order.length && i < free; i++) order[i].mark = want;
      cpu.overcommitted[cls] = order.length > free;
      anyOvercommitted ||= cpu.overcommitted[cls];
    }
    for (let cls = 0; cls < cpu.registers.length; cls++) {
      const regs = cpu.registers[cls];
      for (let i = 0; i < regs.length; i++) {
        const bp = regs[i];
        if (bp !== null && bp.mark !== want) this.uninstall(cpu, bp);
      }
    }
    // Install in priority order: pinned (CPU-bound before task, the order `next` was built in), then flexible.
    for (const bp of next) {
      if (bp.pinned && bp.mark === want && bp.register < 0) this.install(cpu, bp);
    }
    for (const order of cpu.flexibleOrder) {
      for (const bp of order) {
        if (bp.mark === want && bp.register < 0) this.install(cpu, bp);
      }
    }
    // The timer runs exactly while something is overcommitted; arming it resumes the running
    // context's phase, so a context that keeps being switched out still rotates after every mux
    // units of its own overcommitted time.
    if (!anyOvercommitted) this.pauseTimer(cpu);
    else if (cpu.rotateAt === Infinity) cpu.rotateAt = cpu.clock + this.muxInterval - (cpu.running?.muxPhase ?? cpu.idlePhase);
    this.rebuildCold(cpu);
  }

  /** What the timeline knows of a breakpoint, (re)noted when it is new or modify() changed it. */
  noteEvent(bp: Breakpoint): void {
    // Noted with this hw since the last pruning: the map has it (every rotation reinstalls the same ones).
    if (bp.notedHw === bp.hw && bp.notedPrune === this.prunings) return;
    const info = this.timelineEvents.get(bp.id);
    if (info === undefined || info.hw !== bp.hw) {
      if (info === undefined && this.timelineEvents.size >= this.pruneEventsAt) this.pruneEvents();
      this.timelineEvents.set(bp.id, {
        id: bp.id, owner: bp.owner, pinned: bp.pinned, addr: bp.hw.addr, len: bp.hw.len, access: typeNameOf(bp.hw.type), hw: bp.hw,
      });
    }
    bp.notedHw = bp.hw;
    bp.notedPrune = this.prunings;
  }

  /** Times pruneEvents() has run (a breakpoint noted before the last one may have been forgotten). */
  private prunings = 0;

  /** Forget the breakpoints no record, register or waiting list names any more (amortised: the limit doubles). */
  private pruneEvents(): void {
    this.prunings++;
    const keep = new Set<number>();
    const ring = this.timeline;
    if (ring !== null) for (let s = ring.firstSeq; s < ring.nextSeq; s++) keep.add(ring.eventAt(ring.indexOf(s)));
    for (const cpu of this.cpus) {
      for (const regs of cpu.registers) for (const bp of regs) if (bp !== null) keep.add(bp.id);
      for (const bp of cpu.eligible) keep.add(bp.id);
    }
    for (const id of this.timelineEvents.keys()) if (!keep.has(id)) this.timelineEvents.delete(id);
    this.pruneEventsAt = Math.max(1024, 2 * this.timelineEvents.size);
  }

  /** Rebuild the CPU's list of eligible flexible breakpoints and its filters, if the eligible set changed. */
  rebuildCold(cpu: CpuState): void {
    if (!cpu.coldDirty) return;
    cpu.coldDirty = false;
    let n = 0;
    let minLo = Infinity;
    let maxHi = -Infinity;
    // Empty the buckets used last time.
    for (let i = 0; i < cpu.coldNodes; i++) cpu.coldHead[cpu.coldNodeBucket[i]] = -1;
    cpu.coldNodes = 0;
    cpu.coldWideCount = 0;
    for (const bp of cpu.eligible) {
      if (bp.pinned) continue;
      if (n === cpu.coldLo.length) growCold(cpu);
      const { lo, hi } = bp.hw;
      cpu.coldLo[n] = lo;
      cpu.coldHi[n] = hi;
      cpu.coldMask[n] = bp.hw.accessMask;
      cpu.coldClass[n] = bp.cls;
      cpu.coldStamp[n] = 0;
      cpu.coldBreakpoint[n] = bp;
      if (lo < minLo) minLo = lo;
      if (hi > maxHi) maxHi = hi;
      if (hi - lo > COLD_WIDE) {
        if (cpu.coldWideCount === cpu.coldWide.length) cpu.coldWide = grown(cpu.coldWide, new Int32Array(cpu.coldWide.length * 2));
        cpu.coldWide[cpu.coldWideCount++] = n;
      } else {
        // One node per granule the range touches (its first byte, then every granule on, then its last).
        let previous = -1;
        for (let x = lo; ; x += COLD_GRANULE) {
          const last = x >= hi - 1;
          const bucket = coldBucket(last ? hi - 1 : x);
          if (bucket !== previous) addColdNode(cpu, bucket, n);
          previous = bucket;
          if (last) break;
        }
      }
      n++;
    }
    for (let i = n; i < cpu.coldCount; i++) cpu.coldBreakpoint[i] = null;
    cpu.coldCount = n;
    let exec = 0;
    for (let i = 0; i < n; i++) if ((cpu.coldMask[i] & ACCESS_EXEC) !== 0) exec++;
    this.execWatched += exec - cpu.coldExec;
    cpu.coldExec = exec;
    cpu.coldMinLo = minLo;
    cpu.coldMaxHi = maxHi;
  }

  /** Stop the mux timer, saving how far the running context (task, or none) had got towards its next rotation. */
  private pauseTimer(cpu: CpuState): void {
    if (cpu.rotateAt === Infinity) return;
    const phase = this.muxInterval - (cpu.rotateAt - cpu.clock);
    if (cpu.running !== null) cpu.running.muxPhase = phase;
    else cpu.idlePhase = phase;
    cpu.rotateAt = Infinity;
  }

  /** A breakpoint stops being eligible on `cpu` (its task left, it was disabled or closed). */
  private stopEligible(bp: Breakpoint, cpu: CpuState): void {
    cpu.coldDirty = true;
    if (bp.register >= 0) this.uninstall(cpu, bp);
    bp.timeEnabled += cpu.clock - bp.enabledSince;
    bp.eligibleOn = -1;
  }

  /** Take a breakpoint off every CPU before it is closed or changed; the caller reschedules after. */
  evict(bp: Breakpoint): void {
    if (bp.eligibleOn < 0) return;
    const cpu = this.cpus[bp.eligibleOn];
    this.stopEligible(bp, cpu);
    const i = cpu.eligible.indexOf(bp);
    if (i >= 0) cpu.eligible.splice(i, 1);
  }

  private install(cpu: CpuState, bp: Breakpoint): void {
    this.noteChange(cpu);
    const regs = cpu.registers[bp.cls];
    const index = regs.indexOf(null);
    if (index < 0) return; // cannot happen: the installed set was sized to the registers
    regs[index] = bp;
    bp.register = index;
    bp.runningSince = cpu.clock;
    bp.occupiedSince = cpu.clock;
    if (this.timeline !== null) this.noteEvent(bp);
    cpu.control = this.profile.install(cpu.control, bp.cls, index, bp.hw);
    if (this.batchingHot === 0) this.rebuildHot(cpu);
  }

  private uninstall(cpu: CpuState, bp: Breakpoint): void {
    this.noteChange(cpu);
    this.timeline?.push(KIND_INTERVAL, cpu.index, bp.cls, bp.register, bp.id, bp.occupiedSince, cpu.clock);
    cpu.registers[bp.cls][bp.register] = null;
    cpu.control = this.profile.uninstall(cpu.control, bp.cls, bp.register, bp.hw);
    bp.timeRunning += cpu.clock - bp.runningSince;
    bp.register = -1;
    if (this.batchingHot === 0) this.rebuildHot(cpu);
  }

  private rebuildHot(cpu: CpuState): void {
    let n = 0;
    let minLo = Infinity;
    let maxHi = -Infinity;
    for (let cls = 0; cls < cpu.registers.length; cls++) {
      const regs = cpu.registers[cls];
      for (let i = 0; i < regs.length; i++) {
        const bp = regs[i];
        if (bp === null) continue;
        cpu.hotLo[n] = bp.hw.lo;
        cpu.hotHi[n] = bp.hw.hi;
        cpu.hotMask[n] = bp.hw.accessMask;
        cpu.hotClass[n] = cls;
        cpu.hotRegister[n] = i;
        cpu.hotBreakpoint[n] = bp;
        if (bp.hw.lo < minLo) minLo = bp.hw.lo;
        if (bp.hw.hi > maxHi) maxHi = bp.hw.hi;
        n++;
      }
    }
    for (let i = n; i < cpu.hotCount; i++) cpu.hotBreakpoint[i] = null;
    cpu.hotCount = n;
    let exec = 0;
    for (let i = 0; i < n; i++) if ((cpu.hotMask[i] & ACCESS_EXEC) !== 0) exec++;
    this.execWatched += exec - cpu.hotExec;
    cpu.hotExec = exec;
    cpu.hotMinLo = minLo;
    cpu.hotMaxHi = maxHi;
    for (let i = 0; i < cpu.hotMarkedCount; i++) cpu.hotFilter[cpu.hotMarked[i]] = 0;
    cpu.hotMarkedCount = 0;
    let wide = 0;
    for (let i = 0; i < n; i++) {
      const lo = cpu.hotLo[i];
      const hi = cpu.hotHi[i];
      if (hi - lo > COLD_WIDE) {
        wide++;
        continue;
      }
      // Its first byte's granule, every granule on, and its last byte's.
      for (let x = lo; ; x += COLD_GRANULE) {
        const last = x >= hi - 1;
        const b = coldBucket(last ? hi - 1 : x);
        if (cpu.hotFilter[b] === 0) {
          cpu.hotFilter[b] = 1;
          cpu.hotMarked[cpu.hotMarkedCount++] = b;
        }
        if (last) break;
      }
    }
    cpu.hotWide = wide;
  }

  /** Put a task on a CPU (or none); the previous task's breakpoints leave it. */
  switchTo(cpu: CpuState, task: TaskRecord | null): void {
    if (cpu.running === task) return;
    this.noteChange(cpu);
    // The outgoing context takes its phase with it; reschedule() arms the timer from the incoming one's.
    this.pauseTimer(cpu);
    if (cpu.running !== null) cpu.running.runningOn = -1;
    cpu.running = task;
    if (task !== null) task.runningOn = cpu.index;
    this.reschedule(cpu);
  }

  /** Advance a CPU's clock, rotating flexible breakpoints at each mux interval that finds it overcommitted. */
  tick(cpu: CpuState, elapsed: number): void {
    let remaining = elapsed;
    while (remaining > 0) {
      const untilRotation = cpu.rotateAt - cpu.clock;
      if (remaining < untilRotation) {
        cpu.clock += remaining;
        return;
      }
      cpu.clock = cpu.rotateAt;
      remaining -= untilRotation;
      // Every further rotation instant this tick reaches can be jumped over in one step.
      const further = Math.floor(remaining / this.muxInterval);
      if (further > 0 && this.skipRotations(cpu, further)) remaining -= further * this.muxInterval;
      this.rotate(cpu);
    }
  }

  /**
   * The mux timer fires: in each overcommitted class, every running flexible breakpoint goes to the
   * back of the order (in the order they were in), all are taken out, and reschedule() puts the next
   * ones in order into the lowest free registers. With K flexible on F registers the window moves on
   * by F, so each one runs in floor or ceil of r·F/K of any r consecutive periods.
   */
  private rotate(cpu: CpuState): void {
    let rotated = false;
    for (let cls = 0; cls < cpu.flexibleOrder.length; cls++) rotated ||= cpu.overcommitted[cls];
    if (!rotated) {
      cpu.rotateAt = Infinity;
      return;
    }
    // Nothing but the order changes: the eligible set, the pinned ones and the timer's state are what
    // the last reschedule() left, so this moves the window itself instead of deciding everything anew
    // (O(K), no sort). The result is exactly reschedule()'s: the running ones are the prefix of the
    // order, fresh keys handed out in order put them behind everyone else in the order they were in,
    // and the next ones go into the lowest free registers, class by class.
    this.batchingHot++;
    for (let cls = 0; cls < cpu.flexibleOrder.length; cls++) {
      if (!cpu.overcommitted[cls]) continue;
      const order = cpu.flexibleOrder[cls];
      let f = 0;
      while (f < order.length && order[f].register >= 0) f++;
      for (let i = 0; i < f; i++) {
        const bp = order[i];
        bp.rotationKey = ++this.rotationSeq;
        this.uninstall(cpu, bp);
      }
      rotateLeft(order, f);
      for (let i = 0; i < f; i++) this.install(cpu, order[i]);
    }
    this.batchingHot--;
    cpu.rotateAt += this.muxInterval;
    if (this.batchingHot === 0) this.rebuildHot(cpu);
  }

  /**
   * Perform `m` rotations (at this instant and the m − 1 instants after it) arithmetically, leaving
   * exactly what rotating one by one would: nothing else changes during one tick. Each rotation of a
   * class with K flexible on F registers shifts its order cyclically by F, so with `o` the order now,
   * after r rotations the order is o shifted by r·F (mod K) and o[(r·F + j) mod K] runs in the j-th
   * lowest free register (every rotation reinstalls the whole window, so the assignment is canonical).
   * Window r (1 ≤ r ≤ m) runs for one interval; L = K / gcd(K, F) consecutive windows cover every
   * position F / gcd(K, F) times, so whole cycles are counted at once and the remainder with a
   * difference array. The last move of o[p] is the latest window w < m holding it: windows m − 1,
   * m − 2, … tile the ring backwards from position m·F, so it is found in O(1). O(K) per class,
   * whatever m is. Returns false (and does nothing) if nothing is overcommitted.
   */
  private skipRotations(cpu: CpuState, m: number): boolean {
    const mux = this.muxInterval;
    // Registers change below only if some class rotates: save them for the checkpoint first.
    let rotates = false;
    for (const o of cpu.overcommitted) rotates ||= o;
    if (rotates) this.noteChange(cpu);
    const start = cpu.clock;
    const end = start + m * mux;
    if (rotates && this.timeline !== null) this.recordSkippedWindows(cpu, m);
    let any = false;
    /** Per rotating class, the breakpoints moved, in the order of their last move (window, then place in it). */
    const movedByClass: { bp: Breakpoint; window: number }[][] = [];
    for (let cls = 0; cls < cpu.flexibleOrder.length; cls++) {
      if (!cpu.overcommitted[cls]) continue;
      any = true;
      const order = cpu.flexibleOrder[cls];
      const k = order.length;
      let f = 0;
      for (const bp of order) if (bp.register >= 0) f++;
      // No register left to share (only a broken accounting allows it): the rotations move nothing.
      if (f === 0) continue;
      const regs = cpu.registers[cls];
      // Take the window out at the start; the share of each window is added below.
      for (let i = 0; i < f; i++) {
        const bp = order[i];
        bp.timeRunning += start - bp.runningSince;
        regs[bp.register] = null;
        cpu.control = this.profile.uninstall(cpu.control, cls, bp.register, bp.hw);
        bp.register = -1;
      }
      const g = gcd(k, f);
      const cycle = k / g;
      const q = Math.floor(m / cycle);
      const s = m - q * cycle;
      // Windows q·L + 1 … m are windows 1 … s of a cycle: mark the positions each covers.
      const partial = new Int32Array(k + 1);
      for (let r = 1; r <= s; r++) {
        const a = (r * f) % k;
        const b = a + f;
        partial[a]++;
        if (b <= k) partial[b]--;
        else { partial[k]--; partial[0]++; partial[b - k]--; }
      }
      const shift = ((m % k) * f) % k; // m·F mod K without leaving exact integers
      let covered = 0;
      for (let p = 0; p < k; p++) {
        covered += partial[p];
        order[p].timeRunning += (q * (f / g) + covered) * mux;
      }
      // Last moves: o[(m·F − d) mod K] for d = K … 1 was moved by window m − ceil(d / F), if that is ≥ 0;
      // d descending visits them in order of window, then of place in the window.
      const moved: { bp: Breakpoint; window: number }[] = [];
      for (let d = k; d >= 1; d--) {
        const window = m - Math.ceil(d / f);
        if (window >= 0) moved.push({ bp: order[(shift - d + k) % k], window });
      }
      movedByClass.push(moved);
      // The order after m rotations is o shifted by m·F, and its first F run, in the lowest free registers.
      const before = order.slice();
      for (let j = 0; j < k; j++) order[j] = before[(shift + j) % k];
      let next = 0;
      for (let j = 0; j < f; j++) {
        const bp = order[j];
        while (regs[next] !== null) next++;
        regs[next] = bp;
        bp.register = next;
        bp.runningSince = end;
        // The last window went in at the last of the m rotations (the one after it comes at `end`).
        bp.occupiedSince = end - mux;
        cpu.control = this.profile.install(cpu.control, cls, next, bp.hw);
      }
    }
    if (!any) return false;
    // Stepping hands out fresh keys window by window, class by class within one rotation: re-issue
    // them in that order (merging the classes' lists) so the relative order, with each other and with
    // every breakpoint not moved (which keeps its older key), is what stepping gives.
    const heads = movedByClass.map(() => 0);
    for (;;) {
      let pick = -1;
      for (let c = 0; c < movedByClass.length; c++) {
        if (heads[c] >= movedByClass[c].length) continue;
        if (pick < 0 || movedByClass[c][heads[c]].window < movedByClass[pick][heads[pick]].window) pick = c;
      }
      if (pick < 0) break;
      movedByClass[pick][heads[pick]++].bp.rotationKey = ++this.rotationSeq;
    }
    cpu.clock = end;
    cpu.rotateAt = end;
    this.rebuildHot(cpu);
    this.rebuildCold(cpu);
    return true;
  }

  /**
   * The intervals m rotations starting now close, as stepping would record them: at each rotation
   * instant w (0 … m − 1, at clock + w·mux), class by class, the window in place leaves its registers
   * in order. Window 0 is what is installed now; window w ≥ 1 is o[(w·F + j) mod K] in the j-th
   * lowest free register, from the rotation before. Only the newest `capacity` can be kept, so older
   * ones are counted as dropped without being written: O(min(m·F, capacity) + K) whatever m is.
   */
  private recordSkippedWindows(cpu: CpuState, m: number): void {
    const ring = this.timeline!;
    const mux = this.muxInterval;
    const start = cpu.clock;
    const classes: { cls: number; order: Breakpoint[]; f: number; free: number[] }[] = [];
    let perWindow = 0;
    for (let cls = 0; cls < cpu.flexibleOrder.length; cls++) {
      if (!cpu.overcommitted[cls]) continue;
      const order = cpu.flexibleOrder[cls].slice();
      let f = 0;
      for (const bp of order) if (bp.register >= 0) f++;
      if (f === 0) continue;
      for (const bp of order) this.noteEvent(bp);
      const regs = cpu.registers[cls];
      const free: number[] = [];
      for (let i = 0; i < regs.length; i++) {
        const bp = regs[i];
        if (bp === null || (!bp.pinned && bp.register >= 0 && order.includes(bp))) free.push(i);
      }
      classes.push({ cls, order, f, free });
      perWindow += f;
    }
    if (perWindow === 0) return;
    const skip = ring.skipIntervals(m * perWindow);
    let w = Math.floor(skip / perWindow);
    let within = skip - w * perWindow;
    for (; w < m; w++) {
      const closes = start + w * mux;
      for (const { cls, order, f, free } of classes) {
        const k = order.length;
        const base = ((w % k) * f) % k;
        for (let j = 0; j < f; j++) {
          if (within > 0) { within--; continue; }
          if (w === 0) {
            const bp = order[j];
            ring.push(KIND_INTERVAL, cpu.index, cls, bp.register, bp.id, bp.occupiedSince, closes);
          } else {
            const bp = order[(base + j) % k];
            ring.push(KIND_INTERVAL, cpu.index, cls, free[j], bp.id, closes - mux, closes);
          }
        }
      }
    }
  }
}

function grown<T extends Float64Array | Int32Array>(old: T, fresh: T): T {
  fresh.set(old);
  return fresh;
}

function addColdNode(cpu: CpuState, bucket: number, range: number): void {
  const i = cpu.coldNodes++;
  if (i === cpu.coldNodeRange.length) {
    const size = i * 2;
    cpu.coldNodeRange = grown(cpu.coldNodeRange, new Int32Array(size));
    cpu.coldNodeNext = grown(cpu.coldNodeNext, new Int32Array(size));
    cpu.coldNodeBucket = grown(cpu.coldNodeBucket, new Int32Array(size));
  }
  cpu.coldNodeRange[i] = range;
  cpu.coldNodeBucket[i] = bucket;
  cpu.coldNodeNext[i] = cpu.coldHead[bucket];
  cpu.coldHead[bucket] = i;
}

function growCold(cpu: CpuState): void {
  const size = cpu.coldLo.length * 2;
  cpu.coldLo = grown(cpu.coldLo, new Float64Array(size));
  cpu.coldHi = grown(cpu.coldHi, new Float64Array(size));
  cpu.coldMask = grown(cpu.coldMask, new Int32Array(size));
  cpu.coldClass = grown(cpu.coldClass, new Int32Array(size));
  cpu.coldStamp = grown(cpu.coldStamp, new Int32Array(size));
  cpu.coldBreakpoint = cpu.coldBreakpoint.concat(new Array<Breakpoint | null>(size - cpu.coldBreakpoint.length).fill(null));
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const r = a % b;
    a = b;
    b = r;
  }
  return a;
}

/** Shift `a` cyclically left by `n` in place (three reversals: no allocation). */
function rotateLeft<T>(a: T[], n: number): void {
  const k = a.length;
  if (k === 0 || n % k === 0) return;
  n %= k;
  if (n <= ROTATE_ROOM) {
    // The usual case, a window of a few registers: k moves instead of about 1.5 k swaps.
    const room = rotateRoom as T[];
    for (let i = 0; i < n; i++) room[i] = a[i];
    for (let i = n; i < k; i++) a[i - n] = a[i];
    for (let i = 0; i < n; i++) {
      a[k - n + i] = room[i];
      room[i] = null as T; // keeps nothing alive past the call
    }
    return;
  }
  reverse(a, 0, n - 1);
  reverse(a, n, k - 1);
  reverse(a, 0, k - 1);
}

/** rotateLeft's room for the window it moves to the back, when that is at most ROTATE_ROOM long. */
const ROTATE_ROOM = 16;
const rotateRoom: unknown[] = new Array<unknown>(ROTATE_ROOM).fill(null);

function reverse<T>(a: T[], i: number, j: number): void {
  for (; i < j; i++, j--) {
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/**
 * Sort by rotation key, in place: an insertion sort with the comparison inline. The lists are
 * short (a context's flexible breakpoints) and nearly in order already (the order before a
 * rotation, shifted), which is where insertion sort is at its best; this runs at every context
 * switch, so it allocates nothing and calls nothing.
 */
function sortByRotationKey(a: Breakpoint[]): void {
  for (let i = 1; i < a.length; i++) {
    const x = a[i];
    const key = x.rotationKey;
    let j = i - 1;
    while (j >= 0 && a[j].rotationKey > key) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = x;
  }
}
