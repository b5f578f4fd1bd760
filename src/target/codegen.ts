/**
 * Code generation: the typed, lowered program becomes JavaScript closures, one per micro-operation
 * and per expression node, specialised by type (32-bit and narrower values are numbers, 64-bit ones
 * bigints) and by where memory is (a global's segment and offset are resolved once, here).
 *
 * Every memory read and write of the program goes through `port.access`, the CPU's debug registers;
 * code compiled for the debugger (evaluate, watch expressions) passes null there, because a
 * debugger's own reads and writes never trigger watchpoints.
 */
import type { AccessKind, HitInfo } from '../hwbp';
import { Memory, readerFor, RuntimeFault, writerFor, type Segment, type Value } from './memory';
import { sizeOf, type AtomicKind, type IntType, type IrOp, type LoweredFunction, type Place, type TExpr, type ValueType } from './types';

export interface Frame {
  /** The frame's identity within its machine: a serial number, never reused (a recursive call or a later call at the same address is another frame). */
  id: number;
  fn: CompiledFunction;
  pc: number;
  /** Lowest address of the frame on the stack; locals live at base + offset. */
  base: number;
  temps: Value[];
  /** Caller's temp that receives the return value, or -1. */
  dest: number;
}

/** What compiled code needs of a thread. */
export interface ExecThread {
  cpu: number;
  frames: Frame[];
  stack: Segment;
}

/** What compiled code needs of the machine. */
export interface Port {
  memory: Memory;
  /** The watchpoint check of the CPU, or null for unchecked (debugger) access. */
  access: ((cpu: number, addr: number, size: number, kind: AccessKind) => HitInfo | null) | null;
  /** A watchpoint matched: remember it, the trap is delivered when the micro-operation completes. */
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

export type Op = ((th: ExecThread) => number) & { first: boolean; stmt: number };

export interface CompiledFunction {
  lowered: LoweredFunction;
  code: Op[];
  /** Bytes the frame takes on the stack: locals plus 16 for the return address and frame pointer. */
  frameBytes: number;
}

type Eval = (th: ExecThread) => Value;
type AddrEval = (th: ExecThread) => number;

export function truthy(v: Value): boolean {
  return v !== 0 && v !== 0n;
}

/** Wraps a number or bigint into `to`'s width and signedness (C's conversion). */
export function converter(from: ValueType, to: ValueType): (v: Value) => Value {
  const fromWide = from.k === 'int' && from.size === 8;
  if (to.k === 'ptr') {
    if (fromWide) return (v) => Number(BigInt.asUintN(64, v as bigint));
    return (v) => ((v as number) < 0 ? (v as number) + 2 ** 64 : (v as number));
  }
  if (to.size === 8) {
    const wrap64 = to.signed ? (x: bigint) => BigInt.asIntN(64, x) : (x: bigint) => BigInt.asUintN(64, x);
    if (fromWide) return (v) => wrap64(v as bigint);
    return (v) => wrap64(BigInt(v as number));
  }
  const narrow = wrap32(to);
  if (fromWide) return (v) => narrow(Number(BigInt.asUintN(32, v as bigint)));
  return (v) => narrow(v as number);
}

/** Wrap a number (any integer up to 2^53) to a type of 32 bits or fewer. */
function wrap32(t: IntType): (v: number) => number {
  switch (t.name) {
    case 'u8': return (v) => v & 0xff;
    case 'i8': return (v) => (v << 24) >> 24;
    case 'u16': return (v) => v & 0xffff;
    case 'i16': return (v) => (v << 16) >> 16;
    case 'u32': case 'tid': case 'mutex': return (v) => v >>> 0;
    default: return (v) => v | 0;
  }
}

export function formatValue(v: Value, t: ValueType): string {
  if (t.k === 'ptr') return '0x' + (v as number).toString(16);
  return v.toString();
}

export class CodeGen {
  constructor(private readonly port: Port, private readonly functions: Map<string, CompiledFunction>) {}

  /** Compile a function's micro-operations (the CompiledFunction must already be registered). */
  compileFunction(target: CompiledFunction): void {
    const lowered = target.lowered;
    target.code = lowered.code.map((op, pc) => {
      const fn = this.op(op, pc) as Op;
      fn.first = op.first;
      fn.stmt = op.stmt;
      return fn;
    });
  }

