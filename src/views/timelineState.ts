/**
 * What the timeline learns from a debug session: the body of the adapter's `hwbp.timeline` custom
 * request (arguments `{ since?: number }`), described here on its own, as state.ts describes
 * `hwbp.state` (views learn state only through DAP messages, never from adapter objects).
 *
 * The adapter's side of this contract is being written on another branch. Once it exists, a
 * compile-time test (like the one in test/views/registersModel.test.ts for SessionState) must check
 * that the adapter's type is assignable to TimelineChunk.
 */

/** An access kind of a watchpoint: read, write, read or write, execute. */
export type TimelineAccess = 'r' | 'w' | 'rw' | 'x';

/** A perf event (one per thread copy of a watchpoint, or a perf user's) referenced by a chunk. */
export interface TimelineEvent {
  id: number;
  label: string;
  owner: string;
  pinned: boolean;
  addr: number;
  len: number;
  access: TimelineAccess;
  breakpointId: number | null;
}

/** Mark kinds in TimelineChunk.marks.kind. */
export const MARK_HIT = 0;
/** An access the watchpoint missed while it was scheduled out of the registers (reg is -1). */
export const MARK_MISSED = 1;

export interface TimelineChunk {
  arch: 'x86_64' | 'arm64';
  /** The register classes, e.g. x86: one class 'mixed' with DR0–DR3. */
  classes: { name: string; registerNames: string[] }[];
  /** Per CPU, its simulated clock now (open intervals end there). */
  now: number[];
  /** Pass as `since` next time: closed intervals and marks after it come next time. */
  seq: number;
  /** Records dropped so far by the adapter's bounded ring buffer (oldest first). */
  dropped: { intervals: number; marks: number };
  capacity: number;
  /** The events referenced by this chunk. */
  events: TimelineEvent[];
  /** Occupancy intervals closed after `since`, columnar. */
  intervals: { cpu: number[]; cls: number[]; reg: number[]; start: number[]; end: number[]; event: number[] };
  /** All intervals open now (they replace the previous set). */
  open: { cpu: number[]; cls: number[]; reg: number[]; start: number[]; event: number[] };
  /** kind MARK_HIT = hit in register reg; MARK_MISSED = access missed while scheduled out (reg -1); line 0 = unknown. */
  marks: { kind: number[]; time: number[]; cpu: number[]; cls: number[]; reg: number[]; event: number[]; addr: number[]; line: number[] };
}
