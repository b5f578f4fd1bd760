/**
 * Instruction selection: each micro-operation of a lowered function becomes a short sequence of
 * load/store instructions (isa.ts), and every instruction gets its address in the text segment.
 *
 * Registers: the function's temps (values a statement hands to a later micro-operation, such as a
 * call's result) are r0 … r(temps−1) for the whole function; expressions are evaluated in the
 * registers above, allocated as a stack (an operand's scratch registers are free again once the
 * operator using it is emitted), so a function needs as many as its deepest expression.
 */
import { INSTRUCTION_SIZE, type AluOp, type Instr, type InstrBody, type MemRef, type Reg } from './isa';
import { sizeOf, type IntType, type IrOp, type LoweredFunction, type Place, type TExpr, type ValueType } from './types';

const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=']);

/** A jump target before layout: a micro-operation's index, or an instruction's own. */
type Target = { ir: number } | { at: number };

interface Pending {
  body: InstrBody;
  stmt: number;
  first: boolean;
  target?: Target;
}

export interface Selected {
  code: Instr[];
  /** Registers the function's frames need. */
  registers: number;
}

/** Select the instructions of one function, placed from `addr` on. */
export function selectFunction(fn: LoweredFunction, addr: number): Selected {
  return new Selector(fn).run(addr);
}

class Selector {
  private out: Pending[] = [];
  private irStart: number[] = [];
  private stmt = 0;
  private first = false;
  private maxReg: number;

  constructor(private readonly fn: LoweredFunction) {
    this.maxReg = fn.temps;
  }

  run(addr: number): Selected {
    const code = this.fn.code;
    for (let i = 0; i < code.length; i++) {
      this.irStart.push(this.out.length);
      this.stmt = code[i].stmt;
      this.first = code[i].first;
      const before = this.out.length;
      this.op(code[i]);
      if (this.out.length === before) this.emit({ op: 'nop' });
    }
    this.irStart.push(this.out.length);
    const resolve = (t: Target | undefined): number => (t === undefined ? -1 : 'ir' in t ? this.irStart[t.ir] : t.at);
    const instrs: Instr[] = this.out.map((p, i) => {
      const body = p.body as Instr;
      if (p.target !== undefined) (body as { target: number }).target = resolve(p.target);
      body.stmt = p.stmt;
      body.first = p.first;
      body.addr = addr + i * INSTRUCTION_SIZE;
      return body;
    });
    return { code: instrs, registers: this.maxReg };
  }

  private emit(body: InstrBody, target?: Target): number {
    this.out.push({ body, stmt: this.stmt, first: this.first, target });
    this.first = false;
    return this.out.length - 1;
  }

  private use(r: Reg): Reg {
    if (r + 1 > this.maxReg) this.maxReg = r + 1;
    return r;
  }

  // ---- micro-operations

  private op(op: IrOp): void {
    const s = this.fn.temps; // first scratch register
    switch (op.op) {
      case 'assign': {
        const a = this.operand(op.value, s);
        const mem = this.mem(op.place, a === s ? s + 1 : s);
        this.emit({ op: 'st', mem, a, type: op.place.type as ValueType });
        return;
      }
      case 'settemp':
        this.into(op.value, this.use(op.temp), s);
        return;
      case 'call':
        this.emit({ op: 'call', fn: op.fn, args: this.operands(op.args, s), d: op.dest === null ? -1 : this.use(op.dest) });
        return;
      case 'return': {
        if (op.value === null) {
          this.emit({ op: 'ret', a: -1, type: null });
          return;
        }
        const a = this.operand(op.value, s);
        this.emit({ op: 'ret', a, type: op.value.type });
        return;
      }
      case 'jump':
        this.emit({ op: 'jmp', target: -1 }, { ir: op.target });
        return;
      case 'branch':
        this.branchUnless(op.cond, { ir: op.ifFalse }, s);
        return;
      case 'spawn': {
        if (!op.instance) {
          this.emit({ op: 'spawn', thread: op.thread });
          return;
        }
        const args = this.operands(op.args, s);
        this.emit({ op: 'spawni', thread: op.thread, args, d: op.dest === null ? -1 : this.use(op.dest) });
        return;
      }
      case 'join':
        this.emit({ op: 'join', thread: op.thread });
        return;
      case 'jointid':
        this.emit({ op: 'jointid', a: this.operand(op.tid, s) });
        return;
      case 'atomic': {
        const [a, b, c] = this.operands([op.ptr, ...op.operands], s);
        this.emit({ op: 'atomic', kind: op.kind, d: op.dest === null ? -1 : this.use(op.dest), a, b, c: c ?? -1, type: op.type });
        return;
      }
      case 'lock':
      case 'unlock':
        this.emit({ op: op.op, a: this.operand(op.ptr, s) });
        return;
      case 'yield':
        this.emit({ op: 'yield' });
        return;
      case 'sleep':
        this.emit({ op: 'sleep', a: this.operand(op.value, s) });
        return;
      case 'print': {
        const parts: (string | { r: Reg; type: ValueType })[] = [];
        let next = s;
        for (const p of op.parts) {
          if (typeof p === 'string') {
            parts.push(p);
            continue;
          }
          const r = this.operand(p, next);
          if (r === next) next++;
          parts.push({ r, type: p.type });
        }
        this.emit({ op: 'print', parts });
        return;
      }
      case 'nop':
        this.emit({ op: 'nop' });
        return;
    }
  }

  /** Several values in registers, in order (each in its own, from s on, unless it is a temp already). */
  private operands(es: TExpr[], s: Reg): Reg[] {
    const regs: Reg[] = [];
    let next = s;
    for (const e of es) {
      const r = this.operand(e, next);
      regs.push(r);
      if (r === next) next++;
    }
    return regs;
  }

