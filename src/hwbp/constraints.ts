/**
 * Constraint accounting: decides whether one more breakpoint reservation can be granted.
 *
 * THE INVARIANT (per slot class with N registers). For every CPU c, and for every situation that
 * can arise on c — any task t running there, or no task at all:
 *
 *     pinned(c, t) + (flexible(c, t) ? 1 : 0) <= N
 *
 * where pinned(c, t) is the weight of the pinned breakpoints that would be active together (those
 * bound to c, plus t's own breakpoints that apply to c) and flexible(c, t) says whether any flexible
 * breakpoint could be scheduled in that situation. Pinned breakpoints therefore always fit, and
 * when flexible ones exist one register is always left for them to share. Reservation lasts from
 * open to close, whether or not the breakpoint is enabled.
 *
 * Tasks never constrain each other (only one runs on a CPU at a time); a CPU-bound breakpoint is
 * constrained by the worst task. To find the worst task without visiting every task, tasks are
 * counted in histograms indexed by what they use, as modern Linux does for pinned breakpoints; we
 * keep a second histogram per CPU for a task's *demand* (its pinned weight plus the register kept for
 * its flexible breakpoints), which is what flexible breakpoints add to the 2009 design.
 */
import type { ConstraintCpuRow } from './types';

/** One reservation as the accounting sees it. */
export interface SlotRequest {
  /** Owning task, or -1 for a CPU-bound breakpoint. */
  readonly pid: number;
  /** The one CPU it applies to, or -1 for every CPU. */
  readonly cpu: number;
  readonly pinned: boolean;
  /** Registers it takes (always 1 for the registers simulated here, kept for fidelity). */
  readonly weight: number;
}

/** The contract between the kernel and an accounting algorithm (one instance per slot class). */
export interface ConstraintAccounting {
  /** True if adding `req` keeps the invariant. Never changes state. */
  admits(req: SlotRequest): boolean;
  add(req: SlotRequest): void;
  remove(req: SlotRequest): void;
  /** True while any reservation is counted anywhere (every counter is inspected). */
  isUsed(): boolean;
  /** The per-CPU table in the 2009 patch's terms, plus the global histograms. */
  table(): { cpus: ConstraintCpuRow[]; cpu_pinned: number[]; tsk_pinned_all: number[] };
}

export type AccountingFactory = (slots: number, cpus: number) => ConstraintAccounting;

/** count[n-1] = how many members (CPUs or tasks) use exactly n registers. Members using 0 are not counted. */
export class SlotHistogram {
  readonly count: Int32Array;

  constructor(slots: number) {
    this.count = new Int32Array(slots);
  }

  /** A member moves from using `from` registers to using `to`. */
  move(from: number, to: number): void {
    if (from === to) return;
    if (from > 0) this.count[from - 1]--;
    if (to > 0) {
      if (to > this.count.length) {
        throw new Error(`internal: constraint histogram overflow (${to} > ${this.count.length} slots)`);
      }
      this.count[to - 1]++;
    }
  }

  /** Largest n any member uses, 0 when none uses any. */
  max(): number {
    for (let i = this.count.length - 1; i >= 0; i--) {
      if (this.count[i] > 0) return i + 1;
    }
    return 0;
  }

  /** Largest n used by a member of either histogram (members are disjoint). */
  static maxOf(a: SlotHistogram, b: SlotHistogram): number {
    for (let i = a.count.length - 1; i >= 0; i--) {
      if (a.count[i] + b.count[i] > 0) return i + 1;
    }
    return 0;
  }

  isEmpty(): boolean {
    return this.max() === 0;
  }
}

/** What one task holds in one slot class. */
interface TaskSlots {
  /** Weight of its pinned breakpoints on every CPU. */
  allPinned: number;
  /** Number of its flexible breakpoints on every CPU. */
  allFlexible: number;
  /** Its breakpoints bound to one CPU, per CPU; null until it has one (most tasks never do). */
  perCpu: Map<number, { pinned: number; flexible: number }> | null;
  /** Number of breakpoints behind perCpu: while 0 the task is CPU-independent. */
  cpuBoundCount: number;
}

/**
 * The accounting this layer runs on: O(slots) per admission and release for CPU-bound breakpoints
 * and for tasks whose breakpoints all apply to every CPU, never O(tasks); O(CPUs) only where the
 * kernel also needs it (a task mixing CPU-bound and all-CPU breakpoints).
 */
