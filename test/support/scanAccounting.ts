/**
 * A brute-force constraint accounting: it keeps every reservation in one list and, to answer a
 * question, scans the list for every CPU and every task, as the 2009 code did (O(#cpus × #tasks)).
 * It shares no code with src/hwbp/constraints.ts. The property test uses it as the reference model,
 * and the benchmark as the naive algorithm to compare against.
 */
import type { ConstraintAccounting, ConstraintCpuRow, SlotRequest } from '../../src/hwbp';

interface Usage {
  pinned: number;
  flexible: number;
}

export class ScanAccounting implements ConstraintAccounting {
  private readonly reservations: SlotRequest[] = [];

  constructor(private readonly slots: number, private readonly cpus: number) {}

  admits(req: SlotRequest): boolean {
    this.reservations.push(req);
    try {
      const cpus = req.cpu >= 0 ? [req.cpu] : range(this.cpus);
      for (const c of cpus) {
        // A CPU-bound request affects every situation on c; a task's request only that task's.
        if (req.pid < 0) {
          if (this.worstOn(c) > this.slots) return false;
        } else if (this.situation(c, req.pid) > this.slots) {
          return false;
        }
      }
      return true;
    } finally {
      this.reservations.pop();
    }
  }

  add(req: SlotRequest): void {
    this.reservations.push(req);
  }

  remove(req: SlotRequest): void {
    const i = this.reservations.indexOf(req);
    if (i < 0) throw new Error('ScanAccounting: removing a reservation that was never added');
    this.reservations.splice(i, 1);
  }

  isUsed(): boolean {
    return this.reservations.length > 0;
  }

  /** Registers in use on CPU c while `pid` runs there (-1: no task): pinned plus one kept for flexible. */
  situation(c: number, pid: number): number {
    let pinned = 0;
    let flexible = false;
    for (const r of this.reservations) {
      const applies = r.pid < 0 ? r.cpu === c : r.pid === pid && pid >= 0 && (r.cpu < 0 || r.cpu === c);
      if (!applies) continue;
      if (r.pinned) pinned += r.weight;
      else flexible = true;
    }
    return pinned + (flexible ? 1 : 0);
  }

  /** The worst situation on CPU c, over every task that holds anything and over no task. */
  worstOn(c: number): number {
    let worst = this.situation(c, -1);
    for (const pid of this.pids()) worst = Math.max(worst, this.situation(c, pid));
    return worst;
  }

  /** True if no situation anywhere uses more registers than exist. */
  invariantHolds(): boolean {
    return range(this.cpus).every((c) => this.worstOn(c) <= this.slots);
  }

  table(): { cpus: ConstraintCpuRow[]; cpu_pinned: number[]; tsk_pinned_all: number[] } {
    const pids = this.pids();
    const cpuPinnedHist = new Array<number>(this.slots).fill(0);
    const rows = range(this.cpus).map((c) => {
      const cpuUsage = this.usage((r) => r.pid < 0 && r.cpu === c);
      const taskPinned = new Array<number>(this.slots).fill(0);
      const taskDemand = new Array<number>(this.slots).fill(0);
      for (const pid of pids) {
        const u = this.usage((r) => r.pid === pid && (r.cpu < 0 || r.cpu === c));
        if (u.pinned > 0) taskPinned[u.pinned - 1]++;
        const d = u.pinned + (u.flexible > 0 ? 1 : 0);
        if (d > 0) taskDemand[d - 1]++;
      }
      if (cpuUsage.pinned > 0) cpuPinnedHist[cpuUsage.pinned - 1]++;
      return {
        cpu: c,
        nr_cpu_bp_pinned: cpuUsage.pinned,
        nr_bp_flexible: cpuUsage.flexible,
        task_bp_pinned: taskPinned,
        task_bp_demand: taskDemand,
        worst_case: this.worstOn(c),
      };
    });
    const tskPinnedAll = new Array<number>(this.slots).fill(0);
    for (const pid of pids) {
      const mine = this.reservations.filter((r) => r.pid === pid);
      if (mine.some((r) => r.cpu >= 0)) continue; // tasks with a CPU-bound breakpoint are counted per CPU
      const pinned = mine.filter((r) => r.pinned).reduce((s, r) => s + r.weight, 0);
      if (pinned > 0) tskPinnedAll[pinned - 1]++;
    }
    return { cpus: rows, cpu_pinned: cpuPinnedHist, tsk_pinned_all: tskPinnedAll };
  }

  private usage(filter: (r: SlotRequest) => boolean): Usage {
    const u = { pinned: 0, flexible: 0 };
    for (const r of this.reservations) {
      if (!filter(r)) continue;
      if (r.pinned) u.pinned += r.weight;
      else u.flexible++;
    }
    return u;
  }

  private pids(): number[] {
    return [...new Set(this.reservations.filter((r) => r.pid >= 0).map((r) => r.pid))];
  }
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
