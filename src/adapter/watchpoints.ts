/**
 * Watchpoints as a debugger sets them: one watched range, set on every thread of the program (and on
 * every thread that starts later, as a debugger does when it is told of a new thread), through the
 * hw_breakpoint layer. Knows nothing of DAP: the CLI and the DAP session both use it.
 *
 * Modes:
 *  - pinned: must always be on; refused (with the reason) if any thread has no register left.
 *    On x86 they go through the ptrace front door, as GDB's do: each thread has four virtual
 *    debug registers. Writing a DRn address registers a stub that holds a slot until the thread
 *    exits (the kernel never releases it earlier), so, like GDB, we disable a slot we no longer
 *    need and reuse it for the next pinned watchpoint on that thread. On arm64 (no PEEKUSER debug
 *    registers) they are task-bound pinned perf events: what a ptrace breakpoint is inside.
 *  - flexible: time-shared perf events; admitted while a register can be kept for them, but they
 *    miss accesses while scheduled out;
 *  - auto: pinned when it fits, else flexible, and upgraded to pinned when registers free up.
 * Each watchpoint is installed all or nothing: every thread, every register of its cover.
 */
import {
  debugRegOffset, encodeDr7Slot, HwbpError, X86_LEN_1, X86_LEN_2, X86_LEN_4, X86_LEN_8, X86_TYPE_EXECUTE, X86_TYPE_RW, X86_TYPE_WRITE,
  type HitInfo, type PerfEvent,
} from '../hwbp';
import type { Machine, MachineEvent } from '../target';
import { coverRange, type Piece } from './cover';

/** Data access to trap on, or 'x': an execute breakpoint on a statement (GDB's hbreak). */
export type WatchAccess = 'w' | 'rw' | 'r' | 'x';
export type WatchMode = 'auto' | 'pinned' | 'flexible';

export interface WatchRequest {
  /** What the user asked to watch (an expression or an address), for messages. */
  label: string;
  addr: number;
  size: number;
  access: WatchAccess;
  mode: WatchMode;
}

export interface WatchpointInfo {
  id: number;
  label: string;
  addr: number;
  size: number;
  access: WatchAccess;
  requestedMode: WatchMode;
  /** The mode it runs in, or null while rejected. */
  mode: 'pinned' | 'flexible' | null;
  state: 'active' | 'rejected';
  message: string;
  /** Registers per thread (each watched range takes one per doubleword). */
  registersPerThread: number;
  /** Kernel breakpoint ids behind it, all threads. */
  eventIds: number[];
  /** For pinned ones on x86: the virtual (ptrace) DRn each thread uses, e.g. { "1": [0] }. */
  ptraceSlots: Record<number, number[]>;
  /** Accesses to the watched bytes that were caught. */
  hits: number;
  timeEnabled: number;
  timeRunning: number;
  /** hits × enabled / running: how many there probably were, counting those missed while scheduled out. */
  estimate: number | null;
}

/** One register's worth of a watchpoint on one thread. */
type Installed =
  | { kind: 'perf'; ev: PerfEvent; eventId: number }
  /** A virtual DRn of the thread; the stub's counts started at `base` when this watchpoint took it. */
  | { kind: 'ptrace'; threadId: number; pid: number; slot: number; eventId: number; base: { enabled: number; running: number } };

interface Watchpoint {
  id: number;
  request: WatchRequest;
  pieces: Piece[];
  mode: 'pinned' | 'flexible' | null;
  message: string;
  /** Per thread id, what is installed for each piece. */
  installed: Map<number, Installed[]>;
  hits: number;
  lastHit: object | null;
  /** Times of what was already released (threads exited, mode changes). */
  pastEnabled: number;
  pastRunning: number;
}

/** What a thread's four virtual debug registers hold, from this debugger's point of view. */
type SlotUse = 'unused' | 'free' | { watchId: number };

export type WatchpointChange = (info: WatchpointInfo, why: 'upgraded' | 'downgraded' | 'rejected' | 'accepted') => void;

const LEN_CODE: Record<number, number> = { 1: X86_LEN_1, 2: X86_LEN_2, 4: X86_LEN_4, 8: X86_LEN_8 };

