/**
 * How the machine's registers appear to GDB: the x86-64 core registers (org.gnu.gdb.i386.core) or
 * the arm64 ones (org.gnu.gdb.aarch64.core), in GDB's numbering.
 *
 * x86-64: rax rbx rcx rdx rsi rdi = r0–r5, r8–r15 = r6–r13, rbp = the frame pointer (the frame
 * record: [rbp] saved rbp, [rbp+8] return address, as a real frame has), rsp = the bottom of the
 * frame, rip = pc. arm64: x0–x28 = r0–r28, x29 = the frame pointer, x30 = the return address,
 * sp, pc. Everything else reads as 0.
 */

/** What one frame of a thread looks like in registers. */
export interface RegisterContext {
  regs: readonly (number | bigint)[];
  pc: number;
  fp: number;
  sp: number;
  /** Return address of this frame (0 for a thread's outermost frame). */
  ra: number;
}

export interface RegisterDef {
  name: string;
  bits: number;
  type: string;
  group?: string;
  /** Index into RegisterContext.regs, or a named special register. */
  source: number | 'pc' | 'fp' | 'sp' | 'ra' | null;
}

export interface ArchDef {
  name: 'x86_64' | 'arm64';
  registers: RegisterDef[];
  targetXml: string;
  /** Register numbers of pc, fp and sp (for the T stop reply's expedited registers). */
  pcReg: number;
  fpReg: number;
  spReg: number;
  /** Registers r0… that have a place here. */
  generalCount: number;
}

function x86(): ArchDef {
  const r: RegisterDef[] = [];
  const g = (name: string, source: RegisterDef['source'], type = 'int64') => r.push({ name, bits: 64, type, source });
  ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi'].forEach((n, i) => g(n, i));
  g('rbp', 'fp', 'data_ptr');
  g('rsp', 'sp', 'data_ptr');
  for (let i = 8; i <= 15; i++) g(`r${i}`, i - 2);
  g('rip', 'pc', 'code_ptr');
  r.push({ name: 'eflags', bits: 32, type: 'int32', source: null });
  for (const s of ['cs', 'ss', 'ds', 'es', 'fs', 'gs']) r.push({ name: s, bits: 32, type: 'int32', source: null });
  for (let i = 0; i < 8; i++) r.push({ name: `st${i}`, bits: 80, type: 'i387_ext', source: null });
  for (const s of ['fctrl', 'fstat', 'ftag', 'fiseg', 'fioff', 'foseg', 'fooff', 'fop']) r.push({ name: s, bits: 32, type: 'int', group: 'float', source: null });
  return { name: 'x86_64', registers: r, targetXml: xml('i386:x86-64', 'org.gnu.gdb.i386.core', r), pcReg: 16, fpReg: 6, spReg: 7, generalCount: 14 };
}

function arm64(): ArchDef {
  const r: RegisterDef[] = [];
  for (let i = 0; i <= 28; i++) r.push({ name: `x${i}`, bits: 64, type: 'int', source: i });
  r.push({ name: 'x29', bits: 64, type: 'int', source: 'fp' });
  r.push({ name: 'x30', bits: 64, type: 'int', source: 'ra' });
  r.push({ name: 'sp', bits: 64, type: 'data_ptr', source: 'sp' });
  r.push({ name: 'pc', bits: 64, type: 'code_ptr', source: 'pc' });
  r.push({ name: 'cpsr', bits: 32, type: 'int', source: null });
  return { name: 'arm64', registers: r, targetXml: xml('aarch64', 'org.gnu.gdb.aarch64.core', r), pcReg: 32, fpReg: 29, spReg: 31, generalCount: 29 };
}

function xml(architecture: string, feature: string, regs: RegisterDef[]): string {
  const lines = regs.map((d, i) => `    <reg name="${d.name}" bitsize="${d.bits}" type="${d.type}" regnum="${i}"${d.group === undefined ? '' : ` group="${d.group}"`}/>`);
  return `<?xml version="1.0"?>\n<!DOCTYPE target SYSTEM "gdb-target.dtd">\n<target version="1.0">\n  <architecture>${architecture}</architecture>\n  <feature name="${feature}">\n${lines.join('\n')}\n  </feature>\n</target>\n`;
}

export const ARCHES = { x86_64: x86(), arm64: arm64() };

export function archDef(name: 'x86_64' | 'arm64'): ArchDef {
  return ARCHES[name];
}

/** A register's value in a context (0 for registers we have no place for). */
export function registerValue(def: RegisterDef, ctx: RegisterContext | null): bigint {
  if (ctx === null || def.source === null) return 0n;
  switch (def.source) {
    case 'pc': return BigInt(ctx.pc);
    case 'fp': return BigInt(ctx.fp);
    case 'sp': return BigInt(ctx.sp);
    case 'ra': return BigInt(ctx.ra);
    default: {
      const v = ctx.regs[def.source];
      return v === undefined ? 0n : BigInt.asUintN(64, BigInt(v));
    }
  }
}
