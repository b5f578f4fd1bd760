/**
 * Byte-addressed little-endian memory made of mapped segments (data, text, one stack per thread).
 * An access outside every segment is a fault, reported as a runtime error of the program.
 */
import type { ValueType } from './types';

export type Value = number | bigint;

export class RuntimeFault extends Error {}

export class Segment {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  constructor(readonly name: string, readonly base: number, readonly size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  get end(): number {
    return this.base + this.size;
  }
}

/** Most bytes all segments together may map. */
export const MAX_MAPPED = 256 * 1024 * 1024;

export class Memory {
  private segments: Segment[] = [];
  private last: Segment | null = null;
  private mapped = 0;

  map(name: string, base: number, size: number): Segment {
    if (this.mapped + size > MAX_MAPPED) throw new RuntimeFault(`out of memory mapping ${name} (${size} bytes; at most ${MAX_MAPPED} in all)`);
    const clash = this.segments.find((s) => base < s.end && base + size > s.base);
    if (clash) throw new RuntimeFault(`${name} at 0x${base.toString(16)} would overlap ${clash.name}`);
    const seg = new Segment(name, base, size);
    this.segments.push(seg);
    this.segments.sort((a, b) => a.base - b.base);
    this.mapped += size;
    return seg;
  }

  unmap(seg: Segment): void {
    const i = this.segments.indexOf(seg);
    if (i >= 0) {
      this.segments.splice(i, 1);
      this.mapped -= seg.size;
      if (this.last === seg) this.last = null;
    }
  }

  /** The segment holding [addr, addr + size), or null. */
  find(addr: number, size: number): Segment | null {
    const last = this.last;
    if (last !== null && addr >= last.base && addr + size <= last.end) return last;
    for (const s of this.segments) {
      if (addr >= s.base && addr + size <= s.end) {
        this.last = s;
        return s;
      }
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
    case 'u32': case 'i32': return (v, o, x) => v.setUint32(o, (x as number) >>> 0, true);
    case 'u64': case 'i64': return (v, o, x) => v.setBigUint64(o, BigInt.asUintN(64, x as bigint), true);
  }
}
