/** Types of .hwsim values, their sizes, and the typed intermediate form the compiler consumes. */
import type { ScalarName } from './ast';
import type { Span } from './diagnostics';
import type { Instr } from './isa';

export interface IntType {
  k: 'int';
  name: ScalarName;
  size: 1 | 2 | 4 | 8;
  signed: boolean;
}
export interface PtrType {
  k: 'ptr';
  to: Type;
}
export interface ArrayType {
  k: 'array';
  elem: Type;
  count: number;
}
export type Type = IntType | PtrType | ArrayType;
/** What a register-sized value can have: an integer or a pointer. */
export type ValueType = IntType | PtrType;

const INTS: Record<ScalarName, IntType> = {
  u8: { k: 'int', name: 'u8', size: 1, signed: false },
  u16: { k: 'int', name: 'u16', size: 2, signed: false },
  u32: { k: 'int', name: 'u32', size: 4, signed: false },
  u64: { k: 'int', name: 'u64', size: 8, signed: false },
  i8: { k: 'int', name: 'i8', size: 1, signed: true },
  i16: { k: 'int', name: 'i16', size: 2, signed: true },
  i32: { k: 'int', name: 'i32', size: 4, signed: true },
  i64: { k: 'int', name: 'i64', size: 8, signed: true },
  tid: { k: 'int', name: 'tid', size: 4, signed: false },
  mutex: { k: 'int', name: 'mutex', size: 4, signed: false },
};

/**
 * `tid` and `mutex` are 4-byte unsigned words at run time (a mutex holds its owner's tid, 0 when
 * free), but not numbers: the checker refuses arithmetic on them and implicit conversions.
 */
export function isHandle(t: Type): t is IntType & { name: 'tid' | 'mutex' } {
  return t.k === 'int' && (t.name === 'tid' || t.name === 'mutex');
}

/** An integer that arithmetic accepts (not a tid or mutex). */
export function isNumber(t: Type): t is IntType {
  return t.k === 'int' && t.name !== 'tid' && t.name !== 'mutex';
}

export function intType(name: ScalarName): IntType {
  return INTS[name];
}

export const I32 = INTS.i32;
export const I64 = INTS.i64;
export const U64 = INTS.u64;
export const TID = INTS.tid;
export const MUTEX = INTS.mutex;

export function sizeOf(t: Type): number {
  if (t.k === 'int') return t.size;
  if (t.k === 'ptr') return 8;
  return sizeOf(t.elem) * t.count;
}

export function alignOf(t: Type): number {
  return t.k === 'array' ? alignOf(t.elem) : sizeOf(t);
}

export function typeToString(t: Type): string {
  if (t.k === 'int') return t.name;
  // Types are immutable once built: a pointer or array type's name is spelled once (every data hit asks).
  const known = typeNames.get(t);
  if (known !== undefined) return known;
  const name = spellType(t);
  typeNames.set(t, name);
  return name;
}

const typeNames = new WeakMap<Type, string>();

function spellType(t: PtrType | ArrayType): string {
  if (t.k === 'ptr') return `*${typeToString(t.to)}`;
  return `${typeToString(t.elem)}[${t.count}]`;
}

export function sameType(a: Type, b: Type): boolean {
  if (a.k !== b.k) return false;
  if (a.k === 'int') return a.name === (b as IntType).name;
  if (a.k === 'ptr') return sameType(a.to, (b as PtrType).to);
  return a.count === (b as ArrayType).count && sameType(a.elem, (b as ArrayType).elem);
}

export function minOf(t: IntType): bigint {
  return t.signed ? -(1n << BigInt(t.size * 8 - 1)) : 0n;
}

export function maxOf(t: IntType): bigint {
  return t.signed ? (1n << BigInt(t.size * 8 - 1)) - 1n : (1n << BigInt(t.size * 8)) - 1n;
}

// ---------------------------------------------------------------------------------------------
// Typed intermediate form

