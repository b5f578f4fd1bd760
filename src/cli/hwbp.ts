#!/usr/bin/env node
/**
 * The `hwbp` command line. Each subcommand lives in its own module; this file only dispatches.
 */
import { runAdapter } from '../adapter/debugAdapter';
import { HwbpError } from '../hwbp';
import { runDemo } from './demo';
import { runDisasm } from './disasm';
import { runElf, runGdbServer } from './gdbserver';
import { runCheck, runProgram, UsageError } from './run';

const USAGE = `usage: hwbp <command>

commands:
  run FILE [--watch EXPR[:w|:rw|:r][:pinned|:flexible|:auto]]... [--json]
           [--seed N] [--cpus N] [--mux N] [--timeslice N] [--arch x86_64|arm64] [--max-steps N] [--hits N]
           [--trace OUT.json] [--timeline-capacity N]
          run a .hwsim workload headless; print every watchpoint hit, the registers and the
          per-watchpoint table (enabled / running / hits / estimate); --trace writes who held each
          debug register when as a Chrome trace for ui.perfetto.dev (docs/timeline.md)
  check FILE...   report the diagnostics of .hwsim files (exit 1 on errors)
  disasm FILE [FN...]   the machine instructions, with addresses and source lines (docs/language.md)
  dap [--server=PORT]   the debug adapter: DAP over stdio, or a TCP server on 127.0.0.1:PORT
  gdbserver FILE [--port N] [--flexible] [--once]
          a GDB remote stub on 127.0.0.1:N (docs/gdb.md): gdb -ex 'target remote :N'
  elf FILE [-o FILE.elf]   write an ELF with symbols and DWARF for GDB (docs/elf.md)
  demo    a guided tour of the simulated hw_breakpoint layer (registers, ENOSPC, flexible time-sharing)
  help    this text
`;

export function main(argv: string[]): number {
  const [command, ...rest] = argv;
  const out = (line: string) => process.stdout.write(line + '\n');
  const err = (line: string) => process.stderr.write(line + '\n');
  switch (command) {
    case 'run':
    case 'check':
    case 'gdbserver':
    case 'elf':
    case 'disasm':
      try {
        if (command === 'gdbserver') return runGdbServer(rest, out, err);
        if (command === 'disasm') return runDisasm(rest, out, err);
        if (command === 'elf') return runElf(rest, out, err);
        return command === 'run' ? runProgram(rest, out, err) : runCheck(rest, out, err);
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        err(`hwbp: ${e.message}`);
        return 2;
      }
    case 'dap':
      try {
        runAdapter(rest);
      } catch (e) {
        err(`hwbp dap: ${(e as Error).message}`);
        return 2;
      }
      return 0;
    case 'demo':
      if (rest.length > 0) {
        process.stderr.write(`hwbp demo: unexpected argument '${rest[0]}'\n`);
        return 2;
      }
      runDemo();
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`hwbp: unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}

if (require.main === module) {
  // Output piped into `head` and the like: stop quietly when the reader goes away.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    // Our own errors carry a message meant for people; anything else is a bug worth its stack.
    if (e instanceof HwbpError) {
      process.stderr.write(`hwbp: ${e.message}\n`);
      process.exitCode = 1;
    } else {
      throw e;
    }
  }
}
