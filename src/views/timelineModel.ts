/**
 * The register timeline's model: plain data and pure functions, no VS Code and no DOM, so the same
 * code runs in the tests, the benchmark and (bundled for the browser) in the timeline webview.
 *
 * - TimelineModel accumulates `hwbp.timeline` chunks: closed intervals are appended per lane into
 *   growable typed arrays, open intervals are replaced, events are merged by id, marks are kept.
 * - drawTimeline() turns the model and a viewport into drawing commands. Per lane, intervals are
 *   kept sorted by start with a running maximum of their ends, so the visible range is found by
 *   binary search, and runs of bars narrower than a pixel are merged with one more binary search
 *   per pixel column: the cost of a frame is bounded by lanes × pixels × log(intervals).
 * - hitTest() finds the interval or mark under the pointer; describeHit() words it for a tooltip.
 */
import { MARK_HIT, MARK_MISSED, type TimelineChunk, type TimelineEvent } from './timelineState';

/** A Float64Array or Int32Array that grows by doubling. */
class Column<T extends Float64Array | Int32Array> {
  length = 0;
  constructor(public data: T, private readonly make: (n: number) => T) {}
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = this.make(Math.max(16, this.data.length * 2));
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  clear(): void {
    this.length = 0;
  }
}
const f64 = () => new Column(new Float64Array(16), (n) => new Float64Array(n));
const i32 = () => new Column(new Int32Array(16), (n) => new Int32Array(n));

/** One row of the timeline: a physical register of one CPU, or that CPU's missed accesses. */
export interface LaneInfo {
  index: number;
  kind: 'register' | 'missed';
  cpu: number;
  /** Register class index (-1 for the missed lane). */
  cls: number;
  /** Register index in its class (-1 for the missed lane). */
  reg: number;
  /** e.g. `cpu0 DR3`, `cpu1 missed`. */
  label: string;
  registerName: string;
}

class Lane implements LaneInfo {
  // Closed intervals, sorted by start once `sorted` (kept on append when they come in order).
  readonly start = f64();
  readonly end = f64();
  /** maxEnd[i] = max(end[0..i]): non-decreasing, for the binary search of the first visible one. */
  readonly maxEnd = f64();
  readonly event = i32();
  sorted = true;
  // Marks, sorted by time once `marksSorted`.
  readonly markTime = f64();
  readonly markEvent = i32();
  readonly markAddr = f64();
  readonly markLine = i32();
  marksSorted = true;
  /** Intervals open now: at most one per register in practice. */
  open: { start: number; event: number }[] = [];
  /** Per event label: closed intervals, and marks, in this lane (for the accessible summary). */
  readonly intervalsBy = new Map<string, number>();
  readonly marksBy = new Map<string, number>();

  constructor(
    readonly index: number,
    readonly kind: 'register' | 'missed',
    readonly cpu: number,
    readonly cls: number,
    readonly reg: number,
    readonly registerName: string,
  ) {}

  get label(): string {
    return `cpu${this.cpu} ${this.registerName}`;
  }

  addInterval(s: number, e: number, ev: number): void {
    const n = this.start.length;
    if (n > 0 && s < this.start.data[n - 1]) this.sorted = false;
    this.start.push(s);
    this.end.push(e);
    this.event.push(ev);
    this.maxEnd.push(n > 0 ? Math.max(this.maxEnd.data[n - 1], e) : e);
  }

  addMark(t: number, ev: number, addr: number, line: number): void {
    const n = this.markTime.length;
    if (n > 0 && t < this.markTime.data[n - 1]) this.marksSorted = false;
    this.markTime.push(t);
    this.markEvent.push(ev);
    this.markAddr.push(addr);
    this.markLine.push(line);
  }

