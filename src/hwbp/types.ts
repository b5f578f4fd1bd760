/**
 * Public, plain-data types of the hw_breakpoint layer. Everything a later layer sees (attributes,
 * hits, snapshots) is described here and is JSON-serialisable.
 */

/** Generic breakpoint type bits, as in include/uapi/linux/hw_breakpoint.h. */
export const HW_BREAKPOINT_EMPTY = 0;
export const HW_BREAKPOINT_R = 1;
export const HW_BREAKPOINT_W = 2;
export const HW_BREAKPOINT_RW = HW_BREAKPOINT_R | HW_BREAKPOINT_W;
export const HW_BREAKPOINT_X = 4;
export const HW_BREAKPOINT_INVALID = HW_BREAKPOINT_RW | HW_BREAKPOINT_X;

/** Access kinds a memory access can have; the bit values double as the match mask of a register. */
export const ACCESS_READ = 1;
export const ACCESS_WRITE = 2;
export const ACCESS_EXEC = 4;
export type AccessKind = 'read' | 'write' | 'exec';

export type BreakpointType = 'r' | 'w' | 'rw' | 'x';
export type ArchName = 'x86_64' | 'arm64';

/** What a caller asks for, like the breakpoint part of struct perf_event_attr. */
export interface BreakpointAttr {
  /** 'r', 'w', 'rw', 'x', or the raw HW_BREAKPOINT_* bit mask (0 and 7 are rejected as the kernel does). */
  type: BreakpointType | number;
  /** Start address; a bigint is accepted so that addresses beyond 2^53 can be checked (and refused) exactly. */
  addr: number | bigint;
  len: number;
  /** Pinned breakpoints must always be on; flexible ones time-share registers. Default true, like hw_breakpoint_init(). */
  pinned?: boolean;
  /** Opened disabled: holds its reservation but is never installed until enabled. */
  disabled?: boolean;
  /** Set by ptrace: a kernel-space address is then EINVAL rather than EPERM. */
  excludeKernel?: boolean;
}

/** The fields perf's PERF_EVENT_IOC_MODIFY_ATTRIBUTES may change. */
export interface BreakpointAttrChanges {
  type?: BreakpointType | number;
  addr?: number | bigint;
  len?: number;
  disabled?: boolean;
  /** Not modifiable: present only so that a request to change it gets a clear EINVAL. */
  pinned?: boolean;
}

/** perf_event_open's pid/cpu pair: pid -1 = no task (CPU-bound), cpu -1 = every CPU. */
export interface EventTarget {
  pid: number;
  cpu: number;
}

export type EventState = 'active' | 'inactive' | 'off' | 'error' | 'closed';

/** One register that matched an access. */
export interface HitMatch {
  /** Physical register index within its class (DR1 → 1). */
  register: number;
  registerName: string;
  eventId: number;
  /** For ptrace breakpoints: the virtual DRn index the debugger used, which need not equal `register`. */
  ptraceIndex: number | null;
}

/** A debug exception raised by one access. Plain data. */
export interface HitInfo {
  cpu: number;
  pid: number | null;
  addr: number;
  size: number;
  kind: AccessKind;
  /** x86: the DR6 value the CPU reports (reserved bits set, B0–B3 for the matching registers). arm64: bit n for BVRn, bit 16+n for WVRn. */
  status: number;
  matches: HitMatch[];
  /** Simulated time on that CPU when the access happened. */
  time: number;
}

export type HitHandler = (hit: HitInfo) => void;

export interface EventCounts {
  id: number;
  state: EventState;
  count: number;
  timeEnabled: number;
  timeRunning: number;
  /** count × enabled / running, as perf tools scale multiplexed counts; null when the event never ran. */
  estimate: number | null;
}

// ---------------------------------------------------------------------------------------------
// Snapshot: the whole layer as JSON-serialisable data, for views and tests.

export interface RegisterSnapshot {
  index: number;
  name: string;
  /** Address register value (DRn / WVRn / BVRn); 0 when free. */
  value: number;
  /** Control bits this register contributes (x86: its DR7 bits; arm64: its WCR/BCR value). */
  control: number;
  occupant: null | {
    eventId: number;
    addr: number;
    len: number;
    type: BreakpointType;
    pinned: boolean;
    owner: string;
    pid: number | null;
  };
}

