/**
 * The simulated kernel: tasks, CPUs, and the perf front door to breakpoints. It ties together the
 * arch profile (validation and encodings), the constraint accounting (may this be reserved?) and the
 * scheduler (what is installed where, and for how long).
 *
 * Lifecycle of a breakpoint, as in the kernel: open reserves a slot (checked before the request is
 * even parsed, so an invalid request on a full CPU reports ENOSPC), and the reservation lasts until
 * close, enabled or not; installation into a register happens only while it is eligible on a CPU.
 * Every public call either succeeds or throws HwbpError having changed nothing.
 */
import { arm64Profile } from './arch/arm64';
import type { ArchProfile, HwInfo } from './arch/profile';
import { x86Profile } from './arch/x86';
import { histogramAccounting, type AccountingFactory, type ConstraintAccounting, type SlotRequest } from './constraints';
import { fail, hex, HwbpError, NoSpaceError } from './errors';
import type { Breakpoint, TaskRecord } from './model';
import { PtraceFrontDoor } from './ptrace';
import { COLD_GRANULE, COLD_WIDE, coldBucket, Scheduler, type CpuState } from './scheduler';
import { buildTimeline, checkTimelineCapacity, DEFAULT_TIMELINE_CAPACITY, KIND_HIT, KIND_MISS, TimelineRing, type KernelTimeline } from './recorder';
import { buildCheckpointCpus, buildSnapshot } from './snapshot';
import {
  ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, HW_BREAKPOINT_EMPTY, HW_BREAKPOINT_INVALID, HW_BREAKPOINT_R,
  HW_BREAKPOINT_RW, HW_BREAKPOINT_W, HW_BREAKPOINT_X,
  type AccessKind, type ArchName, type BreakpointAttr, type BreakpointAttrChanges, type BreakpointType,
  type CpuSnapshot, type EventCounts, type EventState, type EventTarget, type HitHandler, type HitInfo, type HitMatch, type KernelSnapshot,
} from './types';

export interface KernelOptions {
  arch?: ArchName;
  cpus: number;
  /**
   * Flexible breakpoints rotate every muxInterval units of simulated time when overcommitted. The
   * kernel's default is one scheduler tick; ours is 1 unit of whatever clock the caller drives.
   */
  muxInterval?: number;
  /** arm64 only: number of breakpoint (instruction) and watchpoint (data) register pairs, 1–16. */
  instSlots?: number;
  dataSlots?: number;
  /** Swap in another constraint accounting algorithm (for studies and benchmarks). */
  accounting?: AccountingFactory;
  /**
   * Records kept by the register timeline (recorder.ts): who held each register when, hits and
   * missed accesses. 0 turns recording off. Default DEFAULT_TIMELINE_CAPACITY (2^20, 29 MiB when full).
   */
  timelineCapacity?: number;
}

/** Options of a breakpoint that are not part of the perf attribute. */
export interface OpenOptions {
  /** Called for every hit, after the hit is counted. */
  onHit?: HitHandler;
  /** Who holds it, as shown in snapshots and ENOSPC explanations ("perf", "watch counter", …). */
  owner?: string;
}

export interface Task {
  readonly pid: number;
  readonly name: string;
}

export const MAX_CPUS = 65536;

/** A handle on one open breakpoint event (what perf_event_open's file descriptor stands for). */
export class PerfEvent {
  /** @internal */
  constructor(private readonly kernel: Kernel, /** @internal */ readonly bp: Breakpoint) {}

  get id(): number {
    return this.bp.id;
  }

  enable(): void {
    this.kernel.setDisabled(this.bp, false);
  }

  disable(): void {
    this.kernel.setDisabled(this.bp, true);
  }

  modify(changes: BreakpointAttrChanges): void {
    this.kernel.modifyBreakpoint(this.bp, changes);
  }

  read(): EventCounts {
    if (this.bp.closed) fail('EBADF', `event ${this.bp.id} is closed`);
    return this.kernel.readCounts(this.bp);
  }

  close(): void {
    this.kernel.closeBreakpoint(this.bp);
  }
}

/** One CPU-bound breakpoint on every CPU, registered and released as a whole. */
export class WideBreakpoint {
  /** @internal */
  constructor(private readonly kernel: Kernel, readonly id: number, readonly events: readonly PerfEvent[]) {}

  close(): void {
    for (const ev of this.events) {
      if (!ev.bp.closed) this.kernel.closeBreakpoint(ev.bp);
    }
  }
}

const TYPE_BY_NAME: Record<BreakpointType, number> = { r: HW_BREAKPOINT_R, w: HW_BREAKPOINT_W, rw: HW_BREAKPOINT_RW, x: HW_BREAKPOINT_X };
const NAME_BY_TYPE: Record<number, BreakpointType> = { 1: 'r', 2: 'w', 3: 'rw', 4: 'x' };
const U64_END = 1n << 64n;
const NO_OPTIONS: OpenOptions = Object.freeze({});
const DEFAULT_OPTIONS = Object.freeze({ onHit: null, owner: 'perf' });

export function typeName(type: number): BreakpointType {
  return NAME_BY_TYPE[type] ?? 'rw';
}

export class Kernel {
  readonly arch: ArchName;
  readonly profile: ArchProfile;
  /** @internal */ readonly scheduler: Scheduler;
  /** @internal */ readonly accounting: ConstraintAccounting[];
  /** @internal */ readonly tasks = new Map<number, TaskRecord>();
  /** @internal */ readonly breakpoints = new Map<number, Breakpoint>();
  private readonly ptrace: PtraceFrontDoor;
  private nextPid = 1;
  private nextEventId = 1;
  private nextWideId = 1;
  /** Lookup counter for missed accesses (see CpuState.coldStamp). */
  private missStamp = 0;
  /** registersAtCheckpoint()'s result, built at most once per checkpoint. */
  private checkpointView: { epoch: number; cpus: CpuSnapshot[] } | null = null;

