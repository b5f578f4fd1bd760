/**
 * The run-ahead interpreter. When a CPU runs private instructions ahead of the others (machine.ts,
 * runAhead), it runs them here: the commonest instructions, encoded once per function into typed
 * arrays, are done inline by one switch; every other one calls its compiled closure (execute.ts),
 * which stays the reference. An instruction done here computes exactly what its closure computes
 * (ops.ts); test/target/runahead.test.ts and test/target/quick.test.ts compare the two.
 *
 * Nothing here allocates, and it knows nothing of CPUs, the kernel or time beyond what the state
 * record carries in and out.
 */
import type { ExecThread, Op } from './codegen';
import { FLAG_FIRST, FLAG_STACK } from './execute';
import type { Instr } from './isa';
import type { Value } from './memory';

/** What the switch does with an instruction. */
const CALL = 0; // its closure does it
const LI = 1;
const MOV = 2;
const LDU32 = 3; // a quiet frame load of a 32-bit unsigned word (u32, tid, mutex)
const LDI32 = 4;
const ST32 = 5; // a quiet frame store of a 32-bit word
const JMP = 6;
const BZ = 7;
const BNZ = 8;
// Compare-and-branch: taken (to target) when the comparison is false.
const BEQ = 10;
const BNE = 11;
const BLT = 12;
const BLE = 13;
const BGT = 14;
const BGE = 15;
// Comparisons into a register (0 or 1), any type.
const CEQ = 20;
const CNE = 21;
const CLT = 22;
const CLE = 23;
const CGT = 24;
const CGE = 25;
// Arithmetic on unsigned 32-bit-or-narrower operands.
const ADDU = 30;
const SUBU = 31;
const MULU = 32;
const DIVU = 33;
const REMU = 34;
const SHLU = 35;
const SHRU = 36;
const ANDU = 37;
const ORU = 38;
const XORU = 39;
// And on signed ones.
const ADDS = 40;
const SUBS = 41;
const MULS = 42;
const DIVS = 43;
const REMS = 44;
const SHLS = 45;
const SHRS = 46;
const ANDS = 47;
const ORS = 48;
const XORS = 49;

/** The kinds, for translate.ts (the switch below uses the constants themselves, which the engine sees as such). */
export const KIND = {
  CALL, LI, MOV, LDU32, LDI32, ST32, JMP, BZ, BNZ, BEQ, BNE, BLT, BLE, BGT, BGE, CEQ, CNE, CLT, CLE, CGT, CGE,
  ADDU, SUBU, MULU, DIVU, REMU, SHLU, SHRU, ANDU, ORU, XORU, ADDS, SUBS, MULS, DIVS, REMS, SHLS, SHRS, ANDS, ORS, XORS,
} as const;

const BRANCH: Record<string, number> = { '==': BEQ, '!=': BNE, '<': BLT, '<=': BLE, '>': BGT, '>=': BGE };
const COMPARE: Record<string, number> = { '==': CEQ, '!=': CNE, '<': CLT, '<=': CLE, '>': CGT, '>=': CGE };
const UNSIGNED: Record<string, number> = { '+': ADDU, '-': SUBU, '*': MULU, '/': DIVU, '%': REMU, '<<': SHLU, '>>': SHRU, '&': ANDU, '|': ORU, '^': XORU };
const SIGNED: Record<string, number> = { '+': ADDS, '-': SUBS, '*': MULS, '/': DIVS, '%': REMS, '<<': SHLS, '>>': SHRS, '&': ANDS, '|': ORS, '^': XORS };

/** A function's instructions for the switch: per pc, what to do and its operands. */
export interface QuickCode {
  kind: Uint8Array;
  d: Int32Array;
  a: Int32Array;
  /** The second operand's register, or -1 when it is `imm`. */
  b: Int32Array;
  imm: Value[];
  /** Branch target, or the frame offset of a quiet load or store. */
  target: Int32Array;
}

