/**
 * An analogue of `perf bench breakpoint thread`: batches of P × T tasks are created, each opens B
 * pinned breakpoints bound to itself on every CPU, and then they all exit. One op = one task's whole
 * life. The same workload runs on the histogram accounting of src/hwbp and on a naive accounting
 * that scans every task for every CPU (test/support/scanAccounting.ts, as the 2009 code did).
 *
 * The configurations compared for flatness are sampled in turn (A, B, C, A, B, C, …) so that
 * drift in the machine's speed or the heap affects them alike; each figure is a median.
 */
import { performance } from 'node:perf_hooks';
import { createKernel, type AccountingFactory, type Task } from '../src/hwbp';
import { ScanAccounting } from '../test/support/scanAccounting';
import { fmt, line, median } from './util';

interface Config {
  label: string;
  cpus: number;
  tasks: number;
  breakpoints: number;
  accounting?: AccountingFactory;
}

/** Ops per sample for every configuration, so that samples are comparable. */
const OPS_PER_SAMPLE = 10240;

/** A workload bound to its own kernel; each call runs one sample and returns µs per op. */
function workload(config: Config, opsPerSample: number): () => number {
  const kernel = createKernel({ cpus: config.cpus, ...(config.accounting ? { accounting: config.accounting } : {}) });
  const batch = (): void => {
    const tasks: Task[] = [];
    for (let i = 0; i < config.tasks; i++) {
      const t = kernel.createTask();
      for (let b = 0; b < config.breakpoints; b++) {
        kernel.perfEventOpen({ type: 'rw', addr: 0x1000 + b, len: 1 }, { pid: t.pid, cpu: -1 });
      }
      tasks.push(t);
    }
    for (const t of tasks) kernel.exitTask(t);
    if (kernel.isUsed()) throw new Error('benchmark leaked a reservation');
  };
  const batches = Math.max(1, Math.round(opsPerSample / config.tasks));
  return () => {
    const start = performance.now();
    for (let i = 0; i < batches; i++) batch();
    return ((performance.now() - start) * 1000) / (batches * config.tasks);
  };
}

export function runAccountingBench(write: (s: string) => void): void {
  const base: Config = { label: 'histogram accounting (src/hwbp)', cpus: 256, tasks: 256, breakpoints: 4 };
  const configs: Config[] = [
    base,
    { ...base, label: `histogram, 10× tasks (${base.tasks * 10} per batch)`, tasks: base.tasks * 10 },
    { ...base, label: `histogram, 16× CPUs (${base.cpus * 16})`, cpus: base.cpus * 16 },
  ];
  write(`\n== perf bench breakpoint thread analogue: ${base.tasks} tasks per batch (P × T = 16 × 16), B = ${base.breakpoints}, ${base.cpus} CPUs ==`);
  const runs = configs.map((c) => workload(c, OPS_PER_SAMPLE));
  for (const run of runs) run(); // warm-up: let the JIT settle on every shape
  const samples: number[][] = configs.map(() => []);
  for (let round = 0; round < 9; round++) runs.forEach((run, i) => samples[i].push(run()));
  const micros = samples.map(median);

  // The naive scan is far slower: a median of three single batches measures it.
  const naiveRun = workload({ ...base, accounting: (slots, cpus) => new ScanAccounting(slots, cpus) }, base.tasks);
  const naive = median([naiveRun(), naiveRun(), naiveRun()]);

  const w = [44, 12, 10];
  write(line(['configuration', 'µs/op', 'ratio'], w));
  write(line([base.label, fmt(micros[0]), fmt(1)], w));
  write(line(['naive: scan every task for every CPU', fmt(naive), fmt(naive / micros[0])], w));
  for (let i = 1; i < configs.length; i++) write(line([configs[i].label, fmt(micros[i]), fmt(micros[i] / micros[0])], w));
  const flat = micros.every((m) => m / micros[0] <= 1.5);
  write(`flat within 1.5× at 10× tasks and 16× CPUs: ${flat ? 'yes' : 'NO'}`);
  write(`the naive accounting costs ${(naive / micros[0]).toFixed(0)}× more per op at this size, and grows with tasks × CPUs`);
}

/**
 * The naive accounting with a way to skip its own check: used only to build the state of a
 * half-finished batch quickly, so that single operations can then be timed at that size.
 */
class PrefilledScan extends ScanAccounting {
  trusting = false;

  override admits(req: Parameters<ScanAccounting['admits']>[0]): boolean {
    return this.trusting || super.admits(req);
  }
}

