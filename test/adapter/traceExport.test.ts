/**
 * toChromeTrace on real timelines (a machine run through the watchpoint manager): the format's
 * rules, the mapping (a process per CPU, a thread per register, slices named after the
 * watchpoint, instants for hits and misses with their line), and what it says about drops.
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTimelineChunk } from '../../src/adapter/timeline';
import { toChromeTrace, type ChromeTraceEvent } from '../../src/adapter/traceExport';
import { WatchpointManager } from '../../src/adapter/watchpoints';
import { loadProgram } from '../../src/target';
import { checkChromeTrace } from '../support/chromeTrace';

const MULTIPLEX = join(__dirname, '..', '..', '..', 'examples', 'multiplex.hwsim');

function run(timelineCapacity?: number) {
  const { machine } = loadProgram(readFileSync(MULTIPLEX, 'utf8'), MULTIPLEX, { timelineCapacity });
  const m = machine!;
  const manager = new WatchpointManager(m);
  for (const v of ['a', 'b', 'c', 'd', 'e', 'f']) {
    const r = m.evaluate(v, null);
    manager.add({ label: v, addr: r.addr!, size: r.size!, access: 'w', mode: 'flexible' });
  }
  let stop = null;
  while (stop === null || stop.reason === 'data') stop = m.run(100_000);
  return { chunk: buildTimelineChunk({ machine: m, watches: manager }), m };
}

describe('Chrome trace export', () => {
  it('follows the Trace Event Format and maps CPUs, registers, intervals, hits and misses', () => {
    const { chunk } = run();
    const trace = toChromeTrace(chunk);
    const counts = checkChromeTrace(JSON.parse(JSON.stringify(trace)));
    const ev = trace.traceEvents;
    const meta = (name: string) => ev.filter((e) => e.ph === 'M' && e.name === name).map((e) => `${e.pid}/${e.tid}=${String((e.args as { name: string }).name)}`);
    assert.deepEqual(meta('process_name'), ['0/0=cpu0', '1/0=cpu1']);
    assert.deepEqual(meta('thread_name').filter((s) => s.startsWith('0/')), ['0/1=DR0', '0/2=DR1', '0/3=DR2', '0/4=DR3', '0/5=missed (scheduled out)']);
    // One slice per interval with a duration (closed and open, the open ones closed at the clock).
    const withDuration = chunk.intervals.start.filter((s, i) => chunk.intervals.end[i] > s).length
      + chunk.open.start.filter((s, i) => chunk.now[chunk.open.cpu[i]] > s).length;
    assert.equal(counts.slices, withDuration);
    const slice = ev.find((e) => e.ph === 'X')!;
    assert.ok(['a', 'b', 'c', 'd', 'e', 'f'].includes(slice.name));
    assert.deepEqual(Object.keys(slice.args!).sort(), ['access', 'address', 'breakpointId', 'event', 'length', 'mode', 'owner']);
    assert.match(String(slice.args!.address), /^0x[0-9a-f]+$/);
    assert.equal(slice.args!.mode, 'flexible');
    // Every write of the six counters is caught or missed: 3000 writes in all.
    const hits = ev.filter((e) => e.ph === 'i' && e.name.startsWith('hit '));
    const missed = ev.filter((e) => e.ph === 'i' && e.name.startsWith('missed '));
    assert.equal(hits.length + missed.length, 3000);
    assert.ok(missed.length > 0 && hits.length > 0);
    assert.ok([...hits, ...missed].every((e) => (e.args!.line as number) > 0 && e.s === 't'));
    assert.ok(missed.every((e) => e.tid === 5));
    // Registers in use per CPU never exceed four; the last slice ends when the last register was freed.
    const inUse = ev.filter((e) => e.ph === 'C').map((e) => (e.args as { inUse: number }).inUse);
    assert.ok(inUse.every((n) => n >= 0 && n <= 4) && inUse.includes(4));
    const end = (e: ChromeTraceEvent) => e.ts + (e.dur ?? 0);
    assert.equal(Math.max(...ev.filter((e) => e.ph === 'X').map(end)), Math.max(...chunk.intervals.end));
    assert.ok(Math.max(...chunk.intervals.end) <= Math.max(...chunk.now));
    assert.deepEqual([trace.otherData.droppedIntervals, trace.otherData.droppedMarks], [0, 0]);
  });

  it('says how much a full ring dropped, in its metadata and as a global instant', () => {
    const { chunk } = run(200);
    assert.ok(chunk.dropped.intervals + chunk.dropped.marks > 0);
    assert.equal(chunk.intervals.cpu.length + chunk.marks.kind.length, 200);
    const trace = toChromeTrace(chunk);
    checkChromeTrace(trace);
    assert.deepEqual([trace.otherData.droppedIntervals, trace.otherData.droppedMarks, trace.otherData.capacity], [chunk.dropped.intervals, chunk.dropped.marks, 200]);
    const note = trace.traceEvents.find((e) => e.cat === 'dropped')!;
    assert.equal(note.s, 'g');
    assert.match(note.name, new RegExp(`${chunk.dropped.intervals} intervals and ${chunk.dropped.marks} hits/misses dropped`));
  });
});
