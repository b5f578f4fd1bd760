/**
 * Watchpoints as a debugger sets them: one watched range, set on every thread of the program (and on
 * every thread that starts later, as a debugger does when it is told of a new thread), through the
 * hw_breakpoint layer's perf front door. Knows nothing of DAP: the CLI and the DAP session both use it.
 *
 * Modes:
 *  - pinned: must always be on; refused (with the reason) if any thread has no register left.
 *  - flexible: time-shared perf events; admitted while a register can be kept for them, but they
 *    miss accesses while scheduled out;
 *  - auto (the default): pinned while it fits. When one more watchpoint fits neither way, the newest
 *    auto watchpoints that run pinned become flexible, as few as it takes, so that every watchpoint
 *    is served by time-sharing; when registers free up, flexible auto watchpoints become pinned again.
 *    Only a pinned-mode watchpoint is ever refused for lack of registers that sharing could provide.
 *
 * Every watchpoint is a set of task-bound perf events (one per thread and register of its cover),
 * on x86 as on arm64. GDB's own door on x86 is ptrace (PEEKUSER/POKEUSER of DR0–DR7), but Linux
 * releases a ptrace breakpoint only when its thread exits, so a debugger that used it could never
 * give a register back to be shared; perf events are released when closed.
 *
 * Each change is all or nothing, checked before anything moves: the whole set of events it would
 * close and open is first checked against the kernel's accounting (Kernel.checkPlan), so a change
 * that cannot be made leaves every register, time and counter as it was.
 */
import { HwbpError, NoSpaceError, type HitInfo, type PerfEvent, type PlannedOpen } from '../hwbp';
import type { Machine, MachineEvent } from '../target';
import { coverRange, type Piece } from './cover';

/** Data access to trap on, or 'x': an execute breakpoint on a statement (GDB's hbreak). */
export type WatchAccess = 'w' | 'rw' | 'r' | 'x';
export type WatchMode = 'auto' | 'pinned' | 'flexible';
type RunMode = 'pinned' | 'flexible';

export interface WatchRequest {
  /** What the user asked to watch (an expression or an address), for messages. */
  label: string;
  addr: number;
  size: number;
  access: WatchAccess;
  mode: WatchMode;
  /**
   * A local's watchpoint ends with its frame, as GDB's does: when that frame returns (or its thread
   * ends), the watchpoint is removed and reported to the change callback as 'deleted'.
   */
  scope?: WatchScope;
}

/** The frame a local lives in (Machine's FrameRef identity). */
export interface WatchScope {
  threadId: number;
  frameId: number;
  fn: string;
}

export interface WatchpointInfo {
  id: number;
  label: string;
  addr: number;
  size: number;
  access: WatchAccess;
  requestedMode: WatchMode;
  /** The mode it runs in, or null while rejected. */
  mode: RunMode | null;
  state: 'active' | 'rejected';
  /** summary, then detail: what a client shows as the breakpoint's message. */
  message: string;
  /** One short sentence (at most about 80 characters): the state, or what was refused and who holds the registers. */
  summary: string;
  /** The rest of the explanation (may be empty). */
  detail: string;
  /** False if it can never be pinned (its cover needs more registers than a CPU has). */
  canPin: boolean;
  /** Registers per thread (each watched range takes one per doubleword). */
  registersPerThread: number;
  /** Kernel breakpoint ids behind it, all threads. */
  eventIds: number[];
  /** Accesses to the watched bytes that were caught. */
  hits: number;
  timeEnabled: number;
  timeRunning: number;
  /** hits × enabled / running: how many there probably were, counting those missed while scheduled out. */
  estimate: number | null;
}

/** One register's worth of a watchpoint on one thread: a task-bound perf event. */
interface Installed {
  ev: PerfEvent;
  eventId: number;
}

interface Watchpoint {
  id: number;
  request: WatchRequest;
  pieces: Piece[];
  mode: RunMode | null;
  summary: string;
  detail: string;
  /** Per thread id, what is installed for each piece. */
  installed: Map<number, Installed[]>;
  hits: number;
  lastHit: object | null;
  /** Times of what was already released (threads exited, mode changes). */
  pastEnabled: number;
  pastRunning: number;
}

