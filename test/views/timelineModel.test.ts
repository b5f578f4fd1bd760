/** The register timeline's model, drawing and hit-testing, on synthetic `hwbp.timeline` chunks. */
import * as assert from 'node:assert/strict';
import {
  DEFAULT_THEME, DEFAULT_VIEWPORT, describeHit, drawTimeline, hitTest, layoutLanes, scaleOf, TimelineModel,
  type DrawCommand, type Viewport,
} from '../../src/views/timelineModel';
import { MARK_HIT, MARK_MISSED, type TimelineChunk, type TimelineEvent } from '../../src/views/timelineState';
import { chunkAt, emptyChunk, synthRecording } from '../support/timelineGen';
import type { TimelineChunk as AdapterChunk } from '../../src/adapter/session';

// Compile-time check: what the adapter's hwbp.timeline answers is what the view reads.
const _compatible: (c: AdapterChunk) => TimelineChunk = (c) => c;
void _compatible;

const theme = DEFAULT_THEME;
const vp = (t0: number, t1: number, width = 96 + 1000, height = 400): Viewport => ({ ...DEFAULT_VIEWPORT, t0, t1, width, height });
const rects = (cmds: DrawCommand[]) => cmds.filter((c): c is Extract<DrawCommand, { op: 'rect' }> => c.op === 'rect');
const ticks = (cmds: DrawCommand[]) => cmds.filter((c): c is Extract<DrawCommand, { op: 'tick' }> => c.op === 'tick');

function ev(id: number, label: string, pinned: boolean): TimelineEvent {
  return { id, label, owner: `watch ${label} (main)`, pinned, addr: 0x601000 + 8 * id, len: 8, access: 'w', breakpointId: id };
}

function addInterval(c: TimelineChunk, cpu: number, reg: number, start: number, end: number, event: number): void {
  c.intervals.cpu.push(cpu); c.intervals.cls.push(0); c.intervals.reg.push(reg);
  c.intervals.start.push(start); c.intervals.end.push(end); c.intervals.event.push(event);
}

function addOpen(c: TimelineChunk, cpu: number, reg: number, start: number, event: number): void {
  c.open.cpu.push(cpu); c.open.cls.push(0); c.open.reg.push(reg); c.open.start.push(start); c.open.event.push(event);
}

function addMark(c: TimelineChunk, kind: number, time: number, cpu: number, reg: number, event: number, line: number): void {
  const m = c.marks;
  m.kind.push(kind); m.time.push(time); m.cpu.push(cpu); m.cls.push(kind === MARK_HIT ? 0 : -1); m.reg.push(reg);
  m.event.push(event); m.addr.push(0x601000 + 8 * event); m.line.push(line);
}

/** Lane y-centre of a lane by label. */
function laneY(model: TimelineModel, v: Viewport, label: string): number {
  const box = layoutLanes(model, v).boxes.find((b) => b.lane.label === label)!;
  return box.y + box.h / 2;
}