export class WatchpointManager {
  private readonly watchpoints = new Map<number, Watchpoint>();
  private nextId = 1;
  private readonly unsubscribe: () => void;
  /** Per thread id: its four virtual DRn (x86 ptrace). */
  private readonly slots = new Map<number, SlotUse[]>();
  /** Kernel breakpoint id → watchpoint, for counting hits and naming owners. */
  private readonly byEvent = new Map<number, Watchpoint>();
  private readonly viaPtrace: boolean;
  /** Inside batch(): upgrades wait until the batch ends (one pass instead of one per change). */
  private batching = 0;
  private upgradeDue = false;

  constructor(private readonly machine: Machine, private readonly onChange: WatchpointChange = () => undefined) {
    this.viaPtrace = machine.config.arch === 'x86_64';
    this.unsubscribe = machine.on((e) => this.onMachineEvent(e));
  }

  dispose(): void {
    for (const id of [...this.watchpoints.keys()]) this.remove(id);
    this.unsubscribe();
  }

  add(request: WatchRequest): WatchpointInfo {
    if (!Number.isSafeInteger(request.addr) || request.addr < 0) throw new Error(`watch ${request.label}: address ${String(request.addr)} is not valid`);
    if (!Number.isInteger(request.size) || request.size < 1 || request.size > 64) throw new Error(`watch ${request.label}: ${request.size} bytes; a watchpoint covers 1 to 64 bytes`);
    if (request.access === 'r' && this.machine.config.arch === 'x86_64') {
      throw new Error(`watch ${request.label}: x86 debug registers cannot trap on reads alone; use rw (read or write)`);
    }
    const arch = this.machine.config.arch;
    // An execute breakpoint takes one register at the statement's address (len 8 on x86, 4 on arm64).
    const pieces = request.access === 'x' ? [{ addr: request.addr, len: arch === 'x86_64' ? 8 : 4 }] : coverRange(request.addr, request.size, arch);
    const wp: Watchpoint = {
      id: this.nextId++, request: { ...request }, pieces, mode: null, message: '', installed: new Map(), hits: 0, lastHit: null,
      pastEnabled: 0, pastRunning: 0,
    };
    this.watchpoints.set(wp.id, wp);
    this.place(wp);
    return this.info(wp);
  }

  remove(id: number): void {
    const wp = this.get(id);
    this.release(wp);
    this.watchpoints.delete(id);
    this.upgradeWaiting();
  }

  /**
   * Switch a watchpoint's mode. If the new mode cannot be had, the watchpoint keeps running as it
   * was and the reason is thrown.
   */
  setMode(id: number, mode: WatchMode): WatchpointInfo {
    const wp = this.get(id);
    const before = { mode: wp.request.mode, running: wp.mode };
    wp.request.mode = mode;
    this.release(wp);
    this.place(wp);
    if (wp.mode === null && before.running !== null) {
      const reason = wp.message;
      wp.request.mode = before.mode;
      this.place(wp); // what was just released fits again
      throw new Error(`cannot switch ${wp.request.label} to ${mode}: ${reason.replace(/^rejected: /, '')}; it stays ${wp.mode}`);
    }
    this.upgradeWaiting();
    return this.info(wp);
  }

  /** Make many changes (a whole setDataBreakpoints request) with a single upgrade pass at the end. */
  batch<T>(changes: () => T): T {
    this.batching++;
    try {
      return changes();
    } finally {
      if (--this.batching === 0 && this.upgradeDue) {
        this.upgradeDue = false;
        this.upgradeWaiting();
      }
    }
  }

  list(): WatchpointInfo[] {
    return [...this.watchpoints.values()].map((wp) => this.info(wp));
  }

  find(id: number): WatchpointInfo | undefined {
    const wp = this.watchpoints.get(id);
    return wp === undefined ? undefined : this.info(wp);
  }

  /** The watchpoint a kernel breakpoint belongs to. */
  ownerOf(eventId: number): WatchpointInfo | undefined {
    const wp = this.byEvent.get(eventId);
    return wp === undefined ? undefined : this.info(wp);
  }

  /** Just the id and label of the watchpoint a kernel breakpoint belongs to: O(1), for per-hit reports. */
  ownerBrief(eventId: number): { id: number; label: string } | undefined {
    const wp = this.byEvent.get(eventId);
    return wp === undefined ? undefined : { id: wp.id, label: wp.request.label };
  }

  private get(id: number): Watchpoint {
    const wp = this.watchpoints.get(id);
    if (wp === undefined) throw new Error(`no watchpoint ${id}`);
    return wp;
  }

