/**
 * `hwbp gdbserver FILE.hwsim [--port N] [--flexible] [--once]` and `hwbp elf FILE.hwsim -o FILE.elf`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { buildElf } from '../elf';
import { startGdbServer } from '../gdb/server';
import { formatDiagnostic, loadProgram, type Machine } from '../target';
import { UsageError } from './run';

type Write = (line: string) => void;

function load(file: string): { source: string; machine: Machine } {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const { diagnostics, machine } = loadProgram(source, file);
  if (machine === null) throw new UsageError(diagnostics.map(formatDiagnostic).join('\n'));
  return { source, machine };
}

/** The ELF's name as GDB will see it: FILE.hwsim → FILE.elf beside it. */
export function elfPathFor(file: string): string {
  return resolve(file).replace(/\.hwsim$/, '') + '.elf';
}

export function runGdbServer(args: string[], out: Write, err: Write): number {
  let file: string | null = null;
  let port = 1234;
  let flexible = false;
  let once = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--port' || a.startsWith('--port=')) {
      const v = a.includes('=') ? a.slice(7) : value();
      port = Number(v);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${v}: give a TCP port (0 picks a free one)`);
    } else if (a === '--flexible') flexible = true;
    else if (a === '--once') once = true;
    else if (a.startsWith('-')) throw new UsageError(`gdbserver: unknown option ${a}`);
    else if (file === null) file = a;
    else throw new UsageError(`gdbserver: unexpected argument ${a}`);
  }
  if (file === null) throw new UsageError('usage: hwbp gdbserver FILE.hwsim [--port N] [--flexible] [--once]');
  const path = file;
  const first = load(path);
  const elf = { path: elfPathFor(path), image: buildElf(first.machine.program) };
  first.machine.kill();
  startGdbServer({
    port, flexible, once, elf,
    load: () => load(path).machine,
    log: (line) => err(`hwbp gdbserver: ${line}`),
  }).then((s) => {
    out(`Listening on port ${s.port}`);
    if (flexible) out('Watchpoints beyond the debug registers become flexible perf events (time-shared; they may miss accesses)');
    void s.closed.then(() => err('hwbp gdbserver: closed'));
  }, (e: Error) => {
    err(`hwbp gdbserver: cannot listen on 127.0.0.1:${port}: ${e.message}`);
    process.exitCode = 1;
  });
  return 0;
}

export function runElf(args: string[], out: Write, _err: Write): number {
  let file: string | null = null;
  let output: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-o') {
      output = args[++i] ?? null;
      if (output === null) throw new UsageError('-o needs a file name');
    } else if (a.startsWith('-')) throw new UsageError(`elf: unknown option ${a}`);
    else if (file === null) file = a;
    else throw new UsageError(`elf: unexpected argument ${a}`);
  }
  if (file === null) throw new UsageError('usage: hwbp elf FILE.hwsim -o FILE.elf');
  const { machine } = load(file);
  const image = buildElf(machine.program);
  machine.kill();
  const target = output ?? elfPathFor(file);
  writeFileSync(target, image);
  out(`${basename(target)}: ${image.length} bytes (ELF64 ${machine.config.arch}, .symtab, DWARF 4: .debug_info/.debug_abbrev/.debug_line/.debug_frame/.debug_str)`);
  return 0;
}
