/**
 * The timeline webview's script (bundled for the browser into dist/timeline.js). It keeps the
 * model of the chunks the extension posts, draws frames with the same pure drawTimeline() the tests
 * and the benchmark use, and turns pointer and keys into zoom, pan, tooltips and clicks.
 */
import {
  DEFAULT_VIEWPORT, describeHit, drawTimeline, formatTime, hitTest, layoutLanes, TimelineModel,
  type DrawCommand, type TimelineTheme, type Viewport,
} from '../src/views/timelineModel';
import type { FromWebview, ToWebview } from '../src/views/timelineProtocol';

declare function acquireVsCodeApi(): { postMessage(m: FromWebview): void };

const vscode = acquireVsCodeApi();
const canvas = document.getElementById('timeline') as HTMLCanvasElement;
const wrap = document.getElementById('wrap') as HTMLDivElement;
const tip = document.getElementById('tip') as HTMLDivElement;
const empty = document.getElementById('empty') as HTMLDivElement;
const status = document.getElementById('status') as HTMLSpanElement;
const lanesList = document.getElementById('lanes') as HTMLUListElement;
const ctx = canvas.getContext('2d')!;

const model = new TimelineModel();
let session: string | null = null;
let running = false;
let ended = false;
let error: string | null = null;
/** Visible time range; `follow` keeps it on the whole recording as data arrives. */
let t0 = 0;
let t1 = 1;
let follow = true;
let scrollY = 0;
let theme = readTheme();
let frame = 0;

