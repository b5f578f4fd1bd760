/**
 * The Debug Adapter Protocol session: translates DAP requests into calls on the simulated machine
 * (src/target) and the watchpoint manager, and the machine's stops into DAP events. It holds no
 * debugger logic of its own beyond that translation: what a watchpoint is lives in watchpoints.ts,
 * how a program runs lives in the target.
 */
import { readFileSync } from 'node:fs';
import { resolve as resolvePath, basename } from 'node:path';
import {
  BreakpointEvent, ExitedEvent, Handles, InitializedEvent, LoggingDebugSession, OutputEvent, Source, StackFrame, StoppedEvent,
  TerminatedEvent, Thread, ThreadEvent, Event as DapEvent, logger, Logger,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { KernelSnapshot } from '../hwbp';
import { formatDiagnostic, loadProgram, RuntimeFault, type Machine, type StopEvent, type VariableInfo } from '../target';
import { WatchpointManager, type WatchAccess, type WatchMode, type WatchpointInfo } from './watchpoints';

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

/** CPU slots per run slice: small enough that requests (pause) are answered promptly. */
const SLICE = 20_000;
/** While running, the state event goes out at most this often. */
const STATE_INTERVAL_MS = 100;

type VarRef =
  | { kind: 'locals'; threadId: number; frame: number }
  | { kind: 'globals'; threadId: number | null; frame: number }
  | { kind: 'array'; threadId: number | null; frame: number; expr: string; info: VariableInfo }
  | { kind: 'registers'; cpu: number }
  | { kind: 'dr7'; cpu: number };

/**
 * What a dataId stands for. A global or an address can be persisted; a frame's local cannot: it
 * names the frame (by identity, in this run of the machine) and its watchpoint ends with it.
 */
interface DataTarget {
  k: 'global' | 'addr' | 'frame';
  expr: string;
  addr: number;
  size: number;
  scope?: { run: string; threadId: number; frameId: number; fn: string };
}

interface DataBp {
  id: number;
  key: string;
  target: DataTarget;
  access: WatchAccess;
  watchId: number | null;
  condition: string | null;
  hitCondition: string | null;
  hits: number;
  verified: boolean;
  message: string;
}

interface CodeBp {
  id: number;
  addr: number;
  line: number;
  mode: 'software' | 'hardware';
  watchId: number | null;
  condition: string | null;
  hitCondition: string | null;
  hits: number;
  kind: 'source' | 'function' | 'instruction';
}

class UserError extends Error {}

export class HwbpDebugSession extends LoggingDebugSession {
  private machine: Machine | null = null;
  private watches: WatchpointManager | null = null;
  private launchArgs: LaunchArguments | null = null;
  private programPath = '';
  private readonly refs = new Handles<VarRef>();
  private readonly frameRefs = new Handles<{ threadId: number; frame: number }>();
  private dataBps: DataBp[] = [];
  private codeBps: CodeBp[] = [];
  /** Breakpoint ids are unique across kinds, as DAP breakpoint events need. */
  private nextBpId = 1;
  /** A run is in progress when this matches the current run's token. */
  private runToken = 0;
  private running = false;
  private lastStop: StopEvent | null = null;
  /** The breakpoints whose conditions held at the stop being reported (its hitBreakpointIds). */
  private passing: (DataBp | CodeBp)[] = [];
  private lastStateSent = 0;
  private configured = false;
  private pendingStart: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;
  /** While a mode switch runs: the other watchpoints it moved, for the response. */
  private changeLog: { label: string; why: string }[] | null = null;
  /** How frames that took data breakpoints with them ended ("first() returned (line 9)"), by run:frameId. */
  private readonly endedFrames = new Map<string, string>();

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  // ------------------------------------------------------------------------------------------
  // Plumbing: every handler answers, with a clear error message when something is wrong.

  private handle<R extends DebugProtocol.Response>(response: R, body: () => void): void {
    try {
      body();
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.sendErrorResponse(response, { id: 3000, format: message.replace(/[{}]/g, (c) => (c === '{' ? '(' : ')')), showUser: e instanceof UserError });
    }
  }

  private need(): Machine {
    if (this.machine === null) throw new UserError('no program is running (launch one first)');
    return this.machine;
  }

  private needStopped(): Machine {
    const m = this.need();
    if (this.running) throw new UserError('the program is running; pause it first');
    return m;
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      ...response.body,
      supportsConfigurationDoneRequest: true,
      supportsDataBreakpoints: true,
      supportsDataBreakpointBytes: true,
      supportsInstructionBreakpoints: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsReadMemoryRequest: true,
      supportsWriteMemoryRequest: true,
      supportsDisassembleRequest: true,
      supportsSteppingGranularity: true,
      supportsSetVariable: true,
      supportsEvaluateForHovers: true,
      supportsTerminateRequest: true,
      supportsRestartRequest: true,
      supportsExceptionInfoRequest: true,
      supportsValueFormattingOptions: false,
      breakpointModes: [
        { mode: 'software', label: 'Software', description: 'Unlimited; no debug register needed', appliesTo: ['source', 'instruction'] },
        { mode: 'hardware', label: 'Hardware', description: 'Takes an execute debug register on every thread (like GDB hbreak)', appliesTo: ['source', 'instruction'] },
      ],
    };
    this.sendResponse(response);
  }

  protected override launchRequest(response: DebugProtocol.LaunchResponse, args: LaunchArguments): void {
    this.handle(response, () => {
      logger.setup(args.trace ? Logger.LogLevel.Verbose : Logger.LogLevel.Stop, false);
      if (typeof args.program !== 'string' || args.program === '') throw new UserError("launch: 'program' must name a .hwsim file");
      if (args.watchpointMode !== undefined && !['auto', 'pinned', 'flexible'].includes(args.watchpointMode)) {
        throw new UserError(`launch: watchpointMode '${String(args.watchpointMode)}' must be auto, pinned or flexible`);
      }
      this.launchArgs = args;
      this.programPath = resolvePath(args.program);
      this.load();
      this.sendResponse(response);
      this.sendEvent(new InitializedEvent());
      // Run (or stop on entry) once the client has sent its breakpoints.
      this.pendingStart = () => this.beginExecution();
      if (this.configured) this.startNow();
    });
  }

  /** (Re)create the machine from the program file; reports diagnostics as the launch error. */
  private load(): void {
    const args = this.launchArgs!;
    let source: string;
    try {
      source = readFileSync(this.programPath, 'utf8');
    } catch (e) {
      throw new UserError(`cannot read ${args.program}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    const { diagnostics, machine } = loadProgram(source, this.programPath, {
      arch: args.arch, cpus: args.cpus, seed: args.seed, mux: args.mux, timeslice: args.timeslice,
    });
    if (machine === null) {
      const text = diagnostics.map(formatDiagnostic).join('\n');
      this.sendEvent(new OutputEvent(text + '\n', 'stderr'));
      throw new UserError(`${basename(this.programPath)} has errors:\n${text}`);
    }
    this.machine = machine;
    this.unsubscribe = machine.on((e) => {
      if (e.kind === 'output') this.sendEvent(new OutputEvent(`${e.text}\n`, 'stdout'));
      else if (e.kind === 'notice') this.sendEvent(new OutputEvent(`${e.text}\n`, 'console'));
      else if (e.kind === 'thread') this.sendEvent(new ThreadEvent(e.state, e.threadId));
    });
    for (const u of machine.users) {
      const what = u.error === null ? `holds event${u.eventIds.length > 1 ? 's' : ''} #${u.eventIds.join(', #')}` : `refused: ${u.error}`;
      this.sendEvent(new OutputEvent(`other debug-register user: ${u.user.label} ${what}\n`, 'console'));
    }
    this.watches = new WatchpointManager(machine, (info, why) => {
      this.changeLog?.push({ label: info.label, why });
      this.watchChanged(info, why);
    });
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.configured = true;
    this.sendResponse(response);
    this.startNow();
  }

  private startNow(): void {
    const start = this.pendingStart;
    this.pendingStart = null;
    start?.();
  }

  private beginExecution(): void {
    if (this.launchArgs?.stopOnEntry) {
      this.sendEvent(new StoppedEvent('entry', 1));
      this.sendState();
    } else {
      void this.runLoop();
    }
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    this.shutdownProgram();
    this.sendResponse(response);
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.shutdownProgram();
    this.sendResponse(response);
    this.sendEvent(new TerminatedEvent());
  }

  protected override restartRequest(response: DebugProtocol.RestartResponse): void {
    this.handle(response, () => {
      if (this.launchArgs === null) throw new UserError('nothing to restart: launch a program first');
      this.shutdownProgram();
      this.load();
      this.reapplyBreakpoints();
      this.sendResponse(response);
      this.beginExecution();
    });
  }

  /** Stop any run and release every register the session holds. */
  private shutdownProgram(): void {
    this.runToken++;
    this.running = false;
    this.lastStop = null;
    this.passing = [];
    this.watches?.dispose();
    this.watches = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.machine = null;
    for (const bp of this.dataBps) bp.watchId = null;
    for (const bp of this.codeBps) bp.watchId = null;
  }

  private reapplyBreakpoints(): void {
    // A local's frame did not survive the restart: its breakpoint ends, as when the frame returns.
    for (const bp of this.dataBps.filter((b) => b.target.scope !== undefined)) this.dataEnded(bp, `Watchpoint on ${bp.target.expr} deleted: the program restarted`);
    const data = this.dataBps;
    this.dataBps = [];
    this.applyDataBreakpoints(data.map((bp) => ({ target: bp.target, access: bp.access, condition: bp.condition, hitCondition: bp.hitCondition, id: bp.id })));
    for (const bp of this.codeBps) {
      bp.hits = 0; // a new run counts afresh
      if (bp.mode === 'hardware') this.placeHardware(bp);
    }
    this.syncSoftware();
  }

  // ------------------------------------------------------------------------------------------
  // Running

  private async runLoop(): Promise<void> {
    const m = this.machine;
    if (m === null) return;
    const token = ++this.runToken;
    this.running = true;
    this.frameRefs.reset();
    this.refs.reset();
    let sliceStart = Date.now();
    for (;;) {
      const stop = m.run(SLICE);
      if (token !== this.runToken || this.machine !== m) return;
      if (stop !== null && this.shouldStop(stop)) {
        this.running = false;
        this.report(stop);
        return;
      }
      // Between slices, and while skipping stops whose conditions fail, let requests (pause) in.
      if (stop === null || Date.now() - sliceStart > 10) {
        if (Date.now() - this.lastStateSent > STATE_INTERVAL_MS) this.sendState();
        await new Promise<void>((r) => setImmediate(r));
        if (token !== this.runToken || this.machine !== m) return;
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
      const v = this.machine!.evaluate(condition, stop.threadId, 0).value;
      return v !== '0' && v !== '0x0';
    } catch (e) {
      // A condition that cannot be evaluated here stops the program, and says why.
      this.sendEvent(new OutputEvent(`condition '${condition}' could not be evaluated: ${(e as Error).message}; stopping\n`, 'console'));
      return true;
    }
  }

  /** The DAP breakpoints behind a stop. */
  private breakpointsFor(stop: StopEvent): (DataBp | CodeBp)[] {
    const out: (DataBp | CodeBp)[] = [];
    if (stop.reason === 'breakpoint') {
      const addr = stop.location?.codeAddr;
      return this.codeBps.filter((bp) => bp.mode === 'software' && bp.addr === addr);
    }
    const watchIds = new Set(stop.eventIds.map((id) => this.watches?.ownerOf(id)?.id).filter((x): x is number => x !== undefined));
    for (const bp of this.dataBps) if (bp.watchId !== null && watchIds.has(bp.watchId)) out.push(bp);
    for (const bp of this.codeBps) if (bp.watchId !== null && watchIds.has(bp.watchId)) out.push(bp);
    return out;
  }

  private report(stop: StopEvent): void {
    this.lastStop = stop;
    // Any stop but the step's own ends the step (the user decides what to do next).
    if (stop.reason !== 'step') this.machine?.cancelStep();
    const threadId = stop.threadId ?? 1;
    switch (stop.reason) {
      case 'exited':
        this.sendState();
        this.sendEvent(new ExitedEvent(stop.exitCode ?? 0));
        this.sendEvent(new TerminatedEvent());
        return;
      case 'exception':
      case 'deadlock': {
        const ev = new StoppedEvent('exception', threadId, stop.message ?? 'runtime error') as DebugProtocol.StoppedEvent;
        ev.body.description = stop.reason === 'deadlock' ? 'Deadlock' : 'Runtime error';
        ev.body.allThreadsStopped = true;
        this.sendEvent(ev);
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
        this.sendEvent(ev);
      }
    }
    this.sendState();
  }

  /** A person should understand the stop at a glance. */
  private describe(stop: StopEvent, bps: (DataBp | CodeBp)[]): string {
    if (stop.reason === 'data' && stop.hits.length > 0) {
      const bp = bps.find((b): b is DataBp => 'target' in b);
      // Name the register, access and value of the breakpoint reported, not of whatever matched first.
      const own = new Set(bp !== undefined && bp.watchId !== null ? this.watches?.find(bp.watchId)?.eventIds ?? [] : []);
      const h = stop.hits.find((x) => x.hit.matches.some((m) => own.has(m.eventId))) ?? stop.hits[0];
      const mine = h.hit.matches.filter((m) => (own.size > 0 ? own.has(m.eventId) : stop.eventIds.includes(m.eventId)));
      const regs = mine.map((m) => m.registerName).join('+');
      const what = bp?.target.expr ?? `0x${h.hit.addr.toString(16)}`;
      const watch = bp !== undefined && bp.watchId !== null ? this.watches?.find(bp.watchId) : undefined;
      const kind = watch?.mode === 'flexible' ? 'Flexible hardware watchpoint' : 'Hardware watchpoint';
      const change = h.kind === 'write' ? `written ${h.oldValue} → ${h.newValue}` : `read (${h.newValue})`;
      return `${kind} ${regs} (cpu${stop.cpu}): ${what} ${change}`;
    }
    if (stop.reason === 'exec') {
      const regs = stop.hits[0]?.hit.matches.filter((m) => stop.eventIds.includes(m.eventId)).map((m) => m.registerName).join('+') ?? '';
      return `Hardware breakpoint ${regs} (cpu${stop.cpu}) at line ${stop.location?.line ?? '?'}`;
    }
    if (stop.reason === 'breakpoint') return `Breakpoint at line ${stop.location?.line ?? '?'}`;
    if (stop.reason === 'pause') return 'Paused';
    return 'Step';
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    this.handle(response, () => {
      const m = this.need();
      response.body = { allThreadsContinued: true };
      this.sendResponse(response);
      if (this.lastStop !== null && (this.lastStop.reason === 'exception' || this.lastStop.reason === 'deadlock')) {
        // A program that faulted does not go on, as a process killed by a signal.
        this.sendEvent(new ExitedEvent(139));
        this.sendEvent(new TerminatedEvent());
        return;
      }
      m.cancelStep();
      void this.runLoop();
    });
  }

  private stepRequest(response: DebugProtocol.Response, threadId: number, kind: 'into' | 'over' | 'out'): void {
    this.handle(response, () => {
      const m = this.needStopped();
      m.step(this.threadOf(threadId), kind);
      this.sendResponse(response);
      void this.runLoop();
    });
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    this.stepRequest(response, args.threadId, 'over');
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void {
    this.stepRequest(response, args.threadId, 'into');
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): void {
    this.stepRequest(response, args.threadId, 'out');
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.handle(response, () => {
      const m = this.need();
      if (this.running) m.pause();
      this.sendResponse(response);
    });
  }

  private threadOf(id: unknown): number {
    const m = this.need();
    if (typeof id !== 'number' || !m.threads.some((t) => t.id === id)) throw new UserError(`no thread with id ${String(id)}`);
    return id;
  }

  // ------------------------------------------------------------------------------------------
  // Inspection

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    const m = this.machine;
    const threads = m === null ? [] : m.threadInfos().filter((t) => t.state !== 'unstarted' && t.state !== 'exited');
    response.body = { threads: threads.map((t) => new Thread(t.id, t.cpu === null ? t.name : `${t.name} (cpu${t.cpu})`)) };
    if (response.body.threads.length === 0) response.body.threads = [new Thread(1, 'main')];
    this.sendResponse(response);
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    this.handle(response, () => {
      const m = this.needStopped();
      const threadId = this.threadOf(args.threadId);
      const th = m.thread(threadId);
      if (th.state === 'exited' || th.frames.length === 0) {
        response.body = { stackFrames: [], totalFrames: 0 };
        this.sendResponse(response);
        return;
      }
      const frames = m.frames(threadId);
      const start = args.startFrame ?? 0;
      const count = args.levels || frames.length; // 0 or absent: all of them
      const source = new Source(basename(this.programPath), this.programPath);
      response.body = {
        stackFrames: frames.slice(start, start + count).map((f) => {
          const sf = new StackFrame(this.frameRefs.create({ threadId, frame: f.index }), f.fn, source, f.location.line, f.location.col) as DebugProtocol.StackFrame;
          sf.endLine = f.location.endLine;
          sf.endColumn = f.location.endCol;
          sf.instructionPointerReference = hex(f.location.codeAddr);
          return sf;
        }),
        totalFrames: frames.length,
      };
      this.sendResponse(response);
    });
  }

  private frameOf(frameId: unknown): { threadId: number; frame: number } {
    const f = typeof frameId === 'number' ? this.frameRefs.get(frameId) : undefined;
    if (f === undefined) throw new UserError(`frame ${String(frameId)} is not valid (frames are valid only while stopped)`);
    return f;
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    this.handle(response, () => {
      const m = this.needStopped();
      const { threadId, frame } = this.frameOf(args.frameId);
      const cpu = m.thread(threadId).cpu;
      response.body = {
        scopes: [
          { name: 'Locals', variablesReference: this.refs.create({ kind: 'locals', threadId, frame }), expensive: false, presentationHint: 'locals' },
          { name: 'Globals', variablesReference: this.refs.create({ kind: 'globals', threadId, frame }), expensive: false },
          { name: `Registers (cpu${cpu})`, variablesReference: this.refs.create({ kind: 'registers', cpu }), expensive: false, presentationHint: 'registers' },
        ],
      };
      this.sendResponse(response);
    });
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    this.handle(response, () => {
      const m = this.needStopped();
      const ref = this.refs.get(args.variablesReference);
      if (ref === undefined) throw new UserError(`variablesReference ${args.variablesReference} is not valid (references are valid only while stopped)`);
      let variables: DebugProtocol.Variable[];
      switch (ref.kind) {
        case 'locals':
          variables = m.locals(ref.threadId, ref.frame).map((v) => this.variable(v, v.name, ref.threadId, ref.frame));
          break;
        case 'globals':
          variables = m.globals().map((v) => this.variable(v, v.name, ref.threadId, ref.frame));
          break;
        case 'array': {
          const elemSize = ref.info.size / (ref.info.elements?.length ?? 1);
          const elemType = ref.info.type.replace(/\[\d+\]$/, '');
          variables = (ref.info.elements ?? []).map((value, i) => ({
            name: `[${i}]`, value, type: elemType, variablesReference: 0, evaluateName: `${ref.expr}[${i}]`,
            memoryReference: hex(ref.info.addr + i * elemSize),
          }));
          break;
        }
        case 'registers':
          variables = this.registerVariables(m, ref.cpu);
          break;
        case 'dr7':
          variables = (m.kernel.snapshot().cpus[ref.cpu].control.dr7Decoded ?? []).map((d) => ({
            name: `slot ${d.slot}`, value: `${d.global ? 'G' : '-'}${d.local ? 'L' : '-'} ${d.rw} len ${d.len}`, variablesReference: 0,
          }));
          break;
      }
      response.body = { variables };
      this.sendResponse(response);
    });
  }

  private variable(v: VariableInfo, expr: string, threadId: number | null, frame: number): DebugProtocol.Variable {
    return {
      name: v.name, value: v.value, type: v.type, evaluateName: expr, memoryReference: hex(v.addr),
      variablesReference: v.elements !== undefined ? this.refs.create({ kind: 'array', threadId, frame, expr, info: v }) : 0,
      presentationHint: this.isWatched(v.addr, v.size) ? { attributes: ['hasDataBreakpoint'] } : undefined,
    };
  }

  private isWatched(addr: number, size: number): boolean {
    return this.dataBps.some((bp) => bp.verified && bp.target.addr < addr + size && bp.target.addr + bp.target.size > addr);
  }

  /** The stopped CPU's debug registers, decoded. */
  private registerVariables(m: Machine, cpu: number): DebugProtocol.Variable[] {
    const snap = m.kernel.snapshot().cpus[cpu];
    const out: DebugProtocol.Variable[] = [];
    for (const cls of snap.classes) {
      for (const r of cls.registers) {
        const o = r.occupant;
        out.push({
          name: r.name,
          value: o === null ? 'free' : `${hex(r.value)}  #${o.eventId} ${o.owner}: ${o.type} len ${o.len} ${o.pinned ? 'pinned' : 'flexible'}`,
          variablesReference: 0,
        });
      }
    }
    if (snap.control.dr7 !== undefined) {
      out.push({ name: 'DR6', value: hex(snap.control.dr6 ?? 0) + (snap.control.statusHits.length > 0 ? `  (${snap.control.statusHits.join(', ')})` : ''), variablesReference: 0 });
      out.push({ name: 'DR7', value: hex(snap.control.dr7), variablesReference: this.refs.create({ kind: 'dr7', cpu }) });
    }
    const running = snap.runningPid === null ? null : m.threads.find((t) => t.task?.pid === snap.runningPid);
    if (running && running.frames.length > 0) out.push({ name: 'pc', value: hex(m.frames(running.id)[0].location.codeAddr), variablesReference: 0 });
    return out;
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    this.handle(response, () => {
      const m = this.needStopped();
      const scope = args.frameId === undefined ? null : this.frameOf(args.frameId);
      const r = m.evaluate(args.expression, scope?.threadId ?? null, scope?.frame ?? 0);
      let ref = 0;
      if (r.type.endsWith(']')) {
        const info = m.variable(args.expression, scope?.threadId ?? null, scope?.frame ?? 0);
        if (info !== null) ref = this.refs.create({ kind: 'array', threadId: scope?.threadId ?? null, frame: scope?.frame ?? 0, expr: args.expression, info });
      }
      response.body = { result: r.value, type: r.type, variablesReference: ref, memoryReference: r.addr === null ? undefined : hex(r.addr) };
      this.sendResponse(response);
    });
  }

  protected override setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): void {
    this.handle(response, () => {
      const m = this.needStopped();
      const ref = this.refs.get(args.variablesReference);
      if (ref === undefined || ref.kind === 'registers' || ref.kind === 'dr7') throw new UserError('only variables and array elements can be set');
      const expr = ref.kind === 'array' ? `${ref.expr}${args.name}` : args.name;
      const threadId = ref.kind === 'globals' ? null : ref.threadId;
      const r = m.assign(expr, args.value, threadId, ref.frame);
      response.body = { value: r.value, type: r.type };
      this.sendResponse(response);
    });
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const stop = this.lastStop;
    response.body = {
      exceptionId: stop?.reason === 'deadlock' ? 'deadlock' : 'runtime error',
      description: stop?.message ?? 'no exception',
      breakMode: 'always',
    };
    this.sendResponse(response);
  }

  // ------------------------------------------------------------------------------------------
  // Memory and disassembly

  protected override readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): void {
    this.handle(response, () => {
      const m = this.needStopped();
      const base = parseAddress(args.memoryReference) + (args.offset ?? 0);
      const count = args.count;
      if (!Number.isInteger(count) || count < 0 || count > 1 << 20) throw new UserError(`readMemory: count ${count} must be 0 to 1048576 bytes`);
      // Skip what is unmapped before the first readable byte; stop at the first unmapped one after it.
      let leading = 0;
      while (leading < count && m.memory.find(base + leading, 1) === null) leading++;
      const bytes: number[] = [];
      for (let a = base + leading; a < base + count; a++) {
        const seg = m.memory.find(a, 1);
        if (seg === null) break;
        bytes.push(seg.bytes[a - seg.base]);
      }
      response.body = bytes.length === 0
        ? { address: hex(base), data: '', unreadableBytes: count }
        : { address: hex(base + leading), data: Buffer.from(bytes).toString('base64'), unreadableBytes: count - leading - bytes.length };
      this.sendResponse(response);
    });
  }

  protected override writeMemoryRequest(response: DebugProtocol.WriteMemoryResponse, args: DebugProtocol.WriteMemoryArguments): void {
    this.handle(response, () => {
      const m = this.needStopped();
      const addr = parseAddress(args.memoryReference) + (args.offset ?? 0);
      const data = Buffer.from(args.data, 'base64');
      m.memory.write(addr, new Uint8Array(data));
      response.body = { bytesWritten: data.length };
      this.sendResponse(response);
    });
  }

  protected override disassembleRequest(response: DebugProtocol.DisassembleResponse, args: DebugProtocol.DisassembleArguments): void {
    this.handle(response, () => {
      const m = this.need();
      const all = m.allStatements();
      const base = parseAddress(args.memoryReference) + (args.offset ?? 0);
      const start = Math.floor(base / 4) * 4 + (args.instructionOffset ?? 0) * 4;
      const source = new Source(basename(this.programPath), this.programPath);
      const instructions: DebugProtocol.DisassembledInstruction[] = [];
      for (let i = 0; i < args.instructionCount; i++) {
        const addr = start + i * 4;
        const s = m.statementAt(addr);
        if (s === undefined) {
          instructions.push({ address: hex(addr), instruction: '??', presentationHint: 'invalid' });
          continue;
        }
        instructions.push({
          address: hex(addr), instruction: s.text, symbol: s === all.find((x) => x.fn === s.fn) ? s.fn : undefined,
          location: source, line: s.span.line, column: s.span.col, endLine: s.span.endLine, endColumn: s.span.endCol,
        });
      }
      response.body = { instructions };
      this.sendResponse(response);
    });
  }

  // ------------------------------------------------------------------------------------------
  // Source, function and instruction breakpoints

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    this.handle(response, () => {
      const statements = this.need().allStatements();
      response.body = {
        breakpoints: this.replaceCode('source', (args.breakpoints ?? []).map((sb) => {
          // A line without a statement moves to the next one that has one.
          const s = statements.filter((x) => x.span.line >= sb.line).sort((a, b) => a.span.line - b.span.line || a.codeAddr - b.codeAddr)[0];
          return {
            addr: s?.codeAddr ?? -1, line: s?.span.line ?? sb.line, mode: sb.mode, condition: sb.condition, hitCondition: sb.hitCondition,
            problem: s === undefined ? `no statement at or after line ${sb.line}` : null,
          };
        })),
      };
      this.sendResponse(response);
    });
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    this.handle(response, () => {
      const statements = this.need().allStatements();
      response.body = {
        breakpoints: this.replaceCode('function', (args.breakpoints ?? []).map((fb) => {
          const s = statements.find((x) => x.fn === fb.name);
          return {
            addr: s?.codeAddr ?? -1, line: s?.span.line ?? 0, mode: undefined, condition: fb.condition, hitCondition: fb.hitCondition,
            problem: s === undefined ? `no function or thread named '${fb.name}'` : null,
          };
        })),
      };
      this.sendResponse(response);
    });
  }

  protected override setInstructionBreakpointsRequest(response: DebugProtocol.SetInstructionBreakpointsResponse, args: DebugProtocol.SetInstructionBreakpointsArguments): void {
    this.handle(response, () => {
      const m = this.need();
      response.body = {
        breakpoints: this.replaceCode('instruction', (args.breakpoints ?? []).map((ib) => {
          let addr = -1;
          let problem: string | null = null;
          try {
            addr = parseAddress(ib.instructionReference) + (ib.offset ?? 0);
          } catch (e) {
            problem = (e as Error).message;
          }
          const s = addr >= 0 ? m.statementAt(addr) : undefined;
          if (problem === null && s === undefined) problem = `${hex(addr)} is not the address of a statement (statements are 4 bytes apart from 0x400000)`;
          return { addr, line: s?.span.line ?? 0, mode: ib.mode, condition: ib.condition, hitCondition: ib.hitCondition, problem };
        })),
      };
      this.sendResponse(response);
    });
  }

  /**
   * Replace all breakpoints of one kind (what each set*Breakpoints request means): release the old
   * ones first, so that hardware ones can take the registers they freed, then place the new ones.
   */
  private replaceCode(
    kind: CodeBp['kind'],
    wanted: { addr: number; line: number; mode: string | undefined; condition: string | undefined; hitCondition: string | undefined; problem: string | null }[],
  ): DebugProtocol.Breakpoint[] {
    const keyOf = (addr: number, mode: string, condition: string | null, hitCondition: string | null) => `${addr}|${mode}|${condition}|${hitCondition}`;
    const old = this.codeBps.filter((bp) => bp.kind === kind);
    const plans = wanted.map((w) => {
      const mode = w.mode === 'hardware' ? 'hardware' : 'software';
      const condition = orNull(w.condition);
      const hitCondition = orNull(w.hitCondition);
      return { w, mode, condition, hitCondition, key: keyOf(w.addr, mode, condition, hitCondition) };
    });
    // An unchanged breakpoint keeps its id, its hit count and its register.
    const reused = new Map<number, CodeBp>();
    const taken = new Set<CodeBp>();
    plans.forEach((p, i) => {
      if (p.w.problem !== null) return;
      const match = old.find((bp) => !taken.has(bp) && keyOf(bp.addr, bp.mode, bp.condition, bp.hitCondition) === p.key);
      if (match !== undefined) {
        taken.add(match);
        reused.set(i, match);
      }
    });
    // Release the others first, so that new hardware ones can take the registers they free.
    this.releaseCode(old.filter((bp) => !taken.has(bp)));
    const kept = this.codeBps.filter((bp) => bp.kind !== kind);
    const added: CodeBp[] = [];
    const results = plans.map((p, i) => {
      const same = reused.get(i);
      if (same !== undefined) {
        added.push(same);
        const info = same.watchId === null ? undefined : this.watches?.find(same.watchId);
        const verified = same.mode === 'software' || info?.state === 'active';
        return {
          id: same.id, verified, message: info?.message, reason: verified ? undefined : 'failed' as const, line: same.line,
          source: new Source(basename(this.programPath), this.programPath), instructionReference: hex(same.addr),
        };
      }
      const bp: CodeBp = {
        id: this.nextBpId++, addr: p.w.addr, line: p.w.line, mode: p.mode as CodeBp['mode'], watchId: null,
        condition: p.condition, hitCondition: p.hitCondition, hits: 0, kind,
      };
      added.push(bp);
      return this.placeCode(bp, p.w.problem, p.w.mode);
    });
    this.codeBps = [...kept, ...added];
    this.syncSoftware();
    return results;
  }

  private placeCode(bp: CodeBp, problem: string | null, mode: string | undefined): DebugProtocol.Breakpoint {
    const source = new Source(basename(this.programPath), this.programPath);
    if (mode !== undefined && mode !== 'software' && mode !== 'hardware') problem ??= `unknown breakpoint mode '${mode}' (software or hardware)`;
    problem ??= this.checkConditions(bp.condition, bp.hitCondition);
    if (problem !== null) {
      bp.addr = -1;
      return { id: bp.id, verified: false, message: problem, reason: 'failed' };
    }
    let message: string | undefined;
    let verified = true;
    if (bp.mode === 'hardware') {
      const info = this.placeHardware(bp);
      verified = info?.state === 'active';
      message = info?.message;
    }
    return {
      id: bp.id, verified, message, reason: verified ? undefined : 'failed', line: bp.line, source,
      instructionReference: hex(bp.addr),
    };
  }

  private placeHardware(bp: CodeBp): WatchpointInfo | undefined {
    if (this.watches === null || bp.addr < 0) return undefined;
    const info = this.watches.add({ label: `line ${bp.line}`, addr: bp.addr, size: 1, access: 'x', mode: 'pinned' });
    bp.watchId = info.id;
    return info;
  }

  private releaseCode(bps: CodeBp[]): void {
    for (const bp of bps) if (bp.watchId !== null) this.watches?.remove(bp.watchId);
  }

  private syncSoftware(): void {
    this.machine?.setSoftwareBreakpoints(this.codeBps.filter((bp) => bp.mode === 'software' && bp.addr >= 0).map((bp) => bp.addr));
  }

  /** Conditions must at least parse; null if fine, else the reason. */
  private checkConditions(condition: string | null, hitCondition: string | null): string | null {
    if (hitCondition !== null && !HIT_CONDITION.test(hitCondition)) {
      return `hit condition '${hitCondition}': use N, ==N, >N, >=N, <N, <=N or %N`;
    }
    if (condition !== null && this.machine !== null) {
      const problem = this.machine.checkExpression(condition);
      if (problem !== null) return `condition '${condition}': ${problem}`;
    }
    return null;
  }

  // ------------------------------------------------------------------------------------------
  // Data breakpoints (watchpoints)

  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): void {
    this.handle(response, () => {
      const m = this.need();
      const accessTypes: DebugProtocol.DataBreakpointAccessType[] = m.config.arch === 'arm64' ? ['write', 'read', 'readWrite'] : ['write', 'readWrite'];
      let target: DataTarget;
      try {
        target = this.resolveDataTarget(m, args);
      } catch (e) {
        if (e instanceof UserError || e instanceof RuntimeFault) {
          response.body = { dataId: null, description: e.message };
          this.sendResponse(response);
          return;
        }
        throw e;
      }
      response.body = {
        dataId: encodeDataId(target),
        description: `${target.expr} (${target.size} byte${target.size === 1 ? '' : 's'} at ${hex(target.addr)}${target.scope === undefined ? '' : `, until ${target.scope.fn}() returns`})`,
        accessTypes,
        canPersist: target.k !== 'frame',
      };
      this.sendResponse(response);
    });
  }

  private resolveDataTarget(m: Machine, args: DebugProtocol.DataBreakpointInfoArguments): DataTarget {
    const bytes = args.bytes;
    if (bytes !== undefined && (!Number.isInteger(bytes) || bytes < 1 || bytes > 64)) {
      throw new UserError(`${bytes} bytes: a data breakpoint covers 1 to 64 bytes`);
    }
    if (args.asAddress) {
      const addr = parseAddress(args.name);
      if (m.memory.find(addr, bytes ?? 1) === null) throw new UserError(`no memory is mapped at ${hex(addr)}${bytes ? ` + ${bytes}` : ''}`);
      return { k: 'addr', expr: hex(addr), addr, size: bytes ?? 1 };
    }
    let expr = args.name;
    let threadId: number | null = null;
    let frame = 0;
    if (args.variablesReference !== undefined && args.variablesReference !== 0) {
      const ref = this.refs.get(args.variablesReference);
      if (ref === undefined) throw new UserError(`variablesReference ${args.variablesReference} is not valid any more`);
      if (ref.kind === 'registers' || ref.kind === 'dr7') throw new UserError('a debug register cannot be watched');
      expr = ref.kind === 'array' ? `${ref.expr}${args.name}` : args.name;
      threadId = ref.kind === 'globals' ? null : ref.threadId;
      frame = ref.frame;
    } else if (args.frameId !== undefined) {
      const f = this.frameOf(args.frameId);
      threadId = f.threadId;
      frame = f.frame;
    }
    const r = m.evaluate(expr, threadId, frame);
    if (r.addr === null || r.size === null) throw new UserError(`${expr} is a value, not a place in memory: nothing to watch`);
    const size = bytes ?? r.size;
    if (size > 64) throw new UserError(`${expr} is ${size} bytes; a data breakpoint covers at most 64 (watch an element or pass bytes)`);
    // Stack memory belongs to a frame, and its breakpoint ends with it.
    const f = r.frame;
    if (f !== null) return { k: 'frame', expr, addr: r.addr, size, scope: { run: m.runId, threadId: f.threadId, frameId: f.frameId, fn: f.fn } };
    // Persistable when the expression means the same without a frame (a global, or an element of one).
    let global: boolean;
    try {
      global = m.evaluate(expr, null).addr === r.addr;
    } catch {
      global = false; // it names a local (a pointer, say): what it points at outlives the frame
    }
    return { k: global ? 'global' : 'addr', expr, addr: r.addr, size };
  }

  protected override setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): void {
    this.handle(response, () => {
      this.need();
      const requests = (args.breakpoints ?? []).map((b) => {
        let target: DataTarget | string;
        try {
          target = this.reresolve(decodeDataId(b.dataId));
        } catch (e) {
          target = (e as Error).message;
        }
        return { target, access: accessOf(b.accessType), accessType: b.accessType, condition: orNull(b.condition), hitCondition: orNull(b.hitCondition) };
      });
      const apply = () => this.applyDataBreakpoints(requests);
      const breakpoints = this.watches === null ? apply() : this.watches.batch(apply);
      // Upgrades at the end of the batch may have changed some: answer with their final state.
      for (const [i, b] of breakpoints.entries()) {
        const bp = this.dataBps.find((d) => d.id === b.id);
        if (bp !== undefined) {
          this.refreshData(bp);
          breakpoints[i] = this.dapData(bp);
        }
      }
      response.body = { breakpoints };
      this.sendResponse(response);
      this.sendState();
    });
  }

  /** A persisted global is looked up again by name: the program may have changed since. A local's frame must still be there. */
  private reresolve(t: DataTarget): DataTarget {
    const s = t.scope;
    if (s !== undefined) {
      const m = this.need();
      if (s.run === m.runId && m.findFrame(s.threadId, s.frameId) !== null) return t;
      const how = this.endedFrames.get(`${s.run}:${s.frameId}`) ?? (s.run === m.runId ? `${s.fn}() has returned` : `it was in an earlier run of the program`);
      throw new UserError(`${t.expr} was a local of ${s.fn}() in a frame that no longer exists (${how}); set the data breakpoint again from a live frame`);
    }
    if (t.k !== 'global') return t;
    const r = this.need().evaluate(t.expr, null);
    if (r.addr === null || r.size === null) throw new UserError(`${t.expr} is no longer a variable`);
    return { ...t, addr: r.addr, size: t.size === r.size ? r.size : t.size };
  }

  /** Replace all data breakpoints; unchanged ones keep their id, registers and hit count. */
  private applyDataBreakpoints(requests: { target: DataTarget | string; access: WatchAccess | string; condition: string | null; hitCondition: string | null; id?: number; accessType?: string }[]): DebugProtocol.Breakpoint[] {
    const old = this.dataBps;
    const next: DataBp[] = [];
    const results: DebugProtocol.Breakpoint[] = [];
    for (const r of requests) {
      if (typeof r.target === 'string') {
        results.push({ id: this.nextBpId++, verified: false, message: r.target, reason: 'failed' });
        continue;
      }
      if (r.access === 'invalid') {
        results.push({ id: this.nextBpId++, verified: false, message: `access type '${r.accessType}': use write, read or readWrite`, reason: 'failed' });
        continue;
      }
      const access = r.access as WatchAccess;
      const key = `${r.target.addr}:${r.target.size}:${access}${r.target.scope === undefined ? '' : `@${r.target.scope.frameId}`}`;
      const problem = this.checkConditions(r.condition, r.hitCondition)
        ?? (access === 'r' && this.machine!.config.arch === 'x86_64' ? 'x86 debug registers cannot trap on reads alone; use Break on Value Access (readWrite)' : null);
      if (problem !== null) {
        results.push({ id: r.id ?? this.nextBpId++, verified: false, message: problem, reason: 'failed' });
        continue;
      }
      const reuse = old.find((b) => b.key === key && !next.includes(b));
      const bp: DataBp = reuse ?? {
        id: r.id ?? this.nextBpId++, key, target: r.target, access, watchId: null, condition: null, hitCondition: null, hits: 0, verified: false, message: '',
      };
      // A changed condition or hit condition counts its hits afresh.
      if (bp.condition !== r.condition || bp.hitCondition !== r.hitCondition) bp.hits = 0;
      bp.condition = r.condition;
      bp.hitCondition = r.hitCondition;
      if (reuse === undefined) {
        // Identical ranges share registers, as GDB does: attach to a watchpoint already covering it.
        const shared = next.find((b) => b.key === key && b.watchId !== null);
        if (shared !== undefined) bp.watchId = shared.watchId;
        else this.placeData(bp);
      }
      this.refreshData(bp);
      next.push(bp);
      results.push(this.dapData(bp));
    }
    // Release watchpoints nobody uses any more.
    const used = new Set(next.map((b) => b.watchId));
    const unused = new Set(old.map((b) => b.watchId).filter((id): id is number => id !== null && !used.has(id)));
    this.dataBps = next;
    for (const id of unused) this.watches?.remove(id);
    return results;
  }

  private placeData(bp: DataBp): void {
    if (this.watches === null) return;
    const mode = this.launchArgs?.watchpointMode ?? 'auto';
    const s = bp.target.scope;
    const scope = s === undefined ? undefined : { threadId: s.threadId, frameId: s.frameId, fn: s.fn };
    const info = this.watches.add({ label: bp.target.expr, addr: bp.target.addr, size: bp.target.size, access: bp.access, mode, scope });
    bp.watchId = info.id;
  }

  private refreshData(bp: DataBp): void {
    const info = bp.watchId === null ? undefined : this.watches?.find(bp.watchId);
    bp.verified = info?.state === 'active';
    bp.message = info?.message ?? 'not set';
  }

  private dapData(bp: DataBp): DebugProtocol.Breakpoint {
    return { id: bp.id, verified: bp.verified, message: bp.message, reason: bp.verified ? undefined : 'failed' };
  }

  /** The watchpoint manager changed a watchpoint on its own (upgrade, downgrade, its frame ended): tell the client. */
  private watchChanged(info: WatchpointInfo, why?: string): void {
    if (why === 'deleted') {
      const prefix = `Watchpoint on ${info.label} deleted: `;
      const how = info.message.startsWith(prefix) ? info.message.slice(prefix.length) : info.message;
      for (const bp of this.dataBps.filter((b) => b.watchId === info.id)) {
        const s = bp.target.scope;
        if (s !== undefined) this.endedFrames.set(`${s.run}:${s.frameId}`, how);
        this.dataEnded(bp, `Watchpoint on ${bp.target.expr} deleted: ${how}`);
      }
      return;
    }
    for (const bp of this.dataBps) {
      if (bp.watchId !== info.id) continue;
      this.refreshData(bp);
      this.sendEvent(new BreakpointEvent('changed', this.dapData(bp) as DebugProtocol.Breakpoint));
    }
    for (const bp of this.codeBps) {
      if (bp.watchId !== info.id) continue;
      this.sendEvent(new BreakpointEvent('changed', { id: bp.id, verified: info.state === 'active', message: info.message } as DebugProtocol.Breakpoint));
    }
  }

  /**
   * A data breakpoint whose frame ended: it leaves the session's list (a re-sent dataId comes back
   * unverified, never re-armed on whatever lives at that address now), stays in the Breakpoints
   * view unverified with the reason, and the debug console says it, as GDB does.
   */
  private dataEnded(bp: DataBp, message: string): void {
    this.dataBps = this.dataBps.filter((b) => b !== bp);
    bp.watchId = null;
    bp.verified = false;
    bp.message = message;
    this.sendEvent(new BreakpointEvent('changed', this.dapData(bp) as DebugProtocol.Breakpoint));
    this.sendEvent(new OutputEvent(`${message}\n`, 'console'));
  }

  // ------------------------------------------------------------------------------------------
  // Custom protocol for the views

  protected override customRequest(command: string, response: DebugProtocol.Response, args: unknown): void {
    this.handle(response, () => {
      if (command === STATE_REQUEST) {
        response.body = this.state();
        this.sendResponse(response);
        return;
      }
      if (command === SET_MODE_REQUEST) {
        const a = (args ?? {}) as { id?: unknown; mode?: unknown };
        const bp = this.dataBps.find((b) => b.id === a.id) ?? this.codeBps.find((b) => b.id === a.id);
        if (bp === undefined) throw new UserError(`no data breakpoint with id ${String(a.id)}`);
        if (a.mode !== 'auto' && a.mode !== 'pinned' && a.mode !== 'flexible') throw new UserError(`mode ${String(a.mode)}: use auto, pinned or flexible`);
        if (bp.watchId === null || this.watches === null) throw new UserError(`breakpoint ${bp.id} holds no register to change`);
        const watches = this.watches;
        const watchId = bp.watchId;
        const mode = a.mode;
        // Others the switch moved (auto ones made flexible for room) are reported by the manager as it goes.
        const changed: { label: string; why: string }[] = [];
        this.changeLog = changed;
        let info: WatchpointInfo;
        try {
          info = watches.setMode(watchId, mode);
        } catch (e) {
          throw new UserError((e as Error).message);
        } finally {
          this.changeLog = null;
        }
        this.watchChanged(info);
        response.body = { watchpoint: info, changed };
        this.sendResponse(response);
        this.sendState();
        return;
      }
      throw new UserError(`unknown request '${command}'`);
    });
  }

  /** Everything the views show, as plain data. */
  private state(): HwbpState {
    const m = this.machine;
    if (m === null) return { running: false, kernel: null, watchpoints: [], threads: [], stoppedThreadId: null };
    const infos = new Map((this.watches?.list() ?? []).map((w) => [w.id, w]));
    return {
      running: this.running,
      kernel: m.kernel.snapshot(),
      watchpoints: [
        ...this.dataBps.map((bp) => ({ breakpointId: bp.id, kind: 'data' as const, label: bp.target.expr, access: bp.access, condition: bp.condition, hitCondition: bp.hitCondition, watchpoint: bp.watchId === null ? null : infos.get(bp.watchId) ?? null, message: bp.message })),
        ...this.codeBps.filter((bp) => bp.watchId !== null).map((bp) => ({ breakpointId: bp.id, kind: 'hardware' as const, label: `line ${bp.line}`, access: 'x' as WatchAccess, condition: bp.condition, hitCondition: bp.hitCondition, watchpoint: infos.get(bp.watchId!) ?? null, message: infos.get(bp.watchId!)?.message ?? '' })),
      ],
      threads: m.threadInfos(),
      stoppedThreadId: this.running ? null : this.lastStop?.threadId ?? null,
    };
  }

  private sendState(): void {
    this.lastStateSent = Date.now();
    this.sendEvent(new DapEvent(STATE_EVENT, this.state()));
  }
}

