/**
 * How good are flexible watchpoints' estimates? A flexible watchpoint reports hits × timeEnabled /
 * timeRunning; the machine is deterministic and a stop never perturbs it, so the true number of
 * accesses to each watched range can be counted in the same run (test/support/accessTruth.ts wraps
 * the kernel's access(), which sees every access whatever the registers hold; the method is checked
 * in test/adapter/estimates.test.ts). Reported per workload: the median and the largest relative
 * error |estimate − truth| / truth over its watchpoints accessed at least MIN_TRUTH times. An
 * estimate scales a sample up: a range written once is either caught (estimate ≈ 1 / share) or
 * missed (0), so its relative error says nothing about the estimator; such rare ones are counted
 * apart, with how many of them were caught at all.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadProgram, type MachineOverrides } from '../src/target';
import { runWithTruth, type WatchSpecLite } from '../test/support/accessTruth';
import { crowdedShapes, crowdedSource, crowdedWatches } from './crowded';
import { fmt, line, median } from './util';

const ROOT = join(__dirname, '..', '..');
/** Fewer true accesses than this, and a relative error measures luck, not the estimate. */
const MIN_TRUTH = 20;

interface Workload {
  label: string;
  source: string;
  watches: WatchSpecLite[];
  overrides?: MachineOverrides;
}

function example(name: string): string {
  return readFileSync(join(ROOT, 'examples', name), 'utf8');
}

function workloads(): Workload[] {
  const flex = (exprs: string[], access: 'w' | 'rw' = 'w'): WatchSpecLite[] => exprs.map((expr) => ({ expr, access, mode: 'flexible' }));
  const list: Workload[] = [
    { label: 'multiplex.hwsim, a..f flexible', source: example('multiplex.hwsim'), watches: flex(['a', 'b', 'c', 'd', 'e', 'f']) },
    {
      label: 'race.hwsim, counter w+rw, flags, log', source: example('race.hwsim'),
      watches: [...flex(['counter']), ...flex(['counter'], 'rw'), ...flex(['flags', 'log'])],
    },
  ];
  for (const { label, shape } of [...crowdedShapes()].reverse()) {
    list.push({ label: `crowded, ${label}`, source: crowdedSource(shape), watches: flex(crowdedWatches()) });
  }
  return list;
}

export function runEstimateBench(write: (s: string) => void): void {
  write('\n== flexible estimates vs the true number of accesses (hits × enabled / running; truth counted in the same run) ==');
  const w = [44, 8, 12, 10, 10, 34, 16];
  write(line(['workload', 'watched', 'rotating', 'median err', 'max err', 'worst: truth → estimate (hits)', `rare (<${MIN_TRUTH}): caught`], w));
  const medians: number[] = [];
  for (const wl of workloads()) {
    const { machine, diagnostics } = loadProgram(wl.source, `${wl.label}.hwsim`, wl.overrides ?? {});
    if (machine === null) throw new Error(diagnostics.map((d) => d.message).join('\n'));
    const { rows, stop } = runWithTruth(machine, wl.watches);
    if (stop?.reason !== 'exited') throw new Error(`${wl.label}: stopped with ${stop?.reason ?? 'the step limit'}`);
    const counted = rows.filter((r) => r.truth >= MIN_TRUTH);
    const rare = rows.filter((r) => r.truth > 0 && r.truth < MIN_TRUTH);
    const errors = counted.map((r) => ({ r, err: Math.abs((r.info.estimate ?? 0) - r.truth) / r.truth }));
    const worst = errors.reduce((a, b) => (b.err > a.err ? b : a));
    const rotating = rows.filter((r) => r.info.timeRunning < r.info.timeEnabled).length;
    const m = median(errors.map((e) => e.err));
    medians.push(m);
    const wr = worst.r;
    write(line([
      wl.label, `${counted.length}/${rows.length}`, `${rotating}/${rows.length}`, pct(m), pct(worst.err),
      `${wr.info.label}:${wr.info.access} ${wr.truth} → ${wr.info.estimate === null ? '<not counted>' : wr.info.estimate.toFixed(1)} (${wr.info.hits})`,
      `${rare.filter((r) => r.info.hits > 0).length}/${rare.length}`,
    ], w));
  }
  write(`median error within 10% on every workload: ${medians.every((m) => m <= 0.1) ? 'yes' : 'NO'} (target; rotation fairness decides it)`);
  write(`(watched: watchpoints accessed at least ${MIN_TRUTH} times / all; rotating: those that waited for a register some of the time;`);
  write(` rare: accessed fewer than ${MIN_TRUTH} times, left out of the error (a single write is either caught or missed), and how many were caught)`);
}

function pct(x: number): string {
  return `${fmt(100 * x, 1)}%`;
}
