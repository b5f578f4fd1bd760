import * as assert from 'node:assert/strict';
import { checkProgram, formatDiagnostic, loadProgram, type Machine, type MachineOverrides, type StopEvent } from '../../src/target';

/** Load a program that must have no diagnostics. */
export function load(source: string, overrides: MachineOverrides = {}): Machine {
  const { diagnostics, machine } = loadProgram(source, 't.hwsim', overrides);
  assert.deepEqual(diagnostics.map(formatDiagnostic), []);
  assert.ok(machine);
  return machine;
}

/** The formatted diagnostics of a program. */
export function errorsOf(source: string): string[] {
  return checkProgram(source, 't.hwsim').map(formatDiagnostic);
}

/** Run until the program stops for good (or a debugger stop); collects printed lines. */
export function runToStop(m: Machine, budget = 5_000_000): { output: string[]; stop: StopEvent } {
  const output: string[] = [];
  const off = m.on((e) => { if (e.kind === 'output') output.push(e.text); });
  try {
    for (let spent = 0; spent < budget; spent += 100_000) {
      const stop = m.run(100_000);
      if (stop !== null) return { output, stop };
    }
    throw new Error('program did not stop within the budget');
  } finally {
    off();
  }
}

/** Run a whole program and return what it printed (it must exit normally). */
export function outputOf(source: string, overrides: MachineOverrides = {}): string[] {
  const { output, stop } = runToStop(load(source, overrides));
  assert.equal(stop.reason, 'exited', stop.message ?? '');
  return output;
}