/** The body of the hwbp.state event and request. */
export interface HwbpState {
  running: boolean;
  kernel: KernelSnapshot | null;
  watchpoints: {
    breakpointId: number;
    kind: 'data' | 'hardware';
    label: string;
    access: WatchAccess;
    condition: string | null;
    hitCondition: string | null;
    watchpoint: WatchpointInfo | null;
    message: string;
  }[];
  threads: ReturnType<Machine['threadInfos']>;
  stoppedThreadId: number | null;
}

/** An empty or blank condition means none, as clients send it. */
function orNull(text: string | undefined): string | null {
  return text === undefined || text.trim() === '' ? null : text;
}

function hex(n: number): string {
  return '0x' + n.toString(16);
}

function parseAddress(text: string): number {
  const t = String(text).trim();
  const n = /^0x[0-9a-f]+$/i.test(t) ? Number.parseInt(t.slice(2), 16) : /^\d+$/.test(t) ? Number(t) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw new UserError(`'${text}' is not an address (decimal, or hex with 0x)`);
  return n;
}

function accessOf(t: string | undefined): WatchAccess | 'invalid' {
  if (t === undefined || t === 'write') return 'w';
  if (t === 'readWrite') return 'rw';
  if (t === 'read') return 'r';
  return 'invalid';
}