/** Kernel figures for `perf bench -r 30 breakpoint thread -b 4 -p 64 -t 64` on 256 CPUs (see the reference notes). */
const KERNEL_BEFORE = { totalSec: 236.418, usecsPerOp: 123134.794271 };
const KERNEL_AFTER = { totalSec: 0.067, usecsPerOp: 35.292187 };

/**
 * `perf bench breakpoint thread -b 4 -p 64 -t 64` at the kernel's own size: batches of 64 × 64 =
 * 4096 tasks live at once on 256 CPUs, 4 pinned breakpoints each. The histogram accounting runs
 * whole batches. The naive scan would need hours for one batch here, so it is timed on a bounded
 * number of task lifetimes (open B breakpoints, exit) with the batch prefilled to 1/8, 3/8, 5/8 and
 * 7/8 of its tasks; their mean estimates the per-op cost over a whole batch (the midpoint rule over
 * a cost that grows with the tasks already there).
 */
export function runPerfBenchScale(write: (s: string) => void): void {
  const P = 64, T = 64, B = 4, CPUS = 256;
  const tasks = P * T;
  write(`\n== perf bench breakpoint thread -b ${B} -p ${P} -t ${T} at the kernel's size: ${tasks} tasks per batch, ${CPUS} CPUs ==`);
  const histogram = workload({ label: 'histogram', cpus: CPUS, tasks, breakpoints: B }, tasks);
  for (let i = 0; i < 3; i++) histogram(); // warm-up
  const hist = median(Array.from({ length: 7 }, () => histogram()));

  const OPS_PER_LEVEL = 8;
  const levels = [1 / 8, 3 / 8, 5 / 8, 7 / 8];
  let scan: PrefilledScan | null = null;
  const kernel = createKernel({ cpus: CPUS, accounting: (slots, cpus) => (scan = new PrefilledScan(slots, cpus)) });
  const naiveScan = scan as PrefilledScan | null;
  if (naiveScan === null) throw new Error('the naive accounting was not created');
  const open = (t: Task) => {
    for (let b = 0; b < B; b++) kernel.perfEventOpen({ type: 'rw', addr: 0x1000 + b, len: 1 }, { pid: t.pid, cpu: -1 });
  };
  const lifetimes = (n: number) => {
    for (let i = 0; i < n; i++) {
      const t = kernel.createTask();
      open(t);
      kernel.exitTask(t);
    }
  };
  const perLevel: number[] = [];
  for (const level of levels) {
    naiveScan.trusting = true;
    const filled: Task[] = [];
    for (let i = 0; i < Math.round(level * tasks); i++) {
      const t = kernel.createTask();
      open(t);
      filled.push(t);
    }
    naiveScan.trusting = false;
    if (level === levels[0]) lifetimes(2); // warm-up, untimed
    const start = performance.now();
    lifetimes(OPS_PER_LEVEL);
    perLevel.push(((performance.now() - start) * 1000) / OPS_PER_LEVEL);
    for (const t of filled) kernel.exitTask(t);
    if (kernel.isUsed()) throw new Error('benchmark leaked a reservation');
  }
  const naive = perLevel.reduce((a, b) => a + b, 0) / perLevel.length;

  const w = [60, 12, 8];
  write(line(['accounting', 'µs/op', 'ratio'], w));
  write(line(['histogram (src/hwbp): whole batches, median of 7', fmt(hist), fmt(1)], w));
  write(line([`naive scan: ${OPS_PER_LEVEL} ops timed at each of ${levels.length} batch fill levels (bounded)`, fmt(naive, 0), fmt(naive / hist, 0)], w));
  write(`  naive µs/op by fill level ${levels.map((l) => `${Math.round(l * 8)}/8`).join(', ')}: ${perLevel.map((x) => x.toFixed(0)).join(', ')} (a whole batch would take about ${((naive * tasks) / 1e6).toFixed(0)} s)`);
  write(line(['kernel, before the 2022 series (usecs/op, 236.418 s total)', fmt(KERNEL_BEFORE.usecsPerOp, 0), ''], w));
  write(line(['kernel, after it (usecs/op, 0.067 s total)', fmt(KERNEL_AFTER.usecsPerOp), fmt(KERNEL_BEFORE.usecsPerOp / KERNEL_AFTER.usecsPerOp, 0)], w));
  write(`speedup here ${(naive / hist).toFixed(0)}× vs the kernel's ${(KERNEL_BEFORE.totalSec / KERNEL_AFTER.totalSec).toFixed(0)}× (total time; ${(KERNEL_BEFORE.usecsPerOp / KERNEL_AFTER.usecsPerOp).toFixed(0)}× per op). Different things are timed: the kernel's op is a real thread's start and exit with its breakpoints, ours only the accounting and scheduling of a simulated task's.`);
}
