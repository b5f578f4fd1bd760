/**
 * Running the program: continue, step and pause; the run loop, which runs the machine in slices
 * and yields to the event loop between them (so that pause and other requests are answered); the
 * conditions and hit counts checked after a trap; and the stop, reported as DAP events.
 */
import { ExitedEvent, OutputEvent, StoppedEvent, TerminatedEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { lostUpdateHint, type StepKind, type StopEvent } from '../target';
import type { CodeBp } from './codeBreakpoints';
import { needMachine, needStopped, type SessionContext } from './common';
import { hitConditionHolds } from './conditions';
import type { DataBp } from './dataBreakpoints';
import { nextTurn } from './nextTurn';

/** CPU slots per run slice: small enough that requests (pause) are answered promptly. */
const SLICE = 20_000;
/** While running, the state event goes out at most this often. */
const STATE_INTERVAL_MS = 100;

/** What the run loop needs of the breakpoints: which of them a stop is about. */
export interface StopSources {
  /** Software breakpoints at a code address. */
  softwareAt(addr: number | undefined): CodeBp[];
  /** Data and hardware code breakpoints whose watchpoint is one of these. */
  withWatch(watchIds: ReadonlySet<number>): (DataBp | CodeBp)[];
}

export class RunLoop {
  /** A run is in progress when this matches the current run's token. */
  private runToken = 0;
  private isRunning = false;
  private stop: StopEvent | null = null;
  /** The breakpoints whose conditions held at the stop being reported (its hitBreakpointIds). */
  private passing: (DataBp | CodeBp)[] = [];
  private lastStateSent = 0;

  /**
   * @param onRun called as the program starts running (frame and variable references go stale)
   */
  constructor(private readonly ctx: SessionContext, private readonly sources: StopSources, private readonly onRun: () => void) {}

  get running(): boolean {
    return this.isRunning;
  }

  /** The stop being shown (null while running and before the first). */
  get lastStop(): StopEvent | null {
    return this.stop;
  }

  /** Stop running, forget the last stop; a slice in progress sees its token is stale and ends. */
  cancel(): void {
    this.runToken++;
    this.isRunning = false;
    this.stop = null;
    this.passing = [];
  }

  /** Start the program: stop on entry, or run. */
  begin(stopOnEntry: boolean): void {
    if (stopOnEntry) {
      this.ctx.send(new StoppedEvent('entry', 1));
      this.sendState();
    } else {
      void this.run();
    }
  }

  /** continue: after a fault the program ends, as a process killed by a signal. Sends the response itself. */
  continue(respond: () => void): void {
    const m = needMachine(this.ctx);
    respond();
    if (this.stop !== null && (this.stop.reason === 'exception' || this.stop.reason === 'deadlock')) {
      this.ctx.send(new ExitedEvent(139));
      this.ctx.send(new TerminatedEvent());
      return;
    }
    m.cancelStep();
    void this.run();
  }

  step(threadId: number, kind: StepKind, respond: () => void): void {
    const m = needStopped(this.ctx);
    m.step(threadId, kind);
    respond();
    void this.run();
  }

  pause(): void {
    const m = needMachine(this.ctx);
    if (this.isRunning) m.pause();
  }

  /** The state event, and when it was last sent (running, it goes out at most every 100 ms). */
  sendState(): void {
    this.lastStateSent = Date.now();
    this.ctx.sendState();
  }

  private async run(): Promise<void> {
    const m = this.ctx.machine;
    if (m === null) return;
    const token = ++this.runToken;
    this.isRunning = true;
    this.onRun();
    let sliceStart = Date.now();
    for (;;) {
      const stop = m.run(SLICE);
      if (token !== this.runToken || this.ctx.machine !== m) return;
      if (stop !== null && this.shouldStop(stop)) {
        this.isRunning = false;
        this.report(stop);
        return;
      }
      // Between slices, and while skipping stops whose conditions fail, let requests (pause) in.
      if (stop === null || Date.now() - sliceStart > 10) {
        if (Date.now() - this.lastStateSent > STATE_INTERVAL_MS) this.sendState();
        await nextTurn();
        if (token !== this.runToken || this.ctx.machine !== m) return;
        sliceStart = Date.now();
      }
    }
  }

  /** Conditions and hit counts are evaluated after the trap, as a debugger does. */
  private shouldStop(stop: StopEvent): boolean {
    if (stop.reason === 'data' || stop.reason === 'exec' || stop.reason === 'breakpoint') {
      const bps = this.breakpointsFor(stop);
      // A stop no breakpoint of ours explains (another debugger's ptrace breakpoint) still stops.
      if (bps.length === 0) {
        this.passing = [];
        return true;
      }
      this.passing = bps.filter((bp) => {
        if (bp.condition !== null && !this.conditionHolds(bp.condition, stop)) return false;
        bp.hits++;
        return bp.hitCondition === null || hitConditionHolds(bp.hitCondition, bp.hits);
      });
      return this.passing.length > 0;
    }
    this.passing = [];
    return true;
  }

  private conditionHolds(condition: string, stop: StopEvent): boolean {
    try {
      const v = this.ctx.machine!.evaluate(condition, stop.threadId, 0).value;
      return v !== '0' && v !== '0x0';
    } catch (e) {
      // A condition that cannot be evaluated here stops the program, and says why.
      this.ctx.send(new OutputEvent(`condition '${condition}' could not be evaluated: ${(e as Error).message}; stopping\n`, 'console'));
      return true;
    }
  }

  /** The DAP breakpoints behind a stop. */
  private breakpointsFor(stop: StopEvent): (DataBp | CodeBp)[] {
    if (stop.reason === 'breakpoint') return this.sources.softwareAt(stop.location?.codeAddr);
    const watchIds = new Set(stop.eventIds.map((id) => this.ctx.watches?.ownerOf(id)?.id).filter((x): x is number => x !== undefined));
    return this.sources.withWatch(watchIds);
  }

  private report(stop: StopEvent): void {
    this.stop = stop;
    // Any stop but the step's own ends the step (the user decides what to do next).
    if (stop.reason !== 'step') this.ctx.machine?.cancelStep();
    const threadId = stop.threadId ?? 1;
    switch (stop.reason) {
      case 'exited':
        this.sendState();
        this.ctx.send(new ExitedEvent(stop.exitCode ?? 0));
        this.ctx.send(new TerminatedEvent());
        return;
      case 'exception':
      case 'deadlock': {
        const ev = new StoppedEvent('exception', threadId, stop.message ?? 'runtime error') as DebugProtocol.StoppedEvent;
        ev.body.description = stop.reason === 'deadlock' ? 'Deadlock' : 'Runtime error';
        ev.body.allThreadsStopped = true;
        this.ctx.send(ev);
        break;
      }
      default: {
        const bps = stop.reason === 'step' || stop.reason === 'pause' ? [] : this.passing;
        // An execute register behind a source or function breakpoint is still a breakpoint to the user.
        const viaSource = stop.reason === 'exec' && bps.some((b) => 'kind' in b && b.kind !== 'instruction');
        const reason = viaSource ? 'breakpoint' : { data: 'data breakpoint', exec: 'instruction breakpoint', breakpoint: 'breakpoint', step: 'step', pause: 'pause' }[stop.reason];
        const ev = new StoppedEvent(reason, threadId) as DebugProtocol.StoppedEvent;
        ev.body.allThreadsStopped = true;
        if (bps.length > 0) ev.body.hitBreakpointIds = bps.map((b) => b.id);
        ev.body.description = this.describe(stop, bps);
        this.ctx.send(ev);
      }
    }
    this.sendState();
  }

  /** A person should understand the stop at a glance. */
  private describe(stop: StopEvent, bps: (DataBp | CodeBp)[]): string {
    const watches = this.ctx.watches;
    if (stop.reason === 'data' && stop.hits.length > 0) {
      const bp = bps.find((b): b is DataBp => 'target' in b);
      // Name the register, access and value of the breakpoint reported, not of whatever matched first.
      const own = new Set(bp !== undefined && bp.watchId !== null ? watches?.find(bp.watchId)?.eventIds ?? [] : []);
      const h = stop.hits.find((x) => x.hit.matches.some((m) => own.has(m.eventId))) ?? stop.hits[0];
      const mine = h.hit.matches.filter((m) => (own.size > 0 ? own.has(m.eventId) : stop.eventIds.includes(m.eventId)));
      const regs = mine.map((m) => m.registerName).join('+');
      const what = bp?.target.expr ?? `0x${h.hit.addr.toString(16)}`;
      const watch = bp !== undefined && bp.watchId !== null ? watches?.find(bp.watchId) : undefined;
      const kind = watch?.mode === 'flexible' ? 'Flexible hardware watchpoint' : 'Hardware watchpoint';
      const change = h.kind === 'write' ? `written ${h.oldValue} → ${h.newValue}` : `read (${h.newValue})`;
      return `${kind} ${regs} (cpu${stop.cpu}): ${what} ${change}${lostUpdateHint(h)}`;
    }
    if (stop.reason === 'exec') {
      const regs = stop.hits[0]?.hit.matches.filter((m) => stop.eventIds.includes(m.eventId)).map((m) => m.registerName).join('+') ?? '';
      return `Hardware breakpoint ${regs} (cpu${stop.cpu}) at line ${stop.location?.line ?? '?'}`;
    }
    if (stop.reason === 'breakpoint') return `Breakpoint at line ${stop.location?.line ?? '?'}`;
    if (stop.reason === 'pause') return 'Paused';
    return 'Step';
  }
}

