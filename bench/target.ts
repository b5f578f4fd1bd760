/**
 * The simulated target's speed, and what watchpoints cost it: the same workload with no
 * watchpoint, with DR0–DR3 taken by four pinned ones, and with 64 flexible ones time-sharing the
 * registers, all set through the watchpoint manager as the debugger sets them (on both threads).
 * The watched words are spread over the array the workload touches, but the workload only touches
 * the words in between: every access is checked against the installed registers, and none hits.
 */
import { performance } from 'node:perf_hooks';
import { WatchpointManager } from '../src/adapter/watchpoints';
import { loadProgram, type Machine } from '../src/target';
import { fmt, line, median } from './util';

const ITERATIONS = 60_000;

const WORKLOAD = `
machine x86_64 cpus=2 timeslice=100 mux=500 seed=1
global ws: u32[2048]

fn work(start: u32, n: u32) {
  var i: u32 = 0
  while i < n {
    var k: u32 = ((i * 7 + start) % 1024) * 2 + 1
    ws[k] = ws[k] + i
    i = i + 1
  }
}

thread main {
  spawn other
  work(0, ${ITERATIONS})
  join other
}

thread other {
  work(512, ${ITERATIONS})
}
`;

type Setup = 'none' | 'pinned' | 'flexible' | 'caught';

function prepare(setup: Setup, timelineCapacity?: number): Machine {
  const { machine, diagnostics } = loadProgram(WORKLOAD, 'bench.hwsim', { timelineCapacity });
  if (machine === null) throw new Error(diagnostics.map((d) => d.message).join('\n'));
  const base = machine.evaluate('ws', null).addr!;
  const manager = new WatchpointManager(machine);
  const watch = (index: number, mode: 'pinned' | 'flexible') =>
    manager.add({ label: `ws[${index}]`, addr: base + 4 * index, size: 4, access: 'rw', mode });
  if (setup === 'pinned') for (const i of [0, 682, 1364, 2046]) watch(i, 'pinned');
  if (setup === 'flexible') for (let i = 0; i < 64; i++) watch(i * 32, 'flexible');
  // Words the workload does write (k = 2j + 1): every access to them is a hit or a missed access.
  if (setup === 'caught') for (let i = 0; i < 8; i++) watch(i * 256 + 1, 'flexible');
  return machine;
}

/** Runs the workload to its end; returns seconds, statements begun, instructions executed and memory accesses. */
function runOnce(setup: Setup, timelineCapacity?: number): { seconds: number; statements: number; instructions: number; accesses: number } {
  const m = prepare(setup, timelineCapacity);
  const start = performance.now();
  let stop = null;
  // A hit stops the program (the watchpoints are the debugger's): go on, as continue does.
  while (stop === null || stop.reason === 'data') stop = m.run(1_000_000);
  const seconds = (performance.now() - start) / 1000;
  if (stop.reason !== 'exited') throw new Error(`benchmark workload stopped: ${stop.reason} ${stop.message ?? ''}`);
  const statements = m.threads.reduce((s, t) => s + t.statements, 0);
  const instructions = m.threads.reduce((s, t) => s + t.instructions, 0);
  return { seconds, statements, instructions, accesses: m.memoryAccesses };
}

export function runTargetBench(write: (s: string) => void): void {
  write(`\n== simulated target: 2 threads × ${ITERATIONS.toLocaleString('en')} iterations on 2 CPUs, median of 9 (configurations interleaved) ==`);
  const setups: Setup[] = ['none', 'pinned', 'flexible'];
  for (const s of setups) runOnce(s); // warm-up
  const samples = new Map<Setup, { seconds: number; statements: number; instructions: number; accesses: number }[]>(setups.map((s) => [s, []]));
  for (let round = 0; round < 9; round++) for (const s of setups) samples.get(s)!.push(runOnce(s));
  const result = setups.map((s) => {
    const runs = samples.get(s)!;
    const seconds = median(runs.map((r) => r.seconds));
    return { s, seconds, statements: runs[0].statements / seconds, instructions: runs[0].instructions / seconds, accesses: runs[0].accesses / seconds };
  });
  const base = result[0].seconds;
  const w = [40, 12, 12, 16, 12];
  write(line(['watchpoints', 'M stmts/s', 'M instr/s', 'M accesses/s', 'time vs none'], w));
  const labels: Record<string, string> = { none: 'none', pinned: '4 pinned (DR0–DR3 full)', flexible: '64 flexible, time-shared' };
  for (const r of result) write(line([labels[r.s], fmt(r.statements / 1e6), fmt(r.instructions / 1e6), fmt(r.accesses / 1e6), fmt(r.seconds / base)], w));
  const pinned = result[1].seconds / base;
  const flexible = result[2].seconds / base;
  write(`watchpoint overhead: 4 pinned ${pinned.toFixed(2)}× (target ≤ 1.15×: ${pinned <= 1.15 ? 'yes' : 'NO'}), 64 flexible ${flexible.toFixed(2)}× (target ≤ 1.25×: ${flexible <= 1.25 ? 'yes' : 'NO'})`);
  write(`statements/s with no watchpoint: ${fmt(result[0].statements / 1e6)}M (target ≥ 10M: ${result[0].statements >= 10e6 ? 'yes' : 'NO'}); each statement is ${(result[0].instructions / result[0].statements).toFixed(2)} instructions`);
}

