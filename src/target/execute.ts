/**
 * The instructions, executable: each instruction of a function (isa.ts) becomes one JavaScript
 * closure that does its work on the thread's registers and memory and returns the next pc. The
 * machine calls one per CPU per cycle.
 *
 * Every memory read and write goes through `port.access`, the CPU's debug registers. What can be
 * resolved once is resolved here: a global's segment and offset, the operator for a type.
 */
import { readerFor, writerFor, type Segment, type Value } from './memory';
import type { Instr, MemRef } from './isa';
import { binaryFn, converter, formatValue, truthy, unaryFn, type Binary, type Unary } from './ops';
import { sizeOf, type ValueType } from './types';
import { checkedWriter, type CompiledFunction, type ExecThread, type Op, type Port } from './codegen';

type AddrOf = (th: ExecThread) => number;

/**
 * CompiledFunction.flags: the instruction begins a statement; it accesses memory; it is private (it
 * reads and writes only its thread's registers and pc, and cannot block, so no other CPU can see
 * when it runs).
 */
export const FLAG_FIRST = 1;
export const FLAG_MEMORY = 2;
export const FLAG_PRIVATE = 4;
/**
 * A load or store at a fixed offset in the thread's own frame, in a program that gives no thread a
 * way into another's frame (machine.ts decides: no local's address taken, no pointer arithmetic, no
 * pointer made from a number, no 64-bit index): only the debug registers could see the access. While
 * no breakpoint covers the frame it runs ahead like a private one (CompiledFunction.quiet).
 */
export const FLAG_STACK = 8;

/** The instructions that touch only their thread's registers (FLAG_PRIVATE). */
const PRIVATE_OPS: ReadonlySet<Instr['op']> = new Set(['li', 'mov', 'lea', 'alu', 'un', 'cvt', 'padd', 'pdiff', 'bcmp', 'bz', 'bnz', 'jmp', 'nop']);

export class Executor {
  constructor(private readonly port: Port, private readonly functions: Map<string, CompiledFunction>) {}

  /**
   * Compile a function's instructions (the CompiledFunction must already be registered).
   * `reachable`: some thread of the program could reach another's frame, so no frame is private.
   */
  compileFunction(target: CompiledFunction, reachable: boolean): void {
    const instrs = target.lowered.instrs;
    const escapes = reachable;
    target.flags = new Uint8Array(instrs.length);
    target.stackLo = Infinity;
    target.stackHi = -Infinity;
    target.code = instrs.map((ins, pc) => {
      const op = this.instr(ins, pc) as Op;
      op.stmt = ins.stmt;
      op.addr = ins.addr;
      const memory = ins.op === 'ld' || ins.op === 'st' || ins.op === 'atomic' || ins.op === 'lock' || ins.op === 'unlock';
      const stack = !escapes && (ins.op === 'ld' || ins.op === 'st') && ins.mem.base === 'fp' && ins.mem.index < 0;
      if (stack) {
        target.stackLo = Math.min(target.stackLo, ins.mem.disp);
        target.stackHi = Math.max(target.stackHi, ins.mem.disp + sizeOf(ins.type));
      }
      target.flags[pc] = (ins.first ? FLAG_FIRST : 0) | (memory ? FLAG_MEMORY : 0) | (PRIVATE_OPS.has(ins.op) ? FLAG_PRIVATE : 0) | (stack ? FLAG_STACK : 0);
      return op;
    });
    // The quiet form of each instruction: a frame access with no debug register check (a private instruction is its own quiet form).
    target.quiet = instrs.map((ins, pc) => {
      if ((target.flags[pc] & FLAG_STACK) === 0 || (ins.op !== 'ld' && ins.op !== 'st')) return target.code[pc];
      const op = (ins.op === 'ld' ? this.quietLoad(ins.d, ins.mem.disp, ins.type, pc + 1) : this.quietStore(ins.mem.disp, ins.a, ins.type, pc + 1)) as Op;
      op.stmt = ins.stmt;
      op.addr = ins.addr;
      return op;
    });
  }

