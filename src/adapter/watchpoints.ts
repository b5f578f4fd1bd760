/**
 * Watchpoints as a debugger sets them: one watched range, set on every thread of the program (and on
 * every thread that starts later, as a debugger does when it is told of a new thread), through the
 * hw_breakpoint layer. Knows nothing of DAP: the CLI and the DAP session both use it.
 *
 * Modes:
 *  - pinned: task-bound breakpoints that must always be on; refused (with the reason) if any
 *    thread has no register left for them;
 *  - flexible: time-shared breakpoints; admitted while a register can be kept for them, but they
 *    miss accesses while scheduled out;
 *  - auto: pinned when it fits, else flexible, and upgraded to pinned when registers free up.
 * Each watchpoint is installed all or nothing: every thread, every register of its cover.
 */
import { HwbpError, type PerfEvent } from '../hwbp';
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
  /** Event ids behind it, all threads. */
  eventIds: number[];
  /** Accesses to the watched bytes that were caught. */
  hits: number;
  timeEnabled: number;
  timeRunning: number;
  /** hits × enabled / running: how many there probably were, counting those missed while scheduled out. */
  estimate: number | null;
}

interface Watchpoint {
  id: number;
  request: WatchRequest;
  pieces: Piece[];
  mode: 'pinned' | 'flexible' | null;
  message: string;
  events: Map<number, PerfEvent[]>;
  hits: number;
  lastHit: object | null;
  /** Times of events already released (their threads exited, or a mode change closed them). */
  pastEnabled: number;
  pastRunning: number;
}

export type WatchpointChange = (info: WatchpointInfo, why: 'upgraded' | 'downgraded' | 'rejected') => void;

