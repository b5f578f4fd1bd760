/**
 * The register timeline: who held each physical debug register, and when, plus the hits and the
 * accesses a flexible breakpoint missed while it waited for a register.
 *
 * Records live in one bounded ring buffer of typed arrays (a column per field, no object per
 * record). Each record has a sequence number (its position in the stream of every record ever
 * made); the ring keeps the newest `capacity` of them and counts what it had to drop, by kind.
 * The arrays start small and grow (×4) up to the capacity, so a short run costs little.
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
/** 2^20 records: 29 MiB when full, at most 43.5 MiB while the last growth copies. */
export const DEFAULT_TIMELINE_CAPACITY = 1 << 20;
export const MAX_TIMELINE_CAPACITY = 1 << 24;
const INITIAL_SIZE = 4096;

/** What the timeline knows of a breakpoint (kept after it is closed, while records name it). */
export interface TimelineEventInfo {
  id: number;
  owner: string;
  pinned: boolean;
  addr: number;
  len: number;
  access: 'r' | 'w' | 'rw' | 'x';
}

export class TimelineRing {
  readonly capacity: number;
  /** Sequence number of the oldest record kept, and of the next record to be made. */
  firstSeq = 0;
  nextSeq = 0;
  droppedIntervals = 0;
  droppedMarks = 0;
  private size = 0;
  private head = 0;
  private count = 0;
  kind = new Uint8Array(0);
  cpu = new Uint16Array(0);
  cls = new Uint8Array(0);
  reg = new Int8Array(0);
  event = new Uint32Array(0);
  a = new Float64Array(0);
  b = new Float64Array(0);
  line = new Int32Array(0);

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Records kept. */
  get length(): number {
    return this.count;
  }

  /** Bytes the arrays take now. */
  get bytes(): number {
    return this.size * TIMELINE_RECORD_BYTES;
  }

  /** Array index of the record with sequence number `seq` (which must be kept). */
  indexOf(seq: number): number {
    const i = this.head + (seq - this.firstSeq);
    return i >= this.size ? i - this.size : i;
  }

  push(kind: number, cpu: number, cls: number, reg: number, event: number, a: number, b: number): void {
    let i: number;
    if (this.count < this.size) {
      i = this.head + this.count;
      if (i >= this.size) i -= this.size;
      this.count++;
    } else if (this.size < this.capacity) {
      this.grow();
      i = this.count++;
    } else {
      // Full: the oldest record goes.
      i = this.head;
      if (this.kind[i] === KIND_INTERVAL) this.droppedIntervals++;
      else this.droppedMarks++;
      this.head = i + 1 === this.size ? 0 : i + 1;
      this.firstSeq++;
    }
    this.kind[i] = kind;
    this.cpu[i] = cpu;
    this.cls[i] = cls;
    this.reg[i] = reg;
    this.event[i] = event;
    this.a[i] = a;
    this.b[i] = b;
    this.line[i] = 0;
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
      if (this.kind[this.indexOf(s)] === KIND_INTERVAL) this.droppedIntervals++;
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
      if (this.kind[i] !== KIND_INTERVAL) this.line[i] = line;
    }
  }

  private grow(): void {
    const size = Math.min(this.capacity, Math.max(INITIAL_SIZE, this.size * 4));
    const order = <T extends { length: number; set(a: ArrayLike<number>, o?: number): void; subarray(s: number, e?: number): T }>(old: T, fresh: T): T => {
      // Oldest first, from index 0.
      fresh.set(old.subarray(this.head, this.size), 0);
      fresh.set(old.subarray(0, this.head), this.size - this.head);
      return fresh;
    };
    this.kind = order(this.kind, new Uint8Array(size));
    this.cpu = order(this.cpu, new Uint16Array(size));
    this.cls = order(this.cls, new Uint8Array(size));
    this.reg = order(this.reg, new Int8Array(size));
    this.event = order(this.event, new Uint32Array(size));
    this.a = order(this.a, new Float64Array(size));
    this.b = order(this.b, new Float64Array(size));
    this.line = order(this.line, new Int32Array(size));
    this.head = 0;
    this.size = size;
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
      const event = ring.event[i];
      named.add(event);
      if (ring.kind[i] === KIND_INTERVAL) {
        intervals.cpu.push(ring.cpu[i]);
        intervals.cls.push(ring.cls[i]);
        intervals.reg.push(ring.reg[i]);
        intervals.start.push(ring.a[i]);
        intervals.end.push(ring.b[i]);
        intervals.event.push(event);
      } else {
        marks.kind.push(ring.kind[i] === KIND_HIT ? 0 : 1);
        marks.time.push(ring.a[i]);
        marks.cpu.push(ring.cpu[i]);
        marks.cls.push(ring.cls[i]);
        marks.reg.push(ring.reg[i]);
        marks.event.push(event);
        marks.addr.push(ring.b[i]);
        marks.line.push(ring.line[i]);
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