  /** `ld rd, [fp + disp]` where no breakpoint can see it (FLAG_STACK). */
  private quietLoad(d: number, disp: number, type: ValueType, next: number): (th: ExecThread) => number {
    const read = readerFor(type);
    return (th) => {
      const stack = th.stack;
      th.regs[d] = read(stack.view, th.fp + disp - stack.base);
      return next;
    };
  }

  /** `st [fp + disp], ra` where no breakpoint can see it (FLAG_STACK). */
  private quietStore(disp: number, a: number, type: ValueType, next: number): (th: ExecThread) => number {
    const write = writerFor(type);
    return (th) => {
      const stack = th.stack;
      write(stack.view, th.fp + disp - stack.base, th.regs[a]);
      return next;
    };
  }

  private instr(i: Instr, pc: number): (th: ExecThread) => number {
    const next = pc + 1;
    const port = this.port;
    switch (i.op) {
      case 'li': {
        const { d, value } = i;
        return (th) => {
          th.regs[d] = value;
          return next;
        };
      }
      case 'mov': {
        const { d, a } = i;
        return (th) => {
          const r = th.regs;
          r[d] = r[a];
          return next;
        };
      }
      case 'lea': {
        const d = i.d;
        const addr = this.addressOf(i.mem);
        return (th) => {
          th.regs[d] = addr(th);
          return next;
        };
      }
      case 'ld':
        return this.load(i.d, i.mem, i.type, next);
      case 'st':
        return this.store(i.mem, i.a, i.type, next);
      case 'alu': {
        const { d, a, b, imm } = i;
        const f: Binary = binaryFn(i.fn, i.type);
        if (imm !== null) {
          return (th) => {
            const r = th.regs;
            r[d] = f(r[a], imm);
            return next;
          };
        }
        return (th) => {
          const r = th.regs;
          r[d] = f(r[a], r[b]);
          return next;
        };
      }
      case 'un':
        return oneOperand(i.d, i.a, unaryFn(i.fn, i.type), next);
      case 'cvt':
        return oneOperand(i.d, i.a, converter(i.from, i.to), next);
      case 'padd': {
        const { d, a, b, scale, wide } = i;
        if (wide) {
          return (th) => {
            const r = th.regs;
            r[d] = (r[a] as number) + Number(r[b] as bigint) * scale;
            return next;
          };
        }
        return (th) => {
          const r = th.regs;
          r[d] = (r[a] as number) + (r[b] as number) * scale;
          return next;
        };
      }
      case 'pdiff': {
        const { d, a, b, scale } = i;
        return (th) => {
          const r = th.regs;
          r[d] = BigInt(Math.trunc(((r[a] as number) - (r[b] as number)) / scale));
          return next;
        };
      }
      case 'bcmp': {
        const { a, b, imm, target } = i;
        // The branch is taken when the comparison is false (the code falls through into the loop body or then-block).
        if (imm !== null) {
          switch (i.fn) {
            case '==': return (th) => (th.regs[a] === imm ? next : target);
            case '!=': return (th) => (th.regs[a] !== imm ? next : target);
            case '<': return (th) => (th.regs[a] < imm ? next : target);
            case '<=': return (th) => (th.regs[a] <= imm ? next : target);
            case '>': return (th) => (th.regs[a] > imm ? next : target);
            case '>=': return (th) => (th.regs[a] >= imm ? next : target);
          }
        }
        switch (i.fn) {
          case '==': return (th) => (th.regs[a] === th.regs[b] ? next : target);
          case '!=': return (th) => (th.regs[a] !== th.regs[b] ? next : target);
          case '<': return (th) => (th.regs[a] < th.regs[b] ? next : target);
          case '<=': return (th) => (th.regs[a] <= th.regs[b] ? next : target);
          case '>': return (th) => (th.regs[a] > th.regs[b] ? next : target);
          case '>=': return (th) => (th.regs[a] >= th.regs[b] ? next : target);
        }
        throw new Error('internal: unknown comparison');
      }
      case 'bz': {
        const { a, target } = i;
        return (th) => (truthy(th.regs[a]) ? next : target);
      }
      case 'bnz': {
        const { a, target } = i;
        return (th) => (truthy(th.regs[a]) ? target : next);
      }
      case 'jmp': {
        const target = i.target;
        return () => target;
      }
      case 'call': {
        const callee = this.functions.get(i.fn)!;
        const { args, d } = i;
        return (th) => {
          return port.call(th, callee, valuesOf(th.regs, args), d, next);
        };
      }
      case 'ret': {
        const a = i.a;
        if (a < 0) return (th) => port.ret(th, null);
        return (th) => port.ret(th, th.regs[a]);
      }
      case 'spawn': {
        const name = i.thread;
        return (th) => {
          port.spawn(th, name);
          return next;
        };
      }
      case 'join': {
        const name = i.thread;
        return (th) => port.join(th, name, next);
      }
      case 'spawni': {
        const { thread, args, d } = i;
        return (th) => {
          const tid = port.spawnInstance(th, thread, valuesOf(th.regs, args));
          if (d >= 0) th.regs[d] = tid;
          return next;
        };
      }
      case 'jointid': {
        const a = i.a;
        return (th) => port.joinTid(th, th.regs[a] as number, next);
      }
      case 'atomic': {
        const { kind, d, a, b, c, type } = i;
        return (th) => {
          const r = th.regs;
          const operands = c >= 0 ? [r[b], r[c]] : [r[b]];
          const old = port.atomic(th, kind, r[a] as number, operands, type);
          if (d >= 0) th.regs[d] = old;
          return next;
        };
      }
      case 'lock': {
        const a = i.a;
        return (th) => port.lock(th, th.regs[a] as number, next);
      }
      case 'unlock': {
        const a = i.a;
        return (th) => {
          port.unlock(th, th.regs[a] as number);
          return next;
        };
      }
      case 'yield':
        return (th) => port.yieldCpu(th, next);
      case 'sleep': {
        const a = i.a;
        return (th) => port.sleep(th, th.regs[a], next);
      }
      case 'print': {
        const parts = i.parts.map((p) => {
          if (typeof p === 'string') return () => p;
          const { r, type } = p;
          return (th: ExecThread) => formatValue(th.regs[r], type);
        });
        return (th) => {
          port.print(th, parts.map((p) => p(th)).join(''));
          return next;
        };
      }
      case 'nop':
        return () => next;
    }
  }

