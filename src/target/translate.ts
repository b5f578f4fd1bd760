/**
 * Running ahead, translated: a function's instructions, as encoded for the run-ahead interpreter
 * (quick.ts), turned into one JavaScript function with a `case` per instruction and its operands
 * written in as constants, so the engine compiles straight-line code with no dispatch on the
 * instruction's kind and no operand loads. It does exactly what runQuick does, instruction by
 * instruction (the same stops, counts and cache-miss draws); test/target/quick.test.ts runs both on
 * the same cases. Where code cannot be made at run time (a host that forbids it) or a function is
 * too long to be worth it, the machine keeps using runQuick.
 */
import type { ExecThread, Op } from './codegen';
import { FLAG_FIRST, FLAG_STACK } from './execute';
import type { Instr } from './isa';
import { KIND, type AheadState, type QuickCode } from './quick';
import type { Value } from './memory';

/** runQuick without its first argument: the translated code is for one function. */
export type AheadRunner = (flags: Uint8Array, ops: Op[], mask: number, th: ExecThread, s: AheadState, limit: number, missMask: number) => void;

/** Longer functions are left to the interpreter (an engine optimizes very large functions poorly, or not at all). */
export const MAX_TRANSLATED = 4000;

let canTranslate: boolean | null = null;

/** Can this host make functions from source text (a content security policy may forbid it)? */
function translationAllowed(): boolean {
  if (canTranslate === null) {
    try {
      canTranslate = new Function('return 1')() === 1;
    } catch {
      canTranslate = false;
    }
  }
  return canTranslate;
}

function literal(v: Value): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (Object.is(v, -0)) return '-0';
  if (!Number.isFinite(v)) throw new Error(`internal: cannot translate the constant ${v}`);
  return String(v);
}

const BRANCH_OP: Record<number, string> = {
  [KIND.BEQ]: '===', [KIND.BNE]: '!==', [KIND.BLT]: '<', [KIND.BLE]: '<=', [KIND.BGT]: '>', [KIND.BGE]: '>=',
};
const COMPARE_OP: Record<number, string> = {
  [KIND.CEQ]: '===', [KIND.CNE]: '!==', [KIND.CLT]: '<', [KIND.CLE]: '<=', [KIND.CGT]: '>', [KIND.CGE]: '>=',
};
/** 32-bit arithmetic as runQuick does it: p and r are the operands. */
const ARITHMETIC: Record<number, string> = {
  [KIND.ADDU]: '(p + r) >>> 0', [KIND.SUBU]: '(p - r) >>> 0', [KIND.MULU]: 'Math.imul(p, r) >>> 0',
  [KIND.SHLU]: '(p << (r & 31)) >>> 0', [KIND.SHRU]: 'p >>> (r & 31)', [KIND.ANDU]: '(p & r) >>> 0',
  [KIND.ORU]: '(p | r) >>> 0', [KIND.XORU]: '(p ^ r) >>> 0',
  [KIND.ADDS]: '(p + r) | 0', [KIND.SUBS]: '(p - r) | 0', [KIND.MULS]: 'Math.imul(p, r)',
  [KIND.SHLS]: 'p << (r & 31)', [KIND.SHRS]: 'p >> (r & 31)', [KIND.ANDS]: 'p & r', [KIND.ORS]: 'p | r', [KIND.XORS]: 'p ^ r',
  [KIND.DIVU]: 'Math.floor(p / r) >>> 0', [KIND.REMU]: '(p % r) >>> 0', [KIND.DIVS]: '(p / r) | 0', [KIND.REMS]: '(p % r) | 0',
};
const DIVISION: ReadonlySet<number> = new Set([KIND.DIVU, KIND.REMU, KIND.DIVS, KIND.REMS]);

/**
 * The runner for one function, or null when it is left to runQuick. `flags` are the function's
 * own (execute.ts): which instructions begin a statement and which are frame accesses do not change.
 *
 * With `mask` null, whether an instruction may run ahead is read at run time from the flags the
 * runner is given (breakpoints take that away from theirs), as runQuick does. With a mask
 * (FLAG_PRIVATE, or with FLAG_STACK for a quiet frame) the stops are written in: for a function
 * with no breakpoint, called with that mask. That runner counts less as it goes: the instructions it
 * ran are the timeslice it used, and it looks at the slot limit only where it jumps or misses the
 * cache (straight code cannot run long), which may take it a little past the limit.
 */
