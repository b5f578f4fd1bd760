/**
 * Synthetic `hwbp.timeline` data, until the adapter's recording exists: an x86_64 machine whose
 * DR0–DR2 on each CPU hold pinned watchpoints (closed when their thread is switched out) and whose
 * DR3 rotates among flexible ones, with hits in the registers and accesses missed while scheduled
 * out. `chunkAt` cuts the recording the way the adapter answers `hwbp.timeline { since }`.
 */
import { MARK_HIT, MARK_MISSED, type TimelineChunk, type TimelineEvent } from '../../src/views/timelineState';

export interface SynthOptions {
  cpus?: number;
  /** Closed intervals in all, spread evenly over the lanes. */
  intervals: number;
  pinned?: string[];
  flexible?: string[];
  /** Mean interval length (simulated time). */
  length?: number;
  /** Probability that an interval has a hit, and that a gap in DR3 has a missed access. */
  hitRate?: number;
  missRate?: number;
  seed?: number;
  capacity?: number;
}

export interface SynthInterval { cpu: number; reg: number; start: number; end: number; event: number }
export interface SynthMark { kind: number; time: number; cpu: number; reg: number; event: number; addr: number; line: number }

export interface SynthRecording {
  cpus: number;
  events: TimelineEvent[];
  /** All intervals, in the order they close (by end); a chunk cut before one's end shows it open. */
  intervals: SynthInterval[];
  marks: SynthMark[];
  /** The time of the last record: a chunk at this time has everything. */
  end: number;
  capacity: number;
}

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REGISTERS = ['DR0', 'DR1', 'DR2', 'DR3'];
const BASE = 0x601000;

/** Event id of `label` on `cpu` (each thread's copy of a watchpoint is its own perf event). */
export const eventId = (cpu: number, labelIndex: number) => 1 + cpu * 100 + labelIndex;

export function synthRecording(o: SynthOptions): SynthRecording {
  const cpus = o.cpus ?? 2;
  const pinned = o.pinned ?? ['a', 'b', 'c'];
  const flexible = o.flexible ?? ['d', 'e', 'f'];
  const labels = [...pinned, ...flexible];
  const length = o.length ?? 100;
  const rand = prng(o.seed ?? 1);
  const hitRate = o.hitRate ?? 0.5;
  const missRate = o.missRate ?? 0.3;
  const events: TimelineEvent[] = [];
  for (let cpu = 0; cpu < cpus; cpu++) {
    labels.forEach((label, k) => events.push({
      id: eventId(cpu, k), label, owner: `watch ${label} (${cpu === 0 ? 'main' : `thread ${cpu}`})`, pinned: k < pinned.length,
      addr: BASE + 8 * k, len: 8, access: 'w', breakpointId: k + 1,
    }));
  }
  const lanes = cpus * REGISTERS.length;
  const perLane = Math.max(1, Math.ceil(o.intervals / lanes));
  const intervals: SynthInterval[] = [];
  const marks: SynthMark[] = [];
  for (let cpu = 0; cpu < cpus; cpu++) {
    for (let reg = 0; reg < REGISTERS.length; reg++) {
      let t = Math.floor(rand() * length);
      for (let i = 0; i < perLane; i++) {
        const len = Math.max(1, Math.round(length * (0.5 + rand())));
        const k = reg < 3 ? reg % pinned.length : pinned.length + (i % flexible.length);
        const ev = eventId(cpu, k);
        intervals.push({ cpu, reg, start: t, end: t + len, event: ev });
        if (rand() < hitRate) marks.push({ kind: MARK_HIT, time: t + Math.floor(rand() * len), cpu, reg, event: ev, addr: BASE + 8 * k, line: 20 + k });
        // DR3 rotates: while one flexible watchpoint holds it, another one's access is missed.
        if (reg === 3 && flexible.length > 1 && rand() < missRate) {
          const other = pinned.length + ((i + 1) % flexible.length);
          marks.push({ kind: MARK_MISSED, time: t + Math.floor(rand() * len), cpu, reg: -1, event: eventId(cpu, other), addr: BASE + 8 * other, line: 20 + other });
        }
        t += len + (reg < 3 ? Math.floor(rand() * length * 0.2) : 0);
      }
    }
  }
  intervals.sort((x, y) => x.end - y.end || x.cpu - y.cpu || x.reg - y.reg);
  marks.sort((x, y) => x.time - y.time);
  const end = Math.max(intervals[intervals.length - 1]?.end ?? 0, marks[marks.length - 1]?.time ?? 0);
  return { cpus, events, intervals, marks, end, capacity: o.capacity ?? 1 << 20 };
}

