/** Small timing helpers: every figure printed is measured in the same process run. */
import { performance } from 'node:perf_hooks';

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Runs `fn` (which returns how many operations it did) `repeats` times; returns the median µs per op. */
export function microsPerOp(repeats: number, fn: () => number): number {
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    const ops = fn();
    samples.push(((performance.now() - start) * 1000) / ops);
  }
  return median(samples);
}

export function fmt(n: number, digits = 2): string {
  return n.toFixed(digits).padStart(10);
}

export function line(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
}