  /** Registers of the class a watchpoint of this access type takes, per CPU. */
  private slotsFor(access: WatchAccess): { slots: number; names: string } {
    const classes = this.machine.kernel.profile.classes;
    const klass = classes.length === 1 ? classes[0] : classes.find((c) => c.name === (access === 'x' ? 'inst' : 'data'))!;
    return { slots: klass.slots, names: `${klass.registerNames[0]}–${klass.registerNames[klass.slots - 1]}` };
  }

  /** Choose the mode and install on every live thread; the first mode that fits wins. */
  private place(wp: Watchpoint): void {
    let modes: ('pinned' | 'flexible')[] = wp.request.mode === 'auto' ? ['pinned', 'flexible'] : [wp.request.mode];
    let refusal = '';
    const { slots, names } = this.slotsFor(wp.request.access);
    if (wp.pieces.length > slots && modes.includes('pinned')) {
      // More registers than the CPU has can never all be on at once.
      refusal = `${wp.request.label} needs ${wp.pieces.length} registers per thread (one per 8 bytes) and there are only ${slots} (${names})`;
      modes = modes.filter((m) => m !== 'pinned');
    }
    for (const mode of modes) {
      const error = this.install(wp, mode);
      if (error === null) {
        wp.mode = mode;
        wp.message = this.describe(wp, mode, refusal);
        return;
      }
      refusal = error;
    }
    wp.mode = null;
    wp.message = wp.request.mode === 'pinned'
      ? `rejected: ${refusal}. In flexible mode it would time-share a register instead (and may miss accesses while scheduled out).`
      : `rejected: ${refusal}`;
  }

  private describe(wp: Watchpoint, mode: 'pinned' | 'flexible', pinnedRefusal: string): string {
    const regs = `${wp.pieces.length} register${wp.pieces.length === 1 ? '' : 's'} per thread`;
    if (mode === 'pinned') return `pinned: always installed (${regs}${this.viaPtrace ? ', through ptrace' : ''})`;
    const why = pinnedRefusal === '' ? '' : ` (no register for a pinned one: ${pinnedRefusal})`;
    return `flexible: time-shares a register and may miss accesses while scheduled out (${regs})${why}`;
  }

  private liveThreads(): { id: number; pid: number; name: string }[] {
    return this.machine.threads
      .filter((t) => t.task !== null && t.state !== 'exited' && t.state !== 'unstarted')
      .map((t) => ({ id: t.id, pid: t.task!.pid, name: t.name }));
  }

  /** Install on every live thread, all or nothing. Returns null, or the reason it did not fit. */
  private install(wp: Watchpoint, mode: 'pinned' | 'flexible'): string | null {
    const done: number[] = [];
    try {
      for (const t of this.liveThreads()) {
        wp.installed.set(t.id, this.openOn(wp, mode, t.id, t.pid, t.name));
        done.push(t.id);
      }
    } catch (e) {
      for (const id of done) this.releaseThread(wp, id, false);
      if (e instanceof WatchInstallError) return e.message;
      throw e;
    }
    return null;
  }

  private openOn(wp: Watchpoint, mode: 'pinned' | 'flexible', threadId: number, pid: number, thread: string): Installed[] {
    const out: Installed[] = [];
    const { lo, hi } = rangeOf(wp);
    try {
      for (const piece of wp.pieces) {
        const one = mode === 'pinned' && this.viaPtrace
          ? this.openPtrace(wp, piece, threadId, pid, thread)
          : this.openPerf(wp, piece, mode, pid, thread);
        out.push(one);
        this.byEvent.set(one.eventId, wp);
        this.machine.setStopping(one.eventId, true, { lo, hi });
      }
      return out;
    } catch (e) {
      for (const one of out) this.releaseOne(wp, one, false);
      if (e instanceof HwbpError) {
        // The mode advice is ours to give (place() says it once); drop the kernel's copy of it.
        const reason = e.message.replace(/^[A-Z]+: /, '').replace(/; a flexible breakpoint would time-share a register instead$/, '');
        throw new WatchInstallError(`thread ${thread}: ${reason}`);
      }
      throw e;
    }
  }

  private openPerf(wp: Watchpoint, piece: Piece, mode: 'pinned' | 'flexible', pid: number, thread: string): Installed {
    const ev = this.machine.kernel.perfEventOpen(
      { type: wp.request.access, addr: piece.addr, len: piece.len, pinned: mode === 'pinned' },
      { pid, cpu: -1 },
      { owner: `watch ${wp.request.label} (${thread})` },
    );
    return { kind: 'perf', ev, eventId: ev.id };
  }

