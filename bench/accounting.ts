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
