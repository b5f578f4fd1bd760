/**
 * Our end of the protocol: the launch attributes the adapter reads and the names of the custom
 * messages the views use. src/extension.ts, package.json (checked by a test) and the views agree on these.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
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
  /** Log the protocol to the debug console. */
  trace?: boolean;
}

/** Every launch attribute the session reads (package.json documents each one; a test checks both ways). */
export const LAUNCH_ATTRIBUTES: readonly (keyof LaunchArguments)[] = ['program', 'stopOnEntry', 'arch', 'cpus', 'seed', 'mux', 'timeslice', 'watchpointMode', 'trace'];

/** Name of the custom event and request that carry the hardware state to the views. */
export const STATE_EVENT = 'hwbp.state';
export const STATE_REQUEST = 'hwbp.state';
export const SET_MODE_REQUEST = 'hwbp.setWatchpointMode';
