/**
 * Per-CPU scheduling of breakpoints onto physical registers, and simulated time.
 *
 * Which breakpoints may count on a CPU ("eligible"): the enabled ones bound to that CPU, plus the
 * enabled ones of the task running there that apply to it. Of those, every pinned breakpoint is
 * installed (the constraint invariant guarantees they fit), then flexible ones in round-robin order
 * fill whatever registers remain. When more flexible breakpoints are eligible than registers remain,
 * the CPU is overcommitted: every mux interval the first running one moves to the back of the order,
 * as perf rotates its flexible groups. CPU-bound and task flexible breakpoints share one order, so K
 * of them sharing F registers each run F/K of the time, whoever owns them.
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

/** Most registers one CPU can have installed at once (arm64: 16 instruction + 16 data). */
const MAX_HOT = 32;

export class CpuState {
  readonly index: number;
  running: TaskRecord | null = null;
  /** Simulated time on this CPU. */
  clock = 0;
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
  /** Clock value of the next rotation; Infinity while no rotation is necessary (the mux timer is off). */
  rotateAt = Infinity;

  // The hot path's copy of what is installed: dense arrays, rebuilt on every install/uninstall.
  hotCount = 0;
  /** Smallest lo and largest hi over the installed registers: one comparison rejects most misses. */
  hotMinLo = Infinity;
  hotMaxHi = -Infinity;
  readonly hotLo = new Float64Array(MAX_HOT);
  readonly hotHi = new Float64Array(MAX_HOT);
  readonly hotMask = new Int32Array(MAX_HOT);
  readonly hotClass = new Int32Array(MAX_HOT);
  readonly hotRegister = new Int32Array(MAX_HOT);
  readonly hotBreakpoint: (Breakpoint | null)[] = new Array<Breakpoint | null>(MAX_HOT).fill(null);
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

const byRotationKey = (a: Breakpoint, b: Breakpoint) => a.rotationKey - b.rotationKey;

export class Scheduler {
  readonly cpus: CpuState[];
  private readonly profile: ArchProfile;
  muxInterval: number;
  /** Generation counter for Breakpoint.mark. */
  private generation = 0;
  /** Source of rotation keys: a higher key runs later. */
  private rotationSeq = 0;
  /** Epoch of the latest register checkpoint (0: none taken). */
  checkpointEpoch = 0;

  constructor(profile: ArchProfile, cpus: number, muxInterval: number) {
    this.profile = profile;
    this.muxInterval = muxInterval;
    this.cpus = [];
    for (let c = 0; c < cpus; c++) this.cpus.push(new CpuState(c, profile));
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
      order.sort(byRotationKey);
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
    if (!anyOvercommitted) cpu.rotateAt = Infinity;
    else if (cpu.rotateAt === Infinity) cpu.rotateAt = cpu.clock + this.muxInterval;
  }

  /** A breakpoint stops being eligible on `cpu` (its task left, it was disabled or closed). */
  private stopEligible(bp: Breakpoint, cpu: CpuState): void {
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
    cpu.control = this.profile.install(cpu.control, bp.cls, index, bp.hw);
    this.rebuildHot(cpu);
  }

  private uninstall(cpu: CpuState, bp: Breakpoint): void {
    this.noteChange(cpu);
    cpu.registers[bp.cls][bp.register] = null;
    cpu.control = this.profile.uninstall(cpu.control, bp.cls, bp.register, bp.hw);
    bp.timeRunning += cpu.clock - bp.runningSince;
    bp.register = -1;
    this.rebuildHot(cpu);
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
    cpu.hotMinLo = minLo;
    cpu.hotMaxHi = maxHi;
  }

