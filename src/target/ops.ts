/**
 * What the operators mean, as functions on values: shared by the machine's instructions
 * (execute.ts) and the debugger's expression evaluator (codegen.ts), so both compute alike.
 * Values of 32 bits and narrower are numbers, 64-bit integers bigints, pointers numbers.
 */
import { RuntimeFault, type Value } from './memory';
import type { IntType, ValueType } from './types';

export type Binary = (a: Value, b: Value) => Value;
export type Unary = (a: Value) => Value;

export function truthy(v: Value): boolean {
  return v !== 0 && v !== 0n;
}

export function formatValue(v: Value, t: ValueType): string {
  if (t.k === 'ptr') return '0x' + (v as number).toString(16);
  return v.toString();
}

export function divZero(): RuntimeFault {
  return new RuntimeFault('division by zero');
}

/** Wraps a number or bigint into `to`'s width and signedness (C's conversion). */
export function converter(from: ValueType, to: ValueType): Unary {
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

/** `-`, `~` or `!` at a type. */
export function unaryFn(op: '-' | '~' | '!', type: ValueType): Unary {
  if (op === '!') return (v) => (truthy(v) ? 0 : 1);
  const t = type as IntType;
  if (t.size === 8) {
    const wrap = t.signed ? (x: bigint) => BigInt.asIntN(64, x) : (x: bigint) => BigInt.asUintN(64, x);
    if (op === '-') return (v) => wrap(-(v as bigint));
    return (v) => wrap(~(v as bigint));
  }
  if (t.signed) {
    if (op === '-') return (v) => -(v as number) | 0;
    return (v) => ~(v as number);
  }
  if (op === '-') return (v) => -(v as number) >>> 0;
  return (v) => ~(v as number) >>> 0;
}

/** A binary operator on operands of type `operand` (both already converted to it). */
export function binaryFn(op: string, operand: ValueType): Binary {
  switch (op) {
    case '==': return (a, b) => (a === b ? 1 : 0);
    case '!=': return (a, b) => (a !== b ? 1 : 0);
    case '<': return (a, b) => (a < b ? 1 : 0);
    case '<=': return (a, b) => (a <= b ? 1 : 0);
    case '>': return (a, b) => (a > b ? 1 : 0);
    case '>=': return (a, b) => (a >= b ? 1 : 0);
  }
  if (operand.k === 'ptr') throw new Error(`internal: ${op} on pointers`);
  if (operand.size === 8) return wideBinary(op, operand.signed) as Binary;
  type N = (a: number, b: number) => number;
  let f: N | undefined;
  if (operand.signed) {
    switch (op) {
      case '+': f = (a, b) => (a + b) | 0; break;
      case '-': f = (a, b) => (a - b) | 0; break;
      case '*': f = (a, b) => Math.imul(a, b); break;
      case '/': f = (a, b) => { if (b === 0) throw divZero(); return (a / b) | 0; }; break;
      case '%': f = (a, b) => { if (b === 0) throw divZero(); return (a % b) | 0; }; break;
      case '<<': f = (a, b) => a << (b & 31); break;
      case '>>': f = (a, b) => a >> (b & 31); break;
      case '&': f = (a, b) => a & b; break;
      case '|': f = (a, b) => a | b; break;
      case '^': f = (a, b) => a ^ b; break;
    }
  } else {
    switch (op) {
      case '+': f = (a, b) => (a + b) >>> 0; break;
      case '-': f = (a, b) => (a - b) >>> 0; break;
      case '*': f = (a, b) => Math.imul(a, b) >>> 0; break;
      case '/': f = (a, b) => { if (b === 0) throw divZero(); return Math.floor(a / b) >>> 0; }; break;
      case '%': f = (a, b) => { if (b === 0) throw divZero(); return (a % b) >>> 0; }; break;
      case '<<': f = (a, b) => (a << (b & 31)) >>> 0; break;
      case '>>': f = (a, b) => a >>> (b & 31); break;
      case '&': f = (a, b) => (a & b) >>> 0; break;
      case '|': f = (a, b) => (a | b) >>> 0; break;
      case '^': f = (a, b) => (a ^ b) >>> 0; break;
    }
  }
  if (f === undefined) throw new Error(`internal: unknown operator ${op}`);
  return f as Binary;
}

function wideBinary(op: string, signed: boolean): (a: bigint, b: bigint) => bigint {
  const w = signed ? (x: bigint) => BigInt.asIntN(64, x) : (x: bigint) => BigInt.asUintN(64, x);
  switch (op) {
    case '+': return (a, b) => w(a + b);
    case '-': return (a, b) => w(a - b);
    case '*': return (a, b) => w(a * b);
    case '/': return (a, b) => { if (b === 0n) throw divZero(); return w(a / b); };
    case '%': return (a, b) => { if (b === 0n) throw divZero(); return w(a % b); };
    case '<<': return (a, b) => w(a << (b & 63n));
    case '>>': return (a, b) => w(a >> (b & 63n));
    case '&': return (a, b) => w(a & b);
    case '|': return (a, b) => w(a | b);
    case '^': return (a, b) => w(a ^ b);
  }
  throw new Error(`internal: unknown operator ${op}`);
}