/** One watchpoint's part in a change: the mode it will run in afterwards. */
interface Move {
  wp: Watchpoint;
  to: RunMode;
}

/** 'deleted': the frame of a scoped watchpoint ended, and the watchpoint with it (info.message says how). */
export type WatchpointChange = (info: WatchpointInfo, why: 'upgraded' | 'downgraded' | 'rejected' | 'accepted' | 'deleted') => void;

/** A first sentence longer than this no longer fits a line of VS Code's Breakpoints view. */
export const SUMMARY_MAX = 80;

export class WatchpointManager {
  private readonly watchpoints = new Map<number, Watchpoint>();
  private nextId = 1;
  private readonly unsubscribe: () => void;
  /** Kernel breakpoint id → watchpoint, for counting hits and naming owners. */
  private readonly byEvent = new Map<number, Watchpoint>();
  /** Inside batch(): upgrades wait until the batch ends (one pass instead of one per change). */
  private batching = 0;
  private upgradeDue = false;

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
    if (request.mode !== 'auto' && request.mode !== 'pinned' && request.mode !== 'flexible') throw new Error(`watch ${request.label}: mode ${String(request.mode)}; use auto, pinned or flexible`);
    if (request.access === 'r' && this.machine.config.arch === 'x86_64') {
      throw new Error(`watch ${request.label}: x86 debug registers cannot trap on reads alone; use rw (read or write)`);
    }
    const arch = this.machine.config.arch;
    // An execute breakpoint takes one register at the statement's address (len 8 on x86, 4 on arm64).
    const pieces = request.access === 'x' ? [{ addr: request.addr, len: arch === 'x86_64' ? 8 : 4 }] : coverRange(request.addr, request.size, arch);
    const scope = request.scope;
    if (scope !== undefined && this.machine.findFrame(scope.threadId, scope.frameId) === null) {
      throw new Error(`watch ${request.label}: the frame of ${scope.fn} it belongs to has already returned`);
    }
    if (scope !== undefined) this.machine.watchFrame(scope.frameId, true);
    const wp: Watchpoint = {
      id: this.nextId++, request: { ...request }, pieces, mode: null, summary: '', detail: '', installed: new Map(), hits: 0, lastHit: null,
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
    if (wp.request.scope !== undefined) this.machine.watchFrame(wp.request.scope.frameId, false);
    this.upgradeWaiting();
  }

  /** A frame ended: every watchpoint scoped to it goes (registers released on every thread), and says so. */
  private frameEnded(e: Extract<MachineEvent, { kind: 'return' }>): void {
    // A thread's body is named as its thread is: an instance by its own name (worker#17).
    const thread = e.thread ? `thread ${this.machine.thread(e.threadId).name}` : '';
    const how = e.killed ? `${e.thread ? thread : `${e.fn}()`} ended when main returned (line ${e.line})`
      : e.thread ? `${thread} ended (line ${e.line})` : `${e.fn}() returned (line ${e.line})`;
    for (const wp of [...this.watchpoints.values()]) {
      if (wp.request.scope?.frameId !== e.frameId) continue;
      this.remove(wp.id);
      wp.summary = `Watchpoint on ${wp.request.label} deleted: ${how}`;
      wp.detail = '';
      this.onChange(this.info(wp), 'deleted');
    }
  }