export class HistogramAccounting implements ConstraintAccounting {
  private readonly slots: number;
  private readonly cpus: number;
  /** Weight of pinned CPU-bound breakpoints on each CPU (nr_cpu_bp_pinned). */
  private readonly cpuPinned: Int32Array;
  /** Number of flexible CPU-bound breakpoints on each CPU (nr_bp_flexible). */
  private readonly cpuFlexible: Int32Array;
  /** Over CPUs: how many CPUs have each nr_cpu_bp_pinned. Gives the worst CPU in O(slots). */
  private readonly cpuPinnedHist: SlotHistogram;
  /** Over CPUs: nr_cpu_bp_pinned plus one if a CPU-bound flexible breakpoint keeps a register there. */
  private readonly cpuDemandHist: SlotHistogram;
  /** Over CPU-independent tasks: their pinned weight, and their demand (pinned + kept flexible register). */
  private readonly taskPinnedAll: SlotHistogram;
  private readonly taskDemandAll: SlotHistogram;
  /** Per CPU, the same two histograms over tasks that have CPU-bound breakpoints, valued on that CPU. */
  private readonly taskPinnedOn: SlotHistogram[];
  private readonly taskDemandOn: SlotHistogram[];
  /** Only tasks holding something here have an entry. */
  private readonly tasks = new Map<number, TaskSlots>();

  constructor(slots: number, cpus: number) {
    this.slots = slots;
    this.cpus = cpus;
    this.cpuPinned = new Int32Array(cpus);
    this.cpuFlexible = new Int32Array(cpus);
    this.cpuPinnedHist = new SlotHistogram(slots);
    this.cpuDemandHist = new SlotHistogram(slots);
    this.taskPinnedAll = new SlotHistogram(slots);
    this.taskDemandAll = new SlotHistogram(slots);
    this.taskPinnedOn = [];
    this.taskDemandOn = [];
    for (let c = 0; c < cpus; c++) {
      this.taskPinnedOn.push(new SlotHistogram(slots));
      this.taskDemandOn.push(new SlotHistogram(slots));
    }
  }

  admits(req: SlotRequest): boolean {
    const n = this.slots;
    if (req.pid < 0) {
      const c = req.cpu;
      const cpuPinned = this.cpuPinned[c];
      const cpuKeepsFlexible = this.cpuFlexible[c] > 0;
      const worstTaskPinned = SlotHistogram.maxOf(this.taskPinnedOn[c], this.taskPinnedAll);
      if (req.pinned) {
        // With a CPU flexible breakpoint every situation keeps a register; otherwise only tasks with flexible ones do.
        const worstTask = cpuKeepsFlexible ? worstTaskPinned + 1 : SlotHistogram.maxOf(this.taskDemandOn[c], this.taskDemandAll);
        return cpuPinned + req.weight + worstTask <= n;
      }
      // A flexible breakpoint joins an existing kept register for free; else it needs one in every situation.
      return cpuKeepsFlexible || cpuPinned + worstTaskPinned + 1 <= n;
    }
    const task = this.tasks.get(req.pid);
    if (req.cpu >= 0) return this.fitsOn(task, req.cpu, req);
    if (task === undefined || task.cpuBoundCount === 0) {
      // Fast path: the task weighs the same on every CPU, so only the worst CPU matters.
      const pinned = task?.allPinned ?? 0;
      const hasFlexible = (task?.allFlexible ?? 0) > 0;
      if (req.pinned) {
        const worstCpu = hasFlexible ? this.cpuPinnedHist.max() + 1 : this.cpuDemandHist.max();
        return worstCpu + pinned + req.weight <= n;
      }
      return hasFlexible || this.cpuPinnedHist.max() + pinned + 1 <= n;
    }
    for (let c = 0; c < this.cpus; c++) {
      if (!this.fitsOn(task, c, req)) return false;
    }
    return true;
  }

  /** Would task `task` still fit on CPU c with `req` added? */
  private fitsOn(task: TaskSlots | undefined, c: number, req: SlotRequest): boolean {
    const bound = task?.perCpu?.get(c);
    const pinned = this.cpuPinned[c] + (task?.allPinned ?? 0) + (bound?.pinned ?? 0);
    const flexibleAlready = this.cpuFlexible[c] > 0 || (task?.allFlexible ?? 0) > 0 || (bound?.flexible ?? 0) > 0;
    if (req.pinned) return pinned + req.weight + (flexibleAlready ? 1 : 0) <= this.slots;
    return flexibleAlready || pinned + 1 <= this.slots;
  }

  add(req: SlotRequest): void {
    this.toggle(req, 1);
  }

  remove(req: SlotRequest): void {
    this.toggle(req, -1);
  }

