/**
 * Our end of the protocol: the launch attributes the adapter reads and the names of the custom
 * messages the views use. src/extension.ts, package.json (checked by a test) and the views agree on these.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { KernelTimeline, TimelineEventInfo } from '../hwbp';
import type { WatchMode } from './watchpoints';

export interface LaunchArguments extends DebugProtocol.LaunchRequestArguments {
  /** The .hwsim program to run. */
  program: string;
  stopOnEntry?: boolean;
  arch?: 'x86_64' | 'arm64';
  cpus?: number;
  seed?: number;
  mux?: number;
  timeslice?: number;
  /** How data breakpoints take registers: pinned when they fit (auto), always pinned, or always flexible. */
  watchpointMode?: WatchMode;
  /** Records the register timeline keeps (0: no recording); default 2^20. */
  timelineCapacity?: number;
  /** Log the protocol to the debug console. */
  trace?: boolean;
}

/** Every launch attribute the session reads (package.json documents each one; a test checks both ways). */
export const LAUNCH_ATTRIBUTES: readonly (keyof LaunchArguments)[] = ['program', 'stopOnEntry', 'arch', 'cpus', 'seed', 'mux', 'timeslice', 'watchpointMode', 'timelineCapacity', 'trace'];

/** Name of the custom event and request that carry the hardware state to the views. */
export const STATE_EVENT = 'hwbp.state';
export const STATE_REQUEST = 'hwbp.state';
export const SET_MODE_REQUEST = 'hwbp.setWatchpointMode';
/** The register timeline (TimelineChunk), from `since` on; and the same as a Chrome trace (Perfetto). */
export const TIMELINE_REQUEST = 'hwbp.timeline';
export const EXPORT_TRACE_REQUEST = 'hwbp.exportTrace';

/**
 * The body of the hwbp.timeline response: who held each debug register when, hits and missed
 * accesses. Columnar (one array per field) so that a million intervals stay cheap to send; times
 * are simulated time units on each CPU's clock. docs/timeline.md describes every field.
 */
export type TimelineChunk = Omit<KernelTimeline, 'events'> & {
  /** Every breakpoint the intervals, open intervals and marks name, with the debugger's watchpoint label and DAP breakpoint id. */
  events: (TimelineEventInfo & { label: string; breakpointId: number | null })[];
};