  /** Branch to `target` when `cond` is false. A comparison becomes one compare-and-branch. */
  private branchUnless(cond: TExpr, target: Target, s: Reg): void {
    if (cond.k === 'binary' && COMPARISONS.has(cond.op)) {
      const a = this.operand(cond.l, s);
      const imm = immediate(cond.r);
      const b = imm !== null ? -1 : this.operand(cond.r, a === s ? s + 1 : s);
      this.emit({ op: 'bcmp', fn: cond.op as '==', a, b, imm, type: cond.operand, target: -1 }, target);
      return;
    }
    const a = this.operand(cond, s);
    this.emit({ op: 'bz', a, target: -1 }, target);
  }

  // ---- expressions

  /** A register holding e's value: a temp's own register, or `s` (with scratch above it). */
  private operand(e: TExpr, s: Reg): Reg {
    if (e.k === 'temp') return this.use(e.index);
    this.into(e, this.use(s), s + 1);
    return s;
  }

  /** Compute e into register d, with scratch registers from s on (s > d unless d is a temp). */
  private into(e: TExpr, d: Reg, s: Reg): void {
    this.use(d);
    switch (e.k) {
      case 'const':
        this.emit({ op: 'li', d, value: constValue(e.type, e.value), type: e.type });
        return;
      case 'temp':
        if (e.index !== d) this.emit({ op: 'mov', d, a: this.use(e.index) });
        return;
      case 'load':
        this.emit({ op: 'ld', d, mem: this.mem(e.place, s), type: e.type });
        return;
      case 'addr':
        this.emit({ op: 'lea', d, mem: this.mem(e.place, s) });
        return;
      case 'convert': {
        const a = this.operand(e.e, s);
        this.emit({ op: 'cvt', d, a, from: e.e.type, to: e.type });
        return;
      }
      case 'unary': {
        const a = this.operand(e.e, s);
        this.emit({ op: 'un', fn: e.op, d, a, type: e.type });
        return;
      }
      case 'binary': {
        const a = this.operand(e.l, s);
        const imm = immediate(e.r);
        const b = imm !== null ? -1 : this.operand(e.r, a === s ? s + 1 : s);
        this.emit({ op: 'alu', fn: e.op as AluOp, d, a, b, imm, type: e.operand });
        return;
      }
      case 'logic': {
        // Short-circuit: the right operand is not evaluated (its memory not read) when the left decides.
        const a = this.operand(e.l, s);
        const decided = this.emit({ op: e.op === '&&' ? 'bz' : 'bnz', a, target: -1 });
        const b = this.operand(e.r, s);
        this.emit({ op: 'un', fn: '!', d, a: b, type: e.type });
        this.emit({ op: 'un', fn: '!', d, a: d, type: e.type });
        const skip = this.emit({ op: 'jmp', target: -1 });
        this.out[decided].target = { at: this.out.length };
        this.emit({ op: 'li', d, value: e.op === '&&' ? 0 : 1, type: e.type });
        this.out[skip].target = { at: this.out.length };
        // The join point: the next instruction selected (there always is one: the consumer).
        return;
      }
      case 'ptradd': {
        const a = this.operand(e.p, s);
        const b = this.operand(e.i, a === s ? s + 1 : s);
        this.emit({ op: 'padd', d, a, b, scale: e.negate ? -e.scale : e.scale, wide: e.i.type.k === 'int' && e.i.type.size === 8 });
        return;
      }
      case 'ptrdiff': {
        const a = this.operand(e.l, s);
        const b = this.operand(e.r, a === s ? s + 1 : s);
        this.emit({ op: 'pdiff', d, a, b, scale: e.scale });
        return;
      }
    }
  }

  /** A memory operand for a place, computing what it needs (pointers, indices) from register s on. */
  private mem(place: Place, s: Reg): MemRef {
    switch (place.k) {
      case 'global':
        return { base: 'abs', disp: place.addr, index: -1, scale: 1, wideIndex: false };
      case 'local':
        return { base: 'fp', disp: place.offset, index: -1, scale: 1, wideIndex: false };
      case 'deref':
        return { base: this.operand(place.ptr, s), disp: 0, index: -1, scale: 1, wideIndex: false };
      case 'elem': {
        const size = sizeOf(place.type);
        let base: MemRef;
        let next = s;
        if (isPlace(place.base)) {
          base = this.mem(place.base, s);
          if (typeof base.base === 'number' || base.index >= 0) {
            // Already register-based: fold it into one address register first.
            this.emit({ op: 'lea', d: this.use(s), mem: base });
            base = { base: s, disp: 0, index: -1, scale: 1, wideIndex: false };
            next = s + 1;
          }
        } else {
          const r = this.operand(place.base, s);
          base = { base: r, disp: 0, index: -1, scale: 1, wideIndex: false };
          if (r === s) next = s + 1;
        }
        const c = immediate(place.index);
        if (c !== null) return { ...base, disp: base.disp + Number(c) * size };
        const i = this.operand(place.index, next);
        return { ...base, index: i, scale: size, wideIndex: place.index.type.k === 'int' && place.index.type.size === 8 };
      }
    }
  }
}

function isPlace(x: Place | TExpr): x is Place {
  return x.k === 'global' || x.k === 'local' || x.k === 'deref' || x.k === 'elem';
}

function constValue(t: ValueType, v: bigint): number | bigint {
  return t.k === 'int' && (t as IntType).size === 8 ? v : Number(v);
}

/** A constant operand folded into the instruction, or null. */
function immediate(e: TExpr): number | bigint | null {
  return e.k === 'const' ? constValue(e.type, e.value) : null;
}