  constructor(options: KernelOptions) {
    if (options === null || typeof options !== 'object') fail('EINVAL', 'createKernel needs an options object with cpus');
    const arch = options.arch ?? 'x86_64';
    if (arch !== 'x86_64' && arch !== 'arm64') fail('EINVAL', `arch ${String(arch)}: use x86_64 or arm64`);
    if (!Number.isInteger(options.cpus) || options.cpus < 1 || options.cpus > MAX_CPUS) {
      fail('EINVAL', `cpus ${String(options.cpus)}: need an integer from 1 to ${MAX_CPUS}`);
    }
    const mux = options.muxInterval ?? 1;
    checkMux(mux);
    if (options.accounting !== undefined && typeof options.accounting !== 'function') {
      fail('EINVAL', 'accounting must be a function (slots, cpus) => ConstraintAccounting');
    }
    if (arch === 'x86_64' && (options.instSlots !== undefined || options.dataSlots !== undefined)) {
      fail('EINVAL', 'instSlots/dataSlots: x86_64 always has the four registers DR0–DR3');
    }
    this.arch = arch;
    this.profile = arch === 'x86_64' ? x86Profile : arm64Profile(options.instSlots, options.dataSlots);
    const factory = options.accounting ?? histogramAccounting;
    this.accounting = this.profile.classes.map((c) => factory(c.slots, options.cpus));
    this.scheduler = new Scheduler(this.profile, options.cpus, mux);
    const capacity = options.timelineCapacity ?? DEFAULT_TIMELINE_CAPACITY;
    const badCapacity = checkTimelineCapacity(capacity);
    if (badCapacity !== null) fail('EINVAL', badCapacity);
    if (capacity > 0) this.scheduler.timeline = new TimelineRing(capacity);
    this.ptrace = new PtraceFrontDoor(this);
  }

  get cpuCount(): number {
    return this.scheduler.cpus.length;
  }

  get muxInterval(): number {
    return this.scheduler.muxInterval;
  }

  // ------------------------------------------------------------------------------------------
  // Tasks and CPUs

  createTask(name?: string): Task {
    this.settleAll();
    if (name !== undefined && typeof name !== 'string') fail('EINVAL', 'task name must be a string');
    const pid = this.nextPid++;
    const record: TaskRecord = {
      pid, name: name ?? `task${pid}`, alive: true, runningOn: -1, breakpoints: new Set(),
      ptraceSlots: [null, null, null, null], ptraceDr7: 0, virtualDr6: 0, muxPhase: 0,
    };
    this.tasks.set(pid, record);
    return Object.freeze({ pid, name: record.name });
  }

  /** The task ends: it leaves its CPU and every breakpoint it holds is released. */
  exitTask(task: Task | number): void {
    this.settleAll();
    const t = this.taskOf(task);
    if (t.runningOn >= 0) this.scheduler.switchTo(this.scheduler.cpus[t.runningOn], null);
    for (const bp of [...t.breakpoints]) this.closeBreakpoint(bp);
    t.ptraceSlots.fill(null);
    t.ptraceDr7 = 0;
    t.virtualDr6 = 0;
    t.alive = false;
    this.tasks.delete(t.pid);
  }

  /** Run `task` on `cpu` (null: the CPU idles). A task runs on one CPU at a time. */
  contextSwitch(cpu: number, task: Task | number | null): void {
    // Only this CPU changes (the task left its last CPU by a switch there, which paid that CPU).
    if (Number.isInteger(cpu) && this.scheduler.cpus[cpu] !== undefined) this.settleCpu(this.scheduler.cpus[cpu]);
    const c = this.cpuOf(cpu);
    const t = task === null ? null : this.taskOf(task);
    if (t !== null && t.runningOn >= 0 && t.runningOn !== cpu) {
      fail('EINVAL', `task ${t.pid} (${t.name}) is running on cpu${t.runningOn}; switch it out there before running it on cpu${cpu}`);
    }
    this.scheduler.switchTo(c, t);
  }

  /** Advance every CPU's clock by one unit, as tick(cpu, 1) on each in turn would (the simulator's cycle). */
  tickAll(): void {
    this.tickAllBy(1);
    this.settleAll();
  }

