/**
 * The simulated machine's instruction set: a small load/store machine. Instructions are plain data
 * (selected from the checker's micro-operations in select.ts, executed by execute.ts, shown by the
 * debugger's Disassembly view). Every instruction is 4 bytes in the text segment, so each has its
 * own address; one executes per CPU per cycle, which is what lets threads interleave inside a
 * statement and lose updates.
 *
 * Registers belong to the frame (as with register windows): r0… are the function's own, a call
 * starts the callee with fresh ones and the caller's are as it left them when the call returns.
 * `fp` is the frame's base: locals and parameters live in memory at fp + offset.
 */
import { typeToString, type AtomicKind, type IntType, type ValueType } from './types';

/** A register number; -1 where an instruction has none. */
export type Reg = number;

/**
 * A memory operand: `base` is an absolute address ('abs', for globals), the frame pointer ('fp', for
 * locals) or a register holding an address; plus `disp`, plus `index` × `scale` when index ≥ 0.
 */
export interface MemRef {
  base: 'abs' | 'fp' | Reg;
  disp: number;
  index: Reg;
  scale: number;
  /** The index register holds a 64-bit (bigint) value. */
  wideIndex: boolean;
}

/** ALU operations on two operands; comparisons give 0 or 1. */
export type AluOp = '+' | '-' | '*' | '/' | '%' | '<<' | '>>' | '&' | '|' | '^' | '==' | '!=' | '<' | '<=' | '>' | '>=';

export type InstrBody =
  /** rd ← immediate */
  | { op: 'li'; d: Reg; value: number | bigint; type: ValueType }
  /** rd ← rs */
  | { op: 'mov'; d: Reg; a: Reg }
  /** rd ← the address of a memory operand */
  | { op: 'lea'; d: Reg; mem: MemRef }
  /** rd ← memory (checked by the debug registers as a read) */
  | { op: 'ld'; d: Reg; mem: MemRef; type: ValueType }
  /** memory ← rs (checked as a write) */
  | { op: 'st'; mem: MemRef; a: Reg; type: ValueType }
  /** rd ← ra OP (rb or imm), at the operand type's width and signedness */
  | { op: 'alu'; fn: AluOp; d: Reg; a: Reg; b: Reg; imm: number | bigint | null; type: ValueType }
  /** rd ← -ra, ~ra, or !ra (0 or 1) */
  | { op: 'un'; fn: '-' | '~' | '!'; d: Reg; a: Reg; type: ValueType }
  /** rd ← ra converted from one type to another (wraps, as C's casts do) */
  | { op: 'cvt'; d: Reg; a: Reg; from: ValueType; to: ValueType }
  /** rd ← ra + rb × scale (pointer arithmetic; scale may be negative) */
  | { op: 'padd'; d: Reg; a: Reg; b: Reg; scale: number; wide: boolean }
  /** rd ← (ra − rb) / scale (pointer difference, an i64) */
  | { op: 'pdiff'; d: Reg; a: Reg; b: Reg; scale: number }
  /** if the comparison fails, go to target (compare-and-branch) */
  | { op: 'bcmp'; fn: '==' | '!=' | '<' | '<=' | '>' | '>='; a: Reg; b: Reg; imm: number | bigint | null; type: ValueType; target: number }
  /** if ra is zero (bz) or not zero (bnz), go to target */
  | { op: 'bz' | 'bnz'; a: Reg; target: number }
  | { op: 'jmp'; target: number }
  /** call a function: arguments from registers; the result, if any, to rd in this frame */
  | { op: 'call'; fn: string; args: Reg[]; d: Reg }
  | { op: 'ret'; a: Reg; type: ValueType | null }
  /** start the declared thread (once) */
  | { op: 'spawn' | 'join'; thread: string }
  /** start a new instance of a thread with arguments from registers; its tid to rd (-1: dropped) */
  | { op: 'spawni'; thread: string; args: Reg[]; d: Reg }
  /** wait for the thread whose tid is in ra */
  | { op: 'jointid'; a: Reg }
  /**
   * One indivisible read-modify-write of the word ra points to, checked once by the debug
   * registers: xadd adds rb, cas stores rc if the word equals rb, xchg stores rb. The old value
   * goes to rd (-1: dropped).
   */
  | { op: 'atomic'; kind: AtomicKind; d: Reg; a: Reg; b: Reg; c: Reg; type: IntType }
  /** take / release the mutex ra points to */
  | { op: 'lock' | 'unlock'; a: Reg }
  | { op: 'yield' }
  | { op: 'sleep'; a: Reg }
  | { op: 'print'; parts: (string | { r: Reg; type: ValueType })[] }
  | { op: 'nop' };

export type Instr = InstrBody & {
  /** The source statement it belongs to (index in its function's statements). */
  stmt: number;
  /** A statement boundary: where a source-level step or a line breakpoint stops. */
  first: boolean;
  /** Its address in the text segment. */
  addr: number;
};

