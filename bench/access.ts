/**
 * The hot path: Kernel.access(), called by the simulated target for every memory access. Measured
 * with nothing installed, with four pinned watchpoints, and with 64 flexible watchpoints time-sharing
 * the registers (rotating every 100 units, with a tick every 64 accesses as a running target does).
 * The accesses walk a buffer that no watchpoint covers: misses are what a program mostly does.
 */
import { createKernel } from '../src/hwbp';
import { fmt, line } from './util';
import { performance, PerformanceObserver } from 'node:perf_hooks';

const ACCESSES = 4_000_000;

/** Garbage collections seen while running `fn`: none means the loop allocated (close to) nothing. */
async function gcsDuring(fn: () => void): Promise<number> {
  let count = 0;
  const observer = new PerformanceObserver((list) => { count += list.getEntries().length; });
  observer.observe({ entryTypes: ['gc'] });
  fn();
  await new Promise((resolve) => setImmediate(resolve)); // let the observer deliver
  observer.disconnect();
  return count;
}

function measure(setup: 'none' | 'pinned' | 'flexible'): { perSecond: number; run: (n: number) => number } {
  const k = createKernel({ cpus: 1, muxInterval: 100 });
  const t = k.createTask();
  if (setup === 'pinned') {
    for (let i = 0; i < 4; i++) k.perfEventOpen({ type: 'rw', addr: 0x601000 + 8 * i, len: 8 }, { pid: t.pid, cpu: -1 });
  } else if (setup === 'flexible') {
    for (let i = 0; i < 64; i++) k.perfEventOpen({ type: 'rw', addr: 0x601000 + 8 * i, len: 8, pinned: false }, { pid: t.pid, cpu: -1 });
  }
  k.contextSwitch(0, t);
  const tickEvery = setup === 'flexible' ? 63 : -1;
  const run = (n: number): number => {
    let hits = 0;
    for (let i = 0; i < n; i++) {
      if (k.access(0, 0x700000 + ((i * 8) & 0xffff), 8, (i & 3) === 0 ? 'write' : 'read') !== null) hits++;
      if ((i & tickEvery) === 0 && tickEvery > 0) k.tick(0, 1);
    }
    return hits;
  };
  run(200_000); // warm-up
  const samples: number[] = [];
  for (let r = 0; r < 5; r++) {
    const start = performance.now();
    if (run(ACCESSES) !== 0) throw new Error('the benchmark buffer should never be watched');
    samples.push(ACCESSES / ((performance.now() - start) / 1000));
  }
  samples.sort((a, b) => a - b);
  return { perSecond: samples[2], run };
}

export async function runAccessBench(write: (s: string) => void): Promise<void> {
  write(`\n== access() hot path: ${ACCESSES.toLocaleString('en')} accesses per sample, median of 5 ==`);
  const w = [44, 14, 10, 16];
  write(line(['registers installed', 'M accesses/s', 'vs none', `GCs in ${ACCESSES / 1e6}M`], w));
  const none = measure('none');
  const pinned = measure('pinned');
  const flexible = measure('flexible');
  const gcs = [];
  for (const m of [none, pinned, flexible]) gcs.push(await gcsDuring(() => m.run(ACCESSES)));
  write(line(['none', fmt(none.perSecond / 1e6), fmt(1), String(gcs[0])], w));
  write(line(['4 pinned (DR0–DR3 full)', fmt(pinned.perSecond / 1e6), fmt(pinned.perSecond / none.perSecond), String(gcs[1])], w));
  write(line(['64 flexible time-sharing 4 registers', fmt(flexible.perSecond / 1e6), fmt(flexible.perSecond / none.perSecond), String(gcs[2])], w));
  write('(the flexible row includes a tick every 64 accesses, so its GCs come from rotations, not from access())');
}