  /** Put a task on a CPU (or none); the previous task's breakpoints leave it. */
  switchTo(cpu: CpuState, task: TaskRecord | null): void {
    if (cpu.running === task) return;
    this.noteChange(cpu);
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

  /** The mux timer fires: rotate each overcommitted class by one, or stop the timer if none is. */
  private rotate(cpu: CpuState): void {
    let rotated = false;
    for (let cls = 0; cls < cpu.flexibleOrder.length; cls++) {
      if (!cpu.overcommitted[cls]) continue;
      const order = cpu.flexibleOrder[cls];
      // The first running flexible breakpoint goes to the back (the first in order, since they run in order).
      const first = order.find((bp) => bp.register >= 0) ?? order[0];
      first.rotationKey = ++this.rotationSeq;
      rotated = true;
    }
    if (!rotated) {
      cpu.rotateAt = Infinity;
      return;
    }
    cpu.rotateAt += this.muxInterval;
    this.reschedule(cpu);
  }

  /**
   * Perform `m` rotations (at this instant and the m - 1 instants after it) arithmetically, leaving
   * exactly what rotating one by one would: nothing else changes during one tick, so rotation r
   * (0-based) of a class moves order[r mod K] to the back and order[(r + F) mod K] takes the
   * register it leaves. Hence after m rotations the ones at positions m … m+F-1 (mod K) run, the one
   * at position p holding the register that order[p mod F] held; order[i] ran during every rotation
   * r in 1…m for which (i − r) mod K < F; and the order is by each one's last move. O(K) per class,
   * whatever m is. Returns false (and does nothing) if some class has no register to rotate.
   */
  private skipRotations(cpu: CpuState, m: number): boolean {
    const mux = this.muxInterval;
    const classes: { order: Breakpoint[]; f: number; rank: number }[] = [];
    for (let cls = 0; cls < cpu.flexibleOrder.length; cls++) {
      if (!cpu.overcommitted[cls]) continue;
      const order = cpu.flexibleOrder[cls];
      const f = cpu.registers[cls].length - countPinnedInstalled(cpu, cls);
      if (f <= 0 || f >= order.length) return false;
      classes.push({ order, f, rank: classes.length });
    }
    if (classes.length === 0) return false;
    this.noteChange(cpu);
    const start = cpu.clock;
    const end = start + m * mux;
    const moved: { bp: Breakpoint; last: number; rank: number }[] = [];
    for (const { order, f, rank } of classes) {
      const k = order.length;
      const cls = order[0].cls;
      const registers = order.slice(0, f).map((bp) => bp.register);
      // Close the running intervals at the start of the window; the window's share is added below.
      for (let i = 0; i < f; i++) {
        const bp = order[i];
        bp.timeRunning += start - bp.runningSince;
        cpu.registers[cls][bp.register] = null;
        cpu.control = this.profile.uninstall(cpu.control, cls, bp.register, bp.hw);
        bp.register = -1;
      }
      // Intervals each one ran: q whole cycles of K rotations give F each; the s left over are
      // counted with a difference array over the positions they cover.
      const q = Math.floor(m / k);
      const s = m - q * k;
      const partial = new Int32Array(k + 1);
      for (let r = 1; r <= s; r++) {
        // Rotation r leaves positions r … r+F-1 (mod K) running.
        const a = r % k;
        const b = a + f;
        partial[a]++;
        if (b <= k) partial[b]--;
        else { partial[k]--; partial[0]++; partial[b - k]--; }
      }
      let running = 0;
      for (let i = 0; i < k; i++) {
        running += partial[i];
        order[i].timeRunning += (q * f + running) * mux;
        // Its last move: the largest rotation index x <= m-1 with x ≡ i (mod K), if any.
        if (m - 1 >= i) moved.push({ bp: order[i], last: i + Math.floor((m - 1 - i) / k) * k, rank });
      }
      for (let t = 0; t < f; t++) {
        const p = m + t;
        const bp = order[p % k];
        const index = registers[p % f];
        cpu.registers[cls][index] = bp;
        bp.register = index;
        bp.runningSince = end;
        cpu.control = this.profile.install(cpu.control, cls, index, bp.hw);
      }
    }
    // Only the relative order of keys matters: re-issue them compactly in the order of the last
    // moves (rotation index, then class order within one interval), as stepping would have.
    moved.sort((a, b) => a.last - b.last || a.rank - b.rank);
    for (const { bp } of moved) bp.rotationKey = ++this.rotationSeq;
    for (const { order } of classes) order.sort(byRotationKey);
    cpu.clock = end;
    cpu.rotateAt = end;
    this.rebuildHot(cpu);
    return true;
  }
}

function countPinnedInstalled(cpu: CpuState, cls: number): number {
  let n = 0;
  for (const bp of cpu.registers[cls]) if (bp !== null && bp.pinned) n++;
  return n;
}
