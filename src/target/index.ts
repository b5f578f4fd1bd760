/**
 * src/target — the simulated target: the .hwsim language (parser, checker, compiler) and the
 * machine that runs it on several CPUs through the debug registers of src/hwbp.
 */
import type { Diagnostic } from './diagnostics';
import { lower, type MachineConfig } from './lower';
import { RuntimeFault } from './memory';
import { MAX_TIMELINE_CAPACITY } from '../hwbp';
import { Machine } from './machine';
import { parse } from './parser';

export { Machine, STACK_TOP, MAX_CALL_DEPTH, lostUpdateHint } from './machine';
export type { MachineOptions } from './machine';
export type { DataHit, EvaluateResult, FrameInfo, FrameRef, InstructionInfo, Location, MachineEvent, StepKind, StopEvent, StopReason, ThreadInfo, ThreadState, VariableInfo } from './machine';
export { formatDiagnostic } from './diagnostics';
export type { Diagnostic, Span } from './diagnostics';
export { RuntimeFault };
export { MACHINE_DEFAULTS, DATA_BASE, TEXT_BASE } from './lower';
export { INSTRUCTION_SIZE, disassemble, type Instr } from './isa';
export type { MachineConfig, OtherUser } from './lower';
export type { StatementInfo } from './types';

export type MachineOverrides = Partial<Pick<MachineConfig, 'arch' | 'cpus' | 'seed' | 'mux' | 'timeslice'>> & {
  /** Not part of the machine line: records the register timeline keeps (0: no recording). */
  timelineCapacity?: number;
  /** Not part of the machine line: every instruction in its own turn (see MachineOptions.exact). */
  exact?: boolean;
};

export interface LoadResult {
  diagnostics: Diagnostic[];
  /** Present only when there are no errors: a program with errors never starts. */
  machine: Machine | null;
}

/** Check a program; everything wrong is reported at once. */
export function checkProgram(source: string, file: string): Diagnostic[] {
  return sortDiagnostics(frontEnd(source, file, {}).diagnostics);
}

/** Check a program and, if it has no errors, build its machine (with launch-time overrides applied). */
export function loadProgram(source: string, file: string, overrides: MachineOverrides = {}): LoadResult {
  const errors = overrideErrors(overrides);
  if (errors.length > 0) {
    return { diagnostics: errors.map((message) => ({ file, severity: 'error', message: `launch setting: ${message}`, span: { line: 1, col: 1, endLine: 1, endCol: 1 } })), machine: null };
  }
  const { diagnostics, program } = frontEnd(source, file, overrides);
  if (program === null || diagnostics.some((d) => d.severity === 'error')) return { diagnostics: sortDiagnostics(diagnostics), machine: null };
  try {
    return { diagnostics, machine: new Machine(program, { timelineCapacity: overrides.timelineCapacity, exact: overrides.exact }) };
  } catch (e) {
    // Laying the program out in memory can still fail (it is checked, but not every limit can be).
    if (!(e instanceof RuntimeFault)) throw e;
    return { diagnostics: [{ file, severity: 'error', message: `cannot start the program: ${e.message}`, span: { line: 1, col: 1, endLine: 1, endCol: 1 } }], machine: null };
  }
}

function frontEnd(source: string, file: string, overrides: MachineOverrides): { diagnostics: Diagnostic[]; program: ReturnType<typeof lower> | null } {
  const diagnostics: Diagnostic[] = [];
  try {
    const { timelineCapacity: _capacity, exact: _exact, ...config } = overrides;
    return { diagnostics, program: lower(parse(source, file, diagnostics), source, diagnostics, config) };
  } catch (e) {
    // Only a pathological program (nesting far beyond any limit) can exhaust the stack here.
    if (!(e instanceof RangeError)) throw e;
    diagnostics.push({ file, severity: 'error', message: 'the program is nested too deeply to check', span: { line: 1, col: 1, endLine: 1, endCol: 1 } });
    return { diagnostics, program: null };
  }
}

/** The range of each numeric launch-time override, inclusive (the adapter checks launch arguments against these). */
export const OVERRIDE_LIMITS: Readonly<Record<'cpus' | 'seed' | 'mux' | 'timeslice' | 'timelineCapacity', readonly [number, number]>> = Object.freeze({
  cpus: [1, 64], seed: [0, 2 ** 32 - 1], mux: [1, 1e9], timeslice: [1, 1e6], timelineCapacity: [0, MAX_TIMELINE_CAPACITY],
} as const);

/** What is wrong with launch-time overrides (empty if nothing). */
export function overrideErrors(o: MachineOverrides): string[] {
  return validateOverrides(o);
}

function validateOverrides(o: MachineOverrides): string[] {
  const errors: string[] = [];
  if (o.arch !== undefined && o.arch !== 'x86_64' && o.arch !== 'arm64') errors.push(`arch '${String(o.arch)}': use x86_64 or arm64`);
  for (const [key, [lo, hi]] of Object.entries(OVERRIDE_LIMITS)) {
    const v = (o as Record<string, unknown>)[key];
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi)) errors.push(`${key} ${String(v)}: need a whole number from ${lo} to ${hi}`);
  }
  return errors;
}

function sortDiagnostics(d: Diagnostic[]): Diagnostic[] {
  return [...d].sort((a, b) => a.span.line - b.span.line || a.span.col - b.span.col);
}