describe('register timeline model', () => {
  it('has one lane per CPU register, grouped per CPU, and a lane of missed accesses per CPU', () => {
    const m = new TimelineModel();
    m.apply(emptyChunk(2, 0, 1));
    assert.deepEqual(m.lanes.map((l) => l.label), [
      'cpu0 DR0', 'cpu0 DR1', 'cpu0 DR2', 'cpu0 DR3', 'cpu0 missed',
      'cpu1 DR0', 'cpu1 DR1', 'cpu1 DR2', 'cpu1 DR3', 'cpu1 missed',
    ]);
    const v = vp(0, 100);
    const { boxes } = layoutLanes(m, v);
    assert.equal(boxes[0].y, v.axisHeight);
    assert.equal(boxes[5].y, boxes[4].y + v.missedLaneHeight + v.groupGap, 'a gap between CPUs');
    const labels = drawTimeline(m, v, theme).filter((c) => c.op === 'text' && c.x === 6).map((c) => (c as { text: string }).text);
    assert.deepEqual(labels, m.lanes.map((l) => l.label));
    // arm64 names its registers by class.
    const arm = new TimelineModel();
    arm.apply({ ...emptyChunk(1), arch: 'arm64', classes: [{ name: 'bp', registerNames: ['BVR0', 'BVR1'] }, { name: 'wp', registerNames: ['WVR0'] }] });
    assert.deepEqual(arm.lanes.map((l) => l.label), ['cpu0 BVR0', 'cpu0 BVR1', 'cpu0 WVR0', 'cpu0 missed']);
  });

  it('colours bars per watchpoint label (thread copies alike), pinned solid and flexible hatched and lighter', () => {
    const m = new TimelineModel();
    const c = emptyChunk(2, 1000, 1);
    c.events = [ev(1, 'a', true), ev(2, 'd', false), ev(3, 'e', false), ev(101, 'a', true)];
    addInterval(c, 0, 0, 0, 400, 1);
    addInterval(c, 1, 0, 100, 500, 101);
    addInterval(c, 0, 3, 0, 200, 2);
    addInterval(c, 0, 3, 200, 400, 3);
    m.apply(c);
    const bars = rects(drawTimeline(m, vp(0, 1000), theme));
    assert.equal(bars.length, 4);
    const [a0, a1, d, e] = [bars.find((b) => b.x === 96 && b.y < 40)!, bars.find((b) => b.y > 100)!, ...bars.filter((b) => b.hatch)];
    assert.equal(a0.fill, theme.palette[0]);
    assert.equal(a1.fill, a0.fill, 'the same watchpoint on another thread/CPU keeps its colour');
    assert.equal(a0.hatch, false);
    assert.ok(a0.alpha > d.alpha, 'flexible is lighter');
    assert.equal(d.fill, theme.palette[1]);
    assert.equal(e.fill, theme.palette[2], 'DR3 changes hands: d then e, each in its colour');
    assert.ok(Math.abs(e.x - (d.x + d.w)) < 0.01, 'the rotation is where d ends and e begins');
    // Labels are written in bars wide enough for them.
    assert.ok(drawTimeline(m, vp(0, 1000), theme).some((t) => t.op === 'text' && t.text === 'd' && t.color === theme.barText));
  });

  it('draws only the visible intervals, found by binary search', () => {
    const m = new TimelineModel();
    const c = emptyChunk(1, 10_000, 1);
    c.events = [ev(1, 'a', true)];
    for (let i = 0; i < 1000; i++) addInterval(c, 0, 0, i * 10, i * 10 + 8, 1);
    m.apply(c);
    const v = vp(5000, 5100);
    const bars = rects(drawTimeline(m, v, theme));
    assert.equal(bars.length, 10, 'intervals 500..509');
    const sc = scaleOf(v);
    for (const b of bars) assert.ok(b.x >= sc.left && b.x + b.w <= sc.right + 0.001);
    // One that starts before the view and ends inside it is drawn from the left edge.
    const partial = rects(drawTimeline(m, vp(5004, 5100), theme));
    assert.equal(partial[0].x, sc.left);
    assert.equal(rects(drawTimeline(m, vp(20_000, 30_000), theme)).length, 0);
  });

  it('merges bars narrower than a pixel, in the mixed colour when they are of different watchpoints', () => {
    const m = new TimelineModel();
    const c = emptyChunk(1, 200_000, 1);
    c.events = [ev(1, 'a', true), ev(2, 'd', false), ev(3, 'e', false)];
    // DR0: 100,000 contiguous intervals of a; DR3: d and e alternating every unit; DR1: a, with a gap.
    for (let i = 0; i < 100_000; i++) addInterval(c, 0, 0, i, i + 1, 1);
    for (let i = 0; i < 100_000; i++) addInterval(c, 0, 3, i, i + 1, 2 + (i % 2));
    for (let i = 0; i < 1000; i++) addInterval(c, 0, 1, i, i + 1, 1);
    for (let i = 0; i < 1000; i++) addInterval(c, 0, 1, 50_000 + i, 50_001 + i, 1);
    m.apply(c);
    const v = vp(0, 100_000, 96 + 500);
    const cmds = drawTimeline(m, v, theme);
    const byLane = (label: string) => rects(cmds).filter((r) => Math.abs(r.y + r.h / 2 - laneY(m, v, label)) < 1);
    const dr0 = byLane('cpu0 DR0');
    assert.equal(dr0.length, 1, 'contiguous sub-pixel intervals are one bar');
    assert.equal(dr0[0].intervals, 100_000);
    assert.equal(dr0[0].fill, theme.palette[0]);
    assert.ok(Math.abs(dr0[0].w - 500) < 1.01);
    const dr3 = byLane('cpu0 DR3');
    assert.equal(dr3.length, 1);
    assert.equal(dr3[0].fill, theme.mixed, 'rotation faster than a pixel shows as mixed');
    const dr1 = byLane('cpu0 DR1');
    assert.equal(dr1.length, 2, 'a gap wider than a pixel separates runs');
    assert.equal(dr1[0].intervals + dr1[1].intervals, 2000);
    assert.ok(rects(cmds).length < 10, `${rects(cmds).length} rects`);
    // Zoomed in, every interval is wide enough to be its own bar again.
    assert.equal(rects(drawTimeline(m, vp(0, 100), theme)).filter((r) => r.fill === theme.palette[0]).length, 200);
  });

  it('draws hits as ticks, missed accesses as hollow ticks, one per pixel column, and the cursor at each CPU\'s now', () => {
    const m = new TimelineModel();
    const c = emptyChunk(2, 900, 1);
    c.now = [900, 700];
    c.events = [ev(2, 'd', false), ev(3, 'e', false)];
    addInterval(c, 0, 3, 0, 500, 2);
    addMark(c, MARK_HIT, 250, 0, 3, 2, 21);
    addMark(c, MARK_MISSED, 300, 0, -1, 3, 22);
    for (let i = 0; i < 100; i++) addMark(c, MARK_HIT, 400 + i * 0.01, 0, 3, 2, 21);
    m.apply(c);
    const v = vp(0, 1000);
    const cmds = drawTimeline(m, v, theme);
    const t = ticks(cmds);
    assert.equal(t.filter((k) => !k.hollow).length, 2, 'the 100 hits within one pixel are one tick');
    const hollow = t.filter((k) => k.hollow);
    assert.equal(hollow.length, 1);
    assert.equal(hollow[0].color, theme.palette[1], 'a missed access is in its watchpoint\'s colour');
    assert.ok(Math.abs(hollow[0].y + hollow[0].h / 2 - laneY(m, v, 'cpu0 missed')) < 1);
    const cursors = cmds.filter((k) => k.op === 'line' && k.cursor) as Extract<DrawCommand, { op: 'line' }>[];
    assert.deepEqual(cursors.map((k) => k.x0), [scaleOf(v).x(900), scaleOf(v).x(700)]);
  });

  it('hit-tests intervals and marks, with the details for a tooltip', () => {
    const m = new TimelineModel();
    const c = emptyChunk(1, 1000, 1);
    c.events = [ev(1, 'a', true), ev(2, 'd', false)];
    addInterval(c, 0, 0, 100, 300, 1);
    addInterval(c, 0, 3, 0, 500, 2);
    addOpen(c, 0, 3, 600, 2);
    addMark(c, MARK_HIT, 250, 0, 3, 2, 21);
    addMark(c, MARK_MISSED, 550, 0, -1, 2, 22);
    m.apply(c);
    const v = vp(0, 1000);
    const sc = scaleOf(v);
    const a = hitTest(m, v, sc.x(200), laneY(m, v, 'cpu0 DR0'));
    assert.ok(a !== null && a.kind === 'interval');
    assert.equal(a.event!.label, 'a');
    assert.deepEqual([a.start, a.end, a.open, a.lane.label], [100, 300, false, 'cpu0 DR0']);
    assert.deepEqual(describeHit(a), ['a (write 0x601008/8)', 'DR0 on cpu0', 'from 100 to 300 · 200 long', 'pinned (always installed while its thread runs)', 'owner: watch a (main)']);
    assert.equal(hitTest(m, v, sc.x(50), laneY(m, v, 'cpu0 DR0')), null, 'nothing before a starts');
    const open = hitTest(m, v, sc.x(800), laneY(m, v, 'cpu0 DR3'));
    assert.ok(open !== null && open.kind === 'interval' && open.open && open.end === 1000);
    assert.match(describeHit(open)[2], /to now \(1000, still held\)/);
    assert.match(describeHit(open)[3], /^flexible/);
    const hit = hitTest(m, v, sc.x(250) + 2, laneY(m, v, 'cpu0 DR3'));
    assert.ok(hit !== null && hit.kind === 'mark');
    assert.deepEqual([hit.mark, hit.time, hit.line], ['hit', 250, 21]);
    assert.deepEqual(describeHit(hit).slice(0, 3), ['hit: d in DR3 on cpu0', 'at 250 · address 0x601010', 'line 21 (click to show it)']);
    const missed = hitTest(m, v, sc.x(550), laneY(m, v, 'cpu0 missed'));
    assert.ok(missed !== null && missed.kind === 'mark' && missed.mark === 'missed' && missed.line === 22);
    assert.match(describeHit(missed)[0], /^missed: d was scheduled out on cpu0/);
    assert.equal(hitTest(m, v, 10, laneY(m, v, 'cpu0 DR0')), null, 'the label column');
    assert.equal(hitTest(m, v, sc.x(200), 5), null, 'the axis');
  });

  it('accumulates incremental chunks asked with `since`, like one chunk of everything', () => {
    const rec = synthRecording({ intervals: 5000, seed: 7 });
    const once = new TimelineModel();
    once.apply(chunkAt(rec, rec.end));
    const inc = new TimelineModel();
    const cuts = [rec.end * 0.1, rec.end * 0.35, rec.end * 0.6, rec.end * 0.61, rec.end].map(Math.floor);
    for (const t of cuts) inc.apply(chunkAt(rec, t, inc.seq ?? undefined));
    assert.equal(inc.seq, rec.end);
    assert.equal(inc.intervalCount, rec.intervals.length);
    assert.equal(inc.markCount, rec.marks.length);
    assert.equal(inc.intervalCount, once.intervalCount);
    assert.deepEqual(inc.summary(), once.summary());
    for (const v of [vp(0, rec.end), vp(rec.end * 0.3, rec.end * 0.31)]) assert.deepEqual(drawTimeline(inc, v, theme), drawTimeline(once, v, theme));
    // Midway, the intervals still open are drawn up to now.
    const mid = new TimelineModel();
    mid.apply(chunkAt(rec, cuts[1]));
    const held = rec.intervals.filter((iv) => iv.start <= cuts[1] && iv.end > cuts[1]).length;
    assert.ok(held >= 2, 'DR3 rotates without gaps on both CPUs');
    assert.equal(mid.openCount, held);
  });

  it('replaces the open intervals with each chunk', () => {
    const m = new TimelineModel();
    const c1 = emptyChunk(1, 100, 1);
    c1.events = [ev(2, 'd', false), ev(3, 'e', false)];
    addOpen(c1, 0, 3, 0, 2);
    m.apply(c1);
    assert.match(m.summary()[3], /^cpu0 DR3: no closed intervals; now held by d; 0 hits$/);
    const c2 = emptyChunk(1, 200, 2);
    c2.events = [ev(3, 'e', false)];
    addInterval(c2, 0, 3, 0, 100, 2);
    addOpen(c2, 0, 3, 100, 3);
    m.apply(c2);
    assert.equal(m.openCount, 1);
    assert.match(m.summary()[3], /^cpu0 DR3: intervals d 1; now held by e; 0 hits$/);
    const bars = rects(drawTimeline(m, vp(0, 200), theme));
    assert.deepEqual(bars.map((b) => b.fill), [theme.palette[0], theme.palette[1]]);
    const c3 = emptyChunk(1, 300, 3);
    addInterval(c3, 0, 3, 100, 300, 3);
    m.apply(c3);
    assert.equal(m.openCount, 0);
    assert.match(m.summary()[3], /free now/);
    assert.equal(m.labelOf(3), 'e', 'events from earlier chunks are kept');
  });

  it('sorts intervals that arrive out of order, and counts records for lanes that do not exist', () => {
    const m = new TimelineModel();
    const c = emptyChunk(1, 100, 1);
    c.events = [ev(1, 'a', true)];
    addInterval(c, 0, 0, 50, 60, 1);
    addInterval(c, 0, 0, 10, 20, 1);
    addInterval(c, 5, 0, 10, 20, 1);
    m.apply(c);
    assert.equal(m.ignored, 1);
    const v = vp(0, 100);
    const hit = hitTest(m, v, scaleOf(v).x(15), laneY(m, v, 'cpu0 DR0'));
    assert.ok(hit !== null && hit.kind === 'interval' && hit.start === 10);
    assert.deepEqual(rects(drawTimeline(m, v, theme)).map((r) => Math.round(r.x)), [96 + 100, 96 + 500]);
  });

  it('keeps the number of drawing commands bounded by pixels, not by intervals', () => {
    const small = new TimelineModel();
    const big = new TimelineModel();
    const recSmall = synthRecording({ intervals: 2_000, length: 100, seed: 3 });
    const recBig = synthRecording({ intervals: 200_000, length: 1, seed: 3 });
    small.apply(chunkAt(recSmall, recSmall.end));
    big.apply(chunkAt(recBig, recBig.end));
    const n = (m: TimelineModel, end: number) => drawTimeline(m, vp(0, end, 96 + 800), theme).length;
    const cmdsBig = n(big, recBig.end);
    assert.ok(cmdsBig < 8 * 800 * 3, `${cmdsBig} commands for 200k intervals on 8 lanes × 800 px`);
    assert.ok(n(small, recSmall.end) > 0);
  });
});