/** Encode a function's instructions (flags as execute.ts set them: quiet loads and stores only for FLAG_STACK ones). */
export function encodeQuick(instrs: readonly Instr[], flags: Uint8Array): QuickCode {
  const n = instrs.length;
  const q: QuickCode = { kind: new Uint8Array(n), d: new Int32Array(n), a: new Int32Array(n), b: new Int32Array(n).fill(-1), imm: new Array<Value>(n).fill(0), target: new Int32Array(n) };
  instrs.forEach((ins, pc) => {
    let kind = CALL;
    switch (ins.op) {
      case 'li':
        kind = LI;
        q.d[pc] = ins.d;
        q.imm[pc] = ins.value;
        break;
      case 'mov':
        kind = MOV;
        q.d[pc] = ins.d;
        q.a[pc] = ins.a;
        break;
      case 'ld':
      case 'st': {
        if ((flags[pc] & FLAG_STACK) === 0 || ins.type.k !== 'int' || ins.type.size !== 4) break;
        q.target[pc] = ins.mem.disp;
        if (ins.op === 'ld') {
          kind = ins.type.signed ? LDI32 : LDU32;
          q.d[pc] = ins.d;
        } else {
          kind = ST32;
          q.a[pc] = ins.a;
        }
        break;
      }
      case 'jmp':
        kind = JMP;
        q.target[pc] = ins.target;
        break;
      case 'bz':
      case 'bnz':
        kind = ins.op === 'bz' ? BZ : BNZ;
        q.a[pc] = ins.a;
        q.target[pc] = ins.target;
        break;
      case 'bcmp':
        kind = BRANCH[ins.fn];
        q.a[pc] = ins.a;
        if (ins.imm === null) q.b[pc] = ins.b;
        else q.imm[pc] = ins.imm;
        q.target[pc] = ins.target;
        break;
      case 'alu': {
        const t = ins.type;
        if (COMPARE[ins.fn] !== undefined) kind = COMPARE[ins.fn];
        else if (t.k === 'int' && t.size !== 8) kind = (t.signed ? SIGNED : UNSIGNED)[ins.fn];
        else break;
        q.d[pc] = ins.d;
        q.a[pc] = ins.a;
        if (ins.imm === null) q.b[pc] = ins.b;
        else q.imm[pc] = ins.imm;
        break;
      }
    }
    q.kind[pc] = kind;
  });
  return q;
}

/** The cache-miss generator's next state (xorshift32, never 0 from a state that is not 0). */
export function xorshift32(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x;
}

/** In and out of runQuick: where the thread stands, and what the run used. */
export interface AheadState {
  pc: number;
  /** Instructions left in the timeslice. */
  left: number;
  /** Slots used (an instruction one, a cache miss one more), instructions run, statements begun, frame accesses made. */
  slots: number;
  ran: number;
  statements: number;
  accesses: number;
  /** The CPU's cache-miss generator (xorshift32). */
  missState: number;
  /** The last instruction run used up the timeslice. */
  sliceCheck: boolean;
}

/**
 * Run `th` from s.pc while its instructions have a flag in `mask` (FLAG_PRIVATE, and FLAG_STACK
 * when its frame is quiet), for at most `limit` slots. `ops` are the closures to call for what the
 * switch does not do itself (the quiet forms). Stops before an instruction outside the mask, before
 * one whose closure throws (it is left to fault in its own turn), or after the one that ends the
 * timeslice. A frame access misses the cache when `missMask` of the CPU's next number is 0.
 */