  private op(op: IrOp, pc: number): (th: ExecThread) => number {
    const next = pc + 1;
    const port = this.port;
    switch (op.op) {
      case 'assign': {
        const store = this.store(op.place);
        const value = this.expr(op.value);
        return (th) => {
          store(th, value(th));
          return next;
        };
      }
      case 'call': {
        const callee = this.functions.get(op.fn)!;
        const args = op.args.map((a) => this.expr(a));
        const dest = op.dest ?? -1;
        return (th) => port.call(th, callee, args.map((a) => a(th)), dest, next);
      }
      case 'return': {
        const value = op.value === null ? null : this.expr(op.value);
        return (th) => port.ret(th, value === null ? null : value(th));
      }
      case 'jump': {
        const target = op.target;
        return () => target;
      }
      case 'branch': {
        const cond = this.expr(op.cond);
        const ifFalse = op.ifFalse;
        return (th) => (truthy(cond(th)) ? next : ifFalse);
      }
      case 'settemp': {
        const value = this.expr(op.value);
        const temp = op.temp;
        return (th) => {
          th.frames[th.frames.length - 1].temps[temp] = value(th);
          return next;
        };
      }
      case 'spawn':
        return this.spawnOp(op, next);
      case 'jointid':
        return this.joinTidOp(op, next);
      case 'atomic':
        return this.atomicOp(op, next);
      case 'lock':
      case 'unlock':
        return this.mutexOp(op, next);
      case 'join': {
        const name = op.thread;
        return (th) => port.join(th, name, next);
      }
      case 'yield':
        return (th) => port.yieldCpu(th, next);
      case 'sleep': {
        const value = this.expr(op.value);
        return (th) => port.sleep(th, value(th), next);
      }
      case 'print': {
        const parts = op.parts.map((p) => {
          if (typeof p === 'string') return () => p;
          const e = this.expr(p);
          return (th: ExecThread) => formatValue(e(th), p.type);
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

  private spawnOp(op: Extract<IrOp, { op: 'spawn' }>, next: number): (th: ExecThread) => number {
    const port = this.port;
    const name = op.thread;
    if (!op.instance) {
      return (th) => {
        port.spawn(th, name);
        return next;
      };
    }
    const args = op.args.map((a) => this.expr(a));
    const dest = op.dest;
    return (th) => {
      const tid = port.spawnInstance(th, name, args.map((a) => a(th)));
      if (dest !== null) th.frames[th.frames.length - 1].temps[dest] = tid;
      return next;
    };
  }

  private joinTidOp(op: Extract<IrOp, { op: 'jointid' }>, next: number): (th: ExecThread) => number {
    const port = this.port;
    const tid = this.expr(op.tid);
    return (th) => port.joinTid(th, tid(th) as number, next);
  }

  private atomicOp(op: Extract<IrOp, { op: 'atomic' }>, next: number): (th: ExecThread) => number {
    const port = this.port;
    const ptr = this.expr(op.ptr);
    const operands = op.operands.map((o) => this.expr(o));
    const { kind, type, dest } = op;
    return (th) => {
      const old = port.atomic(th, kind, ptr(th) as number, operands.map((o) => o(th)), type);
      if (dest !== null) th.frames[th.frames.length - 1].temps[dest] = old;
      return next;
    };
  }

  private mutexOp(op: Extract<IrOp, { op: 'lock' | 'unlock' }>, next: number): (th: ExecThread) => number {
    const port = this.port;
    const ptr = this.expr(op.ptr);
    if (op.op === 'lock') return (th) => port.lock(th, ptr(th) as number, next);
    return (th) => {
      port.unlock(th, ptr(th) as number);
      return next;
    };
  }

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
    const read = readerFor(type);
    const port = this.port;
    const access = port.access;
    const memory = port.memory;
    const checked = (th: ExecThread, view: DataView, off: number, addr: number, value: Value) => {
      const hit = access!(th.cpu, addr, size, 'write');
      if (hit === null) {
        write(view, off, value);
        return;
      }
      const old = read(view, off);
      write(view, off, value);
      port.hit(th, hit, type, old, read(view, off));
    };
    if (place.k === 'global') {
      const addr = place.addr;
      const seg = memory.segmentFor(addr, size, 'write');
      const off = addr - seg.base;
      const view = seg.view;
      if (access === null) return (_th, value) => write(view, off, value);
      return (th, value) => checked(th, view, off, addr, value);
    }
    const addrOf = this.address(place);
    return (th, value) => {
      const addr = addrOf(th);
      const seg = place.k === 'local' ? th.stack : memory.segmentFor(addr, size, 'write');
      if (access === null) write(seg.view, addr - seg.base, value);
      else checked(th, seg.view, addr - seg.base, addr, value);
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
        return (th) => th.frames[th.frames.length - 1].temps[i];
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
    if (e.op === '!') return (th) => (truthy(inner(th)) ? 0 : 1);
    const t = e.type as IntType;
    if (t.size === 8) {
      const wrap = t.signed ? (x: bigint) => BigInt.asIntN(64, x) : (x: bigint) => BigInt.asUintN(64, x);
      if (e.op === '-') return (th) => wrap(-(inner(th) as bigint));
      return (th) => wrap(~(inner(th) as bigint));
    }
    if (t.signed) {
      if (e.op === '-') return (th) => -(inner(th) as number) | 0;
      return (th) => ~(inner(th) as number);
    }
    if (e.op === '-') return (th) => -(inner(th) as number) >>> 0;
    return (th) => ~(inner(th) as number) >>> 0;
  }

  private binary(e: Extract<TExpr, { k: 'binary' }>): Eval {
    const l = this.expr(e.l);
    const r = this.expr(e.r);
    const operand = e.operand;
    switch (e.op) {
      case '==': return (th) => (l(th) === r(th) ? 1 : 0);
      case '!=': return (th) => (l(th) !== r(th) ? 1 : 0);
      case '<': return (th) => (l(th) < r(th) ? 1 : 0);
      case '<=': return (th) => (l(th) <= r(th) ? 1 : 0);
      case '>': return (th) => (l(th) > r(th) ? 1 : 0);
      case '>=': return (th) => (l(th) >= r(th) ? 1 : 0);
    }
    if (operand.k === 'ptr') throw new Error(`internal: ${e.op} on pointers`);
    if (operand.size === 8) return this.wideBinary(e.op, l as (th: ExecThread) => bigint, r as (th: ExecThread) => bigint, operand.signed);
    const a = l as (th: ExecThread) => number;
    const b = r as (th: ExecThread) => number;
    if (operand.signed) {
      switch (e.op) {
        case '+': return (th) => (a(th) + b(th)) | 0;
        case '-': return (th) => (a(th) - b(th)) | 0;
        case '*': return (th) => Math.imul(a(th), b(th));
        case '/': return (th) => { const d = b(th); if (d === 0) throw divZero(); return (a(th) / d) | 0; };
        case '%': return (th) => { const d = b(th); if (d === 0) throw divZero(); return (a(th) % d) | 0; };
        case '<<': return (th) => a(th) << (b(th) & 31);
        case '>>': return (th) => a(th) >> (b(th) & 31);
        case '&': return (th) => a(th) & b(th);
        case '|': return (th) => a(th) | b(th);
        case '^': return (th) => a(th) ^ b(th);
      }
    } else {
      switch (e.op) {
        case '+': return (th) => (a(th) + b(th)) >>> 0;
        case '-': return (th) => (a(th) - b(th)) >>> 0;
        case '*': return (th) => Math.imul(a(th), b(th)) >>> 0;
        case '/': return (th) => { const d = b(th); if (d === 0) throw divZero(); return Math.floor(a(th) / d) >>> 0; };
        case '%': return (th) => { const d = b(th); if (d === 0) throw divZero(); return (a(th) % d) >>> 0; };
        case '<<': return (th) => (a(th) << (b(th) & 31)) >>> 0;
        case '>>': return (th) => a(th) >>> (b(th) & 31);
        case '&': return (th) => (a(th) & b(th)) >>> 0;
        case '|': return (th) => (a(th) | b(th)) >>> 0;
        case '^': return (th) => (a(th) ^ b(th)) >>> 0;
      }
    }
    throw new Error(`internal: unknown operator ${e.op}`);
  }

  private wideBinary(op: string, a: (th: ExecThread) => bigint, b: (th: ExecThread) => bigint, signed: boolean): Eval {
    const w = signed ? (x: bigint) => BigInt.asIntN(64, x) : (x: bigint) => BigInt.asUintN(64, x);
    switch (op) {
      case '+': return (th) => w(a(th) + b(th));
      case '-': return (th) => w(a(th) - b(th));
      case '*': return (th) => w(a(th) * b(th));
      case '/': return (th) => { const d = b(th); if (d === 0n) throw divZero(); return w(a(th) / d); };
      case '%': return (th) => { const d = b(th); if (d === 0n) throw divZero(); return w(a(th) % d); };
      case '<<': return (th) => w(a(th) << (b(th) & 63n));
      case '>>': return (th) => w(a(th) >> (b(th) & 63n));
      case '&': return (th) => w(a(th) & b(th));
      case '|': return (th) => w(a(th) | b(th));
      case '^': return (th) => w(a(th) ^ b(th));
    }
    throw new Error(`internal: unknown operator ${op}`);
  }
}

function isPlace(x: Place | TExpr): x is Place {
  return x.k === 'global' || x.k === 'local' || x.k === 'deref' || x.k === 'elem';
}

function divZero(): RuntimeFault {
  return new RuntimeFault('division by zero');
}