/** Where a value lives in memory. */
export type Place =
  | { k: 'global'; addr: number; type: Type; name: string }
  | { k: 'local'; offset: number; type: Type; name: string }
  | { k: 'deref'; ptr: TExpr; type: Type }
  | { k: 'elem'; base: Place | TExpr; index: TExpr; type: Type };

export type TExpr =
  | { k: 'const'; type: ValueType; value: bigint }
  | { k: 'load'; type: ValueType; place: Place }
  | { k: 'addr'; type: PtrType; place: Place }
  | { k: 'temp'; type: ValueType; index: number }
  | { k: 'unary'; op: '-' | '~' | '!'; type: ValueType; e: TExpr }
  | { k: 'binary'; op: string; type: ValueType; operand: ValueType; l: TExpr; r: TExpr }
  | { k: 'logic'; op: '&&' | '||'; type: IntType; l: TExpr; r: TExpr }
  | { k: 'convert'; type: ValueType; e: TExpr }
  | { k: 'ptradd'; type: PtrType; p: TExpr; i: TExpr; scale: number; negate: boolean }
  | { k: 'ptrdiff'; type: IntType; l: TExpr; r: TExpr; scale: number };

/** One statement of the source, as the debugger sees it: a line, a code address, a text. */
export interface StatementInfo {
  index: number;
  span: Span;
  codeAddr: number;
  text: string;
  fn: string;
}

export type AtomicKind = 'add' | 'cas' | 'xchg';

/** Micro-operations: a statement lowers to one or more; the first one is the statement boundary. */
export type IrOpBody =
  | { op: 'assign'; place: Place; value: TExpr }
  | { op: 'call'; fn: string; args: TExpr[]; dest: number | null }
  | { op: 'return'; value: TExpr | null }
  | { op: 'jump'; target: number }
  | { op: 'branch'; cond: TExpr; ifFalse: number }
  | { op: 'settemp'; temp: number; value: TExpr }
  /**
   * Start a thread: `instance` false is `spawn NAME` (the declared thread, once; no args, no dest);
   * true is `spawn NAME(args)`, a new instance whose tid goes to temp `dest` (null: dropped).
   */
  | { op: 'spawn'; thread: string; instance: boolean; args: TExpr[]; dest: number | null }
  /** Wait for the declared thread NAME to end. */
  | { op: 'join'; thread: string }
  /** Wait for the thread whose id `tid` evaluates to (a tid value) to end. */
  | { op: 'jointid'; tid: TExpr }
  /**
   * One indivisible read-modify-write of the `type`-sized word at `ptr`, through the debug
   * registers: add (operands [n]), cas (operands [expected, desired]: writes only when equal),
   * xchg (operands [value]). The old value goes to temp `dest` (null: dropped).
   */
  | { op: 'atomic'; kind: AtomicKind; ptr: TExpr; operands: TExpr[]; type: IntType; dest: number | null }
  /** Take / release the mutex at address `ptr` (a *mutex). */
  | { op: 'lock' | 'unlock'; ptr: TExpr }
  | { op: 'yield' }
  | { op: 'sleep'; value: TExpr }
  | { op: 'print'; parts: (string | TExpr)[] }
  | { op: 'nop' };

export type IrOp = IrOpBody & { stmt: number; first: boolean };

export interface LocalInfo {
  name: string;
  type: Type;
  offset: number;
  /** Statement indices (in this function) during which the local is in scope. */
  scopeStart: number;
  scopeEnd: number;
  isParam: boolean;
}

export interface LoweredFunction {
  name: string;
  kind: 'fn' | 'thread';
  params: { name: string; type: ValueType; offset: number }[];
  ret: ValueType | null;
  locals: LocalInfo[];
  frameSize: number;
  temps: number;
  code: IrOp[];
  /** The machine instructions selected for `code` (select.ts), at their text addresses. */
  instrs: Instr[];
  /** Registers a frame of this function needs (temps first, then expression scratch). */
  registers: number;
  statements: StatementInfo[];
  span: Span;
}

export interface GlobalInfo {
  name: string;
  type: Type;
  addr: number;
  size: number;
  init: bigint[] | null;
  span: Span;
}