const DATA_ID_PREFIX = 'hwbp:';

function encodeDataId(t: DataTarget): string {
  return DATA_ID_PREFIX + JSON.stringify({ k: t.k, expr: t.expr, addr: t.addr, size: t.size, scope: t.scope });
}

function decodeDataId(id: string): DataTarget {
  if (typeof id !== 'string' || !id.startsWith(DATA_ID_PREFIX)) throw new UserError(`unknown dataId '${String(id)}'`);
  let v: unknown;
  try {
    v = JSON.parse(id.slice(DATA_ID_PREFIX.length));
  } catch {
    throw new UserError(`malformed dataId '${id}'`);
  }
  const t = v as DataTarget;
  if (typeof t !== 'object' || t === null || !['global', 'addr', 'frame'].includes(t.k) || typeof t.expr !== 'string'
    || !Number.isSafeInteger(t.addr) || !Number.isInteger(t.size) || t.size < 1 || t.size > 64) {
    throw new UserError(`malformed dataId '${id}'`);
  }
  // A local's dataId names its frame; without one it could only be armed on whatever is at that address now.
  const s = t.scope;
  if ((t.k === 'frame') !== (s !== undefined) || (s !== undefined && (typeof s !== 'object' || s === null || typeof s.run !== 'string'
    || !Number.isSafeInteger(s.threadId) || !Number.isSafeInteger(s.frameId) || typeof s.fn !== 'string'))) {
    throw new UserError(`malformed dataId '${id}': a local's dataId names its frame`);
  }
  return t;
}

/** N (the Nth hit), ==N, >N, >=N, <N, <=N, %N (every Nth). */
const HIT_CONDITION = /^\s*(==|>=|<=|>|<|%)?\s*(\d+)\s*$/;

export function hitConditionHolds(cond: string, hits: number): boolean {
  const m = HIT_CONDITION.exec(cond);
  if (m === null) return true;
  const n = Number(m[2]);
  switch (m[1]) {
    case '>': return hits > n;
    case '>=': return hits >= n;
    case '<': return hits < n;
    case '<=': return hits <= n;
    case '%': return n > 0 && hits % n === 0;
    default: return hits === n;
  }
}
