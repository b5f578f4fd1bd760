/**
 * The rules of the Chrome Trace Event Format (JSON object form) that Perfetto and chrome://tracing
 * rely on, checked on a whole trace: required fields per phase, durations, metadata names,
 * non-overlapping slices and time order per track. Throws on the first violation.
 */
import * as assert from 'node:assert/strict';

interface Ev { name?: unknown; ph?: unknown; ts?: unknown; dur?: unknown; pid?: unknown; tid?: unknown; s?: unknown; args?: unknown }

const METADATA = new Set(['process_name', 'process_sort_index', 'thread_name', 'thread_sort_index']);

export function checkChromeTrace(trace: unknown): { slices: number; instants: number; counters: number } {
  assert.ok(trace !== null && typeof trace === 'object', 'a trace is a JSON object');
  const events = (trace as { traceEvents?: unknown }).traceEvents;
  assert.ok(Array.isArray(events), 'traceEvents is an array');
  const unit = (trace as { displayTimeUnit?: unknown }).displayTimeUnit;
  assert.ok(unit === undefined || unit === 'ms' || unit === 'ns', 'displayTimeUnit is ms or ns');
  const lastTs = new Map<string, number>();
  const lastEnd = new Map<string, number>();
  const named = new Set<string>();
  let slices = 0, instants = 0, counters = 0;
  for (const e of events as Ev[]) {
    const where = JSON.stringify(e).slice(0, 200);
    assert.equal(typeof e.name, 'string', `name: ${where}`);
    assert.ok(['M', 'X', 'i', 'C'].includes(e.ph as string), `ph: ${where}`);
    assert.ok(Number.isInteger(e.pid) && Number.isInteger(e.tid), `pid/tid: ${where}`);
    assert.ok(typeof e.ts === 'number' && Number.isFinite(e.ts) && e.ts >= 0, `ts: ${where}`);
    const track = `${String(e.pid)}/${String(e.tid)}`;
    if (e.ph === 'M') {
      assert.ok(METADATA.has(e.name as string), `metadata name: ${where}`);
      const args = e.args as Record<string, unknown>;
      if ((e.name as string).endsWith('_name')) assert.equal(typeof args?.name, 'string', `metadata args.name: ${where}`);
      else assert.ok(Number.isInteger(args?.sort_index), `metadata args.sort_index: ${where}`);
      if (e.name === 'thread_name') named.add(track);
      continue;
    }
    if (e.ph === 'C') {
      counters++;
      const args = e.args as Record<string, unknown>;
      assert.ok(args !== null && typeof args === 'object' && Object.values(args).every((v) => typeof v === 'number'), `counter args are numbers: ${where}`);
      continue;
    }
    // Slices and instants: per track, time never goes back and slices never overlap.
    assert.ok((e.ts as number) >= (lastTs.get(track) ?? 0), `ts goes back on ${track}: ${where}`);
    lastTs.set(track, e.ts as number);
    if (e.ph === 'X') {
      slices++;
      assert.ok(typeof e.dur === 'number' && e.dur >= 0, `X has dur >= 0: ${where}`);
      assert.ok((e.ts as number) >= (lastEnd.get(track) ?? 0), `slices overlap on ${track}: ${where}`);
      lastEnd.set(track, (e.ts as number) + (e.dur as number));
    } else {
      instants++;
      assert.ok(e.s === 't' || e.s === 'p' || e.s === 'g', `instant scope: ${where}`);
      if (e.s !== 'g') assert.ok((e.ts as number) <= Infinity);
    }
    if (e.ph === 'X' || e.s === 't') assert.ok(named.has(track), `a thread track without a thread_name: ${track}`);
  }
  return { slices, instants, counters };
}