  /** Sort by start (only needed if intervals came out of order), and rebuild the running max. */
  ensureSorted(): void {
    if (!this.sorted) {
      const n = this.start.length;
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => this.start.data[a] - this.start.data[b]);
      const s = this.start.data.slice(0, n), e = this.end.data.slice(0, n), ev = this.event.data.slice(0, n);
      for (let i = 0; i < n; i++) {
        this.start.data[i] = s[order[i]];
        this.end.data[i] = e[order[i]];
        this.event.data[i] = ev[order[i]];
        this.maxEnd.data[i] = i > 0 ? Math.max(this.maxEnd.data[i - 1], this.end.data[i]) : this.end.data[i];
      }
      this.sorted = true;
    }
    if (!this.marksSorted) {
      const n = this.markTime.length;
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => this.markTime.data[a] - this.markTime.data[b]);
      const t = this.markTime.data.slice(0, n), ev = this.markEvent.data.slice(0, n), ad = this.markAddr.data.slice(0, n), ln = this.markLine.data.slice(0, n);
      for (let i = 0; i < n; i++) {
        this.markTime.data[i] = t[order[i]];
        this.markEvent.data[i] = ev[order[i]];
        this.markAddr.data[i] = ad[order[i]];
        this.markLine.data[i] = ln[order[i]];
      }
      this.marksSorted = true;
    }
  }

  /** First index i >= from with maxEnd[i] > t (the first interval that can reach past t). */
  firstEndingAfter(t: number): number {
    return lowerBound(this.maxEnd.data, 0, this.maxEnd.length, t, true);
  }

  /** First index i >= from with start[i] >= t (galloping from `from`: the answer is usually near). */
  firstStartingAtOrAfter(t: number, from: number): number {
    return gallop(this.start.data, from, this.start.length, t);
  }

  firstMarkAtOrAfter(t: number, from: number): number {
    return gallop(this.markTime.data, from, this.markTime.length, t);
  }
}

/**
 * First i in [lo, hi) with a[i] >= t, searching 1, 2, 4… ahead of lo before bisecting: log of the
 * distance, and memory near lo, which matters when the arrays hold millions of times.
 */
function gallop(a: Float64Array, lo: number, hi: number, t: number): number {
  if (lo >= hi || a[lo] >= t) return lo;
  let step = 1;
  let prev = lo;
  while (lo + step < hi && a[lo + step] < t) {
    prev = lo + step;
    step *= 2;
  }
  return lowerBound(a, prev + 1, Math.min(hi, lo + step + 1), t, false);
}

