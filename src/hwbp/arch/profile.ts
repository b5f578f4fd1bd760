/**
 * What an architecture contributes to the hw_breakpoint layer: how many registers of which class,
 * how a request is validated and encoded, and how a register matches an access. The generic layer
 * (constraints, scheduling, front doors) never looks at register encodings itself.
 */
import type { ArchName, ControlSnapshot } from '../types';

export interface SlotClassDef {
  /** 'mixed' when instruction and data breakpoints share one pool (x86), else 'inst' / 'data'. */
  readonly name: 'mixed' | 'inst' | 'data';
  readonly slots: number;
  /** Name of each physical address register, e.g. DR0…DR3 or WVR0…. */
  readonly registerNames: readonly string[];
}

/** The arch-validated form of a request: what gets written to a register and what it matches. */
export interface HwInfo {
  /** Generic HW_BREAKPOINT_* bits. */
  readonly type: number;
  /** The address and length the caller asked for. */
  readonly addr: number;
  readonly len: number;
  /** Value of the address register. */
  readonly regValue: number;
  /** Bytes the register matches: [lo, hi). */
  readonly lo: number;
  readonly hi: number;
  /** ACCESS_* bits the register triggers on. */
  readonly accessMask: number;
  /** Arch encodings (x86: X86_BREAKPOINT_LEN_* and X86_BREAKPOINT_* values; arm64: BAS and control type). */
  readonly lenCode: number;
  readonly typeCode: number;
}

/** The per-CPU state an arch needs to describe its control/status registers. */
export interface InstalledView {
  /** For each class, for each register: the occupant's HwInfo or null. */
  readonly byClass: readonly (readonly (HwInfo | null)[])[];
  /** Control register value as maintained by install/uninstall (x86: cpu_dr7). */
  readonly control: number;
  /** Last status value reported on this CPU (x86: DR6). */
  readonly status: number;
}

export interface ArchProfile {
  readonly name: ArchName;
  readonly classes: readonly SlotClassDef[];
  /** First address that is kernel space for this arch; requests reaching it are refused for users. */
  readonly userSpaceEnd: bigint;
  /** find_slot_idx(): which class a type takes its register from. */
  classOf(type: number): number;
  /**
   * Arch validation, after the generic type check. `addr` is exact (bigint); throws HwbpError with
   * the kernel's errno. The generic kernel-space check runs afterwards.
   */
  parse(type: number, addr: bigint, len: number): HwInfo;
  /** Control bits a register contributes once `hw` is installed in slot `index` of class `cls`. */
  controlBits(cls: number, index: number, hw: HwInfo): number;
  /** Control register after installing `hw` at `index`, starting from `current` (x86 keeps GE set). */
  install(current: number, cls: number, index: number, hw: HwInfo): number;
  /** Control register after removing `hw` from `index`. */
  uninstall(current: number, cls: number, index: number, hw: HwInfo): number;
  /** Status value reported when the registers in `hitBits` (bit n = register n of one class) matched. */
  status(hitBits: number): number;
  /** Status value of a CPU that has not reported a hit yet. */
  readonly initialStatus: number;
  describe(view: InstalledView): ControlSnapshot;
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}
