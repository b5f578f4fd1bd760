/**
 * What compiled code runs on (frames, threads, the machine's Port), and the debugger's expression
 * compiler: a typed expression becomes a JavaScript closure per node, specialised by type (32-bit
 * and narrower values are numbers, 64-bit ones bigints). The program itself runs as instructions
 * (select.ts, execute.ts); these closures serve evaluate, watch expressions and assignments, and
 * pass a null `access`, because a debugger's own reads and writes never trigger watchpoints.
 */
import type { AccessKind, HitInfo } from '../hwbp';
import { Memory, readerFor, writerFor, type Segment, type Value } from './memory';
import { binaryFn, converter, truthy, unaryFn } from './ops';
import { sizeOf, type AtomicKind, type IntType, type LoweredFunction, type Place, type TExpr, type ValueType } from './types';
import type { QuickCode } from './quick';
import type { AheadRunner } from './translate';

export interface Frame {
  /** The frame's identity within its machine: a serial number, never reused (a recursive call or a later call at the same address is another frame). */
  id: number;
  fn: CompiledFunction;
  pc: number;
  /** Lowest address of the frame on the stack; locals live at base + offset. */
  base: number;
  /** The frame's registers (r0 …: the function's temps, then expression scratch). */
  regs: Value[];
  /** Caller's register that receives the return value, or -1. */
  dest: number;
  /** The kernel's watchGeneration when it was last found whether this frame's accesses may be quiet, and the answer. */
  quietGeneration: number;
  quietOk: boolean;
}

/** What compiled code needs of a thread. */
export interface ExecThread {
  cpu: number;
  frames: Frame[];
  stack: Segment;
  /** The innermost frame's registers and base (kept by the machine whenever frames change). */
  regs: Value[];
  fp: number;
}

/** What compiled code needs of the machine. */
export interface Port {
  memory: Memory;
  /** The watchpoint check of the CPU, or null for unchecked (debugger) access. */
  access: ((cpu: number, addr: number, size: number, kind: AccessKind) => HitInfo | null) | null;
  /** A watchpoint matched: remember it, the trap is delivered when the instruction completes. */
  hit(th: ExecThread, hit: HitInfo, type: ValueType, oldValue: Value | null, newValue: Value): void;
  call(th: ExecThread, fn: CompiledFunction, args: Value[], dest: number, returnTo: number): number;
  ret(th: ExecThread, value: Value | null): number;
  spawn(th: ExecThread, thread: string): void;
  join(th: ExecThread, thread: string, next: number): number;
  /** `spawn NAME(args)`: start a new instance of the declared thread `thread` with these arguments; returns its tid. */
  spawnInstance(th: ExecThread, thread: string, args: Value[]): number;
  /** `join t`: wait for the thread whose id is `tid`; returns `next`, or a negative code when it blocks (the op runs again once woken). */
  joinTid(th: ExecThread, tid: number, next: number): number;
  /**
   * One indivisible read-modify-write of the `type`-sized word at `addr`, checked once against the
   * CPU's debug registers (a write when it wrote, else a read); returns the old value.
   */
  atomic(th: ExecThread, kind: AtomicKind, addr: number, operands: Value[], type: IntType): Value;
  /** Take the mutex at `addr`: returns `next`, or a negative code when it blocks (the op runs again once the mutex is handed over). */
  lock(th: ExecThread, addr: number, next: number): number;
  /** Release the mutex at `addr` (a runtime error unless `th` holds it); hands it to the first waiter, if any. */
  unlock(th: ExecThread, addr: number): void;
  yieldCpu(th: ExecThread, next: number): number;
  sleep(th: ExecThread, units: Value, next: number): number;
  print(th: ExecThread, text: string): void;
}

/** An instruction, compiled: runs it and returns the next pc (or a negative code for the machine). */
export type Op = ((th: ExecThread) => number) & { stmt: number; addr: number };