/** First i in [lo, hi) with a[i] > t (strict) or a[i] >= t; hi if none. `a` must be sorted. */
function lowerBound(a: Float64Array, lo: number, hi: number, t: number, strict: boolean): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (strict ? a[mid] > t : a[mid] >= t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export class TimelineModel {
  arch: TimelineChunk['arch'] | null = null;
  classes: TimelineChunk['classes'] = [];
  now: number[] = [];
  /** The last chunk's seq: pass it as `since` to get what came after. Null before the first chunk. */
  seq: number | null = null;
  dropped = { intervals: 0, marks: 0 };
  capacity = 0;
  readonly events = new Map<number, TimelineEvent>();
  lanes: Lane[] = [];
  /** Closed intervals and marks received (dropped ones excluded), open intervals now. */
  intervalCount = 0;
  markCount = 0;
  openCount = 0;
  /** Records a chunk named that no lane holds (a CPU or register out of range): counted, not drawn. */
  ignored = 0;
  private readonly colourOf = new Map<string, number>();
  /** Lane index of (cpu, cls, reg), and of each CPU's missed lane. */
  private registerLane: number[][][] = [];
  private missedLane: number[] = [];

  get hasData(): boolean {
    return this.seq !== null;
  }

  /** Forget everything (a new session). */
  reset(): void {
    this.arch = null;
    this.classes = [];
    this.now = [];
    this.seq = null;
    this.dropped = { intervals: 0, marks: 0 };
    this.capacity = 0;
    this.events.clear();
    this.lanes = [];
    this.intervalCount = this.markCount = this.openCount = this.ignored = 0;
    this.colourOf.clear();
    this.registerLane = [];
    this.missedLane = [];
  }

  /** Add one chunk of `hwbp.timeline` (asked with `since` = this.seq). */
  apply(c: TimelineChunk): void {
    if (!this.sameLayout(c)) this.layout(c);
    this.arch = c.arch;
    this.now = [...c.now];
    this.seq = c.seq;
    this.dropped = { ...c.dropped };
    this.capacity = c.capacity;
    for (const e of c.events) {
      this.events.set(e.id, e);
      if (!this.colourOf.has(e.label)) this.colourOf.set(e.label, this.colourOf.size);
    }
    const iv = c.intervals;
    for (let i = 0; i < iv.start.length; i++) {
      const lane = this.registerLane[iv.cpu[i]]?.[iv.cls[i]]?.[iv.reg[i]];
      if (lane === undefined) {
        this.ignored++;
        continue;
      }
      const l = this.lanes[lane];
      l.addInterval(iv.start[i], iv.end[i], iv.event[i]);
      const label = this.labelOf(iv.event[i]);
      l.intervalsBy.set(label, (l.intervalsBy.get(label) ?? 0) + 1);
      this.intervalCount++;
    }
    for (const l of this.lanes) l.open = [];
    this.openCount = 0;
    for (let i = 0; i < c.open.start.length; i++) {
      const lane = this.registerLane[c.open.cpu[i]]?.[c.open.cls[i]]?.[c.open.reg[i]];
      if (lane === undefined) {
        this.ignored++;
        continue;
      }
      this.lanes[lane].open.push({ start: c.open.start[i], event: c.open.event[i] });
      this.openCount++;
    }
    const m = c.marks;
    for (let i = 0; i < m.time.length; i++) {
      const lane = m.kind[i] === MARK_MISSED ? this.missedLane[m.cpu[i]] : m.kind[i] === MARK_HIT ? this.registerLane[m.cpu[i]]?.[m.cls[i]]?.[m.reg[i]] : undefined;
      if (lane === undefined) {
        this.ignored++;
        continue;
      }
      const l = this.lanes[lane];
      l.addMark(m.time[i], m.event[i], m.addr[i], m.line[i]);
      const label = this.labelOf(m.event[i]);
      l.marksBy.set(label, (l.marksBy.get(label) ?? 0) + 1);
      this.markCount++;
    }
  }

  labelOf(eventId: number): string {
    return this.events.get(eventId)?.label ?? `event ${eventId}`;
  }

  /** Stable per label for the session: the order in which labels first appeared. */
  colourIndex(eventId: number): number {
    const label = this.labelOf(eventId);
    let i = this.colourOf.get(label);
    if (i === undefined) {
      i = this.colourOf.size;
      this.colourOf.set(label, i);
    }
    return i;
  }

  /** The latest clock of any CPU (the right end of a full view). */
  get end(): number {
    let t = 0;
    for (const n of this.now) t = Math.max(t, n);
    for (const l of this.lanes) {
      if (l.start.length > 0) t = Math.max(t, l.maxEnd.data[l.start.length - 1]);
      if (l.markTime.length > 0) t = Math.max(t, l.markTime.data[l.markTime.length - 1]);
    }
    return t;
  }

  /** The earliest time still recorded (older records may have been dropped). */
  get begin(): number {
    let t = Infinity;
    for (const l of this.lanes) {
      l.ensureSorted();
      if (l.start.length > 0) t = Math.min(t, l.start.data[0]);
      if (l.markTime.length > 0) t = Math.min(t, l.markTime.data[0]);
      for (const o of l.open) t = Math.min(t, o.start);
    }
    return t === Infinity ? 0 : t;
  }

  /** A plain-text summary, one line per lane: for screen readers and for the UI test. */
  summary(): string[] {
    const lines: string[] = [];
    for (const l of this.lanes) {
      const counts = [...(l.kind === 'register' ? l.intervalsBy : l.marksBy)].map(([label, n]) => `${label} ${n}`);
      const open = l.open.map((o) => this.labelOf(o.event));
      if (l.kind === 'register') {
        const hits = [...l.marksBy.values()].reduce((a, b) => a + b, 0);
        lines.push(`${l.label}: ${counts.length === 0 ? 'no closed intervals' : `intervals ${counts.join(', ')}`}${open.length > 0 ? `; now held by ${open.join(', ')}` : '; free now'}; ${hits} hit${hits === 1 ? '' : 's'}`);
      } else {
        lines.push(`${l.label}: ${counts.length === 0 ? 'no missed accesses' : `missed ${counts.join(', ')}`}`);
      }
    }
    return lines;
  }

  private sameLayout(c: TimelineChunk): boolean {
    return this.lanes.length > 0 && this.now.length === c.now.length && JSON.stringify(this.classes) === JSON.stringify(c.classes);
  }

  /** One lane per CPU register, grouped per CPU, then that CPU's missed lane. Drops older data. */
  private layout(c: TimelineChunk): void {
    const keepEvents = [...this.events.values()];
    const colours = new Map(this.colourOf);
    this.reset();
    for (const e of keepEvents) this.events.set(e.id, e);
    for (const [k, v] of colours) this.colourOf.set(k, v);
    this.classes = c.classes.map((k) => ({ name: k.name, registerNames: [...k.registerNames] }));
    for (let cpu = 0; cpu < c.now.length; cpu++) {
      this.registerLane[cpu] = c.classes.map((k, cls) => k.registerNames.map((name, reg) => {
        this.lanes.push(new Lane(this.lanes.length, 'register', cpu, cls, reg, name));
        return this.lanes.length - 1;
      }));
      this.lanes.push(new Lane(this.lanes.length, 'missed', cpu, -1, -1, 'missed'));
      this.missedLane[cpu] = this.lanes.length - 1;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Drawing

export interface Viewport {
  /** Visible time range [t0, t1). */
  t0: number;
  t1: number;
  /** Canvas size in CSS pixels. */
  width: number;
  height: number;
  laneHeight: number;
  missedLaneHeight: number;
  /** Space between CPU groups. */
  groupGap: number;
  /** Left column for the lane labels; the plot starts there. */
  labelWidth: number;
  /** Top band for the time axis. */
  axisHeight: number;
  /** Vertical scroll of the lanes, in pixels. */
  scrollY: number;
  /** Average width of a character of the label font, to fit labels in bars. */
  charWidth: number;
}

export const DEFAULT_VIEWPORT: Omit<Viewport, 't0' | 't1' | 'width' | 'height'> = {
  laneHeight: 18, missedLaneHeight: 12, groupGap: 8, labelWidth: 96, axisHeight: 22, scrollY: 0, charWidth: 7,
};

export interface TimelineTheme {
  background: string;
  foreground: string;
  /** Grid lines, axis labels, separators. */
  muted: string;
  /** The cursor at the current time. */
  cursor: string;
  /** Runs of sub-pixel bars of different watchpoints merged into one. */
  mixed: string;
  /** Text drawn on bars. */
  barText: string;
  /** Hit ticks (drawn over the bar of the watchpoint that hit). */
  hit: string;
  /** Colours per watchpoint label, in order of first appearance. */
  palette: string[];
}

export const DEFAULT_THEME: TimelineTheme = {
  background: '#1e1e1e', foreground: '#cccccc', muted: '#6e6e6e', cursor: '#f14c4c', mixed: '#8a8a8a', barText: '#1e1e1e', hit: '#ffffff',
  palette: ['#3794ff', '#89d185', '#cca700', '#d18616', '#b180d7', '#f14c4c'],
};

export type DrawCommand =
  /** A bar; `hatch` for flexible (time-shared) occupants, drawn lighter. `intervals` > 1 when merged. */
  | { op: 'rect'; x: number; y: number; w: number; h: number; fill: string; alpha: number; hatch: boolean; intervals: number }
  /** A hit (filled) or an access missed while scheduled out (hollow). */
  | { op: 'tick'; x: number; y: number; h: number; color: string; hollow: boolean }
  | { op: 'text'; x: number; y: number; text: string; color: string; align: 'left' | 'right' | 'center' }
  /** Grid lines, separators, and the cursor at the current time (`cursor: true`). */
  | { op: 'line'; x0: number; y0: number; x1: number; y1: number; color: string; width: number; cursor: boolean };

export interface LaneBox {
  lane: LaneInfo;
  /** Top, in canvas pixels (after scrolling). */
  y: number;
  h: number;
}

/** Where each lane is drawn, and the height of all of them (for scrolling). */
export function layoutLanes(model: TimelineModel, vp: Viewport): { boxes: LaneBox[]; contentHeight: number } {
  const boxes: LaneBox[] = [];
  let y = vp.axisHeight - vp.scrollY;
  let prevCpu = -1;
  for (const lane of model.lanes) {
    if (prevCpu !== -1 && lane.cpu !== prevCpu) y += vp.groupGap;
    prevCpu = lane.cpu;
    const h = lane.kind === 'register' ? vp.laneHeight : vp.missedLaneHeight;
    boxes.push({ lane, y, h });
    y += h;
  }
  return { boxes, contentHeight: y + vp.scrollY - vp.axisHeight };
}

/** Time → x, and back, for a viewport. */
export function scaleOf(vp: Viewport): { x(t: number): number; t(x: number): number; left: number; right: number; pxPerTime: number } {
  const left = vp.labelWidth;
  const right = Math.max(left + 1, vp.width);
  const span = vp.t1 > vp.t0 ? vp.t1 - vp.t0 : 1;
  const pxPerTime = (right - left) / span;
  return { x: (t) => left + (t - vp.t0) * pxPerTime, t: (x) => vp.t0 + (x - left) / pxPerTime, left, right, pxPerTime };
}

/** The colour of a watchpoint label, from the theme's palette (cycled if there are more labels). */
export function colourFor(model: TimelineModel, eventId: number, theme: TimelineTheme): string {
  return theme.palette[model.colourIndex(eventId) % theme.palette.length];
}

/** The drawing commands of one frame. Cost: O(lanes × width × log intervals), not O(intervals). */
export function drawTimeline(model: TimelineModel, vp: Viewport, theme: TimelineTheme): DrawCommand[] {
  const out: DrawCommand[] = [];
  const sc = scaleOf(vp);
  const { boxes } = layoutLanes(model, vp);
  const visible = boxes.filter((b) => b.y + b.h > vp.axisHeight && b.y < vp.height);

  // Time axis and grid.
  const step = niceStep((vp.t1 - vp.t0) / Math.max(1, (sc.right - sc.left) / 110));
  for (let t = Math.ceil(vp.t0 / step) * step; t <= vp.t1; t += step) {
    const x = sc.x(t);
    out.push({ op: 'line', x0: x, y0: vp.axisHeight - 4, x1: x, y1: vp.height, color: theme.muted, width: 0.5, cursor: false });
    out.push({ op: 'text', x: x + 3, y: vp.axisHeight - 8, text: formatTime(t), color: theme.muted, align: 'left' });
  }

  for (const box of visible) {
    const lane = box.lane as Lane;
    lane.ensureSorted();
    out.push({ op: 'text', x: 6, y: box.y + box.h / 2, text: lane.label, color: lane.kind === 'register' ? theme.foreground : theme.muted, align: 'left' });
    if (lane.kind === 'register') drawBars(model, lane, box, vp, sc, theme, out);
    drawMarks(model, lane, box, vp, sc, theme, out);
  }

  // CPU separators and the cursor at each CPU's current time.
  for (let cpu = 0; cpu < model.now.length; cpu++) {
    const group = visible.filter((b) => b.lane.cpu === cpu);
    if (group.length === 0) continue;
    const top = group[0].y, bottom = group[group.length - 1].y + group[group.length - 1].h;
    out.push({ op: 'line', x0: 0, y0: top - 0.5, x1: sc.right, y1: top - 0.5, color: theme.muted, width: 0.5, cursor: false });
    const now = model.now[cpu];
    if (now >= vp.t0 && now <= vp.t1) out.push({ op: 'line', x0: sc.x(now), y0: top, x1: sc.x(now), y1: bottom, color: theme.cursor, width: 1.5, cursor: true });
  }
  return out;
}

type Scale = ReturnType<typeof scaleOf>;

function barStyle(model: TimelineModel, eventId: number, theme: TimelineTheme): { fill: string; alpha: number; hatch: boolean } {
  const pinned = model.events.get(eventId)?.pinned ?? true;
  return { fill: colourFor(model, eventId, theme), alpha: pinned ? 0.9 : 0.5, hatch: !pinned };
}

function drawBars(model: TimelineModel, lane: Lane, box: LaneBox, vp: Viewport, sc: Scale, theme: TimelineTheme, out: DrawCommand[]): void {
  const y = box.y + 2, h = box.h - 4;
  const emit = (t0: number, t1: number, eventId: number, mixed: boolean, intervals: number) => {
    const x0 = Math.max(sc.left, sc.x(t0));
    const x1 = Math.min(sc.right, sc.x(t1));
    const w = Math.max(1, x1 - x0);
    const style = mixed ? { fill: theme.mixed, alpha: 0.8, hatch: false } : barStyle(model, eventId, theme);
    out.push({ op: 'rect', x: x0, y, w, h, ...style, intervals });
    if (!mixed && intervals === 1) {
      const label = model.labelOf(eventId);
      if (w > label.length * vp.charWidth + 8) out.push({ op: 'text', x: x0 + 4, y: y + h / 2, text: label, color: theme.barText, align: 'left' });
    }
  };
  const start = lane.start.data, end = lane.end.data, maxEnd = lane.maxEnd.data, ev = lane.event.data;
  const n = lane.start.length;
  let i = lane.firstEndingAfter(vp.t0);
  while (i < n && start[i] < vp.t1) {
    const xs = sc.x(Math.max(start[i], vp.t0));
    if (sc.x(Math.min(end[i], vp.t1)) - xs >= 1) {
      emit(start[i], end[i], ev[i], false, 1);
      i++;
      continue;
    }
    // A run of bars narrower than a pixel: everything starting in this pixel column becomes one
    // bar, found by binary search; the run goes on while the next column is also sub-pixel and
    // touches it. Of different watchpoints, the run is drawn in the `mixed` colour.
    const first = i;
    const colour = model.colourIndex(ev[i]);
    let mixed = false;
    let runEnd = end[i];
    let j = i;
    for (;;) {
      const col = Math.floor(sc.x(Math.max(start[j], vp.t0)) - sc.left);
      const k = Math.max(j + 1, lane.firstStartingAtOrAfter(sc.t(sc.left + col + 1), j + 1));
      if (model.colourIndex(ev[j]) !== colour || model.colourIndex(ev[k - 1]) !== colour) mixed = true;
      runEnd = Math.max(runEnd, maxEnd[k - 1]);
      j = k;
      if (j >= n || start[j] >= vp.t1) break;
      const nx = sc.x(start[j]);
      if (sc.x(Math.min(end[j], vp.t1)) - nx >= 1 || nx - sc.x(runEnd) >= 1) break;
    }
    emit(Math.max(start[first], vp.t0), Math.min(runEnd, vp.t1), ev[first], mixed, j - first);
    i = j;
  }
  for (const o of lane.open) {
    const e = model.now[lane.cpu] ?? o.start;
    if (e > vp.t0 && o.start < vp.t1) emit(Math.max(o.start, vp.t0), Math.min(Math.max(e, o.start), vp.t1), o.event, false, 1);
  }
}

function drawMarks(model: TimelineModel, lane: Lane, box: LaneBox, vp: Viewport, sc: Scale, theme: TimelineTheme, out: DrawCommand[]): void {
  const time = lane.markTime.data, ev = lane.markEvent.data;
  const n = lane.markTime.length;
  const hollow = lane.kind === 'missed';
  let i = lane.firstMarkAtOrAfter(vp.t0, 0);
  while (i < n && time[i] < vp.t1) {
    const x = sc.x(time[i]);
    out.push({ op: 'tick', x, y: box.y + 1, h: box.h - 2, color: hollow ? colourFor(model, ev[i], theme) : theme.hit, hollow });
    // One tick per pixel column: skip the other marks of this column.
    i = Math.max(i + 1, lane.firstMarkAtOrAfter(sc.t(Math.floor(x) + 1), i + 1));
  }
}

/** A round step (1, 2 or 5 × 10^k) at least `raw`. */
export function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return Math.max(1, m * p);
  return Math.max(1, 10 * p);
}

/** Simulated time (the machine's clock) for labels: 950, 12.5k, 3.2M. */
export function formatTime(t: number): string {
  const a = Math.abs(t);
  if (a >= 1e9) return `${+(t / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${+(t / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${+(t / 1e3).toFixed(1)}k`;
  return String(Math.round(t));
}

// ---------------------------------------------------------------------------------------------
// Hit-testing

export type TimelineHit =
  | {
    kind: 'interval';
    lane: LaneInfo;
    eventId: number;
    event: TimelineEvent | undefined;
    start: number;
    /** For an open interval, the CPU's clock now. */
    end: number;
    open: boolean;
  }
  | {
    kind: 'mark';
    lane: LaneInfo;
    mark: 'hit' | 'missed';
    eventId: number;
    event: TimelineEvent | undefined;
    time: number;
    addr: number;
    /** Source line, 0 if unknown. */
    line: number;
  };

/** Marks within this many pixels of the pointer are hit (they are thin). */
const MARK_SLOP = 4;
const BAR_SLOP = 2;

/** The mark (preferred) or interval under (x, y), or null. */
export function hitTest(model: TimelineModel, vp: Viewport, x: number, y: number): TimelineHit | null {
  const sc = scaleOf(vp);
  if (x < sc.left || y < vp.axisHeight) return null;
  const box = layoutLanes(model, vp).boxes.find((b) => y >= b.y && y < b.y + b.h);
  if (box === undefined) return null;
  const lane = box.lane as Lane;
  lane.ensureSorted();
  const t = sc.t(x);
  const slop = (px: number) => px / sc.pxPerTime;

  // Nearest mark within the slop.
  const times = lane.markTime.data, nm = lane.markTime.length;
  let best = -1;
  for (let i = Math.max(0, lane.firstMarkAtOrAfter(t - slop(MARK_SLOP), 0)); i < nm && times[i] <= t + slop(MARK_SLOP); i++) {
    if (best === -1 || Math.abs(times[i] - t) < Math.abs(times[best] - t)) best = i;
  }
  if (best !== -1) {
    const id = lane.markEvent.data[best];
    return { kind: 'mark', lane, mark: lane.kind === 'missed' ? 'missed' : 'hit', eventId: id, event: model.events.get(id), time: times[best], addr: lane.markAddr.data[best], line: lane.markLine.data[best] };
  }
  if (lane.kind !== 'register') return null;

  for (const o of lane.open) {
    const end = model.now[lane.cpu] ?? o.start;
    if (t >= o.start - slop(BAR_SLOP) && t <= end + slop(BAR_SLOP)) return { kind: 'interval', lane, eventId: o.event, event: model.events.get(o.event), start: o.start, end, open: true };
  }
  // The interval containing t, else the nearest within the slop (sub-pixel ones). Intervals of one
  // register do not overlap, so the candidates are the last one starting at or before t and the next.
  const start = lane.start.data, end = lane.end.data, n = lane.start.length;
  const after = lowerBound(start, 0, n, t, true);
  let pick = -1;
  let dist = slop(BAR_SLOP);
  for (const i of [after - 1, after]) {
    if (i < 0 || i >= n) continue;
    const d = t < start[i] ? start[i] - t : t > end[i] ? t - end[i] : 0;
    if (d <= dist && (pick === -1 || d < dist)) {
      pick = i;
      dist = d;
    }
  }
  if (pick === -1) return null;
  const id = lane.event.data[pick];
  return { kind: 'interval', lane, eventId: id, event: model.events.get(id), start: start[pick], end: end[pick], open: false };
}

const hex = (n: number) => `0x${n.toString(16)}`;
const accessWord: Record<string, string> = { r: 'read', w: 'write', rw: 'read/write', x: 'execute' };

/** The tooltip of a hit, one line per fact. */
export function describeHit(hit: TimelineHit): string[] {
  const e = hit.event;
  const who = e?.label ?? `event ${hit.eventId}`;
  const where = e === undefined ? '' : ` (${accessWord[e.access] ?? e.access} ${hex(e.addr)}/${e.len})`;
  if (hit.kind === 'interval') {
    const lines = [
      `${who}${where}`,
      `${hit.lane.registerName} on cpu${hit.lane.cpu}`,
      `from ${formatTime(hit.start)} to ${hit.open ? `now (${formatTime(hit.end)}, still held)` : formatTime(hit.end)} · ${formatTime(hit.end - hit.start)} long`,
      e === undefined ? 'mode unknown' : e.pinned ? 'pinned (always installed while its thread runs)' : 'flexible (time-shares the register)',
    ];
    if (e !== undefined) lines.push(`owner: ${e.owner}`);
    return lines;
  }
  return [
    hit.mark === 'hit' ? `hit: ${who} in ${hit.lane.registerName} on cpu${hit.lane.cpu}` : `missed: ${who} was scheduled out on cpu${hit.lane.cpu}`,
    `at ${formatTime(hit.time)} · address ${hex(hit.addr)}`,
    hit.line > 0 ? `line ${hit.line} (click to show it)` : 'line unknown',
    ...(e === undefined ? [] : [`owner: ${e.owner}`]),
  ];
}
