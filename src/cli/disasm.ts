/**
 * `hwbp disasm FILE [FN...]`: the machine instructions of a program, function by function, each
 * with its address and the source line it carries out (what the Disassembly view shows).
 */
import { formatDiagnostic, loadProgram } from '../target';
import { readSource, UsageError } from './run';

type Write = (line: string) => void;

export function runDisasm(args: string[], out: Write, err: Write): number {
  const [file, ...only] = args;
  if (file === undefined || file.startsWith('-')) throw new UsageError('disasm: give a .hwsim file, and optionally the functions or threads to show');
  const { machine, diagnostics } = loadProgram(readSource(file), file);
  for (const d of diagnostics) err(formatDiagnostic(d));
  if (machine === null) return 1;
  const lowered = [...machine.program.functions.values(), ...machine.program.threads.map((t) => t.fn)]
    .sort((a, b) => (a.instrs[0]?.addr ?? 0) - (b.instrs[0]?.addr ?? 0));
  const unknown = only.filter((name) => !lowered.some((f) => f.name === name));
  if (unknown.length > 0) {
    machine.kill();
    throw new UsageError(`disasm: ${file} has no function or thread ${unknown.map((n) => `'${n}'`).join(', ')} (it has ${lowered.map((f) => f.name).join(', ')})`);
  }
  let first = true;
  for (const f of lowered) {
    if (only.length > 0 && !only.includes(f.name)) continue;
    if (!first) out('');
    first = false;
    out(`${f.kind} ${f.name}: ${f.instrs.length} instructions, ${f.registers} registers, ${f.frameSize} bytes of locals`);
    let line = -1;
    for (const i of f.instrs) {
      const info = machine.instructionAt(i.addr)!;
      const s = info.statement;
      // The source line once, before the first of its instructions in a run.
      if (s.span.line !== line) {
        line = s.span.line;
        out(`  ${String(line).padStart(4)}  ${s.text}`);
      }
      out(`        0x${i.addr.toString(16)}  ${info.text}`);
    }
  }
  machine.kill();
  return 0;
}