  /**
   * Take a virtual DRn of the thread: one of our disabled stubs if there is one (no new
   * reservation), else a DRn never written (its address write reserves a slot, and may be
   * refused), then enable it through DR7.
   */
  private openPtrace(wp: Watchpoint, piece: Piece, threadId: number, pid: number, thread: string): Installed {
    const k = this.machine.kernel;
    let uses = this.slots.get(threadId);
    if (uses === undefined) {
      uses = [0, 1, 2, 3].map((n) => (k.ptraceEventId(pid, n) === null ? 'unused' : 'free'));
      this.slots.set(threadId, uses);
    }
    let n = uses.indexOf('free');
    if (n < 0) n = uses.indexOf('unused');
    if (n < 0) {
      const holders = uses.map((u, i) => `DR${i}: ${typeof u === 'object' ? `watch ${this.watchpoints.get(u.watchId)?.request.label ?? '?'}` : u}`).join(', ');
      throw new WatchInstallError(`thread ${thread}: its four ptrace debug registers are all in use (${holders})`);
    }
    const wasUnused = uses[n] === 'unused';
    k.pokeUser(pid, debugRegOffset(n), piece.addr); // may throw ENOSPC (a new stub); then nothing changed
    if (wasUnused) uses[n] = 'free'; // from now on the stub exists, whatever DR7 says
    const typeCode = wp.request.access === 'x' ? X86_TYPE_EXECUTE : wp.request.access === 'rw' ? X86_TYPE_RW : X86_TYPE_WRITE;
    const lenCode = wp.request.access === 'x' ? X86_LEN_1 : LEN_CODE[piece.len];
    const dr7 = k.peekUser(pid, debugRegOffset(7));
    k.pokeUser(pid, debugRegOffset(7), ((dr7 & ~slotMask(n)) | encodeDr7Slot(n, lenCode, typeCode)) >>> 0); // refused: DR7 unchanged
    uses[n] = { watchId: wp.id };
    const eventId = k.ptraceEventId(pid, n)!;
    const c = k.counts(eventId)!;
    return { kind: 'ptrace', threadId, pid, slot: n, eventId, base: { enabled: c.timeEnabled, running: c.timeRunning } };
  }

  /** Release one register: close a perf event, or disable a DRn (its stub stays, free for reuse). */
  private releaseOne(wp: Watchpoint, one: Installed, keepTimes: boolean): void {
    if (keepTimes) this.accumulate(wp, one);
    this.machine.setStopping(one.eventId, false);
    this.byEvent.delete(one.eventId);
    try {
      if (one.kind === 'perf') {
        one.ev.close();
      } else {
        const k = this.machine.kernel;
        const dr7 = k.peekUser(one.pid, debugRegOffset(7));
        k.pokeUser(one.pid, debugRegOffset(7), (dr7 & ~slotMask(one.slot)) >>> 0); // disabling cannot be refused
        const uses = this.slots.get(one.threadId);
        if (uses !== undefined) uses[one.slot] = 'free';
      }
    } catch (e) {
      if (!(e instanceof HwbpError)) throw e; // already released with its thread
    }
  }

  private releaseThread(wp: Watchpoint, threadId: number, keepTimes: boolean): void {
    for (const one of wp.installed.get(threadId) ?? []) this.releaseOne(wp, one, keepTimes);
    wp.installed.delete(threadId);
  }

  private release(wp: Watchpoint): void {
    for (const threadId of [...wp.installed.keys()]) this.releaseThread(wp, threadId, true);
  }

  private timesOf(one: Installed): { enabled: number; running: number } {
    const c = this.machine.kernel.counts(one.eventId);
    if (c === undefined) return { enabled: 0, running: 0 };
    if (one.kind === 'perf') return { enabled: c.timeEnabled, running: c.timeRunning };
    return { enabled: c.timeEnabled - one.base.enabled, running: c.timeRunning - one.base.running };
  }

  private accumulate(wp: Watchpoint, one: Installed): void {
    const t = this.timesOf(one);
    wp.pastEnabled += t.enabled;
    wp.pastRunning += t.running;
  }