function css(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** The theme's colours, from the CSS variables VS Code sets on the webview. */
function readTheme(): TimelineTheme {
  const fg = css('--vscode-editor-foreground', '#cccccc');
  const bg = css('--vscode-editor-background', '#1e1e1e');
  return {
    background: bg,
    foreground: fg,
    muted: css('--vscode-descriptionForeground', '#8b8b8b'),
    cursor: css('--vscode-editorCursor-foreground', '#f14c4c'),
    mixed: css('--vscode-disabledForeground', '#8a8a8a'),
    barText: bg,
    hit: fg,
    palette: ['blue', 'green', 'yellow', 'orange', 'purple', 'red'].map((c, i) => css(`--vscode-charts-${c}`, ['#3794ff', '#89d185', '#cca700', '#d18616', '#b180d7', '#f14c4c'][i])),
  };
}

function viewport(): Viewport {
  return { ...DEFAULT_VIEWPORT, t0, t1, width: wrap.clientWidth, height: wrap.clientHeight, scrollY };
}

function fit(): void {
  const begin = model.begin;
  const end = Math.max(model.end, begin + 1);
  t0 = begin;
  t1 = end + (end - begin) * 0.02;
}

function requestDraw(): void {
  if (frame === 0) frame = requestAnimationFrame(draw);
}

const patterns = new Map<string, CanvasPattern | null>();
/** Diagonal stripes in `colour`, for flexible (time-shared) occupants. */
function hatch(colour: string): CanvasPattern | null {
  let p = patterns.get(colour);
  if (p === undefined) {
    const c = document.createElement('canvas');
    c.width = c.height = 6;
    const g = c.getContext('2d')!;
    g.strokeStyle = colour;
    g.lineWidth = 1.5;
    g.beginPath();
    g.moveTo(-1, 7);
    g.lineTo(7, -1);
    g.stroke();
    p = ctx.createPattern(c, 'repeat');
    patterns.set(colour, p);
  }
  return p;
}

function execute(cmds: DrawCommand[]): void {
  for (const c of cmds) {
    switch (c.op) {
      case 'rect':
        ctx.globalAlpha = c.alpha;
        ctx.fillStyle = c.fill;
        ctx.fillRect(c.x, c.y, c.w, c.h);
        ctx.globalAlpha = 1;
        if (c.hatch && c.w >= 3) {
          ctx.fillStyle = hatch(c.fill) ?? c.fill;
          ctx.fillRect(c.x, c.y, c.w, c.h);
        }
        break;
      case 'tick':
        if (c.hollow) {
          ctx.strokeStyle = c.color;
          ctx.lineWidth = 1;
          ctx.strokeRect(Math.round(c.x) - 2.5, c.y + 0.5, 5, c.h - 1);
        } else {
          ctx.fillStyle = c.color;
          ctx.fillRect(Math.round(c.x) - 1, c.y, 2, c.h);
        }
        break;
      case 'text':
        ctx.fillStyle = c.color;
        ctx.textAlign = c.align;
        ctx.fillText(c.text, c.x, c.y);
        break;
      case 'line':
        ctx.strokeStyle = c.color;
        ctx.lineWidth = c.width;
        ctx.beginPath();
        ctx.moveTo(c.x0, c.y0);
        ctx.lineTo(c.x1, c.y1);
        ctx.stroke();
        break;
    }
  }
}

function draw(): void {
  frame = 0;
  const w = wrap.clientWidth, h = wrap.clientHeight;
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.font = `11px ${css('--vscode-editor-font-family', 'monospace')}`;
  ctx.textBaseline = 'middle';
  if (!model.hasData) return;
  const vp = viewport();
  // Keep the lanes scrolled within their height.
  const { contentHeight } = layoutLanes(model, vp);
  scrollY = Math.max(0, Math.min(scrollY, contentHeight - (h - vp.axisHeight)));
  execute(drawTimeline(model, { ...vp, scrollY }, theme));
}

function describeStatus(): { text: string; warn: boolean } {
  if (session === null) return { text: 'No hwbp debug session is active. Open a .hwsim file and press F5.', warn: false };
  if (error !== null) return { text: error, warn: true };
  if (!model.hasData) return { text: `${session}: no timeline data yet.`, warn: false };
  const parts = [
    `${session}${ended ? ' (ended)' : running ? ' (running)' : ' (stopped)'}`,
    `${model.intervalCount.toLocaleString('en')} intervals, ${model.markCount.toLocaleString('en')} hits and missed accesses`,
    `${formatTime(t0)}–${formatTime(t1)}`,
  ];
  const dropped = model.dropped.intervals + model.dropped.marks;
  if (dropped > 0) parts.push(`${model.dropped.intervals.toLocaleString('en')} intervals and ${model.dropped.marks.toLocaleString('en')} marks dropped (the oldest; the recording keeps ${model.capacity.toLocaleString('en')})`);
  else parts.push('nothing dropped');
  return { text: parts.join(' · '), warn: dropped > 0 };
}

function updateText(): void {
  const s = describeStatus();
  status.textContent = s.text;
  status.classList.toggle('warn', s.warn);
  status.title = s.text;
  const show = session === null || !model.hasData || model.lanes.length === 0;
  empty.style.display = show ? 'flex' : 'none';
  empty.textContent = session === null ? 'No hwbp debug session is active. Open a .hwsim file and press F5.'
    : error !== null ? error : 'No timeline data yet: it comes at the next stop.';
  const lines = model.summary();
  canvas.setAttribute('aria-label', model.hasData ? `Register timeline of ${session}: ${model.lanes.length} lanes, ${model.intervalCount} intervals from ${formatTime(t0)} to ${formatTime(t1)}` : 'Register timeline: no data');
  lanesList.replaceChildren(...lines.map((l) => {
    const li = document.createElement('li');
    li.textContent = l;
    return li;
  }));
}

window.addEventListener('message', (e: MessageEvent<ToWebview>) => {
  const m = e.data;
  switch (m.type) {
    case 'session':
      session = m.name;
      model.reset();
      follow = true;
      scrollY = 0;
      error = null;
      break;
    case 'chunk':
      model.apply(m.chunk);
      if (follow) fit();
      break;
    case 'status':
      running = m.running;
      ended = m.ended;
      error = m.error;
      break;
  }
  updateText();
  requestDraw();
});

// Zoom around the pointer with the wheel; Shift+wheel scrolls the lanes; drag pans both ways.
canvas.addEventListener('wheel', (e) => {
  e.preventDefault();
  if (!model.hasData) return;
  if (e.shiftKey) {
    scrollY += e.deltaY;
  } else {
    const vp = viewport();
    const x = Math.max(vp.labelWidth, e.offsetX);
    const t = t0 + ((x - vp.labelWidth) / (vp.width - vp.labelWidth)) * (t1 - t0);
    const k = Math.exp(e.deltaY * 0.0015);
    const span = Math.max(4, (t1 - t0) * k);
    t0 = t - (t - t0) * (span / (t1 - t0));
    t1 = t0 + span;
    follow = false;
  }
  hideTip();
  updateText();
  requestDraw();
}, { passive: false });

let drag: { x: number; y: number; t0: number; t1: number; scrollY: number; moved: boolean } | null = null;
canvas.addEventListener('mousedown', (e) => {
  if (e.button !== 0) return;
  drag = { x: e.offsetX, y: e.offsetY, t0, t1, scrollY, moved: false };
});
window.addEventListener('mouseup', (e) => {
  const d = drag;
  drag = null;
  if (d === null || d.moved || e.target !== canvas) return;
  const hit = hitTest(model, viewport(), e.offsetX, e.offsetY);
  if (hit?.kind === 'mark' && hit.line > 0) vscode.postMessage({ type: 'reveal', line: hit.line });
});
canvas.addEventListener('mousemove', (e) => {
  if (drag !== null) {
    const dx = e.offsetX - drag.x, dy = e.offsetY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    if (drag.moved) {
      const vp = viewport();
      const dt = (dx / (vp.width - vp.labelWidth)) * (drag.t1 - drag.t0);
      t0 = drag.t0 - dt;
      t1 = drag.t1 - dt;
      scrollY = drag.scrollY - dy;
      follow = false;
      hideTip();
      updateText();
      requestDraw();
      return;
    }
  }
  showTip(e.offsetX, e.offsetY);
});
canvas.addEventListener('mouseleave', hideTip);
canvas.addEventListener('dblclick', () => {
  follow = true;
  fit();
  updateText();
  requestDraw();
});

function showTip(x: number, y: number): void {
  const hit = hitTest(model, viewport(), x, y);
  if (hit === null) {
    hideTip();
    canvas.style.cursor = 'crosshair';
    return;
  }
  canvas.style.cursor = hit.kind === 'mark' && hit.line > 0 ? 'pointer' : 'crosshair';
  tip.textContent = describeHit(hit).join('\n');
  tip.style.display = 'block';
  const left = Math.min(x + 14, wrap.clientWidth - tip.offsetWidth - 4);
  const top = y + 16 + tip.offsetHeight > wrap.clientHeight ? y - tip.offsetHeight - 8 : y + 16;
  tip.style.left = `${Math.max(0, left)}px`;
  tip.style.top = `${Math.max(0, top)}px`;
}

function hideTip(): void {
  tip.style.display = 'none';
}

// Keys, for those who do not use a pointer: + and - zoom, arrows pan, 0 fits.
canvas.addEventListener('keydown', (e) => {
  const span = t1 - t0;
  const mid = (t0 + t1) / 2;
  if (e.key === '+' || e.key === '=') [t0, t1] = [mid - span / 4, mid + span / 4];
  else if (e.key === '-') [t0, t1] = [mid - span, mid + span];
  else if (e.key === 'ArrowLeft') [t0, t1] = [t0 - span / 10, t1 - span / 10];
  else if (e.key === 'ArrowRight') [t0, t1] = [t0 + span / 10, t1 + span / 10];
  else if (e.key === 'ArrowUp') scrollY -= 20;
  else if (e.key === 'ArrowDown') scrollY += 20;
  else if (e.key === '0') {
    follow = true;
    fit();
  } else return;
  if (e.key !== '0') follow = false;
  e.preventDefault();
  updateText();
  requestDraw();
});

document.getElementById('fit')!.addEventListener('click', () => {
  follow = true;
  fit();
  updateText();
  requestDraw();
});
document.getElementById('export')!.addEventListener('click', () => vscode.postMessage({ type: 'exportTrace' }));

new ResizeObserver(requestDraw).observe(wrap);
// A theme change rewrites the CSS variables and the body's class.
new MutationObserver(() => {
  theme = readTheme();
  patterns.clear();
  requestDraw();
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

updateText();
vscode.postMessage({ type: 'ready' });