/** Bytes per instruction in the text segment. */
export const INSTRUCTION_SIZE = 4;

const hex = (n: number) => '0x' + n.toString(16);

export function regName(r: Reg): string {
  return `r${r}`;
}

function suffix(t: ValueType): string {
  return t.k === 'ptr' ? 'p' : (t as IntType).name;
}

export function memText(m: MemRef): string {
  const parts: string[] = [];
  if (m.base === 'abs') parts.push(hex(m.disp));
  else {
    parts.push(m.base === 'fp' ? 'fp' : regName(m.base));
    if (m.disp !== 0) parts.push(m.disp > 0 ? `+ ${m.disp}` : `- ${-m.disp}`);
  }
  if (m.index >= 0) parts.push(`+ ${regName(m.index)}${m.scale === 1 ? '' : `*${m.scale}`}`);
  return `[${parts.join(' ')}]`;
}

const ALU_NAMES: Record<AluOp, string> = {
  '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '%': 'rem', '<<': 'shl', '>>': 'shr', '&': 'and', '|': 'or', '^': 'xor',
  '==': 'seq', '!=': 'sne', '<': 'slt', '<=': 'sle', '>': 'sgt', '>=': 'sge',
};

/** Branch taken when the comparison is false: the mnemonic names the branch condition. */
const BRANCH_IF_NOT: Record<string, string> = { '==': 'bne', '!=': 'beq', '<': 'bge', '<=': 'bgt', '>': 'ble', '>=': 'blt' };

/** The mnemonic and operands, as the Disassembly view shows them (targets as addresses, via `at`). */
export function disassemble(i: InstrBody, at: (target: number) => number): string {
  switch (i.op) {
    case 'li': return `li ${regName(i.d)}, ${i.value}`;
    case 'mov': return `mov ${regName(i.d)}, ${regName(i.a)}`;
    case 'lea': return `lea ${regName(i.d)}, ${memText(i.mem)}`;
    case 'ld': return `ld.${suffix(i.type)} ${regName(i.d)}, ${memText(i.mem)}`;
    case 'st': return `st.${suffix(i.type)} ${memText(i.mem)}, ${regName(i.a)}`;
    case 'alu': return `${ALU_NAMES[i.fn]}.${suffix(i.type)} ${regName(i.d)}, ${regName(i.a)}, ${i.imm !== null ? String(i.imm) : regName(i.b)}`;
    case 'un': return `${i.fn === '-' ? 'neg' : i.fn === '~' ? 'not' : 'lnot'}.${suffix(i.type)} ${regName(i.d)}, ${regName(i.a)}`;
    case 'cvt': return `cvt.${suffix(i.to)}.${suffix(i.from)} ${regName(i.d)}, ${regName(i.a)}`;
    case 'padd': return `padd ${regName(i.d)}, ${regName(i.a)}, ${regName(i.b)}*${i.scale}`;
    case 'pdiff': return `pdiff ${regName(i.d)}, ${regName(i.a)}, ${regName(i.b)}, ${i.scale}`;
    case 'bcmp': return `${BRANCH_IF_NOT[i.fn]}.${suffix(i.type)} ${regName(i.a)}, ${i.imm !== null ? String(i.imm) : regName(i.b)}, ${hex(at(i.target))}`;
    case 'bz': case 'bnz': return `${i.op} ${regName(i.a)}, ${hex(at(i.target))}`;
    case 'jmp': return `jmp ${hex(at(i.target))}`;
    case 'call': return `call ${i.fn}(${i.args.map(regName).join(', ')})${i.d >= 0 ? ` → ${regName(i.d)}` : ''}`;
    case 'ret': return i.a >= 0 ? `ret ${regName(i.a)}` : 'ret';
    case 'spawn': case 'join': return `${i.op} ${i.thread}`;
    case 'spawni': return `spawn ${i.thread}(${i.args.map(regName).join(', ')})${i.d >= 0 ? ` → ${regName(i.d)}` : ''}`;
    case 'jointid': return `join ${regName(i.a)}`;
    case 'atomic': {
      const dest = i.d >= 0 ? `${regName(i.d)}, ` : '';
      const name = i.kind === 'add' ? 'xadd' : i.kind;
      return `${name}.${i.type.name} ${dest}[${regName(i.a)}], ${regName(i.b)}${i.kind === 'cas' ? `, ${regName(i.c)}` : ''}`;
    }
    case 'lock': case 'unlock': return `${i.op} [${regName(i.a)}]`;
    case 'yield': return 'yield';
    case 'sleep': return `sleep ${regName(i.a)}`;
    case 'print': return `print ${i.parts.map((p) => (typeof p === 'string' ? JSON.stringify(p) : `${regName(p.r)}:${typeToString(p.type)}`)).join(', ')}`;
    case 'nop': return 'nop';
  }
}
