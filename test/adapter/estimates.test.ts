/**
 * The ground truth behind the estimate benchmark (bench/estimates.ts): test/support/accessTruth.ts
 * counts every access the program makes to a watched range. Checked where the answer is exact:
 *  - with registers to spare, a flexible watchpoint runs all the time, so it catches every access:
 *    truth == hits == estimate, and running == enabled;
 *  - when they are overcommitted, the truth does not change (the schedule of the program does not
 *    depend on the registers) while the hits do: the truth counts accesses, not hits.
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadProgram } from '../../src/target';
import { runWithTruth, type WatchSpecLite } from '../support/accessTruth';

function machineOf(file: string) {
  const { machine } = loadProgram(readFileSync(file, 'utf8'), file);
  assert.ok(machine);
  return machine;
}

const flexible = (names: string[], access: 'w' | 'rw' = 'w'): WatchSpecLite[] => names.map((expr) => ({ expr, access, mode: 'flexible' }));

describe('flexible estimates: the ground truth', () => {
  it('with registers to spare: truth == hits == estimate for every flexible watchpoint', () => {
    for (const [file, watches] of [
      ['examples/multiplex.hwsim', flexible(['a', 'b', 'c'])],
      ['examples/multiplex.hwsim', flexible(['d', 'e', 'f'], 'rw')],
      ['examples/race.hwsim', flexible(['counter'], 'rw')],
    ] as const) {
      const { rows, stop } = runWithTruth(machineOf(file), watches);
      assert.equal(stop?.reason, 'exited');
      for (const { info, truth } of rows) {
        const what = `${file} ${info.label}:${info.access}`;
        assert.equal(info.mode, 'flexible', what);
        assert.equal(info.timeRunning, info.timeEnabled, `${what} never waited for a register`);
        assert.ok(truth > 0, `${what} was accessed`);
        assert.equal(info.hits, truth, what);
        assert.equal(info.estimate, truth, what);
      }
    }
  });

  it('when overcommitted: the same truth, fewer hits', () => {
    const spare = runWithTruth(machineOf('examples/multiplex.hwsim'), flexible(['a', 'b', 'c']));
    const crowded = runWithTruth(machineOf('examples/multiplex.hwsim'), flexible(['a', 'b', 'c', 'd', 'e', 'f']));
    const truthOf = (r: typeof spare, label: string) => r.rows.find((row) => row.info.label === label)!.truth;
    let missed = 0;
    for (const label of ['a', 'b', 'c']) {
      assert.equal(truthOf(crowded, label), truthOf(spare, label), label);
      const row = crowded.rows.find((r) => r.info.label === label)!;
      assert.ok(row.info.timeRunning < row.info.timeEnabled, `${label} waited for a register`);
      missed += row.truth - row.info.hits;
    }
    assert.ok(missed > 0, 'time-shared watchpoints miss accesses');
  });
});
