/**
 * The register timeline as a Chrome trace (the Trace Event Format, JSON object form), which
 * ui.perfetto.dev and chrome://tracing open directly. Pure: a TimelineChunk in, plain data out.
 *
 * One process per CPU (cpu0, cpu1, …), one thread per physical register (DR0…, or BVR0…/WVR0…)
 * plus one for accesses missed while scheduled out; a complete slice per occupancy interval, an
 * instant per hit or missed access, a counter of the registers in use per CPU. One simulated time
 * unit is one microsecond. docs/timeline.md describes the mapping.
 */
import type { TimelineChunk } from './protocol';

export interface ChromeTraceEvent {
  name: string;
  ph: 'M' | 'X' | 'i' | 'C';
  ts: number;
  pid: number;
  tid: number;
  dur?: number;
  cat?: string;
  /** Instant scope: thread, process or global. */
  s?: 't' | 'p' | 'g';
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: 'ms' | 'ns';
  otherData: {
    generator: string;
    arch: string;
    timeUnit: string;
    capacity: number;
    droppedIntervals: number;
    droppedMarks: number;
  };
}

const hex = (n: number) => '0x' + n.toString(16);

export function toChromeTrace(chunk: TimelineChunk): ChromeTrace {
  const meta: ChromeTraceEvent[] = [];
  const timed: ChromeTraceEvent[] = [];
  // Thread ids: 1 + the register's place over every class; the missed-access track after them.
  const offsets: number[] = [];
  let total = 0;
  for (const c of chunk.classes) {
    offsets.push(total);
    total += c.registerNames.length;
  }
  const missedTid = total + 1;
  const tidOf = (cls: number, reg: number) => 1 + offsets[cls] + reg;
  const events = new Map(chunk.events.map((e) => [e.id, e]));
  const labelOf = (id: number) => events.get(id)?.label ?? `event #${id}`;

  for (let cpu = 0; cpu < chunk.now.length; cpu++) {
    meta.push({ name: 'process_name', ph: 'M', ts: 0, pid: cpu, tid: 0, args: { name: `cpu${cpu}` } });
    meta.push({ name: 'process_sort_index', ph: 'M', ts: 0, pid: cpu, tid: 0, args: { sort_index: cpu } });
    chunk.classes.forEach((c, cls) => c.registerNames.forEach((name, reg) => {
      meta.push({ name: 'thread_name', ph: 'M', ts: 0, pid: cpu, tid: tidOf(cls, reg), args: { name } });
      meta.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid: cpu, tid: tidOf(cls, reg), args: { sort_index: tidOf(cls, reg) } });
    }));
    meta.push({ name: 'thread_name', ph: 'M', ts: 0, pid: cpu, tid: missedTid, args: { name: 'missed (scheduled out)' } });
    meta.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid: cpu, tid: missedTid, args: { sort_index: missedTid } });
  }

  // Registers in use per CPU: +1 at each start, −1 at each end.
  const changes: Map<number, number>[] = chunk.now.map(() => new Map());
  const slice = (cpu: number, cls: number, reg: number, start: number, end: number, event: number) => {
    // An interval with no duration (in and out at one instant) held nothing for any time: not drawn.
    if (!(end > start)) return;
    const e = events.get(event);
    timed.push({
      name: labelOf(event), cat: e?.pinned === false ? 'flexible' : 'pinned', ph: 'X', ts: start, dur: end - start, pid: cpu, tid: tidOf(cls, reg),
      args: {
        address: e === undefined ? null : hex(e.addr), length: e?.len ?? null, access: e?.access ?? null,
        mode: e === undefined ? null : e.pinned ? 'pinned' : 'flexible', owner: e?.owner ?? null, event, breakpointId: e?.breakpointId ?? null,
      },
    });
    const ch = changes[cpu];
    ch.set(start, (ch.get(start) ?? 0) + 1);
    ch.set(end, (ch.get(end) ?? 0) - 1);
  };
  const iv = chunk.intervals;
  for (let i = 0; i < iv.cpu.length; i++) slice(iv.cpu[i], iv.cls[i], iv.reg[i], iv.start[i], iv.end[i], iv.event[i]);
  // What is still installed is closed at its CPU's clock.
  const op = chunk.open;
  for (let i = 0; i < op.cpu.length; i++) slice(op.cpu[i], op.cls[i], op.reg[i], op.start[i], chunk.now[op.cpu[i]], op.event[i]);

  const mk = chunk.marks;
  for (let i = 0; i < mk.kind.length; i++) {
    const hit = mk.kind[i] === 0;
    timed.push({
      name: `${hit ? 'hit' : 'missed'} ${labelOf(mk.event[i])}`, cat: hit ? 'hit' : 'missed', ph: 'i', s: 't', ts: mk.time[i], pid: mk.cpu[i],
      tid: hit ? tidOf(mk.cls[i], mk.reg[i]) : missedTid,
      args: { address: hex(mk.addr[i]), line: mk.line[i], event: mk.event[i], breakpointId: events.get(mk.event[i])?.breakpointId ?? null },
    });
  }

  changes.forEach((ch, cpu) => {
    let inUse = 0;
    for (const t of [...ch.keys()].sort((a, b) => a - b)) {
      inUse += ch.get(t)!;
      timed.push({ name: 'registers in use', ph: 'C', ts: t, pid: cpu, tid: 0, args: { inUse } });
    }
  });

  const droppedIntervals = chunk.dropped.intervals;
  const droppedMarks = chunk.dropped.marks;
  if (droppedIntervals + droppedMarks > 0) {
    const first = timed.reduce((t, e) => Math.min(t, e.ts), Infinity);
    timed.push({
      name: `timeline: ${droppedIntervals} intervals and ${droppedMarks} hits/misses dropped before this point (ring buffer of ${chunk.capacity} records)`,
      cat: 'dropped', ph: 'i', s: 'g', ts: Number.isFinite(first) ? first : 0, pid: 0, tid: 0,
      args: { droppedIntervals, droppedMarks, capacity: chunk.capacity },
    });
  }
  // Stable sort by time: every track's events come in time order.
  timed.sort((a, b) => a.ts - b.ts);
  return {
    traceEvents: [...meta, ...timed],
    displayTimeUnit: 'ms',
    otherData: {
      generator: 'hwbp-debug', arch: chunk.arch, timeUnit: '1 simulated time unit = 1 µs', capacity: chunk.capacity, droppedIntervals, droppedMarks,
    },
  };
}