  /**
   * Switch a watchpoint's mode. Either the switch is made (auto watchpoints of others may become
   * flexible to make room for a pinned one), or nothing changes at all and the error says why and
   * what would let it succeed.
   */
  setMode(id: number, mode: WatchMode): WatchpointInfo {
    const wp = this.get(id);
    if (mode !== 'auto' && mode !== 'pinned' && mode !== 'flexible') throw new Error(`mode ${String(mode)}: use auto, pinned or flexible`);
    const { slots, names } = this.slotsFor(wp.request.access);
    if (mode === 'pinned' && wp.pieces.length > slots) {
      throw new Error(`${wp.request.label} can never be pinned: it needs ${wp.pieces.length} registers per thread and a CPU has ${slots} (${names}).`);
    }
    if (mode === wp.request.mode && wp.mode !== null) return this.info(wp);
    const attempt = mode === 'auto' ? this.canPinModes(wp) : [mode];
    const refusals: HwbpError[] = [];
    for (const to of attempt) {
      const victims = this.demotable(wp);
      // First without touching anyone else, then turning the newest auto ones flexible, one more at a time.
      for (let k = 0; k <= victims.length; k++) {
        if (k === 0 && wp.mode === to) {
          // Already running that way (auto that is pinned, made pinned): only the request changes.
          wp.request.mode = mode;
          return this.info(wp);
        }
        const moves: Move[] = [...victims.slice(0, k).map((v): Move => ({ wp: v, to: 'flexible' })), { wp, to }];
        const error = this.check(moves);
        if (error === null) {
          wp.request.mode = mode;
          this.commit(moves);
          // The caller learns of this one from the result; the others moved on their own.
          for (const v of victims.slice(0, k)) this.onChange(this.info(v), 'downgraded');
          this.upgradeWaiting();
          return this.info(wp);
        }
        if (k === 0) refusals.push(error);
      }
    }
    const error = refusals[refusals.length - 1];
    const stays = wp.mode === null ? 'it stays rejected' : `it stays ${wp.mode}`;
    const what = mode === 'auto' ? `switch ${wp.request.label} to auto` : `make ${wp.request.label} ${mode}`;
    throw new Error(`Cannot ${what}: ${this.heldBy(error)}; ${stays}. ${this.remedy(error, wp, mode)}`.trim());
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
  private slotsFor(access: WatchAccess): { cls: number; slots: number; names: string } {
    const classes = this.machine.kernel.profile.classes;
    const cls = classes.length === 1 ? 0 : classes.findIndex((c) => c.name === (access === 'x' ? 'inst' : 'data'));
    const klass = classes[cls];
    return { cls, slots: klass.slots, names: `${klass.registerNames[0]}–${klass.registerNames[klass.slots - 1]}` };
  }

  /** Modes auto tries, in order: pinned only if the cover can ever be pinned. */
  private canPinModes(wp: Watchpoint): RunMode[] {
    return wp.pieces.length > this.slotsFor(wp.request.access).slots ? ['flexible'] : ['pinned', 'flexible'];
  }

  /**
   * Auto watchpoints running pinned in the same register class as `wp`, newest first: the ones that
   * give their register up when time-sharing is the only way to serve one more.
   */
  private demotable(wp: Watchpoint): Watchpoint[] {
    const cls = this.slotsFor(wp.request.access).cls;
    return [...this.watchpoints.values()]
      .filter((w) => w !== wp && w.request.mode === 'auto' && w.mode === 'pinned' && this.slotsFor(w.request.access).cls === cls)
      .reverse();
  }

  /**
   * Choose the mode of a watchpoint that holds nothing (new, or rejected) and install it. Tries the
   * modes its request allows; if even flexible does not fit, turns auto watchpoints flexible (newest
   * first, as few as it takes) so that sharing a register serves it too.
   */
  private place(wp: Watchpoint): void {
    const modes: RunMode[] = wp.request.mode === 'auto' ? this.canPinModes(wp) : [wp.request.mode];
    const { slots, names } = this.slotsFor(wp.request.access);
    const neverPinned = wp.pieces.length > slots;
    let refusal: HwbpError | null = null;
    let pinnedRefusal: HwbpError | null = null;
    for (const to of modes) {
      const error = this.check([{ wp, to }]);
      if (error === null) {
        this.commit([{ wp, to }]);
        if (to === 'flexible' && pinnedRefusal !== null) wp.detail = `It could not be pinned: ${explain(pinnedRefusal, false)}.`;
        return;
      }
      if (to === 'pinned') pinnedRefusal = error;
      refusal = error;
    }
    if (modes.includes('flexible')) {
      const victims = this.demotable(wp);
      for (let k = 1; k <= victims.length; k++) {
        const moves: Move[] = [...victims.slice(0, k).map((v): Move => ({ wp: v, to: 'flexible' })), { wp, to: 'flexible' }];
        if (this.check(moves) !== null) continue;
        this.commit(moves);
        for (const v of victims.slice(0, k)) this.onChange(this.info(v), 'downgraded');
        const who = victims.slice(0, k).map((v) => v.request.label).join(', ');
        wp.detail = `To make room, ${who} became flexible too: all of them take turns in the register kept for sharing.`;
        return;
      }
    }
    wp.mode = null;
    if (wp.request.mode === 'pinned' && neverPinned) {
      wp.summary = clip(`${wp.request.label} refused: needs ${wp.pieces.length} registers, a CPU has ${slots}.`);
      wp.detail = `A pinned watchpoint must be in every register of its cover at once (one per 8 bytes), and there are only ${slots} (${names}). In flexible mode it would time-share registers instead.`;
      return;
    }
    const error = refusal!;
    wp.summary = this.refusalSummary(wp.request.label, error);
    const advice = wp.request.mode === 'pinned'
      ? 'In flexible mode it would time-share a register instead (and may miss accesses while scheduled out).'
      : 'Not even time-sharing can serve it: the registers are held by breakpoints that must stay pinned.';
    wp.detail = `${explain(error)}. ${advice}`;
  }

  /** Check a change against the kernel: close everything the moved watchpoints hold, open them anew. */
  private check(moves: Move[]): HwbpError | null {
    const close: number[] = [];
    const open: PlannedOpen[] = [];
    const threads = this.liveThreads();
    for (const { wp, to } of moves) {
      for (const list of wp.installed.values()) for (const one of list) close.push(one.eventId);
      for (const t of threads) {
        for (const piece of wp.pieces) {
          open.push({ attr: this.attrOf(wp, piece, to), target: { pid: t.pid, cpu: -1 }, owner: this.ownerName(wp, t.name) });
        }
      }
    }
    return this.machine.kernel.checkPlan(close, open);
  }

  /** Make a change that check() passed: release every moved watchpoint, then install each in its new mode. */
  private commit(moves: Move[]): void {
    for (const { wp } of moves) this.release(wp);
    for (const { wp, to } of moves) {
      const error = this.install(wp, to);
      if (error === null) {
        wp.mode = to;
        wp.summary = this.runningSummary(wp, to);
        wp.detail = '';
      } else {
        // Only reachable if the kernel disagreed with its own plan check; say so rather than hide it.
        wp.mode = null;
        wp.summary = this.refusalSummary(wp.request.label, error);
        wp.detail = `${explain(error)} (the kernel refused a change it had accepted when checked).`;
      }
    }
  }

  private runningSummary(wp: Watchpoint, mode: RunMode): string {
    const regs = `${wp.pieces.length} register${wp.pieces.length === 1 ? '' : 's'} per thread`;
    return mode === 'pinned'
      ? `Pinned: always in a debug register (${regs}).`
      : `Time-shared: takes turns in a register; may miss accesses (${wp.pieces.length} per thread).`;
  }

  /** "<label> refused: DR0–DR3 held by a, b, perf (cpu1)." in at most SUMMARY_MAX characters. */
  private refusalSummary(label: string, error: HwbpError): string {
    return clip(`${label} refused: ${this.heldBy(error)}.`);
  }

  /** Who holds the registers a refusal was about, short: "DR0–DR3 on cpu1 held by a, b and perf". */
  private heldBy(error: HwbpError): string {
    if (!(error instanceof NoSpaceError)) return explain(error).replace(/^thread [^:]+: /, '');
    const d = error.detail;
    const regs = `${d.registerNames[0]}–${d.registerNames[d.slots - 1]}`;
    const names: string[] = [];
    for (const h of d.holders) {
      const name = this.holderName(h.owner, h.eventId);
      if (!names.includes(name)) names.push(name);
    }
    if (d.keptForFlexible) names.push('1 kept for sharing');
    if (names.length === 0) return `${regs} cannot hold it`;
    return `${regs} held by ${listOf(names, SUMMARY_MAX - regs.length - 30)}`;
  }

  /** A holder as a user knows it: one of our watchpoints by its label, anything else by its owner. */
  private holderName(owner: string, eventId: number | null): string {
    const wp = eventId === null ? undefined : this.byEvent.get(eventId);
    if (wp !== undefined) return wp.request.label;
    const ours = /^watch (.*) \([^)]*\)$/.exec(owner);
    return ours !== null ? ours[1] : owner;
  }

