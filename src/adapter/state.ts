/**
 * The body of the hwbp.state event and request: everything the Debug Registers view shows, as
 * plain data (the kernel's snapshot, each breakpoint that holds registers, the threads).
 */
import type { KernelSnapshot } from '../hwbp';
import type { Machine } from '../target';
import type { CodeBp } from './codeBreakpoints';
import type { DataBp } from './dataBreakpoints';
import type { WatchAccess, WatchpointInfo, WatchpointManager } from './watchpoints';

/** The body of the hwbp.state event and request. */
export interface HwbpState {
  running: boolean;
  kernel: KernelSnapshot | null;
  watchpoints: {
    breakpointId: number;
    kind: 'data' | 'hardware';
    label: string;
    access: WatchAccess;
    condition: string | null;
    hitCondition: string | null;
    watchpoint: WatchpointInfo | null;
    message: string;
  }[];
  threads: ReturnType<Machine['threadInfos']>;
  stoppedThreadId: number | null;
}

export interface StateSources {
  machine: Machine | null;
  watches: WatchpointManager | null;
  running: boolean;
  stoppedThreadId: number | null;
  data: readonly DataBp[];
  code: readonly CodeBp[];
}

export function buildState(s: StateSources): HwbpState {
  const m = s.machine;
  if (m === null) return { running: false, kernel: null, watchpoints: [], threads: [], stoppedThreadId: null };
  const infos = new Map((s.watches?.list() ?? []).map((w) => [w.id, w]));
  return {
    running: s.running,
    kernel: m.kernel.snapshot(),
    watchpoints: [
      ...s.data.map((bp) => ({ breakpointId: bp.id, kind: 'data' as const, label: bp.target.expr, access: bp.access, condition: bp.condition, hitCondition: bp.hitCondition, watchpoint: bp.watchId === null ? null : infos.get(bp.watchId) ?? null, message: bp.message })),
      ...s.code.filter((bp) => bp.watchId !== null).map((bp) => ({ breakpointId: bp.id, kind: 'hardware' as const, label: `line ${bp.line}`, access: 'x' as WatchAccess, condition: bp.condition, hitCondition: bp.hitCondition, watchpoint: infos.get(bp.watchId!) ?? null, message: infos.get(bp.watchId!)?.message ?? '' })),
    ],
    threads: m.threadInfos(),
    stoppedThreadId: s.running ? null : s.stoppedThreadId,
  };
}
