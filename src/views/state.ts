/**
 * What the views know of a debug session: the body of the adapter's `hwbp.state` event and request,
 * described here on its own (views learn state only through DAP messages, never from adapter
 * objects). A compile-time test checks it stays a subset of what the adapter sends.
 */

export interface RegisterView {
  index: number;
  name: string;
  value: number;
  control: number;
  occupant: null | { eventId: number; addr: number; len: number; type: string; pinned: boolean; owner: string; pid: number | null };
}

export interface CpuView {
  cpu: number;
  /** The CPU's simulated clock. */
  time: number;
  runningPid: number | null;
  runningName: string | null;
  classes: { name: string; slots: number; registers: RegisterView[] }[];
  control: {
    dr7?: number;
    dr7Decoded?: { slot: number; local: boolean; global: boolean; rw: string; len: number }[];
    dr6?: number;
    statusHits: string[];
    arm64Decoded?: { name: string; enabled: boolean; type: string; bytes: number[] }[];
  };
  rotating: boolean;
  flexibleOrder: number[];
}

export interface EventView {
  id: number;
  state: string;
  installedOn: null | { cpu: number; register: number; registerName: string };
}

export interface ConstraintView {
  name: string;
  slots: number;
  cpus: { cpu: number; nr_cpu_bp_pinned: number; nr_bp_flexible: number; task_bp_pinned: number[]; task_bp_demand: number[]; worst_case: number }[];
  cpu_pinned: number[];
  tsk_pinned_all: number[];
}

export interface WatchpointView {
  breakpointId: number;
  kind: 'data' | 'hardware';
  label: string;
  access: string;
  condition: string | null;
  hitCondition: string | null;
  watchpoint: null | {
    addr: number;
    size: number;
    requestedMode: string;
    mode: 'pinned' | 'flexible' | null;
    state: 'active' | 'rejected';
    message: string;
    summary: string;
    detail: string;
    canPin: boolean;
    registersPerThread: number;
    eventIds: number[];
    hits: number;
    timeEnabled: number;
    timeRunning: number;
    estimate: number | null;
  };
  message: string;
}

export interface SessionState {
  running: boolean;
  kernel: null | { arch: string; cpus: CpuView[]; events: EventView[]; constraints: ConstraintView[] };
  watchpoints: WatchpointView[];
  threads: { id: number; name: string; state: string; cpu: number | null; pid: number | null }[];
  stoppedThreadId: number | null;
}
