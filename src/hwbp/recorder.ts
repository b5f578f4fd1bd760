/**
 * The register timeline: who held each physical debug register, and when, plus the hits and the
 * accesses a flexible breakpoint missed while it waited for a register.
 *
 * Records live in one bounded ring buffer of typed arrays (a column per field, no object per
 * record). Each record has a sequence number (its position in the stream of every record ever
 * made); the ring keeps the newest `capacity` of them and counts what it had to drop, by kind.
 * The columns come in chunks of 4096 records, added as needed up to the capacity: a short run costs
 * little, and a record once written is never copied.
 *
 * Record kinds:
 * - an interval: a breakpoint occupied register `reg` of class `cls` on `cpu` from `a` to `b`
 *   (closed when it left the register; the ones still open are read off the scheduler);
 * - a hit: the access at time `a` to address `b` matched the breakpoint in that register;
 * - a miss: the access at time `a` to address `b` touched a flexible breakpoint that was eligible
 *   on `cpu` but scheduled out (reg −1).
 * `line` is filled in by whoever knows the accessing statement (0 if unknown).
 */

import type { Kernel } from './kernel';

export const KIND_INTERVAL = 0;
export const KIND_HIT = 1;
export const KIND_MISS = 2;

/** Bytes one record takes: kind 1, cpu 2, class 1, register 1, event 4, a 8, b 8, line 4. */
export const TIMELINE_RECORD_BYTES = 29;
/** 2^20 records: 29 MiB when full. */
export const DEFAULT_TIMELINE_CAPACITY = 1 << 20;
export const MAX_TIMELINE_CAPACITY = 1 << 24;
/** Records per chunk (116 KiB): the ring grows a chunk at a time, so nothing recorded is ever copied. */
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;

/** What the timeline knows of a breakpoint (kept after it is closed, while records name it). */
export interface TimelineEventInfo {
  id: number;
  owner: string;
  pinned: boolean;
  addr: number;
  len: number;
  access: 'r' | 'w' | 'rw' | 'x';
}

/** One chunk of records: a column per field, all views on one buffer (widest first, so each is aligned). */
class Chunk {
  readonly a: Float64Array;
  readonly b: Float64Array;
  readonly event: Uint32Array;
  readonly line: Int32Array;
  readonly cpu: Uint16Array;
  readonly kind: Uint8Array;
  readonly cls: Uint8Array;
  readonly reg: Int8Array;

  constructor(n: number) {
    const buffer = new ArrayBuffer(n * TIMELINE_RECORD_BYTES);
    this.a = new Float64Array(buffer, 0, n);
    this.b = new Float64Array(buffer, 8 * n, n);
    this.event = new Uint32Array(buffer, 16 * n, n);
    this.line = new Int32Array(buffer, 20 * n, n);
    this.cpu = new Uint16Array(buffer, 24 * n, n);
    this.kind = new Uint8Array(buffer, 26 * n, n);
    this.cls = new Uint8Array(buffer, 27 * n, n);
    this.reg = new Int8Array(buffer, 28 * n, n);
  }
}

export class TimelineRing {
  readonly capacity: number;
  /** Sequence number of the oldest record kept, and of the next record to be made. */
  firstSeq = 0;
  nextSeq = 0;
  droppedIntervals = 0;
  droppedMarks = 0;
  /** Records the chunks hold (the last chunk may be short, so that this reaches exactly the capacity). */
  private size = 0;
  private head = 0;
  private count = 0;
  private readonly chunks: Chunk[] = [];

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Records kept. */
  get length(): number {
    return this.count;
  }

  /** Bytes the chunks take now. */
  get bytes(): number {
    return this.size * TIMELINE_RECORD_BYTES;
  }

  /** Index of the record with sequence number `seq` (which must be kept), for the accessors below. */
  indexOf(seq: number): number {
    const i = this.head + (seq - this.firstSeq);
    return i >= this.size ? i - this.size : i;
  }

  kindAt(i: number): number {
    return this.chunks[i >>> CHUNK_BITS].kind[i & CHUNK_MASK];
  }