export interface Dr7SlotDecoded {
  slot: number;
  local: boolean;
  global: boolean;
  /** R/W field: 'execute' (00), 'write' (01), 'io' (10), 'readwrite' (11). */
  rw: 'execute' | 'write' | 'io' | 'readwrite';
  /** LEN field decoded to bytes (execute breakpoints have LEN 00 = 1). */
  len: number;
}

export interface ControlSnapshot {
  /** x86: DR7 and DR6; arm64: absent. */
  dr7?: number;
  dr7Decoded?: Dr7SlotDecoded[];
  dr6?: number;
  /** Registers whose status bit is set in the last reported status (B0–B3 on x86): their names. */
  statusHits: string[];
  /** arm64: each installed register's control value decoded (BCRn / WCRn). */
  arm64Decoded?: Arm64ControlDecoded[];
}

export interface Arm64ControlDecoded {
  slotClass: 'inst' | 'data';
  index: number;
  /** BCRn for breakpoints, WCRn for watchpoints. */
  name: string;
  enabled: boolean;
  /** Load/store control (watchpoints) or 'execute' (breakpoints). */
  type: 'execute' | 'load' | 'store' | 'load/store';
  /** Byte-address-select bits, and which bytes of the doubleword (or instruction) they select. */
  bas: number;
  bytes: number[];
  privilege: 'EL0' | 'EL1' | 'any';
}

export interface SlotClassSnapshot {
  name: 'mixed' | 'inst' | 'data';
  slots: number;
  registers: RegisterSnapshot[];
}

export interface CpuSnapshot {
  cpu: number;
  runningPid: number | null;
  runningName: string | null;
  time: number;
  classes: SlotClassSnapshot[];
  control: ControlSnapshot;
  /** True when more flexible breakpoints are eligible here than registers are free, so they rotate. */
  rotating: boolean;
  /** Flexible breakpoints eligible here, in round-robin order: the first ones run, the rest wait. */
  flexibleOrder: number[];
}

export interface EventSnapshot {
  id: number;
  owner: string;
  addr: number;
  len: number;
  type: BreakpointType;
  pinned: boolean;
  disabled: boolean;
  pid: number | null;
  cpu: number;
  slotClass: 'mixed' | 'inst' | 'data';
  state: EventState;
  installedOn: null | { cpu: number; register: number; registerName: string };
  count: number;
  timeEnabled: number;
  timeRunning: number;
  estimate: number | null;
  ptraceIndex: number | null;
  wideId: number | null;
}

export interface TaskSnapshot {
  pid: number;
  name: string;
  runningOn: number | null;
  events: number[];
  ptrace: { dr7: number; dr6: number; slots: (number | null)[] };
}

/** Per-CPU row of the constraint table, in the terms of the 2009 arbitration patch. */
export interface ConstraintCpuRow {
  cpu: number;
  /** Weight of pinned CPU-bound breakpoints on this CPU. */
  nr_cpu_bp_pinned: number;
  /** Number of flexible CPU-bound breakpoints on this CPU. */
  nr_bp_flexible: number;
  /** task_bp_pinned[n-1] = number of tasks whose pinned breakpoints applicable here weigh n. */
  task_bp_pinned: number[];
  /** Like task_bp_pinned, but counting the register kept for a task's flexible breakpoints too. */
  task_bp_demand: number[];
  /** Worst case of registers in use here: pinned + one kept for flexible, over every task (and none). */
  worst_case: number;
}

export interface ConstraintClassTable {
  name: 'mixed' | 'inst' | 'data';
  slots: number;
  cpus: ConstraintCpuRow[];
  /** Histogram over CPUs of nr_cpu_bp_pinned (the kernel's global cpu_pinned). */
  cpu_pinned: number[];
  /** Histogram over tasks that only have CPU-independent breakpoints (the kernel's tsk_pinned_all). */
  tsk_pinned_all: number[];
}

export interface KernelSnapshot {
  arch: ArchName;
  muxInterval: number;
  cpus: CpuSnapshot[];
  events: EventSnapshot[];
  tasks: TaskSnapshot[];
  constraints: ConstraintClassTable[];
}
