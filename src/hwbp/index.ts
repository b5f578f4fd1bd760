/**
 * src/hwbp — a simulated Linux hw_breakpoint/perf layer: debug registers per CPU, kernel-exact
 * constraint accounting for pinned breakpoints, flexible breakpoints that time-share a register,
 * and the perf and ptrace front doors. Depends on nothing else of this project.
 */
export { createKernel, Kernel, PerfEvent, WideBreakpoint, MAX_CPUS } from './kernel';
export type { KernelOptions, OpenOptions, PlannedOpen, Task } from './kernel';
export { HwbpError, NoSpaceError } from './errors';
export type { Errno, NoSpaceDetail } from './errors';
export type { AccountingFactory, ConstraintAccounting, SlotRequest } from './constraints';
export { HistogramAccounting, SlotHistogram } from './constraints';
export { USER_DEBUGREG_OFFSET, USER_STRUCT_SIZE, debugRegOffset } from './ptrace';
export { decodeDr7, encodeDr7Slot, DR6_RESERVED, DR7_GLOBAL_SLOWDOWN, X86_LEN_1, X86_LEN_2, X86_LEN_4, X86_LEN_8, X86_TYPE_EXECUTE, X86_TYPE_RW, X86_TYPE_WRITE } from './arch/x86';
export { encodeArm64Control } from './arch/arm64';
export * from './types';
export { DEFAULT_TIMELINE_CAPACITY, MAX_TIMELINE_CAPACITY, TIMELINE_RECORD_BYTES, checkTimelineCapacity } from './recorder';
export type { KernelTimeline, TimelineEventInfo } from './recorder';