export class WatchpointManager {
  private readonly watchpoints = new Map<number, Watchpoint>();
  private nextId = 1;
  /** Inside batch(): upgrades wait until the batch ends (one pass instead of one per change). */
  private batching = 0;
  private upgradeDue = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly machine: Machine, private readonly onChange: WatchpointChange = () => undefined) {
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
      id: this.nextId++, request: { ...request }, pieces,
      mode: null, message: '', events: new Map(), hits: 0, lastHit: null, pastEnabled: 0, pastRunning: 0,
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

  list(): WatchpointInfo[] {
    return [...this.watchpoints.values()].map((wp) => this.info(wp));
  }

  find(id: number): WatchpointInfo | undefined {
    const wp = this.watchpoints.get(id);
    return wp === undefined ? undefined : this.info(wp);
  }

  /** The watchpoint an event belongs to. */
  ownerOf(eventId: number): WatchpointInfo | undefined {
    for (const wp of this.watchpoints.values()) {
      for (const evs of wp.events.values()) if (evs.some((e) => e.id === eventId)) return this.info(wp);
    }
    return undefined;
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
    if (mode === 'pinned') return `pinned: always installed (${regs})`;
    const why = pinnedRefusal === '' ? '' : ` (no register for a pinned one: ${pinnedRefusal})`;
    return `flexible: time-shares a register and may miss accesses while scheduled out (${regs})${why}`;
  }

  /** Install on every live thread, all or nothing. Returns null, or the reason it did not fit. */
  private install(wp: Watchpoint, mode: 'pinned' | 'flexible'): string | null {
    const opened = new Map<number, PerfEvent[]>();
    try {
      for (const t of this.machine.threads) {
        if (t.task === null || t.state === 'exited' || t.state === 'unstarted') continue;
        opened.set(t.id, this.openOn(wp, mode, t.task.pid, t.name));
      }
    } catch (e) {
      for (const evs of opened.values()) for (const ev of evs) this.closeEvent(ev);
      if (e instanceof WatchInstallError) return e.message;
      throw e;
    }
    wp.events = opened;
    return null;
  }

  private openOn(wp: Watchpoint, mode: 'pinned' | 'flexible', pid: number, thread: string): PerfEvent[] {
    const evs: PerfEvent[] = [];
    const lo = wp.request.addr;
    const hi = wp.request.access === 'x' ? lo + 1 : lo + wp.request.size;
    try {
      for (const piece of wp.pieces) {
        const ev = this.machine.kernel.perfEventOpen(
          { type: wp.request.access, addr: piece.addr, len: piece.len, pinned: mode === 'pinned' },
          { pid, cpu: -1 },
          { owner: `watch ${wp.request.label} (${thread})`, onHit: (hit) => this.counted(wp, hit, lo, hi) },
        );
        evs.push(ev);
        this.machine.setStopping(ev.id, true, { lo, hi });
      }
      return evs;
    } catch (e) {
      for (const ev of evs) this.closeEvent(ev);
      if (e instanceof HwbpError) {
        // The mode advice is ours to give (place() says it once); drop the kernel's copy of it.
        const reason = e.message.replace(/^[A-Z]+: /, '').replace(/; a flexible breakpoint would time-share a register instead$/, '');
        throw new WatchInstallError(`thread ${thread}: ${reason}`);
      }
      throw e;
    }
  }

  private counted(wp: Watchpoint, hit: { addr: number; size: number; kind: string }, lo: number, hi: number): void {
    // One access can match two registers of a cover: count it once, and only if it touched the range.
    if (hit === wp.lastHit) return;
    const end = hit.kind === 'exec' ? hit.addr + 1 : hit.addr + hit.size;
    if (hit.addr < hi && end > lo) {
      wp.hits++;
      wp.lastHit = hit;
    }
  }

  private closeEvent(ev: PerfEvent): void {
    this.machine.setStopping(ev.id, false);
    try {
      ev.close();
    } catch (e) {
      if (!(e instanceof HwbpError)) throw e; // already released with its thread
    }
  }

  private release(wp: Watchpoint): void {
    for (const evs of wp.events.values()) {
      for (const ev of evs) {
        this.accumulate(wp, ev);
        this.closeEvent(ev);
      }
    }
    wp.events.clear();
  }

  private accumulate(wp: Watchpoint, ev: PerfEvent): void {
    try {
      const c = ev.read();
      wp.pastEnabled += c.timeEnabled;
      wp.pastRunning += c.timeRunning;
    } catch (e) {
      if (!(e instanceof HwbpError)) throw e;
    }
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

  /** After registers were freed: watchpoints in auto mode that run flexible try pinned again. */
  private upgradeWaiting(): void {
    if (this.batching > 0) {
      this.upgradeDue = true;
      return;
    }
    // With no thread alive there is nothing to learn: any install would succeed vacuously.
    if (!this.machine.threads.some((t) => t.state !== 'exited' && t.state !== 'unstarted')) return;
    for (const wp of this.watchpoints.values()) {
      if (wp.request.mode !== 'auto' || wp.mode === 'pinned') continue;
      if (wp.pieces.length > this.slotsFor(wp.request.access).slots) continue;
      const before = wp.mode;
      // Break before make: our own flexible registers must not stand in the way of the pinned ones.
      // (release() keeps the times of what it closes.)
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
    if (e.kind !== 'thread') return;
    if (e.state === 'started') {
      for (const wp of this.watchpoints.values()) {
        if (wp.mode === null) continue;
        try {
          wp.events.set(e.threadId, this.openOn(wp, wp.mode, e.pid, e.name));
        } catch (err) {
          if (!(err instanceof WatchInstallError)) throw err;
          // The new thread has no room: choose the mode again for the whole watchpoint.
          const before = wp.mode;
          this.release(wp);
          this.place(wp);
          if (wp.mode !== before) this.onChange(this.info(wp), wp.mode === null ? 'rejected' : 'downgraded');
        }
      }
    } else {
      // The thread is going: keep its breakpoints' times, release them, and let the freed
      // registers go to watchpoints waiting for a pinned one.
      for (const wp of this.watchpoints.values()) {
        const evs = wp.events.get(e.threadId);
        if (evs === undefined) continue;
        for (const ev of evs) {
          this.accumulate(wp, ev);
          this.closeEvent(ev);
        }
        wp.events.delete(e.threadId);
      }
      this.upgradeWaiting();
    }
  }

  private info(wp: Watchpoint): WatchpointInfo {
    let enabled = wp.pastEnabled;
    let running = wp.pastRunning;
    const eventIds: number[] = [];
    for (const evs of wp.events.values()) {
      for (const ev of evs) {
        eventIds.push(ev.id);
        try {
          const c = ev.read();
          enabled += c.timeEnabled;
          running += c.timeRunning;
        } catch (e) {
          if (!(e instanceof HwbpError)) throw e;
        }
      }
    }
    const r = wp.request;
    return {
      id: wp.id, label: r.label, addr: r.addr, size: r.size, access: r.access, requestedMode: r.mode, mode: wp.mode,
      state: wp.mode === null ? 'rejected' : 'active', message: wp.message, registersPerThread: wp.pieces.length, eventIds,
      hits: wp.hits, timeEnabled: enabled, timeRunning: running,
      estimate: running > 0 ? (wp.hits * enabled) / running : enabled === 0 ? wp.hits : null,
    };
  }
}

class WatchInstallError extends Error {}