  /** The address a memory operand names, now. */
  addressOf(m: MemRef): AddrOf {
    const { disp, index, scale, wideIndex } = m;
    const base = m.base;
    if (index < 0) {
      if (base === 'abs') return () => disp;
      if (base === 'fp') return (th) => th.fp + disp;
      return (th) => (th.regs[base] as number) + disp;
    }
    const idx = wideIndex ? (th: ExecThread) => Number(th.regs[index] as bigint) : (th: ExecThread) => th.regs[index] as number;
    if (base === 'abs') return (th) => disp + idx(th) * scale;
    if (base === 'fp') return (th) => th.fp + disp + idx(th) * scale;
    return (th) => (th.regs[base] as number) + disp + idx(th) * scale;
  }

  /** `ld`: read memory into a register, checking the CPU's debug registers (the trap comes after). */
  private load(d: number, m: MemRef, type: ValueType, next: number): (th: ExecThread) => number {
    const size = sizeOf(type);
    const read = readerFor(type);
    const port = this.port;
    const access = port.access!;
    const memory = port.memory;
    if (m.base === 'abs' && m.index < 0) {
      // A global: its segment never moves.
      const addr = m.disp;
      const seg = memory.segmentFor(addr, size, 'read');
      const off = addr - seg.base;
      const view = seg.view;
      return (th) => {
        const value = read(view, off);
        th.regs[d] = value;
        const hit = access(th.cpu, addr, size, 'read');
        if (hit !== null) port.hit(th, hit, type, null, value);
        return next;
      };
    }
    if (m.base === 'fp' && m.index < 0) {
      const disp = m.disp;
      return (th) => {
        const addr = th.fp + disp;
        const stack = th.stack;
        const value = read(stack.view, addr - stack.base);
        th.regs[d] = value;
        const hit = access(th.cpu, addr, size, 'read');
        if (hit !== null) port.hit(th, hit, type, null, value);
        return next;
      };
    }
    const addrOf = this.addressOf(m);
    const segOf = this.segmentGuess(m, size);
    return (th) => {
      const addr = addrOf(th);
      const seg = segOf(th, addr, 'read');
      const value = read(seg.view, addr - seg.base);
      th.regs[d] = value;
      const hit = access(th.cpu, addr, size, 'read');
      if (hit !== null) port.hit(th, hit, type, null, value);
      return next;
    };
  }

