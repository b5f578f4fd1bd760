/**
 * The Debug Adapter Protocol session: each request handler translates arguments into a call on one
 * of the session's parts and the result into the response. The parts hold the logic:
 *
 * - codeBreakpoints.ts: source, function and instruction breakpoints (software or hardware);
 * - dataBreakpoints.ts: data breakpoints (watchpoints), their dataIds and frame-scoped locals;
 * - runLoop.ts: continue, step and pause, the sliced run loop, conditions, stop events;
 * - variables.ts: frames, scopes, variables, evaluate, memory and disassembly;
 * - state.ts: the hwbp.state body for the views.
 *
 * What a watchpoint is lives in watchpoints.ts; how a program runs lives in the target.
 */
import {
  DebugSession, Event as DapEvent, InitializedEvent, OutputEvent, Response, TerminatedEvent, ThreadEvent,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { formatDiagnostic, loadProgram, type Machine, type StepKind } from '../target';
import { CodeBreakpoints } from './codeBreakpoints';
import { needStopped, UserError, type SessionContext } from './common';
import { DataBreakpoints } from './dataBreakpoints';
import { baseName, FileReadError, type ProgramFiles } from './files';
import { EXPORT_TRACE_REQUEST, SET_MODE_REQUEST, STATE_EVENT, STATE_REQUEST, TIMELINE_REQUEST, type LaunchArguments } from './protocol';
import { RunLoop } from './runLoop';
import { buildState, type HwbpState } from './state';
import { timelineRequest } from './timeline';
import { checkRequest, type Args } from './validation';
import { Variables } from './variables';
import { WatchpointManager, type WatchpointInfo } from './watchpoints';

export { LAUNCH_ATTRIBUTES, SET_MODE_REQUEST, STATE_EVENT, STATE_REQUEST, type LaunchArguments } from './protocol';
export type { HwbpState } from './state';
export type { TimelineChunk } from './protocol';
export { hitConditionHolds } from './conditions';

/** A trace line longer than this is cut (a whole readMemory answer is not worth echoing). */
const TRACE_LINE_MAX = 2_000;

/**
 * One debug session. It extends the library's plain DebugSession, not LoggingDebugSession: that
 * one logs through a logger shared by the whole process, so with several sessions in one server
 * one session's protocol log reached another's console. `trace: true` echoes this session's own
 * messages to its own debug console instead.
 */
export class HwbpDebugSession extends DebugSession {
  private machine: Machine | null = null;
  private watches: WatchpointManager | null = null;
  private launchArgs: LaunchArguments | null = null;
  private programPath = '';
  /** Breakpoint ids are unique across kinds, as DAP breakpoint events need. */
  private nextBpId = 1;
  private configured = false;
  private pendingStart: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;
  /** While a mode switch runs: the other watchpoints it moved, for the response. */
  private changeLog: { label: string; why: string }[] | null = null;
  /** Launched with trace: true: this session's messages are echoed to its debug console. */
  private tracing = false;
  /** The client went away (clientGone): nothing more is sent. */
  private gone = false;

  /** What the parts see of the session. */
  private readonly ctx: SessionContext;
  private readonly vars: Variables;
  private readonly code: CodeBreakpoints;
  private readonly data: DataBreakpoints;
  private readonly runner: RunLoop;

  /** `files` is how this session reads the program: Node's file system, or the editor's (web). */
  constructor(private readonly files: ProgramFiles) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.ctx = {
      get machine() { return self.machine; },
      get watches() { return self.watches; },
      get programPath() { return self.programPath; },
      resolvePath: (path) => this.files.resolve(path),
      get watchpointMode() { return self.launchArgs?.watchpointMode ?? 'auto'; },
      get running() { return self.runner.running; },
      nextBreakpointId: () => this.nextBpId++,
      send: (event) => this.sendEvent(event),
      sendState: () => this.sendEvent(new DapEvent(STATE_EVENT, this.state())),
    };
    this.vars = new Variables(this.ctx, (addr, size) => this.data.isWatched(addr, size));
    this.code = new CodeBreakpoints(this.ctx);
    this.data = new DataBreakpoints(this.ctx, this.vars);
    this.runner = new RunLoop(this.ctx, {
      softwareAt: (addr) => this.code.softwareAt(addr),
      withWatch: (ids) => [...this.data.withWatch(ids), ...this.code.withWatch(ids)],
    }, () => this.vars.reset());
    // The input stream closed: the client is gone, whether or not it said goodbye.
    this.on('close', () => this.clientGone());
  }

  /**
   * The client vanished without disconnect (its connection closed): stop running, end the
   * program, release every debug register the session and its program hold, and send nothing
   * more. Safe to call more than once, and after disconnect.
   */
  clientGone(): void {
    if (this.gone) return;
    this.gone = true;
    this.tracing = false;
    this.pendingStart = null;
    this.shutdownProgram();
  }

  // ------------------------------------------------------------------------------------------
  // The door: every request is checked before its handler runs; the trace sees every message.

  protected override dispatchRequest(request: DebugProtocol.Request): void {
    if (this.gone) return;
    this.trace('From client', request);
    const checked = checkRequest(request.command, request.arguments);
    if (!checked.ok) {
      const response = new Response(request);
      if (typeof response.command !== 'string') response.command = String(response.command).slice(0, 64);
      // 1014 is the library's code for a request it does not know.
      this.sendErrorResponse(response, { id: checked.unknown ? 1014 : 3001, format: escapeFormat(checked.message), showUser: true });
      return;
    }
    super.dispatchRequest({ ...request, arguments: checked.args });
  }

  override sendResponse(response: DebugProtocol.Response): void {
    if (this.gone) return;
    this.trace('To client', response);
    super.sendResponse(response);
  }

  override sendEvent(event: DebugProtocol.Event): void {
    if (this.gone) return;
    this.trace('To client', event);
    super.sendEvent(event);
  }

  /** Echo one message to this session's debug console, when tracing. */
  private trace(direction: string, message: DebugProtocol.ProtocolMessage): void {
    if (!this.tracing) return;
    let text: string;
    try {
      text = JSON.stringify(message);
    } catch {
      text = '(not JSON)';
    }
    if (text.length > TRACE_LINE_MAX) text = `${text.slice(0, TRACE_LINE_MAX)}… (${text.length} characters)`;
    super.sendEvent(new OutputEvent(`[trace] ${direction}: ${text}\n`, 'console'));
  }

  // ------------------------------------------------------------------------------------------
  // Plumbing: every handler answers, with a clear error message when something is wrong.

  private handle<R extends DebugProtocol.Response>(response: R, body: () => void): void {
    try {
      body();
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.sendErrorResponse(response, { id: 3000, format: escapeFormat(message), showUser: e instanceof UserError });
    }
  }

  /** Run `body`, put what it returns in the response's body and send it (or the error). */
  private answer<R extends DebugProtocol.Response>(response: R, body: () => R['body']): void {
    this.handle(response, () => {
      response.body = body();
      this.sendResponse(response);
    });
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

  protected override launchRequest(response: DebugProtocol.LaunchResponse, args: LaunchArguments & Args<'launch'>): void {
    // The arguments passed the door (program, numbers in the target's ranges, known modes).
    this.tracing = args.trace === true;
    this.trace('From client', { seq: 0, type: 'request', command: 'launch', arguments: args } as DebugProtocol.Request);
    this.launchArgs = args;
    void this.readProgram().then((source) => this.gone || this.handle(response, () => {
      this.load(source);
      this.sendResponse(response);
      this.sendEvent(new InitializedEvent());
      // Run (or stop on entry) once the client has sent its breakpoints.
      this.pendingStart = () => this.runner.begin(this.launchArgs?.stopOnEntry === true);
      if (this.configured) this.startNow();
    }), (e: unknown) => this.handle(response, () => { throw e; }));
  }

  /**
   * The launched program's text, read through the session's file access (the launch's path is
   * resolved again each time: a restart reads the file as it is now). A file that cannot be read is
   * a UserError that says which and why.
   */
  private async readProgram(): Promise<string> {
    const program = this.launchArgs!.program;
    try {
      this.programPath = this.files.resolve(program);
      return await this.files.read(this.programPath);
    } catch (e) {
      throw new UserError(`cannot read ${program}: ${e instanceof FileReadError ? e.message : String((e as Error).message ?? e)}`);
    }
  }

  /** (Re)create the machine from the program's text; reports diagnostics as the launch error. */
  private load(source: string): void {
    const args = this.launchArgs!;
    const { diagnostics, machine } = loadProgram(source, this.programPath, {
      arch: args.arch, cpus: args.cpus, seed: args.seed, mux: args.mux, timeslice: args.timeslice, timelineCapacity: args.timelineCapacity,
    });
    if (machine === null) {
      const text = diagnostics.map(formatDiagnostic).join('\n');
      this.sendEvent(new OutputEvent(text + '\n', 'stderr'));
      throw new UserError(`${baseName(this.programPath)} has errors:\n${text}`);
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
    if (this.launchArgs === null) {
      this.handle(response, () => { throw new UserError('nothing to restart: launch a program first'); });
      return;
    }
    void this.readProgram().then((source) => this.gone || this.handle(response, () => {
      this.shutdownProgram();
      this.load(source);
      this.data.reapply();
      this.code.reapply();
      this.sendResponse(response);
      this.runner.begin(this.launchArgs!.stopOnEntry === true);
    }), (e: unknown) => this.handle(response, () => { throw e; }));
  }

  /** Stop any run, end the program and release every register the session and its program hold. */
  private shutdownProgram(): void {
    this.runner.cancel();
    this.watches?.dispose();
    this.watches = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.machine?.kill();
    this.machine = null;
    this.data.detach();
    this.code.detach();
  }

  /** The watchpoint manager moved a watchpoint on its own: the breakpoints behind it tell the client. */
  private watchChanged(info: WatchpointInfo, why?: string): void {
    this.data.watchChanged(info, why);
    if (why !== 'deleted') this.code.watchChanged(info);
  }

  // ------------------------------------------------------------------------------------------
  // Running

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    this.handle(response, () => this.runner.continue(() => {
      response.body = { allThreadsContinued: true };
      this.sendResponse(response);
    }));
  }

  private stepRequest(response: DebugProtocol.Response, threadId: number, kind: StepKind): void {
    this.handle(response, () => {
      needStopped(this.ctx);
      this.runner.step(this.vars.threadOf(threadId), kind, () => this.sendResponse(response));
    });
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    // Instruction granularity (the Disassembly view's steps) executes one instruction, over calls for next.
    this.stepRequest(response, args.threadId, args.granularity === 'instruction' ? 'instruction-over' : 'over');
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void {
    this.stepRequest(response, args.threadId, args.granularity === 'instruction' ? 'instruction' : 'into');
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): void {
    this.stepRequest(response, args.threadId, 'out');
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.handle(response, () => {
      this.runner.pause();
      this.sendResponse(response);
    });
  }

  // ------------------------------------------------------------------------------------------
  // Inspection

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    response.body = { threads: this.vars.threads() };
    this.sendResponse(response);
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: Args<'stackTrace'>): void {
    this.answer(response, () => this.vars.stackTrace(args));
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: Args<'scopes'>): void {
    this.answer(response, () => ({ scopes: this.vars.scopes(args) }));
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: Args<'variables'>): void {
    this.answer(response, () => ({ variables: this.vars.variables(args) }));
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: Args<'evaluate'>): void {
    this.answer(response, () => this.vars.evaluate(args));
  }

  protected override setVariableRequest(response: DebugProtocol.SetVariableResponse, args: Args<'setVariable'>): void {
    this.answer(response, () => this.vars.setVariable(args));
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const stop = this.runner.lastStop;
    response.body = {
      exceptionId: stop?.reason === 'deadlock' ? 'deadlock' : 'runtime error',
      description: stop?.message ?? 'no exception',
      breakMode: 'always',
    };
    this.sendResponse(response);
  }

  protected override readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: Args<'readMemory'>): void {
    this.answer(response, () => this.vars.readMemory(args));
  }

  protected override writeMemoryRequest(response: DebugProtocol.WriteMemoryResponse, args: Args<'writeMemory'>): void {
    this.answer(response, () => this.vars.writeMemory(args));
  }

  protected override disassembleRequest(response: DebugProtocol.DisassembleResponse, args: Args<'disassemble'>): void {
    this.answer(response, () => this.vars.disassemble(args));
  }

  // ------------------------------------------------------------------------------------------
  // Breakpoints

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: Args<'setBreakpoints'>): void {
    this.answer(response, () => ({ breakpoints: this.code.setSource(args) }));
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: Args<'setFunctionBreakpoints'>): void {
    this.answer(response, () => ({ breakpoints: this.code.setFunction(args) }));
  }

  protected override setInstructionBreakpointsRequest(response: DebugProtocol.SetInstructionBreakpointsResponse, args: Args<'setInstructionBreakpoints'>): void {
    this.answer(response, () => ({ breakpoints: this.code.setInstruction(args) }));
  }

  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: Args<'dataBreakpointInfo'>): void {
    this.answer(response, () => this.data.info(args));
  }

  protected override setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: Args<'setDataBreakpoints'>): void {
    this.handle(response, () => {
      response.body = { breakpoints: this.data.set(args) };
      this.sendResponse(response);
      this.runner.sendState();
    });
  }

  // ------------------------------------------------------------------------------------------
  // Custom protocol for the views

  protected override customRequest(command: string, response: DebugProtocol.Response, args: unknown): void {
    // Only commands the door knows get here: ours, with checked arguments.
    this.handle(response, () => {
      if (command === STATE_REQUEST) {
        response.body = this.state();
        this.sendResponse(response);
        return;
      }
      if (command === SET_MODE_REQUEST) {
        response.body = this.setMode(args as Args<typeof SET_MODE_REQUEST>);
        this.sendResponse(response);
        this.runner.sendState();
        return;
      }
      if (command === TIMELINE_REQUEST || command === EXPORT_TRACE_REQUEST) {
        response.body = timelineRequest(command, args as Args<typeof TIMELINE_REQUEST>, {
          machine: this.machine, watches: this.watches,
          breakpointOf: (watchId) => (this.data.all().find((b) => b.watchId === watchId) ?? this.code.all().find((b) => b.watchId === watchId))?.id ?? null,
        });
        this.sendResponse(response);
        return;
      }
      throw new UserError(`unrecognized request '${command}'`);
    });
  }

  /** hwbp.setWatchpointMode: switch one data or hardware breakpoint's mode, or change nothing. */
  private setMode(a: Args<typeof SET_MODE_REQUEST>): { watchpoint: WatchpointInfo; changed: { label: string; why: string }[] } {
    const bp = this.data.find(a.id) ?? this.code.find(a.id);
    if (bp === undefined) throw new UserError(`no data breakpoint with id ${String(a.id)}`);
    if (bp.watchId === null || this.watches === null) throw new UserError(`breakpoint ${bp.id} holds no register to change`);
    // Others the switch moved (auto ones made flexible for room) are reported by the manager as it goes.
    const changed: { label: string; why: string }[] = [];
    this.changeLog = changed;
    let info: WatchpointInfo;
    try {
      info = this.watches.setMode(bp.watchId, a.mode);
    } catch (e) {
      throw new UserError((e as Error).message);
    } finally {
      this.changeLog = null;
    }
    this.watchChanged(info);
    return { watchpoint: info, changed };
  }

  /** Everything the views show, as plain data. */
  private state(): HwbpState {
    return buildState({
      machine: this.machine, watches: this.watches, running: this.runner.running, stoppedThreadId: this.runner.lastStop?.threadId ?? null,
      data: this.data.all(), code: this.code.all(),
    });
  }
}

/** The library reads {name} in an error's format as a variable; a message shows braces as parentheses. */
function escapeFormat(message: string): string {
  return message.replace(/[{}]/g, (c) => (c === '{' ? '(' : ')'));
}
