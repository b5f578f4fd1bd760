/**
 * Scripted GDB sessions against `hwbp gdbserver` (started in-process on a free port): gdb -batch
 * with -ex commands, its output returned. Every session has a timeout; the server is closed after.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startGdbServer } from '../../src/gdb/server';
import { buildElf } from '../../src/elf';
import { elfPathFor } from '../../src/cli/gdbserver';
import { loadProgram, type Machine } from '../../src/target';

export function gdbPath(multiarch = false): string {
  const name = multiarch ? 'gdb-multiarch' : 'gdb';
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`${name} is not installed: the GDB tests need it (npm test installs it with scripts/setup-gdb.sh; or apt-get install ${name})`);
  }
}

export function loadMachine(file: string): Machine {
  const { machine, diagnostics } = loadProgram(readFileSync(file, 'utf8'), file);
  if (machine === null) throw new Error(diagnostics.map((d) => d.message).join('\n'));
  return machine;
}

export interface GdbRun {
  out: string;
  log: string[];
}

/** Run gdb -batch with these commands after `target remote`; `file` = gdb loads the ELF from the stub. */
export async function gdbSession(program: string, commands: string[], opts: { flexible?: boolean; timeoutMs?: number; elfArg?: boolean; multiarch?: boolean } = {}): Promise<GdbRun> {
  // Debian's plain gdb knows x86 only; an arm64 workload needs gdb-multiarch.
  const gdb = gdbPath(opts.multiarch ?? false);
  const first = loadMachine(program);
  const elf = { path: elfPathFor(program), image: buildElf(first.program) };
  first.kill();
  const log: string[] = [];
  const server = await startGdbServer({ port: 0, flexible: opts.flexible ?? false, once: true, elf, load: () => loadMachine(program), log: (l) => log.push(l) });
  const args = ['-q', '-batch', '-nx', '-ex', 'set confirm off', '-ex', 'set width 0', '-ex', `target remote 127.0.0.1:${server.port}`];
  for (const c of commands) args.push('-ex', c);
  try {
    const out = await new Promise<string>((resolve) => {
      execFile(gdb, args, { timeout: opts.timeoutMs ?? 30_000, killSignal: 'SIGKILL', encoding: 'utf8', maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
        resolve(stdout + stderr + (error !== null && error.killed ? '\n<gdb timed out>' : ''));
      });
    });
    return { out, log };
  } finally {
    await server.close();
  }
}