  private toggle(req: SlotRequest, sign: 1 | -1): void {
    if (req.pid < 0) {
      const c = req.cpu;
      const oldPinned = this.cpuPinned[c];
      const oldDemand = oldPinned + (this.cpuFlexible[c] > 0 ? 1 : 0);
      if (req.pinned) this.cpuPinned[c] += sign * req.weight;
      else this.cpuFlexible[c] += sign;
      const newPinned = this.cpuPinned[c];
      this.cpuPinnedHist.move(oldPinned, newPinned);
      this.cpuDemandHist.move(oldDemand, newPinned + (this.cpuFlexible[c] > 0 ? 1 : 0));
      return;
    }

    let task = this.tasks.get(req.pid);
    if (task === undefined) {
      task = { allPinned: 0, allFlexible: 0, perCpu: null, cpuBoundCount: 0 };
      this.tasks.set(req.pid, task);
    }
    const c = req.cpu;
    const wasIndependent = task.cpuBoundCount === 0;
    const willBeIndependent = task.cpuBoundCount + (c >= 0 ? sign : 0) === 0;
    // Only the CPU the breakpoint is bound to changes, unless the task's membership moves between the
    // all-CPU histograms and the per-CPU ones (the kernel's cases 2a/2b) or an all-CPU breakpoint changes
    // a task that is valued per CPU (case 3): those two touch every CPU.
    const oneCpu = !wasIndependent && !willBeIndependent && c >= 0;

    if (wasIndependent) this.detachAll(task);
    else if (oneCpu) this.detachOn(task, c);
    else for (let cpu = 0; cpu < this.cpus; cpu++) this.detachOn(task, cpu);

    if (c < 0) {
      if (req.pinned) task.allPinned += sign * req.weight;
      else task.allFlexible += sign;
    } else {
      task.perCpu ??= new Map();
      let bound = task.perCpu.get(c);
      if (bound === undefined) {
        bound = { pinned: 0, flexible: 0 };
        task.perCpu.set(c, bound);
      }
      if (req.pinned) bound.pinned += sign * req.weight;
      else bound.flexible += sign;
      task.cpuBoundCount += sign;
      if (bound.pinned === 0 && bound.flexible === 0) task.perCpu.delete(c);
      if (task.cpuBoundCount === 0) task.perCpu = null;
    }

    if (willBeIndependent) this.attachAll(task);
    else if (oneCpu) this.attachOn(task, c);
    else for (let cpu = 0; cpu < this.cpus; cpu++) this.attachOn(task, cpu);

    if (task.allPinned === 0 && task.allFlexible === 0 && task.cpuBoundCount === 0) this.tasks.delete(req.pid);
  }

  private detachAll(t: TaskSlots): void {
    this.taskPinnedAll.move(t.allPinned, 0);
    this.taskDemandAll.move(demand(t.allPinned, t.allFlexible), 0);
  }

  private attachAll(t: TaskSlots): void {
    this.taskPinnedAll.move(0, t.allPinned);
    this.taskDemandAll.move(0, demand(t.allPinned, t.allFlexible));
  }

  private detachOn(t: TaskSlots, c: number): void {
    const bound = t.perCpu?.get(c);
    const pinned = t.allPinned + (bound?.pinned ?? 0);
    this.taskPinnedOn[c].move(pinned, 0);
    this.taskDemandOn[c].move(demand(pinned, t.allFlexible + (bound?.flexible ?? 0)), 0);
  }

  private attachOn(t: TaskSlots, c: number): void {
    const bound = t.perCpu?.get(c);
    const pinned = t.allPinned + (bound?.pinned ?? 0);
    this.taskPinnedOn[c].move(0, pinned);
    this.taskDemandOn[c].move(0, demand(pinned, t.allFlexible + (bound?.flexible ?? 0)));
  }

  isUsed(): boolean {
    for (let c = 0; c < this.cpus; c++) {
      if (this.cpuPinned[c] !== 0 || this.cpuFlexible[c] !== 0) return true;
      if (!this.taskPinnedOn[c].isEmpty() || !this.taskDemandOn[c].isEmpty()) return true;
    }
    return !this.cpuPinnedHist.isEmpty() || !this.cpuDemandHist.isEmpty()
      || !this.taskPinnedAll.isEmpty() || !this.taskDemandAll.isEmpty() || this.tasks.size > 0;
  }

  table(): { cpus: ConstraintCpuRow[]; cpu_pinned: number[]; tsk_pinned_all: number[] } {
    const rows: ConstraintCpuRow[] = [];
    for (let c = 0; c < this.cpus; c++) {
      const cpuPinned = this.cpuPinned[c];
      const keeps = this.cpuFlexible[c] > 0;
      const worst = keeps
        ? cpuPinned + 1 + SlotHistogram.maxOf(this.taskPinnedOn[c], this.taskPinnedAll)
        : cpuPinned + SlotHistogram.maxOf(this.taskDemandOn[c], this.taskDemandAll);
      rows.push({
        cpu: c,
        nr_cpu_bp_pinned: cpuPinned,
        nr_bp_flexible: this.cpuFlexible[c],
        task_bp_pinned: sumCounts(this.taskPinnedOn[c], this.taskPinnedAll),
        task_bp_demand: sumCounts(this.taskDemandOn[c], this.taskDemandAll),
        worst_case: worst,
      });
    }
    return { cpus: rows, cpu_pinned: Array.from(this.cpuPinnedHist.count), tsk_pinned_all: Array.from(this.taskPinnedAll.count) };
  }
}

function demand(pinned: number, flexible: number): number {
  return pinned + (flexible > 0 ? 1 : 0);
}

function sumCounts(a: SlotHistogram, b: SlotHistogram): number[] {
  return Array.from(a.count, (v, i) => v + b.count[i]);
}

export const histogramAccounting: AccountingFactory = (slots, cpus) => new HistogramAccounting(slots, cpus);