/**
 * What recording the register timeline costs: the same workload and watchpoints with the timeline
 * on (the default) and off (timelineCapacity 0), runs interleaved, median of ROUNDS.
 */
const ROUNDS = 11;

export function runTimelineBench(write: (s: string) => void): void {
  write(`\n== register timeline: recording on (default capacity) vs off, same workload, median of ${ROUNDS} (interleaved, alternating) ==`);
  const setups: Setup[] = ['none', 'flexible', 'caught'];
  const labels: Record<string, string> = { none: 'no watchpoint', flexible: '64 flexible, time-shared (bench workload)', caught: '8 flexible on written words (hits + misses)' };
  const w = [46, 12, 12, 14, 10];
  write(line(['watchpoints', 'off (s)', 'on (s)', 'records', 'on / off'], w));
  let benchRatio = 0;
  for (const s of setups) {
    runOnce(s, 0);
    runOnce(s); // warm-up
    const off: number[] = [];
    const on: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so that neither always runs on a warmer heap.
      if (round % 2 === 0) {
        off.push(runOnce(s, 0).seconds);
        on.push(runOnce(s).seconds);
      } else {
        on.push(runOnce(s).seconds);
        off.push(runOnce(s, 0).seconds);
      }
    }
    const m = prepare(s);
    let stop = null;
    while (stop === null || stop.reason === 'data') stop = m.run(1_000_000);
    const records = m.kernel.timelineSeq;
    const ratio = median(on) / median(off);
    if (s === 'flexible') benchRatio = ratio;
    write(line([labels[s], fmt(median(off), 3), fmt(median(on), 3), String(records), fmt(ratio)], w));
  }
  write(`timeline recording within 1.1× on the bench workload: ${benchRatio <= 1.1 ? 'yes' : 'NO'} (${benchRatio.toFixed(3)}×)`);
}

/**
 * Many threads: 4096 thread instances on 64 CPUs, all alive at once (they start behind a mutex that
 * main releases once every one is spawned), each adding to a shared counter with atomic_add,
 * against the same work done by 2 threads on 2 CPUs. Statements/s per configuration: what
 * thousands of live threads (their scheduling, lazily grown stacks, kernel tasks) cost per statement.
 */
const MANY_TOTAL = 4096 * 64;

function manyWorkload(threads: number, cpus: number): string {
  return `
machine x86_64 cpus=${cpus} timeslice=20 seed=1
global safe: u32 = 0
global gate: mutex
global ids: tid[${threads}]
thread worker(n: u32) {
  lock gate
  unlock gate
  repeat n {
    atomic_add(&safe, 1)
  }
}
thread main {
  lock gate
  for i in 0..${threads} {
    ids[i] = spawn worker(${MANY_TOTAL / threads})
  }
  unlock gate
  for i in 0..${threads} {
    join ids[i]
  }
  print safe
}
`;
}

function runMany(threads: number, cpus: number): { seconds: number; statements: number; instructions: number; peak: number; mapped: number } {
  const { machine, diagnostics } = loadProgram(manyWorkload(threads, cpus), 'many.hwsim');
  if (machine === null) throw new Error(diagnostics.map((d) => d.message).join('\n'));
  let alive = 1;
  let peak = 1;
  let mapped = 0;
  let out = '';
  machine.on((e) => {
    if (e.kind === 'output') out = e.text;
    if (e.kind !== 'thread') return;
    alive += e.state === 'started' ? 1 : -1;
    if (alive > peak) {
      peak = alive;
      mapped = machine.mappedBytes;
    }
  });
  const start = performance.now();
  let stop = null;
  while (stop === null) stop = machine.run(1_000_000);
  const seconds = (performance.now() - start) / 1000;
  if (stop.reason !== 'exited' || out !== String(MANY_TOTAL)) throw new Error(`many-threads workload: ${stop.reason} ${stop.message ?? ''} printed ${out}`);
  const statements = machine.threads.reduce((s, t) => s + t.statements, 0);
  const instructions = machine.threads.reduce((s, t) => s + t.instructions, 0);
  return { seconds, statements, instructions, peak, mapped };
}

export function runManyThreadsBench(write: (s: string) => void): void {
  write(`\n== many threads: ${MANY_TOTAL.toLocaleString('en')} atomic_add in all, by 2 threads on 2 CPUs and by 4096 on 64 CPUs, median of 3 ==`);
  const configs = [{ threads: 2, cpus: 2 }, { threads: 4096, cpus: 64 }];
  for (const c of configs) runMany(c.threads, c.cpus); // warm-up
  const results = configs.map((c) => {
    const runs = [0, 1, 2].map(() => runMany(c.threads, c.cpus));
    const seconds = median(runs.map((r) => r.seconds));
    return { ...c, seconds, rate: runs[0].statements / seconds, irate: runs[0].instructions / seconds, peak: runs[0].peak, mapped: runs[0].mapped };
  });
  const w = [26, 12, 12, 12, 12, 16, 12];
  write(line(['workload', 'live peak', 'seconds', 'M stmts/s', 'M instr/s', 'mapped at peak', 'rate vs 2'], w));
  for (const r of results) {
    write(line([`${r.threads} threads, ${r.cpus} CPUs`, String(r.peak), fmt(r.seconds), fmt(r.rate / 1e6), fmt(r.irate / 1e6), `${(r.mapped / 2 ** 20).toFixed(1)} MiB`, fmt(r.rate / results[0].rate)], w));
  }
}