  /**
   * Every CPU's clock moves on by `n` units, as n calls of tickAll() would move it, but lazily: the
   * time is owed to each CPU and paid when anything looks at or changes the kernel (every call but
   * access() settles first), so a long stretch with flexible breakpoints rotating costs one
   * jump per CPU (the closed form of tick()) instead of a rotation at a time. access() on a CPU
   * that is owed time settles that CPU only if the access could meet a breakpoint eligible there,
   * installed or waiting: one that meets none has no effect whatever the rotations would have
   * installed. What comes out is what ticking unit by unit gives (clocks, registers, counts, hits,
   * missed accesses, timeline intervals), except the order in which the timeline's intervals of
   * different CPUs were recorded.
   */
  tickAllBy(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) fail('EINVAL', `tickAllBy ${String(n)}: need a whole number of time units >= 0`);
    if (n === 0) return;
    if (this.clockCeiling + this.ticksIssued + n > Number.MAX_SAFE_INTEGER) {
      fail('EINVAL', `tick by ${n}: a CPU's clock would pass 2^53 time units`);
    }
    this.ticksIssued += n;
  }

  /** Units tickAllBy() has owed every CPU in all (CpuState.ticksApplied: how many of them each has had), and how many all have had. */
  private ticksIssued = 0;
  private ticksSettled = 0;
  /** At least the largest clock − ticksApplied of any CPU: with ticksIssued, a bound on every clock. */
  private clockCeiling = 0;

  /** Pay every CPU the time it is owed. */
  private settleAll(): void {
    if (this.ticksSettled === this.ticksIssued) return;
    const cpus = this.scheduler.cpus;
    for (let i = 0; i < cpus.length; i++) if (cpus[i].ticksApplied !== this.ticksIssued) this.settleCpu(cpus[i]);
    this.ticksSettled = this.ticksIssued;
  }

  /**
   * Pay one CPU the time it is owed (its rotations in one jump). Time owed from before the latest
   * checkpoint is paid as of then: nothing is saved for the checkpoint while paying it, so the first
   * change after it saves this CPU as it was at the checkpoint (checkpoint.ts).
   */
  private settleCpu(c: CpuState): void {
    const owed = this.ticksIssued - c.ticksApplied;
    if (owed === 0) return;
    const early = Math.min(owed, this.checkpointTicks - c.ticksApplied);
    if (early > 0) {
      // Nothing changed on this CPU since the checkpoint (every change settles it first), so its
      // saved image belongs to an earlier epoch: passing that epoch keeps noteChange() from copying.
      const scheduler = this.scheduler;
      const epoch = scheduler.checkpointEpoch;
      scheduler.checkpointEpoch = c.saved.epoch;
      this.pay(c, early);
      scheduler.checkpointEpoch = epoch;
    }
    c.ticksApplied = this.ticksIssued;
    this.pay(c, early > 0 ? owed - early : owed);
  }

  private pay(c: CpuState, n: number): void {
    if (n <= 0) return;
    const epoch = this.scheduler.checkpointEpoch;
    if (c.saved.clockEpoch !== epoch) c.saved.saveClock(c, epoch);
    if (c.clock + n < c.rotateAt) c.clock += n;
    else this.scheduler.tick(c, n);
  }

  /** ticksIssued at the latest checkpointRegisters(). */
  private checkpointTicks = 0;

  /**
   * Bumped whenever a breakpoint is opened, closed or changed: an answer of watches() stays true
   * while this stays the same.
   */
  watchGeneration = 0;

  /**
   * Whether any open breakpoint, of any task or CPU, installed, waiting, disabled or not, covers a
   * byte of [lo, hi). An access there can then never match, nor be recorded, until
   * watchGeneration moves. In time linear in the open breakpoints: for answers to cache, not for
   * every access.
   */
  watches(lo: number, hi: number): boolean {
    if (this.watchBoundsStale) {
      this.watchBoundsStale = false;
      this.watchLo = Infinity;
      this.watchHi = -Infinity;
      for (const bp of this.breakpoints.values()) this.widenWatchBounds(bp);
    }
    // Usually the answer is no at once: the stacks lie far above the globals breakpoints watch.
    if (hi <= this.watchLo || lo >= this.watchHi) return false;
    for (const bp of this.breakpoints.values()) if (bp.hw.lo < hi && bp.hw.hi > lo) return true;
    return false;
  }

  /** A span every open breakpoint lies in (made tight again when one on its edge closes or one moves). */
  private watchLo = Infinity;
  private watchHi = -Infinity;
  private watchBoundsStale = false;

  private widenWatchBounds(bp: Breakpoint): void {
    if (bp.hw.lo < this.watchLo) this.watchLo = bp.hw.lo;
    if (bp.hw.hi > this.watchHi) this.watchHi = bp.hw.hi;
  }

  /** Advance `cpu`'s simulated clock by `elapsed` units (flexible breakpoints rotate as it passes). */
  tick(cpu: number, elapsed: number): void {
    this.settleAll();
    const c = this.cpuOf(cpu);
    if (!Number.isSafeInteger(elapsed) || elapsed < 0) {
      fail('EINVAL', `tick elapsed ${String(elapsed)}: need a whole number of time units >= 0`);
    }
    // Times are whole numbers kept exact; past 2^53 a double could no longer count single units.
    if (c.clock + elapsed > Number.MAX_SAFE_INTEGER) {
      fail('EINVAL', `tick elapsed ${elapsed}: cpu${cpu}'s clock (${c.clock}) would pass 2^53 time units`);
    }
    const epoch = this.scheduler.checkpointEpoch;
    if (c.saved.clockEpoch !== epoch) c.saved.saveClock(c, epoch);
    this.scheduler.tick(c, elapsed);
    if (c.clock - c.ticksApplied > this.clockCeiling) this.clockCeiling = c.clock - c.ticksApplied;
  }

  runningTask(cpu: number): Task | null {
    this.settleAll();
    const t = this.cpuOf(cpu).running;
    return t === null ? null : { pid: t.pid, name: t.name };
  }

  clock(cpu: number): number {
    this.settleAll();
    return this.cpuOf(cpu).clock;
  }

  /**
   * Change the mux interval. Every context's rotation phase is reset: each one (task, or a CPU with
   * no task) next rotates after a whole new interval of its overcommitted time.
   */
  setMuxInterval(interval: number): void {
    this.settleAll();
    checkMux(interval);
    this.scheduler.setMuxInterval(interval, this.tasks.values());
  }

  // ------------------------------------------------------------------------------------------
  // perf front door

  /** perf_event_open(): pid -1 = no task (CPU-bound), cpu -1 = every CPU; both -1 is EINVAL. */
  perfEventOpen(attr: BreakpointAttr, target: EventTarget, options: OpenOptions = NO_OPTIONS): PerfEvent {
    this.settleAll();
    const { pid, cpu } = this.checkTarget(target);
    const task = pid === -1 ? null : this.taskOf(pid);
    const bp = this.openBreakpoint(attr, task, cpu, this.checkOptions(options), null, null);
    return this.handleOf(bp);
  }

  /** One CPU-bound breakpoint on every CPU, all or nothing, reserved atomically. */
  registerWideBreakpoint(attr: BreakpointAttr, options: OpenOptions = NO_OPTIONS): WideBreakpoint {
    this.settleAll();
    const opts = this.checkOptions(options);
    const req = this.normalizeAttr(attr);
    const cls = this.profile.classOf(req.type);
    // The kernel registers CPU by CPU, reserving then parsing each, so the first CPU's reservation
    // is checked before the (CPU-independent) parse. We check in that order but reserve nothing
    // until every CPU has passed: a wide request that cannot complete never holds a slot, not even
    // for a moment, so it can never be the reason another request is refused.
    const requests: SlotRequest[] = [];
    let hw: HwInfo | null = null;
    for (let c = 0; c < this.cpuCount; c++) {
      const request: SlotRequest = { pid: -1, cpu: c, pinned: req.pinned, weight: 1 };
      if (!this.accounting[cls].admits(request)) this.throwNoSpace(cls, request, 'wide ');
      hw ??= this.parse(req.type, req.addr, req.len, req.excludeKernel);
      requests.push(request);
    }
    const wideId = this.nextWideId++;
    const parsed = hw!;
    const events = requests.map((request) => this.handleOf(this.commitBreakpoint(parsed, cls, request, req.disabled, req.excludeKernel, null, opts, null, wideId)));
    return new WideBreakpoint(this, wideId, events);
  }

  /**
   * Would closing the events `close` and then opening `open`, in that order, all succeed? Answers
   * with the error the first refused open would raise (its ENOSPC explanation counts the planned
   * changes: closed events no longer hold anything, planned opens already do), or null if every
   * step fits. Changes nothing: the accounting is restored before returning, and no register, time
   * or counter is touched. The kernel has no such call; a debugger uses it to make a change of
   * several events all or nothing without moving a single register when the change cannot be made.
   */
  checkPlan(close: readonly number[], open: readonly PlannedOpen[]): HwbpError | null {
    this.settleAll();
    if (!Array.isArray(close) || !Array.isArray(open)) fail('EINVAL', 'checkPlan needs a list of event ids to close and a list of opens');
    const hidden = new Set<Breakpoint>();
    for (const id of close) {
      const bp = this.breakpoints.get(id);
      if (bp === undefined) fail('EBADF', `checkPlan: event ${String(id)} is not open`);
      hidden.add(bp);
    }
    const pending: Holder[] = [];
    const added: { cls: number; request: SlotRequest }[] = [];
    for (const bp of hidden) this.accounting[bp.cls].remove(bp.request);
    try {
      for (const step of open) {
        if (step === null || typeof step !== 'object') fail('EINVAL', 'checkPlan: each open is { attr, target, owner? }');
        const { pid, cpu } = this.checkTarget(step.target);
        if (pid >= 0) this.taskOf(pid);
        const req = this.normalizeAttr(step.attr);
        const cls = this.profile.classOf(req.type);
        const request: SlotRequest = { pid, cpu, pinned: req.pinned, weight: 1 };
        if (!this.accounting[cls].admits(request)) this.throwNoSpace(cls, request, '', { hidden, pending });
        this.parse(req.type, req.addr, req.len, req.excludeKernel);
        this.accounting[cls].add(request);
        added.push({ cls, request });
        pending.push({ id: null, owner: step.owner ?? 'perf', pinned: req.pinned, pid: pid >= 0 ? pid : null, cpu, cls });
      }
      return null;
    } catch (e) {
      if (e instanceof HwbpError) return e;
      throw e;
    } finally {
      for (const { cls, request } of added) this.accounting[cls].remove(request);
      for (const bp of hidden) this.accounting[bp.cls].add(bp.request);
    }
  }

  /** True while any reservation is counted (every counter of every class is inspected). */
  isUsed(): boolean {
    this.settleAll();
    return this.accounting.some((a) => a.isUsed());
  }

  /** Counts and times of any open breakpoint, perf or ptrace (undefined if it is not open). */
  counts(id: number): EventCounts | undefined {
    this.settleAll();
    const bp = this.breakpoints.get(id);
    return bp === undefined ? undefined : this.readCounts(bp);
  }

  /** The breakpoint behind a task's virtual ptrace DRn (0–3), or null. */
  ptraceEventId(task: Task | number, n: number): number | null {
    const t = this.taskOf(task);
    if (!Number.isInteger(n) || n < 0 || n > 3) fail('EINVAL', `ptrace slot ${String(n)}: use 0 to 3`);
    return t.ptraceSlots[n]?.id ?? null;
  }

  /** The perf handle of an open perf breakpoint (ptrace breakpoints are driven through peek/pokeUser only). */
  event(id: number): PerfEvent | undefined {
    const bp = this.breakpoints.get(id);
    return bp === undefined || bp.ptraceIndex !== null ? undefined : this.handleOf(bp);
  }

  // ------------------------------------------------------------------------------------------
  // ptrace front door (x86 only)

  /** PTRACE_PEEKUSER at a struct user offset; only u_debugreg[] is simulated. */
  peekUser(task: Task | number, offset: number): number {
    this.settleAll();
    return this.ptrace.peek(this.taskOf(task), offset);
  }

  /** PTRACE_POKEUSER at a struct user offset; only u_debugreg[] is simulated. */
  pokeUser(task: Task | number, offset: number, value: number | bigint): void {
    this.settleAll();
    this.ptrace.poke(this.taskOf(task), offset, value);
  }

  // ------------------------------------------------------------------------------------------
  // The hot path

  /**
   * A memory access by whatever runs on `cpu`. Matched only against the registers installed on
   * that CPU right now. Returns null (allocating nothing) when nothing matched; on a hit, counts it
   * on every matching breakpoint, calls their handlers and returns the debug exception's details.
   */
  access(cpu: number, addr: number, size: number, kind: AccessKind): HitInfo | null {
    // Kept small so that callers can inline it; every refusal is built in badAccess(), off the hot path.
    const bit = kind === 'write' ? ACCESS_WRITE : kind === 'read' ? ACCESS_READ : kind === 'exec' ? ACCESS_EXEC : 0;
    const c = this.scheduler.cpus[cpu];
    if (bit === 0 || c === undefined || typeof cpu !== 'number' || typeof addr !== 'number' || !(addr >= 0) || !(size >= 1 && size <= 4096)) {
      return this.badAccess(cpu, addr, size, kind);
    }
    const end = bit === ACCESS_EXEC ? addr + 1 : addr + size; // execute matches the instruction's first byte
    if (c.ticksApplied !== this.ticksIssued) {
      // Time is owed to this CPU. With a rotation among it, an access that meets nothing eligible here
      // is nothing, whatever the rotations would install: the time stays owed. Otherwise pay it now.
      if (c.clock + (this.ticksIssued - c.ticksApplied) >= c.rotateAt) {
        // Most such accesses touch no granule anything eligible marks: said here without a call.
        if (end - addr <= COLD_GRANULE && c.coldWideCount === 0 && c.hotWide === 0) {
          const first = coldBucket(addr);
          const last = coldBucket(end - 1);
          if (c.coldHead[first] < 0 && c.coldHead[last] < 0 && (c.hotFilter[first] | c.hotFilter[last]) === 0) return null;
        }
        if (!this.mayMeet(c, addr, end, bit)) return null;
      }
      this.settleCpu(c);
    }
    // A flexible breakpoint waiting for a register (only while recording the timeline) misses it.
    if (this.scheduler.timeline !== null && addr < c.coldMaxHi && end > c.coldMinLo
      && (end - addr > COLD_GRANULE || c.coldWideCount !== 0 || c.coldHead[coldBucket(addr)] >= 0 || c.coldHead[coldBucket(end - 1)] >= 0)) {
      this.noteMisses(c, addr, end, bit);
    }
    if (addr >= c.hotMaxHi || end <= c.hotMinLo) return null;
    // An access of at most 8 bytes touches at most two granules: if no installed range marks either, nothing matches.
    if (c.hotWide === 0 && end - addr <= COLD_GRANULE && (c.hotFilter[coldBucket(addr)] | c.hotFilter[coldBucket(end - 1)]) === 0) return null;
    const n = c.hotCount;
    let hits = 0;
    for (let i = 0; i < n; i++) {
      if ((c.hotMask[i] & bit) !== 0 && addr < c.hotHi[i] && end > c.hotLo[i]) hits |= 1 << i;
    }
    if (hits === 0) return null;
    return this.raise(c, addr, size, kind, hits);
  }

  /**
   * Whether an instruction fetch on `cpu` can match anything (an execute breakpoint installed, or
   * one waiting whose misses are recorded): when not, access(…, 'exec') would return null and
   * record nothing, and a simulator may skip it. O(1).
   */
  execWatched(cpu: number): boolean {
    const c = this.scheduler.cpus[cpu];
    if (c === undefined) return false;
    this.settleCpu(c);
    return c.hotExec + c.coldExec > 0;
  }

  /**
   * execWatched() of some CPU. O(1). Needs no settling: every CPU lists its waiting flexible
   * breakpoints too (its cold list), so what rotations would install is counted already.
   */
  get execWatchedAnywhere(): boolean {
    return this.scheduler.execWatched > 0;
  }

  /**
   * Could an access of [addr, end) of this kind meet a breakpoint eligible on `c`: one installed now,
   * or a flexible one (c's cold list holds every eligible flexible one, installed or not)? Exact, and
   * allocation-free.
   */
  private mayMeet(c: CpuState, addr: number, end: number, bit: number): boolean {
    // The installed ones, behind the same granule filter as the hot path.
    if (addr < c.hotMaxHi && end > c.hotMinLo
      && (c.hotWide !== 0 || end - addr > COLD_GRANULE || (c.hotFilter[coldBucket(addr)] | c.hotFilter[coldBucket(end - 1)]) !== 0)) {
      for (let i = 0; i < c.hotCount; i++) {
        if ((c.hotMask[i] & bit) !== 0 && addr < c.hotHi[i] && end > c.hotLo[i]) return true;
      }
    }
    if (addr >= c.coldMaxHi || end <= c.coldMinLo) return false;
    if (end - addr > COLD_WIDE) {
      for (let i = 0; i < c.coldCount; i++) if (coldMeets(c, i, addr, end, bit)) return true;
      return false;
    }
    for (let i = 0; i < c.coldWideCount; i++) if (coldMeets(c, c.coldWide[i], addr, end, bit)) return true;
    for (let x = addr; ; x += COLD_GRANULE) {
      const last = x >= end - 1;
      for (let node = c.coldHead[coldBucket(last ? end - 1 : x)]; node >= 0; node = c.coldNodeNext[node]) {
        if (coldMeets(c, c.coldNodeRange[node], addr, end, bit)) return true;
      }
      if (last) return false;
    }
  }

  /** Record the accesses missed by flexible breakpoints eligible on `c` but scheduled out. */
  private noteMisses(c: CpuState, addr: number, end: number, bit: number): void {
    // Stamps live in an Int32Array: wrap as it does, skipping 0 (a fresh range's stamp).
    let stamp = (this.missStamp + 1) | 0;
    if (stamp === 0) stamp = 1;
    this.missStamp = stamp;
    if (end - addr > COLD_WIDE) {
      // A long access (rare): compare every range.
      for (let i = 0; i < c.coldCount; i++) this.noteMiss(c, i, addr, end, bit, stamp);
      return;
    }
    for (let i = 0; i < c.coldWideCount; i++) this.noteMiss(c, c.coldWide[i], addr, end, bit, stamp);
    // Every granule the access touches: its first byte, every granule on, its last byte.
    let previous = -1;
    for (let x = addr; ; x += COLD_GRANULE) {
      const last = x >= end - 1;
      const bucket = coldBucket(last ? end - 1 : x);
      if (bucket !== previous) {
        for (let node = c.coldHead[bucket]; node >= 0; node = c.coldNodeNext[node]) this.noteMiss(c, c.coldNodeRange[node], addr, end, bit, stamp);
      }
      previous = bucket;
      if (last) break;
    }
  }

  private noteMiss(c: CpuState, i: number, addr: number, end: number, bit: number, stamp: number): void {
    if ((c.coldMask[i] & bit) === 0 || addr >= c.coldHi[i] || end <= c.coldLo[i] || c.coldStamp[i] === stamp) return;
    c.coldStamp[i] = stamp;
    const bp = c.coldBreakpoint[i]!;
    // Installed here, it caught the access: not a miss.
    if (bp.register >= 0) return;
    this.scheduler.noteEvent(bp);
    this.scheduler.timeline!.push(KIND_MISS, c.index, c.coldClass[i], -1, bp.id, c.clock, addr);
  }

  /** Why an access() call was refused (always throws). */
  private badAccess(cpu: unknown, addr: unknown, size: unknown, kind: unknown): never {
    if (kind !== 'read' && kind !== 'write' && kind !== 'exec') fail('EINVAL', `access kind ${String(kind)}: use read, write or exec`);
    if (typeof cpu !== 'number' || this.scheduler.cpus[cpu] === undefined) fail('EINVAL', `access on cpu ${String(cpu)}: this machine has cpu0–cpu${this.cpuCount - 1}`);
    if (typeof addr !== 'number' || !(addr >= 0)) fail('EINVAL', `access addr ${String(addr)}: need an address as a number`);
    return fail('EINVAL', `access size ${String(size)}: need 1 to 4096 bytes`);
  }

  /** The debug exception: report, count and dispatch. Only reached on a hit. */
  private raise(c: CpuState, addr: number, size: number, kind: AccessKind, hits: number): HitInfo {
    const matches: HitMatch[] = [];
    const hitBreakpoints: Breakpoint[] = [];
    let statusBits = 0;
    for (let i = 0; i < c.hotCount; i++) {
      if ((hits & (1 << i)) === 0) continue;
      const bp = c.hotBreakpoint[i]!;
      const reg = c.hotRegister[i];
      // Each class reports in its own 16-bit lane (x86 has only class 0: DR6's B0–B3).
      statusBits |= 1 << (reg + 16 * c.hotClass[i]);
      hitBreakpoints.push(bp);
      matches.push({
        register: reg,
        registerName: this.profile.classes[c.hotClass[i]].registerNames[reg],
        eventId: bp.id,
        ptraceIndex: bp.ptraceIndex,
      });
    }
    const ring = this.scheduler.timeline;
    if (ring !== null) {
      for (let i = 0; i < c.hotCount; i++) {
        if ((hits & (1 << i)) !== 0) ring.push(KIND_HIT, c.index, c.hotClass[i], c.hotRegister[i], c.hotBreakpoint[i]!.id, c.clock, addr);
      }
    }
    const epoch = this.scheduler.checkpointEpoch;
    if (c.saved.statusEpoch !== epoch) c.saved.saveStatus(c, epoch);
    c.status = this.profile.status(statusBits);
    const hit: HitInfo = {
      cpu: c.index, pid: c.running?.pid ?? null, addr, size, kind, status: c.status, matches, time: c.clock,
    };
    for (const bp of hitBreakpoints) {
      bp.count++;
      if (bp.ptraceIndex !== null && bp.task !== null) bp.task.virtualDr6 |= 1 << bp.ptraceIndex;
    }
    for (const bp of hitBreakpoints) {
      if (bp.onHit !== null && !bp.closed) bp.onHit(hit);
    }
    return hit;
  }

  // ------------------------------------------------------------------------------------------
  // Register timeline

  /** True while the timeline records (timelineCapacity > 0). */
  get recording(): boolean {
    return this.scheduler.timeline !== null;
  }

  /**
   * Sequence number of the next timeline record (0 when not recording): pass it to timeline() to get
   * only what is newer, or to setTimelineLine() to name the statement behind the marks made since.
   */
  get timelineSeq(): number {
    return this.scheduler.timeline?.nextSeq ?? 0;
  }

  /** Set the source line of every hit and miss recorded from sequence number `from` on (the accessing statement). */
  setTimelineLine(from: number, line: number): void {
    this.scheduler.timeline?.fillLines(from, line);
  }

  /**
   * The register timeline: closed intervals and marks recorded from sequence number `since` on (or
   * from the oldest kept), every interval still open, and the breakpoints they name. Columnar.
   */
  timeline(since = 0): KernelTimeline {
    this.settleAll();
    if (!Number.isSafeInteger(since) || since < 0) fail('EINVAL', `timeline since ${String(since)}: need a sequence number >= 0`);
    return buildTimeline(this, since);
  }

  // ------------------------------------------------------------------------------------------
  // Snapshot

  snapshot(): KernelSnapshot {
    this.settleAll();
    return buildSnapshot(this);
  }

  /**
   * Mark this moment: registersAtCheckpoint() will show every CPU as it is now. O(1): the state is
   * copied only later, CPU by CPU, before it first changes (src/hwbp/checkpoint.ts).
   */
  checkpointRegisters(): void {
    // O(1) even with time owed: each CPU pays what it owed from before this moment as of then (settleCpu).
    this.checkpointTicks = this.ticksIssued;
    this.scheduler.checkpointEpoch++;
  }

  /**
   * The CPUs (as snapshot().cpus shows them) at the latest checkpointRegisters(), or null if none
   * was taken. Built once per checkpoint; later calls return the same objects.
   */
  registersAtCheckpoint(): CpuSnapshot[] | null {
    this.settleAll();
    const epoch = this.scheduler.checkpointEpoch;
    if (epoch === 0) return null;
    if (this.checkpointView?.epoch !== epoch) this.checkpointView = { epoch, cpus: buildCheckpointCpus(this) };
    return this.checkpointView.cpus;
  }

  // ------------------------------------------------------------------------------------------
  // Internal operations shared by the front doors. Not part of the public API.

  /** @internal */
  openBreakpoint(
    attr: BreakpointAttr, task: TaskRecord | null, cpu: number, options: { onHit: HitHandler | null; owner: string },
    ptraceIndex: number | null, wideId: number | null,
  ): Breakpoint {
    this.settleAll();
    const req = this.normalizeAttr(attr);
    const cls = this.profile.classOf(req.type);
    const request: SlotRequest = { pid: task?.pid ?? -1, cpu, pinned: req.pinned, weight: 1 };
    // Reservation is decided before the request is parsed, as in register_perf_hw_breakpoint().
    if (!this.accounting[cls].admits(request)) this.throwNoSpace(cls, request, '');
    const hw = this.parse(req.type, req.addr, req.len, req.excludeKernel);
    return this.commitBreakpoint(hw, cls, request, req.disabled, req.excludeKernel, task, options, ptraceIndex, wideId);
  }

  private commitBreakpoint(
    hw: HwInfo, cls: number, request: SlotRequest, disabled: boolean, excludeKernel: boolean, task: TaskRecord | null,
    options: { onHit: HitHandler | null; owner: string }, ptraceIndex: number | null, wideId: number | null,
  ): Breakpoint {
    const { pinned, cpu } = request;
    this.accounting[cls].add(request);
    const bp: Breakpoint = {
      id: this.nextEventId++, owner: options.owner, hw, cls, pinned, disabled, excludeKernel, task, cpu, request,
      onHit: options.onHit, ptraceIndex, wideId, closed: false, count: 0, timeEnabled: 0, timeRunning: 0,
      eligibleOn: -1, enabledSince: 0, runningSince: 0, occupiedSince: 0, register: -1, rotationKey: 0, mark: 0, notedHw: null, notedPrune: -1, handle: null,
    };
    if (!pinned) this.scheduler.enqueue(bp);
    this.breakpoints.set(bp.id, bp);
    this.watchGeneration++;
    this.widenWatchBounds(bp);
    if (task !== null) task.breakpoints.add(bp);
    else this.scheduler.cpus[cpu].bound.add(bp);
    this.rescheduleFor(bp);
    return bp;
  }

  /** @internal */
  closeBreakpoint(bp: Breakpoint): void {
    this.settleAll();
    if (bp.closed) fail('EBADF', `event ${bp.id} is already closed`);
    this.scheduler.evict(bp);
    this.accounting[bp.cls].remove(bp.request);
    bp.closed = true;
    this.breakpoints.delete(bp.id);
    this.watchGeneration++;
    // Bounds wider than needed are still right; they shrink only when a breakpoint on their edge goes.
    if (bp.hw.lo <= this.watchLo || bp.hw.hi >= this.watchHi) this.watchBoundsStale = true;
    if (bp.task !== null) {
      bp.task.breakpoints.delete(bp);
      if (bp.ptraceIndex !== null && bp.task.ptraceSlots[bp.ptraceIndex] === bp) bp.task.ptraceSlots[bp.ptraceIndex] = null;
    } else {
      this.scheduler.cpus[bp.cpu].bound.delete(bp);
    }
    // The freed register may let a waiting flexible breakpoint in.
    this.rescheduleFor(bp);
  }

  /** @internal */
  setDisabled(bp: Breakpoint, disabled: boolean): void {
    this.settleAll();
    if (bp.closed) fail('EBADF', `event ${bp.id} is closed`);
    if (bp.disabled === disabled) return;
    this.scheduler.evict(bp);
    bp.disabled = disabled;
    this.rescheduleFor(bp);
  }

  /**
   * modify_user_hw_breakpoint(): parse first; re-reserve only when the slot class changes, and on
   * failure take the old reservation back so that nothing is lost.
   * @internal
   */
  modifyBreakpoint(bp: Breakpoint, changes: BreakpointAttrChanges): void {
    this.settleAll();
    if (bp.closed) fail('EBADF', `event ${bp.id} is closed`);
    if (changes === null || typeof changes !== 'object') fail('EINVAL', 'modify needs an object of changes');
    for (const key of Object.keys(changes)) {
      if (key !== 'type' && key !== 'addr' && key !== 'len' && key !== 'disabled' && key !== 'pinned') {
        fail('EINVAL', `modify: field ${key} cannot be changed (only type, addr, len and disabled)`);
      }
    }
    if (changes.pinned !== undefined && changes.pinned !== bp.pinned) {
      fail('EINVAL', `modify: pinned cannot be changed on an open breakpoint (event ${bp.id}); open a new one`);
    }
    const req = this.normalizeAttr({
      type: changes.type ?? bp.hw.type,
      addr: changes.addr ?? bp.hw.addr,
      len: changes.len ?? bp.hw.len,
      pinned: bp.pinned,
      disabled: changes.disabled ?? bp.disabled,
      excludeKernel: bp.excludeKernel,
    });
    const hw = this.parse(req.type, req.addr, req.len, req.excludeKernel);
    const cls = this.profile.classOf(req.type);
    if (cls !== bp.cls) {
      const from = this.accounting[bp.cls];
      const to = this.accounting[cls];
      from.remove(bp.request);
      if (!to.admits(bp.request)) {
        from.add(bp.request); // the old reservation was just released, so it always fits again
        this.throwNoSpace(cls, bp.request, '');
      }
      to.add(bp.request);
    }
    this.scheduler.evict(bp);
    bp.hw = hw;
    this.watchGeneration++;
    this.watchBoundsStale = true;
    bp.cls = cls;
    bp.disabled = req.disabled;
    this.rescheduleFor(bp);
  }

  /** @internal */
  readCounts(bp: Breakpoint): EventCounts {
    this.settleAll();
    let enabled = bp.timeEnabled;
    let running = bp.timeRunning;
    if (bp.eligibleOn >= 0) {
      const clock = this.scheduler.cpus[bp.eligibleOn].clock;
      enabled += clock - bp.enabledSince;
      if (bp.register >= 0) running += clock - bp.runningSince;
    }
    return {
      id: bp.id, state: this.stateOf(bp), count: bp.count, timeEnabled: enabled, timeRunning: running,
      // Unknown (null) only if it could have counted but never ran, as perf tools print "<not counted>".
      estimate: running > 0 ? (bp.count * enabled) / running : enabled === 0 ? bp.count : null,
    };
  }

  /** @internal */
  stateOf(bp: Breakpoint): EventState {
    this.settleAll();
    if (bp.closed) return 'closed';
    if (bp.disabled) return 'off';
    if (bp.register >= 0) return 'active';
    if (bp.pinned && bp.eligibleOn >= 0) return 'error';
    return 'inactive';
  }

  /** @internal */
  taskOf(task: Task | number): TaskRecord {
    const pid = typeof task === 'number' ? task : task?.pid;
    const t = typeof pid === 'number' ? this.tasks.get(pid) : undefined;
    if (t === undefined) fail('ESRCH', `no live task with pid ${String(pid)}`);
    return t;
  }

  /** @internal */
  handleOf(bp: Breakpoint): PerfEvent {
    bp.handle ??= new PerfEvent(this, bp);
    return bp.handle as PerfEvent;
  }

  private cpuOf(cpu: number): CpuState {
    const c = Number.isInteger(cpu) ? this.scheduler.cpus[cpu] : undefined;
    if (c === undefined) fail('EINVAL', `cpu ${String(cpu)}: this machine has cpu0–cpu${this.cpuCount - 1}`);
    return c;
  }

  /** Reschedule the CPU where a breakpoint is, or could now be, eligible. */
  private rescheduleFor(bp: Breakpoint): void {
    if (bp.task === null) {
      this.scheduler.reschedule(this.scheduler.cpus[bp.cpu]);
    } else if (bp.task.runningOn >= 0) {
      this.scheduler.reschedule(this.scheduler.cpus[bp.task.runningOn]);
    }
  }

  private checkTarget(target: EventTarget): { pid: number; cpu: number } {
    if (target === null || typeof target !== 'object') fail('EINVAL', 'target must be { pid, cpu }');
    const { pid, cpu } = target;
    if (!Number.isInteger(pid) || pid < -1) fail('EINVAL', `target.pid ${String(pid)}: use a task's pid or -1 for none`);
    if (!Number.isInteger(cpu) || cpu < -1) fail('EINVAL', `target.cpu ${String(cpu)}: use a CPU number or -1 for all`);
    if (pid === -1 && cpu === -1) fail('EINVAL', 'target pid -1 with cpu -1: a breakpoint needs a task, a CPU, or both');
    if (cpu >= this.cpuCount) fail('EINVAL', `target.cpu ${cpu}: this machine has cpu0–cpu${this.cpuCount - 1}`);
    return { pid, cpu };
  }

  private checkOptions(options: OpenOptions): { onHit: HitHandler | null; owner: string } {
    if (options === NO_OPTIONS) return DEFAULT_OPTIONS;
    if (options === null || typeof options !== 'object') fail('EINVAL', 'options must be an object');
    if (options.onHit !== undefined && typeof options.onHit !== 'function') fail('EINVAL', 'options.onHit must be a function');
    if (options.owner !== undefined && typeof options.owner !== 'string') fail('EINVAL', 'options.owner must be a string');
    return { onHit: options.onHit ?? null, owner: options.owner ?? 'perf' };
  }

  /**
   * Checks of the attribute's shape (wrong JS types, negative numbers) and the generic type check
   * of __reserve_bp_slot(); everything the arch decides comes later, in parse().
   */
  private normalizeAttr(attr: BreakpointAttr): {
    type: number; addr: bigint; len: number; pinned: boolean; disabled: boolean; excludeKernel: boolean;
  } {
    if (attr === null || typeof attr !== 'object') fail('EINVAL', 'attr must be an object { type, addr, len }');
    let type: number;
    if (typeof attr.type === 'string') {
      const t = TYPE_BY_NAME[attr.type as BreakpointType];
      if (t === undefined || !Object.prototype.hasOwnProperty.call(TYPE_BY_NAME, attr.type)) {
        fail('EINVAL', `attr.type '${attr.type}': use 'r', 'w', 'rw' or 'x'`);
      }
      type = t;
    } else if (typeof attr.type === 'number' && Number.isInteger(attr.type) && attr.type >= 0 && attr.type <= 7) {
      type = attr.type;
    } else {
      return fail('EINVAL', `attr.type ${String(attr.type)}: use 'r', 'w', 'rw', 'x' or a HW_BREAKPOINT_* mask 0–7`);
    }
    if (type === HW_BREAKPOINT_EMPTY || type === HW_BREAKPOINT_INVALID) {
      fail('EINVAL', `attr.type ${type}: ${type === 0 ? 'an empty type' : 'read, write and execute at once'} is never valid`);
    }
    let addr: bigint;
    if (typeof attr.addr === 'bigint') addr = attr.addr;
    else if (typeof attr.addr === 'number' && Number.isSafeInteger(attr.addr)) addr = BigInt(attr.addr);
    else return fail('EINVAL', `attr.addr ${String(attr.addr)}: need an integer address (a bigint beyond 2^53)`);
    if (addr < 0n) fail('EINVAL', `attr.addr ${String(attr.addr)} is negative`);
    if (addr >= U64_END) fail('EINVAL', `attr.addr ${hex(addr)} does not fit in 64 bits`);
    if (typeof attr.len !== 'number' || !Number.isInteger(attr.len) || attr.len < 0) {
      fail('EINVAL', `attr.len ${String(attr.len)}: need a whole number of bytes`);
    }
    for (const flag of ['pinned', 'disabled', 'excludeKernel'] as const) {
      if (attr[flag] !== undefined && typeof attr[flag] !== 'boolean') fail('EINVAL', `attr.${flag} must be true or false`);
    }
    return {
      type, addr, len: attr.len, pinned: attr.pinned ?? true, disabled: attr.disabled ?? false,
      excludeKernel: attr.excludeKernel ?? false,
    };
  }

  /** hw_breakpoint_parse(): wrap-around, then the arch's checks, then the kernel-space check. */
  private parse(type: number, addr: bigint, len: number, excludeKernel: boolean): HwInfo {
    if (len > 0 && addr + BigInt(len) - 1n >= U64_END) {
      fail('EINVAL', `attr.addr ${hex(addr)} + len ${len} wraps around the end of the address space`);
    }
    const hw = this.profile.parse(type, addr, len);
    const last = addr + BigInt(type === HW_BREAKPOINT_X ? 1 : Math.max(len, 1)) - 1n;
    if (addr >= this.profile.userSpaceEnd || last >= this.profile.userSpaceEnd) {
      if (excludeKernel) fail('EINVAL', `attr.addr ${hex(addr)} is a kernel address, and this breakpoint excludes the kernel`);
      fail('EPERM', `attr.addr ${hex(addr)} is a kernel address (>= ${hex(this.profile.userSpaceEnd)}); unprivileged users may not watch it`);
    }
    return hw;
  }

  /**
   * Build the ENOSPC error: find the situation that would overflow and name who holds its registers.
   * Only on failure, and in time linear in the breakpoints involved: a task's request looks at each
   * CPU's own breakpoints and the task's; a CPU-bound one groups every task breakpoint once. Under a
   * plan (checkPlan), events about to be closed hold nothing and planned opens already hold theirs.
   */
  private throwNoSpace(cls: number, req: SlotRequest, what: string, plan?: { hidden: Set<Breakpoint>; pending: Holder[] }): never {
    const klass = this.profile.classes[cls];
    const hidden = plan?.hidden;
    const pending = plan?.pending ?? [];
    const holder = (bp: Breakpoint): Holder => ({ id: bp.id, owner: bp.owner, pinned: bp.pinned, pid: bp.task?.pid ?? null, cpu: bp.cpu, cls: bp.cls });
    const applies = (h: Holder, c: number) => h.cls === cls && (h.cpu < 0 || h.cpu === c);
    const visible = (bp: Breakpoint) => hidden === undefined || !hidden.has(bp);
    const first = req.cpu >= 0 ? req.cpu : 0;
    const last = req.cpu >= 0 ? req.cpu : this.cpuCount - 1;
    for (let c = first; c <= last; c++) {
      const bound = [
        ...[...this.scheduler.cpus[c].bound].filter(visible).map(holder),
        ...pending.filter((h) => h.pid === null && h.cpu === c),
      ].filter((h) => h.cls === cls);
      const situations = new Map<number | null, Holder[]>();
      if (req.pid >= 0) {
        const own = [...(this.tasks.get(req.pid)?.breakpoints ?? [])].filter(visible).map(holder);
        situations.set(req.pid, [...own, ...pending.filter((h) => h.pid === req.pid)].filter((h) => applies(h, c)));
      } else {
        situations.set(null, []);
        const taskHolders = [
          ...[...this.breakpoints.values()].filter((bp) => bp.task !== null && visible(bp)).map(holder),
          ...pending.filter((h) => h.pid !== null),
        ];
        for (const h of taskHolders) {
          if (!applies(h, c)) continue;
          const list = situations.get(h.pid);
          if (list === undefined) situations.set(h.pid, [h]);
          else list.push(h);
        }
      }
      for (const [pid, own] of situations) {
        const here = [...bound, ...own];
        const pinned = here.filter((h) => h.pinned);
        const flexible = here.filter((h) => !h.pinned);
        const keep = flexible.length > 0 || !req.pinned;
        const used = pinned.length + (req.pinned ? req.weight : 0) + (keep ? 1 : 0);
        if (used <= klass.slots) continue;
        this.raiseNoSpace(klass, req, what, c, pid, pinned, flexible);
      }
    }
    // The accounting refused but no single situation overflows: only a custom accounting can get here.
    throw new NoSpaceError(`no ${klass.name} register left for this breakpoint (refused by the constraint accounting)`, {
      cpu: req.cpu, pid: req.pid >= 0 ? req.pid : null, slots: klass.slots, registerNames: [...klass.registerNames], holders: [], keptForFlexible: false,
    });
  }

  private raiseNoSpace(
    klass: ArchProfile['classes'][number], req: SlotRequest, what: string, c: number, pid: number | null,
    pinned: Holder[], flexible: Holder[],
  ): never {
    const regs = `${klass.registerNames[0]}–${klass.registerNames[klass.slots - 1]}`;
    const kind = req.pinned ? 'pinned' : 'flexible';
    const where = req.pid >= 0
      ? `of pid ${req.pid} when it runs on cpu${c}`
      : `on cpu${c} ${pid === null ? 'with no task running' : `while pid ${pid} runs there`}`;
    const name = (h: Holder) => (h.id === null ? `${h.owner} (planned)` : `#${h.id} ${h.owner}`);
    const parts = pinned.map((h) => `${name(h)}${h.pid !== null ? ` (pid ${h.pid})` : ` (cpu${h.cpu})`}`);
    if (flexible.length > 0) parts.push(`one register kept for ${flexible.length} flexible breakpoint(s) (${flexible.map((h) => (h.id === null ? h.owner : `#${h.id}`)).join(', ')})`);
    const held = parts.length > 0 ? parts.join(', ') : 'nothing';
    const needsKept = !req.pinned && flexible.length === 0 ? ', and a flexible breakpoint needs one kept free for time-sharing' : '';
    const flexHint = req.pinned && flexible.length === 0 ? '; a flexible breakpoint would time-share a register instead' : '';
    throw new NoSpaceError(`no ${regs} register left for a ${what}${kind} breakpoint ${where}: ${klass.slots} registers, held by ${held}${needsKept}${flexHint}`, {
      cpu: c, pid, slots: klass.slots, registerNames: [...klass.registerNames],
      holders: pinned.map((h) => ({ eventId: h.id, owner: h.owner, pinned: true, pid: h.pid, cpu: h.cpu })),
      keptForFlexible: flexible.length > 0,
    });
  }
}

/** Who holds a reservation, for ENOSPC explanations: an open breakpoint, or one a plan would open (id null). */
interface Holder {
  id: number | null;
  owner: string;
  pinned: boolean;
  pid: number | null;
  cpu: number;
  cls: number;
}

/** One open in a plan checked by Kernel.checkPlan(). */
export interface PlannedOpen {
  attr: BreakpointAttr;
  target: EventTarget;
  /** As OpenOptions.owner: named in the ENOSPC explanation. */
  owner?: string;
}

export const MAX_MUX_INTERVAL = 2 ** 32;

function checkMux(mux: unknown): void {
  if (!Number.isSafeInteger(mux) || (mux as number) < 1 || (mux as number) > MAX_MUX_INTERVAL) {
    fail('EINVAL', `muxInterval ${String(mux)}: need a whole number of time units from 1 to 2^32`);
  }
}

/** Does an access of [addr, end) of kind `bit` meet cold range i of `c`? */
function coldMeets(c: CpuState, i: number, addr: number, end: number, bit: number): boolean {
  return (c.coldMask[i] & bit) !== 0 && addr < c.coldHi[i] && end > c.coldLo[i];
}

export function createKernel(options: KernelOptions): Kernel {
  return new Kernel(options);
}
