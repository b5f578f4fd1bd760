/**
 * `hwbp run` prints "Registers at the last hit" from a copy-on-write checkpoint taken at each hit.
 * Here the same run is driven by hand, with a whole snapshot() taken at every hit as the CLI once
 * did, and the table the CLI prints (as JSON) must be the last of those snapshots' CPUs, byte for byte.
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { WatchpointManager } from '../../src/adapter/watchpoints';
import { parseWatchSpec, runProgram } from '../../src/cli/run';
import type { CpuSnapshot } from '../../src/hwbp';
import { loadProgram, type MachineOverrides } from '../../src/target';

/** The registers line and the number of hits, as the CLI prints them. */
function cli(args: string[]): { registers: string; hits: number } {
  const lines: string[] = [];
  const code = runProgram([...args, '--json', '--hits', '0'], (l) => lines.push(l), () => undefined);
  assert.ok(code === 0 || code === 2, `exit code ${code}`);
  const registers = lines.find((l) => l.startsWith('{"type":"registers"'));
  assert.ok(registers !== undefined);
  const hidden = lines.map((l) => JSON.parse(l) as { type: string; count?: number }).find((l) => l.type === 'hits-not-shown');
  return { registers, hits: hidden?.count ?? 0 };
}

/** The same run by hand, with a whole snapshot at every hit. */
function byHand(file: string, watches: string[], overrides: MachineOverrides, maxSteps = 200_000_000): { registers: string; hits: number; atEnd: string } {
  const { machine } = loadProgram(readFileSync(file, 'utf8'), file, overrides);
  assert.ok(machine);
  const manager = new WatchpointManager(machine);
  for (const spec of watches) {
    const w = parseWatchSpec(spec);
    const target = machine.evaluate(w.expr, null);
    manager.add({ label: w.expr, addr: target.addr!, size: target.size!, access: w.access, mode: w.mode });
  }
  let last: { cpus: CpuSnapshot[]; time: number } | null = null;
  let hits = 0;
  for (let steps = 0; steps < maxSteps;) {
    const budget = Math.min(1_000_000, maxSteps - steps);
    const stop = machine.run(budget);
    if (stop === null) { steps += budget; continue; }
    if (stop.reason !== 'data' && stop.reason !== 'exec') break;
    hits++;
    last = { cpus: machine.kernel.snapshot().cpus, time: stop.time };
  }
  assert.ok(last !== null, 'the run should hit');
  return {
    registers: JSON.stringify({ type: 'registers', when: `at the last hit (t=${last.time})`, cpus: last.cpus }), hits,
    atEnd: JSON.stringify({ type: 'registers', when: `at the last hit (t=${last.time})`, cpus: machine.kernel.snapshot().cpus }),
  };
}

describe('hwbp run: registers at the last hit', () => {
  const cases: { file: string; watches: string[]; overrides?: MachineOverrides; extra?: string[]; maxSteps?: number }[] = [
    { file: 'examples/multiplex.hwsim', watches: ['a', 'b', 'c', 'd', 'e', 'f'].map((v) => `${v}:flexible`) },
    { file: 'examples/multiplex.hwsim', watches: ['a', 'b', 'c', 'd', 'e', 'f'].map((v) => `${v}:flexible`), overrides: { mux: 7, timeslice: 13, seed: 5 }, extra: ['--mux', '7', '--timeslice', '13', '--seed', '5'] },
    { file: 'examples/race.hwsim', watches: ['counter:rw:flexible', 'flags:flexible', 'log:flexible'] },
    { file: 'examples/contention.hwsim', watches: ['hot', 'cold', 'flag'] },
    { file: 'examples/race.hwsim', watches: ['counter'], extra: ['--max-steps', '2500'], maxSteps: 2500 },
  ];
  for (const c of cases) {
    it(`equal the snapshot taken at the last hit: ${c.file} ${c.watches.join(' ')} ${(c.extra ?? []).join(' ')}`, () => {
      const got = cli([c.file, ...c.watches.flatMap((w) => ['--watch', w]), ...(c.extra ?? [])]);
      const want = byHand(c.file, c.watches, c.overrides ?? {}, c.maxSteps);
      assert.equal(got.hits, want.hits);
      assert.equal(got.registers, want.registers);
      // …which are not simply the registers at the end of the run.
      assert.notEqual(got.registers, want.atEnd);
    });
  }
});