  cpuAt(i: number): number {
    return this.chunks[i >>> CHUNK_BITS].cpu[i & CHUNK_MASK];
  }

  clsAt(i: number): number {
    return this.chunks[i >>> CHUNK_BITS].cls[i & CHUNK_MASK];
  }

  regAt(i: number): number {
    return this.chunks[i >>> CHUNK_BITS].reg[i & CHUNK_MASK];
  }

  eventAt(i: number): number {
    return this.chunks[i >>> CHUNK_BITS].event[i & CHUNK_MASK];
  }

  aAt(i: number): number {
    return this.chunks[i >>> CHUNK_BITS].a[i & CHUNK_MASK];
  }

  bAt(i: number): number {
    return this.chunks[i >>> CHUNK_BITS].b[i & CHUNK_MASK];
  }

  lineAt(i: number): number {
    return this.chunks[i >>> CHUNK_BITS].line[i & CHUNK_MASK];
  }

  push(kind: number, cpu: number, cls: number, reg: number, event: number, a: number, b: number): void {
    let i: number;
    if (this.count < this.size) {
      i = this.head + this.count;
      if (i >= this.size) i -= this.size;
      this.count++;
    } else if (this.size < this.capacity) {
      // Until the ring first fills, head is 0 and records run in order: a new chunk just extends it.
      const n = Math.min(CHUNK, this.capacity - this.size);
      this.chunks.push(new Chunk(n));
      this.size += n;
      i = this.count++;
    } else {
      // Full: the oldest record goes.
      i = this.head;
      if (this.kindAt(i) === KIND_INTERVAL) this.droppedIntervals++;
      else this.droppedMarks++;
      this.head = i + 1 === this.size ? 0 : i + 1;
      this.firstSeq++;
    }
    const c = this.chunks[i >>> CHUNK_BITS];
    const o = i & CHUNK_MASK;
    c.kind[o] = kind;
    c.cpu[o] = cpu;
    c.cls[o] = cls;
    c.reg[o] = reg;
    c.event[o] = event;
    c.a[o] = a;
    c.b[o] = b;
    c.line[o] = 0;
    this.nextSeq++;
  }

  /**
   * `n` interval records are about to be made, of which only the last `capacity` could be kept:
   * count the others (and everything kept now) as dropped without writing them. Returns how many of
   * the n the caller must skip. Leaves the ring exactly as writing all n would.
   */
  skipIntervals(n: number): number {
    const skip = n - this.capacity;
    if (skip <= 0) return 0;
    for (let s = this.firstSeq; s < this.nextSeq; s++) {
      if (this.kindAt(this.indexOf(s)) === KIND_INTERVAL) this.droppedIntervals++;
      else this.droppedMarks++;
    }
    this.droppedIntervals += skip;
    this.nextSeq += skip;
    this.firstSeq = this.nextSeq;
    this.head = 0;
    this.count = 0;
    return skip;
  }

  /** Set the line of every mark made from sequence number `from` on. */
  fillLines(from: number, line: number): void {
    for (let s = Math.max(from, this.firstSeq); s < this.nextSeq; s++) {
      const i = this.indexOf(s);
      const c = this.chunks[i >>> CHUNK_BITS];
      if (c.kind[i & CHUNK_MASK] !== KIND_INTERVAL) c.line[i & CHUNK_MASK] = line;
    }
  }
}

const ACCESS_NAMES = ['rw', 'r', 'w', 'rw', 'x'] as const;

/** HW_BREAKPOINT_* type → 'r' | 'w' | 'rw' | 'x'. */
export function typeNameOf(type: number): 'r' | 'w' | 'rw' | 'x' {
  return ACCESS_NAMES[type] ?? 'rw';
}

export function checkTimelineCapacity(capacity: unknown): string | null {
  if (!Number.isInteger(capacity) || (capacity as number) < 0 || (capacity as number) > MAX_TIMELINE_CAPACITY) {
    return `timelineCapacity ${String(capacity)}: need a whole number of records from 0 (no recording) to ${MAX_TIMELINE_CAPACITY}`;
  }
  return null;
}