export function runQuick(q: QuickCode, flags: Uint8Array, ops: Op[], mask: number, th: ExecThread, s: AheadState, limit: number, missMask: number): void {
  const { kind, d, a, b, imm, target } = q;
  const regs = th.regs;
  const stack = th.stack;
  const view = stack.view;
  const frame = th.fp - stack.base;
  let pc = s.pc;
  let left = s.left;
  let slots = 0;
  let ran = 0;
  let statements = 0;
  let accesses = 0;
  let x = s.missState;
  let sliceCheck = false;
  while (slots < limit) {
    const fl = flags[pc];
    if ((fl & mask) === 0) break;
    if ((fl & FLAG_STACK) !== 0) {
      x = xorshift32(x);
      if ((x & missMask) === 0) {
        slots++;
        continue;
      }
      accesses++;
    }
    let next = pc + 1;
    const bi = b[pc];
    switch (kind[pc]) {
      case LI: regs[d[pc]] = imm[pc]; break;
      case MOV: regs[d[pc]] = regs[a[pc]]; break;
      case LDU32: regs[d[pc]] = view.getUint32(frame + target[pc], true); break;
      case LDI32: regs[d[pc]] = view.getInt32(frame + target[pc], true); break;
      case ST32: view.setUint32(frame + target[pc], (regs[a[pc]] as number) >>> 0, true); break;
      case JMP: next = target[pc]; break;
      case BZ: { const v = regs[a[pc]]; if (v === 0 || v === 0n) next = target[pc]; break; }
      case BNZ: { const v = regs[a[pc]]; if (v !== 0 && v !== 0n) next = target[pc]; break; }
      case BEQ: if (!(regs[a[pc]] === (bi < 0 ? imm[pc] : regs[bi]))) next = target[pc]; break;
      case BNE: if (!(regs[a[pc]] !== (bi < 0 ? imm[pc] : regs[bi]))) next = target[pc]; break;
      case BLT: if (!(regs[a[pc]] < (bi < 0 ? imm[pc] : regs[bi]))) next = target[pc]; break;
      case BLE: if (!(regs[a[pc]] <= (bi < 0 ? imm[pc] : regs[bi]))) next = target[pc]; break;
      case BGT: if (!(regs[a[pc]] > (bi < 0 ? imm[pc] : regs[bi]))) next = target[pc]; break;
      case BGE: if (!(regs[a[pc]] >= (bi < 0 ? imm[pc] : regs[bi]))) next = target[pc]; break;
      case CEQ: regs[d[pc]] = regs[a[pc]] === (bi < 0 ? imm[pc] : regs[bi]) ? 1 : 0; break;
      case CNE: regs[d[pc]] = regs[a[pc]] !== (bi < 0 ? imm[pc] : regs[bi]) ? 1 : 0; break;
      case CLT: regs[d[pc]] = regs[a[pc]] < (bi < 0 ? imm[pc] : regs[bi]) ? 1 : 0; break;
      case CLE: regs[d[pc]] = regs[a[pc]] <= (bi < 0 ? imm[pc] : regs[bi]) ? 1 : 0; break;
      case CGT: regs[d[pc]] = regs[a[pc]] > (bi < 0 ? imm[pc] : regs[bi]) ? 1 : 0; break;
      case CGE: regs[d[pc]] = regs[a[pc]] >= (bi < 0 ? imm[pc] : regs[bi]) ? 1 : 0; break;
      default: {
        const k = kind[pc];
        if (k >= ADDU) {
          const p = regs[a[pc]] as number;
          const r = (bi < 0 ? imm[pc] : regs[bi]) as number;
          let v = 0;
          switch (k) {
            case ADDU: v = (p + r) >>> 0; break;
            case SUBU: v = (p - r) >>> 0; break;
            case MULU: v = Math.imul(p, r) >>> 0; break;
            case SHLU: v = (p << (r & 31)) >>> 0; break;
            case SHRU: v = p >>> (r & 31); break;
            case ANDU: v = (p & r) >>> 0; break;
            case ORU: v = (p | r) >>> 0; break;
            case XORU: v = (p ^ r) >>> 0; break;
            case ADDS: v = (p + r) | 0; break;
            case SUBS: v = (p - r) | 0; break;
            case MULS: v = Math.imul(p, r); break;
            case SHLS: v = p << (r & 31); break;
            case SHRS: v = p >> (r & 31); break;
            case ANDS: v = p & r; break;
            case ORS: v = p | r; break;
            case XORS: v = p ^ r; break;
            default:
              // Division: by zero it faults, in its own turn (its closure throws there).
              if (r === 0) next = -1;
              else if (k === DIVU) v = Math.floor(p / r) >>> 0;
              else if (k === REMU) v = (p % r) >>> 0;
              else if (k === DIVS) v = (p / r) | 0;
              else v = (p % r) | 0;
          }
          if (next >= 0) regs[d[pc]] = v;
          break;
        }
        try {
          next = ops[pc](th);
        } catch {
          next = -1;
        }
        break;
      }
    }
    if (next < 0) {
      // Not run: it faults (or would) in its own turn.
      if ((fl & FLAG_STACK) !== 0) accesses--;
      break;
    }
    slots++;
    ran++;
    if ((fl & FLAG_FIRST) !== 0) statements++;
    pc = next;
    if (--left <= 0) {
      sliceCheck = true;
      break;
    }
  }
  s.pc = pc;
  s.left = left;
  s.slots = slots;
  s.ran = ran;
  s.statements = statements;
  s.accesses = accesses;
  s.missState = x;
  s.sliceCheck = sliceCheck;
}