  /** `st`: write a register to memory, checking the CPU's debug registers (the trap comes after the write). */
  private store(m: MemRef, a: number, type: ValueType, next: number): (th: ExecThread) => number {
    const size = sizeOf(type);
    const port = this.port;
    const memory = port.memory;
    const checked = checkedWriter(port, type);
    if (m.base === 'abs' && m.index < 0) {
      const addr = m.disp;
      const seg = memory.segmentFor(addr, size, 'write');
      const off = addr - seg.base;
      const view = seg.view;
      return (th) => {
        checked(th, view, off, addr, th.regs[a]);
        return next;
      };
    }
    if (m.base === 'fp' && m.index < 0) {
      const disp = m.disp;
      return (th) => {
        const addr = th.fp + disp;
        const stack = th.stack;
        checked(th, stack.view, addr - stack.base, addr, th.regs[a]);
        return next;
      };
    }
    const addrOf = this.addressOf(m);
    const segOf = this.segmentGuess(m, size);
    return (th) => {
      const addr = addrOf(th);
      const seg = segOf(th, addr, 'write');
      checked(th, seg.view, addr - seg.base, addr, th.regs[a]);
      return next;
    };
  }

  /**
   * The segment an access falls in: for a global array indexed at run time, the global's own segment
   * is tried first (an index out of bounds may still land in another: that is C, and it is allowed);
   * a frame-relative access tries the thread's stack first.
   */
  private segmentGuess(m: MemRef, size: number): (th: ExecThread, addr: number, what: string) => Segment {
    const memory = this.port.memory;
    const inside = (s: Segment, addr: number) => addr >= s.base && addr + size <= s.base + s.size;
    if (m.base === 'abs') {
      const guess = memory.find(m.disp, 1);
      if (guess !== null) return (_th, addr, what) => (inside(guess, addr) ? guess : memory.segmentFor(addr, size, what));
    }
    if (m.base === 'fp') return (th, addr, what) => (inside(th.stack, addr) ? th.stack : memory.segmentFor(addr, size, what));
    return (_th, addr, what) => memory.segmentFor(addr, size, what);
  }
}

/** rd ← f(ra): an instruction of one operand. */
function oneOperand(d: number, a: number, f: Unary, next: number): (th: ExecThread) => number {
  return (th) => {
    const r = th.regs;
    r[d] = f(r[a]);
    return next;
  };
}

/** The values of some registers, in order (a call's or a spawn's arguments). */
function valuesOf(regs: Value[], which: number[]): Value[] {
  const values = new Array<Value>(which.length);
  for (let k = 0; k < which.length; k++) values[k] = regs[which[k]];
  return values;
}