  /** After registers were freed: watchpoints in auto mode that run flexible try pinned again. */
  private upgradeWaiting(): void {
    if (this.batching > 0) {
      this.upgradeDue = true;
      return;
    }
    // With no thread alive there is nothing to learn: any install would succeed vacuously.
    if (this.liveThreads().length === 0) return;
    for (const wp of this.watchpoints.values()) {
      if (wp.mode === null) {
        // A rejected watchpoint (any mode) gets another chance at the registers just freed.
        this.place(wp);
        if (wp.mode !== null) this.onChange(this.info(wp), 'accepted');
        continue;
      }
      if (wp.request.mode !== 'auto' || wp.mode === 'pinned') continue;
      if (wp.pieces.length > this.slotsFor(wp.request.access).slots) continue;
      const before = wp.mode;
      // Break before make: our own flexible registers must not stand in the way of the pinned ones.
      this.release(wp);
      if (this.install(wp, 'pinned') === null) {
        wp.mode = 'pinned';
        wp.message = this.describe(wp, 'pinned', '');
        this.onChange(this.info(wp), 'upgraded');
        continue;
      }
      // Put it back as it was: what was just released fits again.
      this.place(wp);
      if (wp.mode !== before) this.onChange(this.info(wp), wp.mode === null ? 'rejected' : 'downgraded');
    }
  }

  private onMachineEvent(e: MachineEvent): void {
    if (e.kind === 'hit') {
      this.countHit(e.hit);
      return;
    }
    if (e.kind !== 'thread') return;
    if (e.state === 'started') {
      for (const wp of this.watchpoints.values()) {
        if (wp.mode === null) continue;
        try {
          wp.installed.set(e.threadId, this.openOn(wp, wp.mode, e.threadId, e.pid, e.name));
        } catch (err) {
          if (!(err instanceof WatchInstallError)) throw err;
          // The new thread has no room: choose the mode again for the whole watchpoint.
          const before = wp.mode;
          this.release(wp);
          this.place(wp);
          if (wp.mode !== before) this.onChange(this.info(wp), wp.mode === null ? 'rejected' : 'downgraded');
        }
      }
    } else if (e.state === 'exited') {
      // The thread is going: keep its registers' times, release them, and let the freed registers
      // go to watchpoints waiting for a pinned one.
      for (const wp of this.watchpoints.values()) if (wp.installed.has(e.threadId)) this.releaseThread(wp, e.threadId, true);
      this.slots.delete(e.threadId);
      this.upgradeWaiting();
    }
  }

  /** One access can match several registers of a cover: count it once, and only if it touched the range. */
  private countHit(hit: HitInfo): void {
    for (const m of hit.matches) {
      const wp = this.byEvent.get(m.eventId);
      if (wp === undefined || wp.lastHit === hit) continue;
      const { lo, hi } = rangeOf(wp);
      const end = hit.kind === 'exec' ? hit.addr + 1 : hit.addr + hit.size;
      if (hit.addr < hi && end > lo) {
        wp.hits++;
        wp.lastHit = hit;
      }
    }
  }

  private info(wp: Watchpoint): WatchpointInfo {
    let enabled = wp.pastEnabled;
    let running = wp.pastRunning;
    const eventIds: number[] = [];
    const ptraceSlots: Record<number, number[]> = {};
    for (const [threadId, list] of wp.installed) {
      for (const one of list) {
        eventIds.push(one.eventId);
        const t = this.timesOf(one);
        enabled += t.enabled;
        running += t.running;
        if (one.kind === 'ptrace') (ptraceSlots[threadId] ??= []).push(one.slot);
      }
    }
    const r = wp.request;
    return {
      id: wp.id, label: r.label, addr: r.addr, size: r.size, access: r.access, requestedMode: r.mode, mode: wp.mode,
      state: wp.mode === null ? 'rejected' : 'active', message: wp.message, registersPerThread: wp.pieces.length, eventIds, ptraceSlots,
      hits: wp.hits, timeEnabled: enabled, timeRunning: running,
      estimate: running > 0 ? (wp.hits * enabled) / running : enabled === 0 ? wp.hits : null,
    };
  }
}

/** The bytes a watchpoint really watches (an execute breakpoint: its instruction's first byte). */
function rangeOf(wp: Watchpoint): { lo: number; hi: number } {
  const lo = wp.request.addr;
  return { lo, hi: wp.request.access === 'x' ? lo + 1 : lo + wp.request.size };
}

/** DR7 bits of one slot: its two enable bits and its four R/W and LEN bits. */
function slotMask(n: number): number {
  return ((3 << (2 * n)) | (0xf << (16 + 4 * n))) >>> 0;
}

class WatchInstallError extends Error {}
