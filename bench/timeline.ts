/**
 * The register timeline's frame cost: time to build the drawing commands of one frame (1200 px
 * wide, 2 CPUs × DR0–DR3 plus missed lanes) from 10k and from 1M recorded intervals, for the full
 * view and for a view zoomed to 1% of the time. The drawing only visits what is visible and merges
 * runs narrower than a pixel, so the number of commands is bounded by lanes × pixels whatever the
 * number of intervals; the time per command still grows with the data (longer searches, and memory
 * no longer in cache), which the ratio column shows.
 */
import { performance } from 'node:perf_hooks';
import { DEFAULT_THEME, DEFAULT_VIEWPORT, drawTimeline, TimelineModel, type Viewport } from '../src/views/timelineModel';
import { chunkAt, synthRecording } from '../test/support/timelineGen';
import { fmt, line, median } from './util';

const WIDTH = 96 + 1200;

function frameMs(model: TimelineModel, vp: Viewport): { ms: number; commands: number } {
  let commands = 0;
  for (let i = 0; i < 5; i++) commands = drawTimeline(model, vp, DEFAULT_THEME).length; // warm up
  const samples: number[] = [];
  for (let i = 0; i < 31; i++) {
    const t = performance.now();
    drawTimeline(model, vp, DEFAULT_THEME);
    samples.push(performance.now() - t);
  }
  return { ms: median(samples), commands };
}

export function runTimelineBench(write: (s: string) => void): void {
  write('\n## Register timeline: one frame of drawing commands (median of 31)');
  const widths = [26, 10, 10, 10, 12, 8];
  write(line(['intervals / view', 'ingest ms', 'frame ms', 'commands', 'µs/command', 'vs 10k'], widths));
  const base: Record<string, number> = {};
  for (const n of [10_000, 1_000_000]) {
    // Mean interval length 10: 1M intervals over ~1.25M time units on 8 lanes.
    const rec = synthRecording({ intervals: n, length: 10, seed: 11, capacity: n });
    const chunk = chunkAt(rec, rec.end);
    const model = new TimelineModel();
    const t = performance.now();
    model.apply(chunk);
    const ingest = performance.now() - t;
    const end = model.end;
    const views: [string, Viewport][] = [
      ['full', { ...DEFAULT_VIEWPORT, t0: 0, t1: end, width: WIDTH, height: 400 }],
      ['zoomed 1%', { ...DEFAULT_VIEWPORT, t0: end * 0.5, t1: end * 0.51, width: WIDTH, height: 400 }],
    ];
    for (const [name, vp] of views) {
      const f = frameMs(model, vp);
      if (n === 10_000) base[name] = f.ms;
      const ratio = n === 10_000 ? '1.00' : (f.ms / base[name]).toFixed(2);
      write(line([`${model.intervalCount.toLocaleString('en')} ${name}`, fmt(ingest, 1), fmt(f.ms, 3), String(f.commands), fmt((f.ms * 1000) / f.commands, 3), ratio], widths));
    }
  }
}
