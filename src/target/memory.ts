/**
 * Byte-addressed little-endian memory made of mapped segments (data, text, one stack per thread).
 * An access outside every segment is a fault, reported as a runtime error of the program.
 */
import type { ValueType } from './types';

export type Value = number | bigint;

export class RuntimeFault extends Error {}

export class Segment {
  /** The backed bytes: [base, end). A stack's grow downward, on demand, as far as `limit`. */
  bytes: Uint8Array;
  view: DataView;
  base: number;
  size: number;
  /** One past the last byte; it never moves. */
  readonly end: number;
  /** Lowest address the segment may grow down to (its base, unless it is a stack). */
  readonly limit: number;
  constructor(readonly name: string, base: number, size: number, limit = base) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.base = base;
    this.size = size;
    this.end = base + size;
    this.limit = limit;
  }
}

/** Most bytes all segments together may map. */
export const MAX_MAPPED = 256 * 1024 * 1024;
const PAGE = 0x1000;

export class Memory {
  /** Sorted by limit; their reserved ranges [limit, end) never overlap. */
  private segments: Segment[] = [];
  private last: Segment | null = null;
  private mapped = 0;

  /** Bytes backed by memory now, in all segments (a stack counts what it has grown to). */
  get mappedBytes(): number {
    return this.mapped;
  }

  map(name: string, base: number, size: number): Segment {
    return this.insert(name, base, base + size, base, size);
  }

  /**
   * Reserve [top - reserve, top) for a stack, backing only its top `initial` bytes now: it grows
   * downward when a frame needs more (grow()), so memory stays proportional to use.
   */
  mapStack(name: string, top: number, reserve: number, initial = 0): Segment {
    return this.insert(name, top - reserve, top, top - initial, initial);
  }

  private insert(name: string, limit: number, end: number, base: number, size: number): Segment {
    if (this.mapped + size > MAX_MAPPED) throw new RuntimeFault(`out of memory mapping ${name} (${size} bytes; at most ${MAX_MAPPED} in all)`);
    const i = this.indexAfter(limit);
    const before = this.segments[i - 1];
    const after = this.segments[i];
    const clash = before !== undefined && before.end > limit ? before : after !== undefined && after.limit < end ? after : undefined;
    if (clash) throw new RuntimeFault(`${name} at 0x${limit.toString(16)} would overlap ${clash.name}`);
    const seg = new Segment(name, base, size, limit);
    this.segments.splice(i, 0, seg);
    this.mapped += size;
    return seg;
  }

  /** Back a stack segment down to `addr` (rounded to a page, at least doubling); a fault if that is past its limit or memory. */
  grow(seg: Segment, addr: number): void {
    if (addr >= seg.base) return;
    if (addr < seg.limit) throw new RuntimeFault(`${seg.name}: 0x${addr.toString(16)} is below its limit 0x${seg.limit.toString(16)}`);
    const base = Math.max(seg.limit, Math.min(Math.floor(addr / PAGE) * PAGE, seg.end - 2 * seg.size));
    const size = seg.end - base;
    if (this.mapped + size - seg.size > MAX_MAPPED) throw new RuntimeFault(`out of memory growing ${seg.name} (at most ${MAX_MAPPED} bytes in all)`);
    const bytes = new Uint8Array(size);
    bytes.set(seg.bytes, seg.base - base);
    this.mapped += size - seg.size;
    seg.bytes = bytes;
    seg.view = new DataView(bytes.buffer);
    seg.base = base;
    seg.size = size;
  }

  unmap(seg: Segment): void {
    const i = this.indexAfter(seg.limit) - 1;
    if (i >= 0 && this.segments[i] === seg) {
      this.segments.splice(i, 1);
      this.mapped -= seg.size;
      if (this.last === seg) this.last = null;
    }
  }

  /** Index of the first segment whose limit is above addr. */
  private indexAfter(addr: number): number {
    let lo = 0;
    let hi = this.segments.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid].limit <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The segment holding [addr, addr + size) in its backed bytes, or null. */
  find(addr: number, size: number): Segment | null {
    const last = this.last;
    if (last !== null && addr >= last.base && addr + size <= last.end) return last;
    const s = this.segments[this.indexAfter(addr) - 1];
    if (s !== undefined && addr >= s.base && addr + size <= s.end) {
      this.last = s;
      return s;
    }
    return null;
  }

  /** Like find(), but a fault naming the access when nothing is mapped there. */
  segmentFor(addr: number, size: number, what: string): Segment {
    const s = this.find(addr, size);
    if (s === null) throw new RuntimeFault(`${what} of ${size} byte${size === 1 ? '' : 's'} at 0x${addr.toString(16)}: no memory is mapped there (segmentation fault)`);
    return s;
  }

  list(): readonly Segment[] {
    return this.segments;
  }

  read(addr: number, length: number): Uint8Array {
    const s = this.segmentFor(addr, length, 'read');
    return s.bytes.slice(addr - s.base, addr - s.base + length);
  }

  write(addr: number, data: Uint8Array): void {
    const s = this.segmentFor(addr, data.length, 'write');
    s.bytes.set(data, addr - s.base);
  }
}

export type Reader = (view: DataView, offset: number) => Value;
export type Writer = (view: DataView, offset: number, value: Value) => void;

const TWO32 = 4294967296;

export function readerFor(t: ValueType): Reader {
  if (t.k === 'ptr') return (v, o) => v.getUint32(o, true) + v.getUint32(o + 4, true) * TWO32;
  switch (t.name) {
    case 'u8': return (v, o) => v.getUint8(o);
    case 'i8': return (v, o) => v.getInt8(o);
    case 'u16': return (v, o) => v.getUint16(o, true);
    case 'i16': return (v, o) => v.getInt16(o, true);
    case 'u32': return (v, o) => v.getUint32(o, true);
    case 'i32': return (v, o) => v.getInt32(o, true);
    case 'u64': return (v, o) => v.getBigUint64(o, true);
    case 'i64': return (v, o) => v.getBigInt64(o, true);
    case 'tid': case 'mutex': return (v, o) => v.getUint32(o, true);
  }
}

export function writerFor(t: ValueType): Writer {
  if (t.k === 'ptr') {
    return (v, o, x) => {
      const n = x as number;
      // Pointers are numbers: beyond 2^53 they are approximate, and at 2^64 they saturate (never wrap to 0).
      if (n >= 2 ** 64) {
        v.setUint32(o, 0xffffffff, true);
        v.setUint32(o + 4, 0xffffffff, true);
        return;
      }
      v.setUint32(o, n % TWO32, true);
      v.setUint32(o + 4, Math.floor(n / TWO32), true);
    };
  }
  switch (t.name) {
    case 'u8': case 'i8': return (v, o, x) => v.setUint8(o, (x as number) & 0xff);
    case 'u16': case 'i16': return (v, o, x) => v.setUint16(o, (x as number) & 0xffff, true);
    case 'u32': case 'i32': case 'tid': case 'mutex': return (v, o, x) => v.setUint32(o, (x as number) >>> 0, true);
    case 'u64': case 'i64': return (v, o, x) => v.setBigUint64(o, BigInt.asUintN(64, x as bigint), true);
  }
}