export function translate(q: QuickCode, instrs: readonly Instr[], flags: Uint8Array, mask: number | null = null): AheadRunner | null {
  const n = instrs.length;
  if (n === 0 || n > MAX_TRANSLATED || !translationAllowed()) return null;
  const fixed = mask !== null;
  const out: string[] = [];
  const emit = (s: string) => out.push(s);
  emit('"use strict";');
  emit('return function ahead(flags, ops, mask, th, s, limit, missMask) {');
  emit('const regs = th.regs; const stack = th.stack; const view = stack.view; const frame = th.fp - stack.base;');
  emit('const left0 = s.left;');
  emit('let pc = s.pc, left = left0, slots = 0, ran = 0, misses = 0, statements = 0, accesses = 0, x = s.missState, sliceCheck = false, next = 0;');
  emit('run: for (;;) { switch (pc) {');
  for (let k = 0; k < n; k++) {
    const kind = q.kind[k];
    const stack = (flags[k] & FLAG_STACK) !== 0;
    const first = (flags[k] & FLAG_FIRST) !== 0;
    const d = q.d[k];
    const a = q.a[k];
    const rhs = q.b[k] < 0 ? literal(q.imm[k]) : `regs[${q.b[k]}]`;
    const target = q.target[k];
    emit(`case ${k}:`);
    if (fixed) {
      if ((flags[k] & mask) === 0) {
        emit(`pc = ${k}; break run;`);
        continue;
      }
    } else {
      emit(`if (slots >= limit || (flags[${k}] & mask) === 0) { pc = ${k}; break run; }`);
    }
    if (stack) {
      emit('x ^= x << 13; x ^= x >>> 17; x ^= x << 5;'); // xorshift32 (quick.ts), written in
      emit(fixed
        ? `if ((x & missMask) === 0) { misses++; pc = ${k}; if (left0 - left + misses >= limit) break run; continue run; }`
        : `if ((x & missMask) === 0) { slots++; pc = ${k}; continue run; }`);
      emit('accesses++;');
    }
    // What counting an instruction that ran, then going to `to`, looks like (`to` is an expression).
    const done = (to: string, fallsThrough: boolean): string => {
      const count = fixed ? (first ? 'statements++;' : '') : `slots++; ran++;${first ? ' statements++;' : ''}`;
      const slice = `if (--left <= 0) { pc = ${to}; sliceCheck = true; break run; }`;
      if (fallsThrough) return `${count} ${slice}`;
      return fixed
        ? `${count} ${slice} pc = ${to}; if (left0 - left + misses >= limit) break run; continue run;`
        : `${count} ${slice} pc = ${to}; continue run;`;
    };
    const sequential = k + 1 < n; // the next case follows: fall into it
    const onward = (): string => done(String(k + 1), sequential);
    switch (kind) {
      case KIND.LI: emit(`regs[${d}] = ${literal(q.imm[k])};`); emit(onward()); break;
      case KIND.MOV: emit(`regs[${d}] = regs[${a}];`); emit(onward()); break;
      case KIND.LDU32: emit(`regs[${d}] = view.getUint32(frame + ${target}, true);`); emit(onward()); break;
      case KIND.LDI32: emit(`regs[${d}] = view.getInt32(frame + ${target}, true);`); emit(onward()); break;
      case KIND.ST32: emit(`view.setUint32(frame + ${target}, regs[${a}] >>> 0, true);`); emit(onward()); break;
      case KIND.JMP: emit(done(String(target), false)); break;
      case KIND.BZ:
      case KIND.BNZ: {
        const zero = `(regs[${a}] === 0 || regs[${a}] === 0n)`;
        emit(`if (${kind === KIND.BZ ? zero : `!${zero}`}) { ${done(String(target), false)} }`);
        emit(onward());
        break;
      }
      default:
        if (BRANCH_OP[kind] !== undefined) {
          // Taken (to the target) when the comparison is false.
          emit(`if (!(regs[${a}] ${BRANCH_OP[kind]} ${rhs})) { ${done(String(target), false)} }`);
          emit(onward());
        } else if (COMPARE_OP[kind] !== undefined) {
          emit(`regs[${d}] = regs[${a}] ${COMPARE_OP[kind]} ${rhs} ? 1 : 0;`);
          emit(onward());
        } else if (ARITHMETIC[kind] !== undefined) {
          emit(`{ const p = regs[${a}]; const r = ${rhs};`);
          // Division by zero faults, in its own turn: leave it unrun.
          if (DIVISION.has(kind)) emit(`if (r === 0) { pc = ${k}; break run; }`);
          emit(`regs[${d}] = ${ARITHMETIC[kind]}; }`);
          emit(onward());
        } else {
          // Everything else through its closure; one that throws is left to fault in its own turn.
          emit(`try { next = ops[${k}](th); } catch (e) { ${stack ? 'accesses--; ' : ''}pc = ${k}; break run; }`);
          emit(done('next', false));
        }
    }
  }
  emit('default: break run;');
  emit('} }');
  if (fixed) emit('ran = left0 - left; slots = ran + misses;');
  emit('s.pc = pc; s.left = left; s.slots = slots; s.ran = ran; s.statements = statements; s.accesses = accesses; s.missState = x; s.sliceCheck = sliceCheck;');
  emit('};');
  // The same code (a program run again, restarted, or another machine of it) reuses one function,
  // and so the engine's work on it.
  const source = out.join('\n');
  const known = made.get(source);
  if (known !== undefined) return known;
  let runner: AheadRunner;
  try {
    runner = new Function(source)() as AheadRunner;
  } catch {
    return null;
  }
  if (made.size >= MAX_MADE || madeChars + source.length > MAX_MADE_CHARS) {
    made.clear();
    madeChars = 0;
  }
  made.set(source, runner);
  madeChars += source.length;
  return runner;
}

/** Runners made, by their source text (bounded in number and in text kept: forgotten all at once when full). */
const made = new Map<string, AheadRunner>();
const MAX_MADE = 512;
const MAX_MADE_CHARS = 32 * 1024 * 1024;
let madeChars = 0;
