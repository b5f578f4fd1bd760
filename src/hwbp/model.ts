/**
 * Internal records of the layer. Callers never see these: they hold handles (PerfEvent, Task) and
 * plain-data snapshots. Each field says what it stands for.
 */
import type { HwInfo } from './arch/profile';
import type { SlotRequest } from './constraints';
import type { HitHandler } from './types';

/** One breakpoint: a perf event of type PERF_TYPE_BREAKPOINT. */
export interface Breakpoint {
  readonly id: number;
  /** Who asked for it, for people reading the snapshot: "ptrace DR1 of pid 3", "perf", a label. */
  readonly owner: string;
  /** The validated request; replaced as a whole by modify(). */
  hw: HwInfo;
  /** Slot class it is reserved in (index into the profile's classes). */
  cls: number;
  readonly pinned: boolean;
  disabled: boolean;
  /** Set by ptrace: kernel addresses are EINVAL rather than EPERM, now and on every modify. */
  readonly excludeKernel: boolean;
  /** Owning task, or null for a CPU-bound breakpoint. */
  readonly task: TaskRecord | null;
  /** The CPU it is bound to, or -1 for every CPU. */
  readonly cpu: number;
  /** The reservation as the accounting knows it (kept so that release passes exactly what was added). */
  readonly request: SlotRequest;
  readonly onHit: HitHandler | null;
  /** ptrace virtual index (DR0–DR3 as the debugger sees it), or null for perf breakpoints. */
  ptraceIndex: number | null;
  /** The wide registration it belongs to, or null. */
  readonly wideId: number | null;
  closed: boolean;

  /** Hits counted while installed. */
  count: number;
  /** Accumulated simulated time it was eligible to count, and time it was installed. */
  timeEnabled: number;
  timeRunning: number;
  /** CPU on which it is currently eligible (its task runs there, or it is bound there), -1 if none. */
  eligibleOn: number;
  /** That CPU's clock when it became eligible / was installed. */
  enabledSince: number;
  runningSince: number;
  /** The clock when it entered its current register, as the timeline records it (see recorder.ts). */
  occupiedSince: number;
  /** Physical register it occupies on `eligibleOn`, -1 when not installed. */
  register: number;
  /** Position in the flexible round-robin: lower goes first; a rotation moves the running ones to the back. */
  rotationKey: number;
  /** Scratch mark for the scheduler's set computations (compared with a generation counter). */
  mark: number;
  /** The hw the timeline last noted for it, and in which of its prunings: noting it again is then nothing to do. */
  notedHw: HwInfo | null;
  notedPrune: number;
  /** The caller's handle (a PerfEvent), made on first request. */
  handle: object | null;
}

export interface TaskRecord {
  readonly pid: number;
  readonly name: string;
  alive: boolean;
  /** CPU it runs on now, or -1. */
  runningOn: number;
  /** Every open breakpoint owned by the task (perf and ptrace). */
  readonly breakpoints: Set<Breakpoint>;
  /** ptrace's view: the breakpoint behind each virtual DR0–DR3. */
  readonly ptraceSlots: (Breakpoint | null)[];
  /** Last DR7 value a debugger wrote successfully (thread.ptrace_dr7). */
  ptraceDr7: number;
  /** Virtual DR6: a trap bit per ptrace index that hit, in positive polarity. */
  virtualDr6: number;
  /**
   * Overcommitted running time of this task since its flexible order last rotated, in [0, mux): its
   * mux timer's phase, kept while it is switched out so that it rotates after every mux units of its
   * own overcommitted time, wherever it runs (see Scheduler).
   */
  muxPhase: number;
}