  /** What would let a refused switch succeed. */
  private remedy(error: HwbpError, wp: Watchpoint, mode: WatchMode): string {
    if (!(error instanceof NoSpaceError)) return '';
    const ours = new Set<Watchpoint>();
    const others = new Set<string>();
    for (const h of error.detail.holders) {
      const w = h.eventId === null ? undefined : this.byEvent.get(h.eventId);
      if (w !== undefined && w !== wp) ours.add(w);
      else if (w === undefined) others.add(h.owner);
    }
    const labels = [...ours].map((w) => w.request.label);
    if (labels.length > 0) return `It would succeed after removing ${labels.length === 1 ? labels[0] : `one of ${listOf(labels, 60)}`} or making it flexible.`;
    if (others.size > 0) return `It would succeed once ${[...others].join(', ')} ${others.size === 1 ? 'releases its register' : 'release their registers'} (not this debugger's).`;
    return mode === 'pinned' ? 'It would succeed with fewer watchpoints pinned.' : '';
  }

  private liveThreads(): { id: number; pid: number; name: string }[] {
    return this.machine.threads
      .filter((t) => t.task !== null && t.state !== 'exited' && t.state !== 'unstarted')
      .map((t) => ({ id: t.id, pid: t.task!.pid, name: t.name }));
  }