/** The timeline as the kernel gives it: TimelineChunk (src/adapter/protocol.ts) without the debugger's labels. */
export interface KernelTimeline {
  arch: 'x86_64' | 'arm64';
  classes: { name: string; registerNames: string[] }[];
  /** Each CPU's clock now. */
  now: number[];
  /** Sequence number of the next record: pass it as `since` next time. */
  seq: number;
  /** Records dropped since the start because the ring was full (cumulative). */
  dropped: { intervals: number; marks: number };
  /** Ring capacity in records (0: not recording). */
  capacity: number;
  /** Every breakpoint named below. */
  events: TimelineEventInfo[];
  /** Closed occupancy intervals [start, end), recorded at or after `since`, in the order they closed. */
  intervals: { cpu: number[]; cls: number[]; reg: number[]; start: number[]; end: number[]; event: number[] };
  /** Every interval open now (what the registers hold). */
  open: { cpu: number[]; cls: number[]; reg: number[]; start: number[]; event: number[] };
  /** Hits (kind 0) and missed accesses (kind 1, reg −1), at or after `since`. */
  marks: { kind: number[]; time: number[]; cpu: number[]; cls: number[]; reg: number[]; event: number[]; addr: number[]; line: number[] };
}

export function buildTimeline(kernel: Kernel, since: number): KernelTimeline {
  const scheduler = kernel.scheduler;
  const ring = scheduler.timeline;
  const intervals: KernelTimeline['intervals'] = { cpu: [], cls: [], reg: [], start: [], end: [], event: [] };
  const open: KernelTimeline['open'] = { cpu: [], cls: [], reg: [], start: [], event: [] };
  const marks: KernelTimeline['marks'] = { kind: [], time: [], cpu: [], cls: [], reg: [], event: [], addr: [], line: [] };
  const named = new Set<number>();
  if (ring !== null) {
    for (let s = Math.max(since, ring.firstSeq); s < ring.nextSeq; s++) {
      const i = ring.indexOf(s);
      const event = ring.eventAt(i);
      named.add(event);
      const kind = ring.kindAt(i);
      if (kind === KIND_INTERVAL) {
        intervals.cpu.push(ring.cpuAt(i));
        intervals.cls.push(ring.clsAt(i));
        intervals.reg.push(ring.regAt(i));
        intervals.start.push(ring.aAt(i));
        intervals.end.push(ring.bAt(i));
        intervals.event.push(event);
      } else {
        marks.kind.push(kind === KIND_HIT ? 0 : 1);
        marks.time.push(ring.aAt(i));
        marks.cpu.push(ring.cpuAt(i));
        marks.cls.push(ring.clsAt(i));
        marks.reg.push(ring.regAt(i));
        marks.event.push(event);
        marks.addr.push(ring.bAt(i));
        marks.line.push(ring.lineAt(i));
      }
    }
    for (const cpu of scheduler.cpus) {
      cpu.registers.forEach((regs, cls) => regs.forEach((bp, reg) => {
        if (bp === null) return;
        scheduler.noteEvent(bp);
        named.add(bp.id);
        open.cpu.push(cpu.index);
        open.cls.push(cls);
        open.reg.push(reg);
        open.start.push(bp.occupiedSince);
        open.event.push(bp.id);
      }));
    }
  }
  const events: TimelineEventInfo[] = [];
  for (const id of [...named].sort((x, y) => x - y)) {
    const info = scheduler.timelineEvents.get(id);
    if (info !== undefined) events.push({ id, owner: info.owner, pinned: info.pinned, addr: info.addr, len: info.len, access: info.access });
  }
  return {
    arch: kernel.arch,
    classes: kernel.profile.classes.map((c) => ({ name: c.name, registerNames: [...c.registerNames] })),
    now: scheduler.cpus.map((c) => c.clock),
    seq: ring?.nextSeq ?? 0,
    dropped: { intervals: ring?.droppedIntervals ?? 0, marks: ring?.droppedMarks ?? 0 },
    capacity: ring?.capacity ?? 0,
    events, intervals, open, marks,
  };
}