export interface CompiledFunction {
  lowered: LoweredFunction;
  code: Op[];
  /** Per instruction, what the run loop asks of it every time (execute.ts FLAG_*): kept in a typed array, one load. */
  flags: Uint8Array;
  /** Bytes the frame takes on the stack: locals plus 16 for the return address and frame pointer. */
  frameBytes: number;
  /** Each instruction's quiet form: for FLAG_STACK ones, the access without the debug register check; else the instruction itself. */
  quiet: Op[];
  /** `flags` as running ahead reads them: a breakpoint's instruction loses FLAG_PRIVATE and FLAG_STACK, so it takes its own turn. */
  ahead: Uint8Array;
  /** The instructions encoded for the run-ahead interpreter (quick.ts). */
  quick: QuickCode;
  /**
   * Runners made on first use (machine.ts, runnerFor): translated to JavaScript (translate.ts), else
   * runQuick on `quick`. `runAhead` reads which instructions may run ahead from the flags it is given
   * (a function with a breakpoint); the other two have the stops written in, for a frame that is not
   * quiet and for one that is.
   */
  runAhead: AheadRunner | null;
  runLoud: AheadRunner | null;
  runQuiet: AheadRunner | null;
  /** The frame bytes FLAG_STACK instructions touch, as offsets from fp: [stackLo, stackHi). */
  stackLo: number;
  stackHi: number;
}

/**
 * A write of a `type` value through the CPU's debug registers: the write happens, then a match is
 * reported with the old and new values (the trap comes after the write, as on x86 and arm64).
 */
export function checkedWriter(port: Port, type: ValueType): (th: ExecThread, view: DataView, off: number, addr: number, value: Value) => void {
  const size = sizeOf(type);
  const write = writerFor(type);
  const read = readerFor(type);
  const access = port.access!;
  return (th, view, off, addr, value) => {
    const hit = access(th.cpu, addr, size, 'write');
    if (hit === null) {
      write(view, off, value);
      return;
    }
    const old = read(view, off);
    write(view, off, value);
    port.hit(th, hit, type, old, read(view, off));
  };
}

type Eval = (th: ExecThread) => Value;
type AddrEval = (th: ExecThread) => number;

export { converter, formatValue, truthy } from './ops';

export class CodeGen {
  constructor(private readonly port: Port) {}

  // ---- places

  /** Address of a place (for & and for reads/writes). */
  address(place: Place): AddrEval {
    switch (place.k) {
      case 'global': {
        const a = place.addr;
        return () => a;
      }
      case 'local': {
        const off = place.offset;
        return (th) => th.frames[th.frames.length - 1].base + off;
      }
      case 'deref': {
        const p = this.expr(place.ptr);
        return (th) => p(th) as number;
      }
      case 'elem': {
        const base = isPlace(place.base) ? this.address(place.base) : (this.expr(place.base) as AddrEval);
        const index = this.indexEval(place.index);
        const size = sizeOf(place.type);
        return (th) => base(th) + index(th) * size;
      }
    }
  }

  private indexEval(e: TExpr): (th: ExecThread) => number {
    const v = this.expr(e);
    if (e.type.k === 'int' && e.type.size === 8) return (th) => Number(v(th) as bigint);
    return v as (th: ExecThread) => number;
  }