  private attrOf(wp: Watchpoint, piece: Piece, mode: RunMode) {
    return { type: wp.request.access, addr: piece.addr, len: piece.len, pinned: mode === 'pinned' };
  }

  private ownerName(wp: Watchpoint, thread: string): string {
    return `watch ${wp.request.label} (${thread})`;
  }

  /** Install on every live thread, all or nothing. Returns null, or the kernel's refusal. */
  private install(wp: Watchpoint, mode: RunMode): HwbpError | null {
    const done: number[] = [];
    try {
      for (const t of this.liveThreads()) {
        wp.installed.set(t.id, this.openOn(wp, mode, t.pid, t.name));
        done.push(t.id);
      }
    } catch (e) {
      for (const id of done) this.releaseThread(wp, id, false);
      if (e instanceof HwbpError) return e;
      throw e;
    }
    return null;
  }

  /** Open one perf event per piece on one thread, all or nothing (throws the kernel's HwbpError). */
  private openOn(wp: Watchpoint, mode: RunMode, pid: number, thread: string): Installed[] {
    const out: Installed[] = [];
    const { lo, hi } = rangeOf(wp);
    try {
      for (const piece of wp.pieces) {
        const ev = this.machine.kernel.perfEventOpen(this.attrOf(wp, piece, mode), { pid, cpu: -1 }, { owner: this.ownerName(wp, thread) });
        out.push({ ev, eventId: ev.id });
        this.byEvent.set(ev.id, wp);
        this.machine.setStopping(ev.id, true, { lo, hi });
      }
      return out;
    } catch (e) {
      for (const one of out) this.releaseOne(wp, one, false);
      throw e;
    }
  }