/**
 * The chunk the adapter would answer at time `now` to `hwbp.timeline { since }` (seq = time here):
 * intervals closed and marks made in (since, now], and the intervals open at `now`.
 */
export function chunkAt(rec: SynthRecording, now: number, since?: number): TimelineChunk {
  const from = since ?? -Infinity;
  const chunk: TimelineChunk = {
    arch: 'x86_64',
    classes: [{ name: 'mixed', registerNames: [...REGISTERS] }],
    now: Array.from({ length: rec.cpus }, () => now),
    seq: now,
    dropped: { intervals: 0, marks: 0 },
    capacity: rec.capacity,
    events: [],
    intervals: { cpu: [], cls: [], reg: [], start: [], end: [], event: [] },
    open: { cpu: [], cls: [], reg: [], start: [], event: [] },
    marks: { kind: [], time: [], cpu: [], cls: [], reg: [], event: [], addr: [], line: [] },
  };
  const used = new Set<number>();
  let closedSoFar = 0;
  for (const iv of rec.intervals) {
    if (iv.end <= now) closedSoFar++;
    if (iv.end <= now && iv.end > from) {
      chunk.intervals.cpu.push(iv.cpu); chunk.intervals.cls.push(0); chunk.intervals.reg.push(iv.reg);
      chunk.intervals.start.push(iv.start); chunk.intervals.end.push(iv.end); chunk.intervals.event.push(iv.event);
      used.add(iv.event);
    } else if (iv.start <= now && iv.end > now) {
      chunk.open.cpu.push(iv.cpu); chunk.open.cls.push(0); chunk.open.reg.push(iv.reg); chunk.open.start.push(iv.start); chunk.open.event.push(iv.event);
      used.add(iv.event);
    }
  }
  let marksSoFar = 0;
  for (const m of rec.marks) {
    if (m.time <= now) marksSoFar++;
    if (m.time > from && m.time <= now) {
      const k = chunk.marks;
      k.kind.push(m.kind); k.time.push(m.time); k.cpu.push(m.cpu); k.cls.push(m.kind === MARK_HIT ? 0 : -1); k.reg.push(m.reg);
      k.event.push(m.event); k.addr.push(m.addr); k.line.push(m.line);
      used.add(m.event);
    }
  }
  chunk.dropped = { intervals: Math.max(0, closedSoFar - rec.capacity), marks: Math.max(0, marksSoFar - rec.capacity) };
  chunk.events = rec.events.filter((e) => used.has(e.id));
  return chunk;
}

/** A hand-made chunk, for tests that want exact numbers. */
export function emptyChunk(cpus = 1, now = 0, seq = 0): TimelineChunk {
  return {
    arch: 'x86_64',
    classes: [{ name: 'mixed', registerNames: [...REGISTERS] }],
    now: Array.from({ length: cpus }, () => now),
    seq,
    dropped: { intervals: 0, marks: 0 },
    capacity: 1000,
    events: [],
    intervals: { cpu: [], cls: [], reg: [], start: [], end: [], event: [] },
    open: { cpu: [], cls: [], reg: [], start: [], event: [] },
    marks: { kind: [], time: [], cpu: [], cls: [], reg: [], event: [], addr: [], line: [] },
  };
}