  /** A closure that reads a place's value, checking the CPU's debug registers. */
  load(place: Place, type: ValueType): Eval {
    const size = sizeOf(type);
    const read = readerFor(type);
    const port = this.port;
    const access = port.access;
    const memory = port.memory;
    if (place.k === 'global') {
      // Resolved once: a global never moves.
      const addr = place.addr;
      const seg = memory.segmentFor(addr, size, 'read');
      const off = addr - seg.base;
      const view = seg.view;
      if (access === null) return () => read(view, off);
      return (th) => {
        const value = read(view, off);
        const hit = access(th.cpu, addr, size, 'read');
        if (hit !== null) port.hit(th, hit, type, null, value);
        return value;
      };
    }
    if (place.k === 'local') {
      const offset = place.offset;
      return (th) => {
        const addr = th.frames[th.frames.length - 1].base + offset;
        const stack = th.stack;
        const value = read(stack.view, addr - stack.base);
        if (access !== null) {
          const hit = access(th.cpu, addr, size, 'read');
          if (hit !== null) port.hit(th, hit, type, null, value);
        }
        return value;
      };
    }
    const addrOf = this.address(place);
    return (th) => {
      const addr = addrOf(th);
      const seg = memory.segmentFor(addr, size, 'read');
      const value = read(seg.view, addr - seg.base);
      if (access !== null) {
        const hit = access(th.cpu, addr, size, 'read');
        if (hit !== null) port.hit(th, hit, type, null, value);
      }
      return value;
    };
  }

  /** A closure that writes a place, checking the CPU's debug registers (the trap comes after the write). */
  store(place: Place): (th: ExecThread, value: Value) => void {
    const type = place.type as ValueType;
    const size = sizeOf(type);
    const write = writerFor(type);
    const port = this.port;
    const access = port.access;
    const memory = port.memory;
    const checked = access === null ? null : checkedWriter(port, type);
    if (place.k === 'global') {
      const addr = place.addr;
      const seg = memory.segmentFor(addr, size, 'write');
      const off = addr - seg.base;
      const view = seg.view;
      if (access === null) return (_th, value) => write(view, off, value);
      return (th, value) => checked!(th, view, off, addr, value);
    }
    const addrOf = this.address(place);
    return (th, value) => {
      const addr = addrOf(th);
      const seg = place.k === 'local' ? th.stack : memory.segmentFor(addr, size, 'write');
      if (access === null) write(seg.view, addr - seg.base, value);
      else checked!(th, seg.view, addr - seg.base, addr, value);
    };
  }

  // ---- expressions

  expr(e: TExpr): Eval {
    switch (e.k) {
      case 'const': {
        const v: Value = e.type.k === 'int' && e.type.size === 8 ? e.value : Number(e.value);
        return () => v;
      }
      case 'load':
        return this.load(e.place, e.type);
      case 'addr': {
        const a = this.address(e.place);
        return a;
      }
      case 'temp': {
        const i = e.index;
        return (th) => th.frames[th.frames.length - 1].regs[i];
      }
      case 'convert': {
        const inner = this.expr(e.e);
        const conv = converter(e.e.type, e.type);
        return (th) => conv(inner(th));
      }
      case 'unary':
        return this.unary(e);
      case 'logic': {
        const l = this.expr(e.l);
        const r = this.expr(e.r);
        if (e.op === '&&') return (th) => (truthy(l(th)) && truthy(r(th)) ? 1 : 0);
        return (th) => (truthy(l(th)) || truthy(r(th)) ? 1 : 0);
      }
      case 'ptradd': {
        const p = this.expr(e.p);
        const i = this.indexEval(e.i);
        const scale = e.negate ? -e.scale : e.scale;
        return (th) => (p(th) as number) + i(th) * scale;
      }
      case 'ptrdiff': {
        const l = this.expr(e.l);
        const r = this.expr(e.r);
        const scale = e.scale;
        return (th) => BigInt(Math.trunc(((l(th) as number) - (r(th) as number)) / scale));
      }
      case 'binary':
        return this.binary(e);
    }
  }

  private unary(e: Extract<TExpr, { k: 'unary' }>): Eval {
    const inner = this.expr(e.e);
    const f = unaryFn(e.op, e.type);
    return (th) => f(inner(th));
  }

  private binary(e: Extract<TExpr, { k: 'binary' }>): Eval {
    const l = this.expr(e.l);
    const r = this.expr(e.r);
    const f = binaryFn(e.op, e.operand);
    return (th) => f(l(th), r(th));
  }
}

function isPlace(x: Place | TExpr): x is Place {
  return x.k === 'global' || x.k === 'local' || x.k === 'deref' || x.k === 'elem';
}