  /** Close one register's event. */
  private releaseOne(wp: Watchpoint, one: Installed, keepTimes: boolean): void {
    if (keepTimes) this.accumulate(wp, one);
    this.machine.setStopping(one.eventId, false);
    this.byEvent.delete(one.eventId);
    try {
      one.ev.close();
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
    return c === undefined ? { enabled: 0, running: 0 } : { enabled: c.timeEnabled, running: c.timeRunning };
  }

  private accumulate(wp: Watchpoint, one: Installed): void {
    const t = this.timesOf(one);
    wp.pastEnabled += t.enabled;
    wp.pastRunning += t.running;
  }

  /**
   * After registers were freed: rejected watchpoints get another chance, and auto watchpoints that
   * run flexible become pinned again where that fits (oldest first, each checked before it moves).
   */
  private upgradeWaiting(): void {
    if (this.batching > 0) {
      this.upgradeDue = true;
      return;
    }
    // With no thread alive there is nothing to learn: any install would succeed vacuously.
    if (this.liveThreads().length === 0) return;
    for (const wp of this.watchpoints.values()) {
      if (wp.mode === null) {
        this.place(wp);
        if (wp.mode !== null) this.onChange(this.info(wp), 'accepted');
        continue;
      }
      if (wp.request.mode !== 'auto' || wp.mode === 'pinned' || !this.canPinModes(wp).includes('pinned')) continue;
      if (this.check([{ wp, to: 'pinned' }]) !== null) continue;
      this.commit([{ wp, to: 'pinned' }]);
      this.onChange(this.info(wp), 'upgraded');
    }
  }

  private onMachineEvent(e: MachineEvent): void {
    if (e.kind === 'hit') {
      this.countHit(e.hit);
      return;
    }
    if (e.kind === 'return') {
      this.batch(() => this.frameEnded(e));
      return;
    }
    if (e.kind !== 'thread') return;
    if (e.state === 'started') {
      for (const wp of this.watchpoints.values()) {
        if (wp.mode === null) continue;
        try {
          wp.installed.set(e.threadId, this.openOn(wp, wp.mode, e.pid, e.name));
        } catch (err) {
          if (!(err instanceof HwbpError)) throw err;
          // The new thread has no room for it as it runs now: choose again for the whole watchpoint.
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
    for (const list of wp.installed.values()) {
      for (const one of list) {
        eventIds.push(one.eventId);
        const t = this.timesOf(one);
        enabled += t.enabled;
        running += t.running;
      }
    }
    const r = wp.request;
    return {
      id: wp.id, label: r.label, addr: r.addr, size: r.size, access: r.access, requestedMode: r.mode, mode: wp.mode,
      state: wp.mode === null ? 'rejected' : 'active', message: wp.detail === '' ? wp.summary : `${wp.summary} ${wp.detail}`,
      summary: wp.summary, detail: wp.detail, canPin: wp.pieces.length <= this.slotsFor(r.access).slots,
      registersPerThread: wp.pieces.length, eventIds, hits: wp.hits, timeEnabled: enabled, timeRunning: running,
      estimate: running > 0 ? (wp.hits * enabled) / running : enabled === 0 ? wp.hits : null,
    };
  }
}

/** The bytes a watchpoint really watches (an execute breakpoint: its instruction's first byte). */
function rangeOf(wp: Watchpoint): { lo: number; hi: number } {
  const lo = wp.request.addr;
  return { lo, hi: wp.request.access === 'x' ? lo + 1 : lo + wp.request.size };
}

/** The kernel's explanation without its errno prefix or its advice on modes (ours is given once). */
function explain(error: HwbpError, capital = true): string {
  const text = error.message.replace(/^[A-Z]+: /, '').replace(/; a flexible breakpoint would time-share a register instead$/, '');
  return capital ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

/** "a, b and c", or "a, b and 3 more" when the whole list would pass `max` characters. */
function listOf(names: string[], max: number): string {
  const all = names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  if (all.length <= max) return all;
  for (let n = names.length - 1; n >= 1; n--) {
    const some = `${names.slice(0, n).join(', ')} and ${names.length - n} more`;
    if (some.length <= max) return some;
  }
  return `${names.length} breakpoints`;
}

/** Cut a sentence to SUMMARY_MAX characters, ending it with an ellipsis if it had to be cut. */
function clip(sentence: string): string {
  return sentence.length <= SUMMARY_MAX ? sentence : `${sentence.slice(0, SUMMARY_MAX - 2)}….`;
}
