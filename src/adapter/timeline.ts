/**
 * The hwbp.timeline and hwbp.exportTrace requests: the kernel's register timeline with the
 * debugger's names on it (a watchpoint's label and its DAP breakpoint id), and the same as a
 * Chrome trace for Perfetto (traceExport.ts).
 */
import type { Machine } from '../target';
import { UserError } from './common';
import { EXPORT_TRACE_REQUEST, type TIMELINE_REQUEST, type TimelineChunk } from './protocol';
import type { Args } from './validation';
import { toChromeTrace, type ChromeTrace } from './traceExport';
import type { WatchpointManager } from './watchpoints';

export interface TimelineSources {
  machine: Machine | null;
  watches: WatchpointManager | null;
  /** The DAP breakpoint (data or hardware) that a watchpoint stands for, or null. */
  breakpointOf?: (watchId: number) => number | null;
}

/** Names learnt while the watchpoints lived, per machine: an event keeps its name after its watchpoint is gone. */
const names = new WeakMap<Machine, Map<number, { label: string; breakpointId: number | null }>>();

/** Owners our watchpoint manager gives its events: "watch <label> (<thread>)". */
const WATCH_OWNER = /^watch (.*) \([^)]*\)$/;

export function buildTimelineChunk(src: TimelineSources, since = 0): TimelineChunk {
  const m = src.machine;
  if (m === null) throw new UserError('no program is running: launch one to see its register timeline');
  const raw = m.kernel.timeline(since);
  let known = names.get(m);
  if (known === undefined) names.set(m, (known = new Map()));
  const events = raw.events.map((e) => {
    const wp = src.watches?.ownerBrief(e.id);
    let name = known.get(e.id);
    if (wp !== undefined) {
      name = { label: wp.label, breakpointId: src.breakpointOf?.(wp.id) ?? null };
      known.set(e.id, name);
    }
    name ??= { label: WATCH_OWNER.exec(e.owner)?.[1] ?? e.owner, breakpointId: null };
    return { ...e, label: name.label, breakpointId: name.breakpointId };
  });
  return { ...raw, events };
}

/** Answer hwbp.timeline (`{ since? }` → TimelineChunk) or hwbp.exportTrace (→ the Chrome trace of everything kept). */
export function timelineRequest(command: string, args: Args<typeof TIMELINE_REQUEST>, src: TimelineSources): TimelineChunk | ChromeTrace {
  if (command === EXPORT_TRACE_REQUEST) return toChromeTrace(buildTimelineChunk(src, 0));
  // `since` was checked at the door (validation.ts): a whole number >= 0 when present.
  return buildTimelineChunk(src, args?.since ?? 0);
}
