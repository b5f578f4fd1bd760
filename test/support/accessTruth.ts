/**
 * Ground truth for flexible watchpoints' estimates: how many accesses the program really made to
 * each watched range. Every access of the simulated machine goes through its kernel's access(), so
 * wrapping that one method on the machine's kernel sees them all, whatever the registers hold; the
 * count is independent of which breakpoints were installed when. Used by the estimate benchmark
 * (bench/estimates.ts) and checked on its own in test/adapter/estimates.test.ts.
 */
import { WatchpointManager, type WatchMode, type WatchpointInfo } from '../../src/adapter/watchpoints';
import type { AccessKind, Kernel } from '../../src/hwbp';
import type { Machine, StopEvent } from '../../src/target';

export interface WatchedRange {
  addr: number;
  size: number;
  /** As a watchpoint's access: 'w' counts writes, 'rw' reads and writes, 'r' reads, 'x' executions. */
  access: 'w' | 'rw' | 'r' | 'x';
}

/**
 * Start counting accesses to each range; returns the live counts (one per range, in order) and a
 * function that puts the kernel's own access() back.
 */
export function countAccesses(kernel: Kernel, ranges: readonly WatchedRange[]): { counts: number[]; restore: () => void } {
  const counts = ranges.map(() => 0);
  const los = ranges.map((r) => r.addr);
  const his = ranges.map((r) => (r.access === 'x' ? r.addr + 1 : r.addr + r.size));
  const wants = ranges.map((r) => (kind: AccessKind) =>
    r.access === 'x' ? kind === 'exec' : r.access === 'rw' ? kind === 'read' || kind === 'write' : r.access === 'r' ? kind === 'read' : kind === 'write');
  const own = Object.prototype.hasOwnProperty.call(kernel, 'access');
  const original = kernel.access;
  kernel.access = function (this: Kernel, cpu, addr, size, kind) {
    const end = kind === 'exec' ? addr + 1 : addr + size;
    for (let i = 0; i < counts.length; i++) {
      if (addr < his[i] && end > los[i] && wants[i](kind)) counts[i]++;
    }
    return original.call(this, cpu, addr, size, kind);
  };
  const restore = () => {
    if (own) kernel.access = original;
    else delete (kernel as { access?: unknown }).access;
  };
  return { counts, restore };
}

export interface WatchSpecLite {
  expr: string;
  access: 'w' | 'rw' | 'r';
  mode: WatchMode;
}

export interface TruthRow {
  info: WatchpointInfo;
  /** Accesses the program really made to the watched range. */
  truth: number;
}

/**
 * Run a machine to its end the way `hwbp run` does (watchpoints on every thread through the
 * watchpoint manager, run in slices, every hit stop resumed), counting the true accesses alongside.
 */
export function runWithTruth(machine: Machine, watches: readonly WatchSpecLite[], maxSteps = 200_000_000): { rows: TruthRow[]; hitStops: number; stop: StopEvent | null } {
  const manager = new WatchpointManager(machine);
  const infos = watches.map((w) => {
    const target = machine.evaluate(w.expr, null);
    if (target.addr === null || target.size === null) throw new Error(`${w.expr} is not in memory`);
    return manager.add({ label: w.expr, addr: target.addr, size: target.size, access: w.access, mode: w.mode });
  });
  const truth = countAccesses(machine.kernel, infos);
  let hitStops = 0;
  let stop: StopEvent | null = null;
  try {
    for (let steps = 0; steps < maxSteps;) {
      const budget = Math.min(1_000_000, maxSteps - steps);
      stop = machine.run(budget);
      if (stop === null) {
        steps += budget;
        continue;
      }
      if (stop.reason !== 'data' && stop.reason !== 'exec') break;
      hitStops++;
      stop = null;
    }
  } finally {
    truth.restore();
  }
  const rows = infos.map((info, i) => ({ info: manager.find(info.id)!, truth: truth.counts[i] }));
  manager.dispose();
  return { rows, hitStops, stop };
}
