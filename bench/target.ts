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

type Setup = 'none' | 'pinned' | 'flexible';

function prepare(setup: Setup): Machine {
  const { machine, diagnostics } = loadProgram(WORKLOAD, 'bench.hwsim');
  if (machine === null) throw new Error(diagnostics.map((d) => d.message).join('\n'));
  const base = machine.evaluate('ws', null).addr!;
  const manager = new WatchpointManager(machine);
  const watch = (index: number, mode: 'pinned' | 'flexible') =>
    manager.add({ label: `ws[${index}]`, addr: base + 4 * index, size: 4, access: 'rw', mode });
  if (setup === 'pinned') for (const i of [0, 682, 1364, 2046]) watch(i, 'pinned');
  if (setup === 'flexible') for (let i = 0; i < 64; i++) watch(i * 32, 'flexible');
  return machine;
}

/** Runs the workload to its end; returns seconds, statements and memory accesses. */
function runOnce(setup: Setup): { seconds: number; statements: number; accesses: number } {
  const m = prepare(setup);
  const start = performance.now();
  let stop = null;
  while (stop === null) stop = m.run(1_000_000);
  const seconds = (performance.now() - start) / 1000;
  if (stop.reason !== 'exited') throw new Error(`benchmark workload stopped: ${stop.reason} ${stop.message ?? ''}`);
  const statements = m.threadInfos().reduce((s, t) => s + t.instructions, 0);
  return { seconds, statements, accesses: m.memoryAccesses };
}

export function runTargetBench(write: (s: string) => void): void {
  write(`\n== simulated target: 2 threads × ${ITERATIONS.toLocaleString('en')} iterations on 2 CPUs, median of 5 (configurations interleaved) ==`);
  const setups: Setup[] = ['none', 'pinned', 'flexible'];
  for (const s of setups) runOnce(s); // warm-up
  const samples = new Map<Setup, { seconds: number; statements: number; accesses: number }[]>(setups.map((s) => [s, []]));
  for (let round = 0; round < 5; round++) for (const s of setups) samples.get(s)!.push(runOnce(s));
  const result = setups.map((s) => {
    const runs = samples.get(s)!;
    const seconds = median(runs.map((r) => r.seconds));
    return { s, seconds, statements: runs[0].statements / seconds, accesses: runs[0].accesses / seconds };
  });
  const base = result[0].seconds;
  const w = [40, 14, 16, 12];
  write(line(['watchpoints', 'M stmts/s', 'M accesses/s', 'time vs none'], w));
  const labels: Record<Setup, string> = { none: 'none', pinned: '4 pinned (DR0–DR3 full)', flexible: '64 flexible, time-shared' };
  for (const r of result) write(line([labels[r.s], fmt(r.statements / 1e6), fmt(r.accesses / 1e6), fmt(r.seconds / base)], w));
  const worst = Math.max(...result.map((r) => r.seconds / base));
  write(`watchpoint overhead within 1.25×: ${worst <= 1.25 ? 'yes' : 'NO'} (worst ${worst.toFixed(2)}×)`);
}
