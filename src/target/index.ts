/**
 * src/target — the simulated target: the .hwsim language (parser, checker, compiler) and the
 * machine that runs it on several CPUs through the debug registers of src/hwbp.
 */
import { formatDiagnostic, type Diagnostic } from './diagnostics';
import { lower, MACHINE_DEFAULTS, type MachineConfig } from './lower';
import { Machine } from './machine';
import { parse } from './parser';

export { Machine, STACK_TOP, MAX_CALL_DEPTH } from './machine';
export type { DataHit, EvaluateResult, FrameInfo, Location, MachineEvent, StopEvent, StopReason, ThreadInfo, ThreadState, VariableInfo } from './machine';
export { formatDiagnostic } from './diagnostics';
export type { Diagnostic, Span } from './diagnostics';
export { RuntimeFault } from './memory';
export { MACHINE_DEFAULTS, DATA_BASE, TEXT_BASE, STATEMENT_SIZE } from './lower';
export type { MachineConfig, OtherUser } from './lower';
export type { StatementInfo } from './types';

export type MachineOverrides = Partial<Pick<MachineConfig, 'arch' | 'cpus' | 'seed' | 'mux' | 'timeslice'>>;

export interface LoadResult {
  diagnostics: Diagnostic[];
  /** Present only when there are no errors: a program with errors never starts. */
  machine: Machine | null;
}

/** Check a program; everything wrong is reported at once. */
export function checkProgram(source: string, file: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  lower(parse(source, file, diagnostics), source, diagnostics);
  return sortDiagnostics(diagnostics);
}

/** Check a program and, if it has no errors, build its machine (with launch-time overrides applied). */
export function loadProgram(source: string, file: string, overrides: MachineOverrides = {}): LoadResult {
  const diagnostics: Diagnostic[] = [];
  const program = lower(parse(source, file, diagnostics), source, diagnostics);
  const errors = validateOverrides(overrides);
  for (const message of errors) diagnostics.push({ file, severity: 'error', message, span: { line: 1, col: 1, endLine: 1, endCol: 1 } });
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics: sortDiagnostics(diagnostics), machine: null };
  Object.assign(program.machine, Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)));
  for (const t of program.threads) {
    if (t.cpu !== null && t.cpu >= program.machine.cpus) {
      diagnostics.push({ file, severity: 'error', message: `thread '${t.name}' is pinned to cpu ${t.cpu}, but the launch configuration gives the machine ${program.machine.cpus} CPU(s)`, span: t.fn.span });
    }
  }
  if (diagnostics.length > 0) return { diagnostics: sortDiagnostics(diagnostics), machine: null };
  return { diagnostics, machine: new Machine(program) };
}

function validateOverrides(o: MachineOverrides): string[] {
  const errors: string[] = [];
  if (o.arch !== undefined && o.arch !== 'x86_64' && o.arch !== 'arm64') errors.push(`arch '${String(o.arch)}': use x86_64 or arm64`);
  const ranges: Record<string, [number, number]> = { cpus: [1, 64], seed: [0, 2 ** 32 - 1], mux: [1, 1e9], timeslice: [1, 1e6] };
  for (const [key, [lo, hi]] of Object.entries(ranges)) {
    const v = (o as Record<string, unknown>)[key];
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi)) errors.push(`${key} ${String(v)}: need a whole number from ${lo} to ${hi}`);
  }
  return errors;
}

function sortDiagnostics(d: Diagnostic[]): Diagnostic[] {
  return [...d].sort((a, b) => a.span.line - b.span.line || a.span.col - b.span.col);
}

export { formatDiagnostic as format, MACHINE_DEFAULTS as defaults };
