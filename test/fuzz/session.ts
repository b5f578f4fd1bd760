/**
 * Runs one fuzzed session (a SessionPlan from model.ts) against the adapter binary over a DapWire,
 * and checks, for every action:
 *  - answered: every request gets its response within the time bound;
 *  - alive: the adapter does not exit (stdio) or close the connection (--server) before disconnect,
 *    except after a garbage frame it cannot recover from, and then only cleanly (below);
 *  - no-junk: no successful response and no event carries NaN, Infinity, undefined,
 *    "[object Object]" or "0xNaN" in a string (unless the session itself sent that text, which
 *    the adapter may echo), nor null where DAP wants a number;
 *  - count-honoured: a successful disassemble returns exactly instructionCount instructions;
 *  - foreign-source: setBreakpoints for a file other than the launched program verifies nothing;
 *  - refusal-changes-nothing: after a refused request (success: false) made while the program is
 *    stopped, hwbp.state is exactly what it was before it (the whole JSON; nothing in it is
 *    volatile while the program is stopped: times and estimates are counted in instructions of the
 *    simulated machine, which does not run between the two requests);
 *  - response-matches: a response names the command of its request;
 *  - garbage-survived: after a garbage frame, the adapter answers the next request, or ends that
 *    connection cleanly: over --server it may close the socket (the server and its other sessions
 *    must go on, which the caller checks); over stdio it may exit, saying why on stderr, without a
 *    stack trace. Hanging (alive but never answering) or exiting silently is a failure;
 *  - released-on-disconnect: disconnect is answered, and a hwbp.state after it (if still answered)
 *    shows no program, no watchpoint and no occupied register;
 *  - exits-on-eof (stdio): when its stdin closes, the adapter exits within the time bound.
 */
import type { DapEvent, DapResponse, DapWire, Ending, Outcome } from '../support/dapWire';
import { describeEnding } from '../support/dapWire';
import { FIXTURES } from '../support/adapterProcess';
import { coveringGarbage, coveringRequest, type FailureId, type GarbageKind, type RequestShape } from './knownFailures';
import type { Action, SessionPlan, Template } from './model';

export interface Violation {
  session: string;
  /** Index of the action in the plan (-1: set-up, plan length: tear-down). */
  step: number;
  action: string;
  property: string;
  detail: string;
}

export interface SessionResult {
  label: string;
  violations: Violation[];
  /** Actions not sent because a listed known failure covers them. */
  skipped: Partial<Record<FailureId, number>>;
  /** Ended by a garbage frame, cleanly (allowed). */
  endedByGarbage: boolean;
  /** Closed the socket without disconnect on purpose. */
  vanished: boolean;
  requests: number;
  timeouts: number;
  ended: number;
  crashed: boolean;
  /** Refusals after which hwbp.state was compared with the state before. */
  refusalsChecked: number;
}

export interface RunOptions {
  transport: 'stdio' | 'server';
  known: readonly FailureId[];
  timeoutMs: number;
  label: string;
  /** A token unique to this session, evaluated at the start and the end (trace logs carry it). */
  marker?: string;
  /**
   * Pause the program before closing the socket without disconnect (while a vanished client's
   * program running on is a known failure: it would keep a core busy for the rest of the run).
   */
  stopBeforeVanishing?: boolean;
}

interface Ctx {
  threads: number[];
  frames: number[];
  varrefs: number[];
  varnames: string[];
  dataIds: string[];
  bpIds: number[];
  memrefs: string[];
  iprefs: string[];
  program: string;
}

const FOREIGN_PROGRAM = '/tmp/hwbp-fuzz-elsewhere/other.hwsim';
const JUNK = [/0xNaN/, /\[object Object\]/, /\bNaN\b/, /\bundefined\b/, /\bInfinity\b/];
/** Fields DAP types as numbers, in standard responses and events. */
const NUMERIC = new Set(['id', 'line', 'column', 'endLine', 'endColumn', 'variablesReference', 'unreadableBytes', 'totalFrames', 'bytesWritten', 'threadId', 'frameId', 'namedVariables', 'indexedVariables']);

export function describeAction(a: Action): string {
  const text = JSON.stringify(a, (_k, v: unknown) => (typeof v === 'string' && v.length > 120 ? `${v.slice(0, 120)}…(${v.length})` : v));
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

function remember<T>(list: T[], v: T, max = 16): void {
  if (list.includes(v)) return;
  list.push(v);
  if (list.length > max) list.shift();
}

function resolveRef(t: { $: string; i: number }, ctx: Ctx): unknown {
  const pick = <T>(l: T[], fallback: T): T => (l.length === 0 ? fallback : l[t.i % l.length]);
  switch (t.$) {
    case 'thread': return t.i === 7 ? 99 : pick(ctx.threads, 1);
    case 'frame': return t.i === 7 ? 987654 : pick(ctx.frames, 1000 + t.i);
    case 'varref': return t.i === 7 ? 987654 : pick(ctx.varrefs, 1000 + t.i);
    case 'varname': return pick(ctx.varnames, 'counter');
    case 'dataId': return t.i === 7 ? 'hwbp:{"k":"addr","expr":"x","addr":1,"size":4}' : pick(ctx.dataIds, 'no-such-data-id');
    case 'bpId': return pick(ctx.bpIds, t.i + 1);
    case 'memref': return pick(ctx.memrefs, '0x400000');
    case 'ipref': return pick(ctx.iprefs, '0x400000');
    case 'program': return t.i >= 6 ? FOREIGN_PROGRAM : ctx.program;
    default: return null;
  }
}

/** Resolve placeholders; deep ones become a marker string that serialize() expands. */
function resolve(t: Template | undefined, ctx: Ctx, deep: number[]): unknown {
  if (t === undefined) return undefined;
  if (t === null || typeof t !== 'object') return t;
  if (Array.isArray(t)) return t.map((x) => resolve(x, ctx, deep));
  if ('$' in t && typeof t.$ === 'string') {
    if (t.$ === 'long') return 'A'.repeat((t as { n: number }).n);
    if (t.$ === 'deep') {
      deep.push((t as { n: number }).n);
      return `__hwbp_deep_${(t as { n: number }).n}__`;
    }
    return resolveRef(t as { $: string; i: number }, ctx);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(t)) out[k] = resolve(v as Template, ctx, deep);
  return out;
}

/** JSON text of a message, with deep markers expanded into `{"a":{"a":…1…}}`. */
function serialize(msg: unknown): string {
  return JSON.stringify(msg).replace(/"__hwbp_deep_(\d+)__"/g, (_m, n: string) => `${'{"a":'.repeat(Number(n))}1${'}'.repeat(Number(n))}`);
}

/** The first place where the two values differ, as a path, for the report. */
function firstDifference(a: unknown, b: unknown, path = '$'): string | null {
  if (JSON.stringify(a) === JSON.stringify(b)) return null;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return `${path}: ${JSON.stringify(a)?.slice(0, 120)} → ${JSON.stringify(b)?.slice(0, 120)}`;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d !== null) return d;
  }
  return `${path}: differs`;
}

/** Junk in a JSON value: where and what. */
export function findJunk(v: unknown, echoed: Set<string>, standard: boolean, path = '$'): string | null {
  if (typeof v === 'string') {
    for (const re of JUNK) {
      const m = re.exec(v);
      if (m !== null && !echoed.has(m[0])) return `${path} = ${JSON.stringify(v.slice(Math.max(0, m.index - 40), m.index + 40))}`;
    }
    return null;
  }
  if (typeof v === 'number') return Number.isFinite(v) ? null : `${path} = ${v}`;
  if (v === null || typeof v !== 'object') return null;
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) {
      const j = findJunk(x, echoed, standard, `${path}[${i}]`);
      if (j !== null) return j;
    }
    return null;
  }
  for (const [k, x] of Object.entries(v)) {
    if (standard && NUMERIC.has(k) && typeof x !== 'number') return `${path}.${k} = ${JSON.stringify(x)} (DAP wants a number)`;
    const j = findJunk(x, echoed, standard, `${path}.${k}`);
    if (j !== null) return j;
  }
  return null;
}

function isCleanEnding(e: Ending, transport: 'stdio' | 'server'): boolean {
  if (transport === 'server') return e.how === 'close';
  const err = e.stderr.trim();
  return err !== '' && !/^\s+at .+:\d+:\d+\)?$/m.test(err) && !/FATAL ERROR|Uncaught|node:internal/.test(err);
}

export async function runSession(wire: DapWire, plan: SessionPlan, opts: RunOptions): Promise<SessionResult> {
  const result: SessionResult = {
    label: opts.label, violations: [], skipped: {}, endedByGarbage: false, vanished: false, requests: 0, timeouts: 0, ended: 0, crashed: false, refusalsChecked: 0,
  };
  const ctx: Ctx = { threads: [], frames: [], varrefs: [], varnames: [], dataIds: [], bpIds: [], memrefs: [], iprefs: [], program: FIXTURES[plan.program] };
  const echoed = new Set<string>();
  let eventsChecked = 0;
  let step = -1;
  let current = 'set-up';
  const violate = (property: string, detail: string) => {
    result.violations.push({ session: opts.label, step, action: current, property, detail });
  };
  const noteSent = (text: string) => {
    for (const re of JUNK) {
      const m = re.exec(text);
      if (m !== null) echoed.add(m[0]);
    }
  };
  const checkEvents = () => {
    for (; eventsChecked < wire.events.length; eventsChecked++) {
      const e: DapEvent = wire.events[eventsChecked];
      if (e.event === 'output') continue; // console text (traces echo requests and their errors verbatim)
      const j = findJunk(e.body, echoed, e.event !== 'hwbp.state');
      if (j !== null) violate('no-junk', `event ${e.event}: ${j}`);
      if (e.event === 'stopped') ctx.frames.length = 0;
    }
  };
  /** Judge an outcome that is not an answer. Returns false when the session cannot go on. */
  const unanswered = (o: Outcome, what: string): boolean => {
    if (o.kind === 'timeout') {
      violate('answered', `${what}: no response within ${o.ms} ms`);
      return wire.alive;
    }
    if (o.kind === 'ended') {
      violate('alive', `${what}: ${o.how}`);
      result.crashed = true;
      return false;
    }
    return true;
  };
  const send = async (command: string, args: unknown): Promise<Outcome> => {
    const seq = wire.peekSeq();
    const msg: Record<string, unknown> = { seq, type: 'request', command };
    if (args !== undefined) msg.arguments = args;
    const text = serialize(msg);
    noteSent(text);
    return wire.requestText(seq, text);
  };
  const state = async (): Promise<{ ok: true; body: Record<string, unknown> } | { ok: false; outcome: Outcome }> => {
    const o = await send('hwbp.state', undefined);
    if (o.kind === 'answered' && o.response.success) return { ok: true, body: o.response.body as Record<string, unknown> };
    return { ok: false, outcome: o };
  };

  try {
    // ---------------------------------------------------------------------------------------------
    // Set-up: initialize → launch (stopOnEntry) → configurationDone → stopped (entry).
    const init = await send('initialize', { clientID: 'fuzz', adapterID: 'hwbp', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', supportsMemoryReferences: true });
    if (init.kind !== 'answered' || !init.response.success) {
      if (init.kind === 'answered') violate('set-up', `initialize refused: ${init.response.message}`);
      else unanswered(init, 'initialize');
      return finish();
    }
    const launchArgs: Record<string, unknown> = { program: ctx.program, stopOnEntry: true, trace: plan.trace };
    if (plan.watchpointMode !== undefined) launchArgs.watchpointMode = plan.watchpointMode;
    const launch = await send('launch', launchArgs);
    if (launch.kind !== 'answered' || !launch.response.success) {
      if (launch.kind === 'answered') violate('set-up', `launch refused: ${launch.response.message}`);
      else unanswered(launch, 'launch');
      return finish();
    }
    const done = await send('configurationDone', undefined);
    if (done.kind !== 'answered') {
      unanswered(done, 'configurationDone');
      return finish();
    }
    if ((await wire.waitForEvent((e) => e.event === 'stopped', opts.timeoutMs)) === null) violate('set-up', 'no stopped event (entry) after configurationDone');
    if (opts.marker !== undefined) await send('evaluate', { expression: opts.marker });

    // ---------------------------------------------------------------------------------------------
    for (step = 0; step < plan.actions.length; step++) {
      if (plan.vanishAfter !== undefined && step >= plan.vanishAfter) {
        if (opts.stopBeforeVanishing === true) await stopRunning();
        result.vanished = true;
        wire.hangUp();
        return finish();
      }
      const a = plan.actions[step];
      current = describeAction(a);
      checkEvents();
      if (!wire.alive) {
        violate('alive', `before this action: ${describeEnding(wire.ending!)}`);
        result.crashed = true;
        return finish();
      }
      const goOn = await runAction(a);
      checkEvents();
      if (!goOn) return finish();
    }

    // ---------------------------------------------------------------------------------------------
    // Tear-down: the marker again, disconnect, then nothing may be held.
    step = plan.actions.length;
    current = 'tear-down';
    if (opts.marker !== undefined) await send('evaluate', { expression: opts.marker });
    const disc = await send('disconnect', { terminateDebuggee: true });
    if (disc.kind !== 'answered') {
      unanswered(disc, 'disconnect');
      return finish();
    }
    const after = await send('hwbp.state', undefined);
    if (after.kind === 'answered' && after.response.success) {
      const s = after.response.body as { kernel: unknown; watchpoints: unknown[] };
      if (s.kernel !== null || s.watchpoints.length !== 0) violate('released-on-disconnect', `hwbp.state after disconnect still holds: ${JSON.stringify(s).slice(0, 300)}`);
    }
    if (opts.transport === 'stdio') {
      wire.hangUp();
      const end = await wire.waitForEnd(opts.timeoutMs);
      if (end === null) violate('exits-on-eof', `still running ${opts.timeoutMs} ms after its stdin closed`);
    } else {
      wire.hangUp();
    }
    return finish();
  } catch (e) {
    violate('harness', (e as Error).stack ?? String(e));
    return finish();
  }

  function finish(): SessionResult {
    checkEvents();
    result.requests = wire.stats.requests + wire.stats.raw;
    result.timeouts = wire.stats.timeouts;
    result.ended = wire.stats.ended;
    return result;
  }

  async function stopRunning(): Promise<void> {
    for (let i = 0; i < 20; i++) {
      const s = await state();
      if (!s.ok || s.body.running !== true) return;
      await send('pause', { threadId: 1 });
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function runAction(a: Action): Promise<boolean> {
    switch (a.kind) {
      case 'wait':
        await new Promise((r) => setTimeout(r, a.ms));
        return true;
      case 'request':
        return request(a.command, a.args);
      case 'envelope':
        return envelope(a);
      case 'garbage':
        return garbage(a.what, a.bytes);
    }
  }

  async function request(command: string, template: Template | undefined): Promise<boolean> {
    const deep: number[] = [];
    const args = resolve(template, ctx, deep);
    const shape: RequestShape = { command, args, deepDepth: Math.max(0, ...deep), program: ctx.program };
    const covered = coveringRequest(shape, opts.known);
    if (covered !== null) {
      result.skipped[covered] = (result.skipped[covered] ?? 0) + 1;
      return true;
    }
    let before: Record<string, unknown> | null = null;
    if (command !== 'hwbp.state') {
      const s = await state();
      if (!s.ok) {
        if (s.outcome.kind === 'answered') violate('answered', `hwbp.state refused: ${s.outcome.response.message}`);
        return unanswered(s.outcome, 'hwbp.state (before the request)');
      }
      before = s.body;
    }
    const o = await send(command, args);
    if (o.kind !== 'answered') return unanswered(o, command);
    const r = o.response;
    if (r.command !== command) violate('response-matches', `response to ${command} names ${JSON.stringify(r.command)}`);
    if (r.success) {
      const j = findJunk(r.body, echoed, !command.startsWith('hwbp.'));
      if (j !== null) violate('no-junk', `${command} succeeded with ${j}`);
      checkSemantics(command, args, r);
      learn(command, r);
    } else if (before !== null && before.running === false) {
      const s = await state();
      if (!s.ok) return unanswered(s.outcome, 'hwbp.state (after a refusal)');
      result.refusalsChecked++;
      const d = firstDifference(before, s.body);
      if (d !== null) violate('refusal-changes-nothing', `${command} was refused (${r.message}) but hwbp.state changed at ${d}`);
    }
    return true;
  }

  function checkSemantics(command: string, args: unknown, r: DapResponse): void {
    const a = (typeof args === 'object' && args !== null ? args : {}) as Record<string, unknown>;
    const body = (r.body ?? {}) as Record<string, unknown>;
    if (command === 'disassemble') {
      const n = (body.instructions as unknown[] | undefined)?.length;
      if (n !== a.instructionCount) violate('count-honoured', `disassemble instructionCount ${JSON.stringify(a.instructionCount)} succeeded with ${n} instructions`);
    }
    if (command === 'setBreakpoints') {
      const path = (a.source as Record<string, unknown> | undefined)?.path;
      const verified = ((body.breakpoints ?? []) as { verified?: boolean }[]).filter((b) => b.verified === true).length;
      if (path !== ctx.program && verified > 0) violate('foreign-source', `setBreakpoints for ${JSON.stringify(path)} (not the launched program) verified ${verified} breakpoint(s)`);
    }
  }

  /** Remember the ids the adapter handed out, for later requests to use. */
  function learn(command: string, r: DapResponse): void {
    const b = (r.body ?? {}) as Record<string, unknown>;
    const num = (v: unknown, l: number[]) => { if (typeof v === 'number' && v > 0) remember(l, v); };
    const str = (v: unknown, l: string[]) => { if (typeof v === 'string' && v !== '') remember(l, v); };
    switch (command) {
      case 'threads':
        for (const t of (b.threads ?? []) as { id: unknown }[]) num(t.id, ctx.threads);
        break;
      case 'stackTrace':
        for (const f of (b.stackFrames ?? []) as { id: unknown; instructionPointerReference?: unknown }[]) {
          num(f.id, ctx.frames);
          str(f.instructionPointerReference, ctx.iprefs);
        }
        break;
      case 'scopes':
        for (const s of (b.scopes ?? []) as { variablesReference: unknown }[]) num(s.variablesReference, ctx.varrefs);
        break;
      case 'variables':
        for (const v of (b.variables ?? []) as { name: unknown; variablesReference: unknown; memoryReference?: unknown }[]) {
          num(v.variablesReference, ctx.varrefs);
          str(v.name, ctx.varnames);
          str(v.memoryReference, ctx.memrefs);
        }
        break;
      case 'evaluate':
        num(b.variablesReference, ctx.varrefs);
        str(b.memoryReference, ctx.memrefs);
        break;
      case 'dataBreakpointInfo':
        str(b.dataId, ctx.dataIds);
        break;
      case 'setDataBreakpoints': case 'setBreakpoints': case 'setFunctionBreakpoints': case 'setInstructionBreakpoints':
        for (const bp of (b.breakpoints ?? []) as { id?: unknown }[]) num(bp.id, ctx.bpIds);
        break;
    }
  }

  async function envelope(a: Extract<Action, { kind: 'envelope' }>): Promise<boolean> {
    const deep: number[] = [];
    const message = resolve(a.message, ctx, deep) as Record<string, unknown>;
    const shape: RequestShape = { command: message.command, args: message.arguments, deepDepth: Math.max(0, ...deep), program: ctx.program };
    const covered = message.type === 'request' ? coveringRequest(shape, opts.known) : null;
    if (covered !== null) {
      result.skipped[covered] = (result.skipped[covered] ?? 0) + 1;
      return true;
    }
    if (a.withSeq && message.type === 'request') {
      const seq = wire.peekSeq();
      const text = serialize({ seq, ...message });
      noteSent(text);
      const o = await wire.requestText(seq, text);
      if (o.kind !== 'answered') return unanswered(o, a.what);
      if (o.response.success) {
        const j = findJunk(o.response.body, echoed, false);
        if (j !== null) violate('no-junk', `${a.what} succeeded with ${j}`);
      }
      if (message.command === 'launch' || message.command === 'initialize') ctx.frames.length = 0;
    } else {
      const text = serialize(a.withSeq ? { seq: wire.peekSeq(), ...message } : message);
      noteSent(text);
      wire.sendBody(text);
    }
    // Whatever it was, the adapter must answer what comes next.
    const probe = await send('threads', undefined);
    return probe.kind === 'answered' ? true : unanswered(probe, `threads after ${a.what}`);
  }

  async function garbage(what: GarbageKind, bytes: string): Promise<boolean> {
    const covered = coveringGarbage(what, opts.known);
    if (covered !== null) {
      result.skipped[covered] = (result.skipped[covered] ?? 0) + 1;
      return true;
    }
    noteSent(bytes);
    wire.sendRaw(Buffer.from(bytes, 'latin1'));
    const probe = await send('threads', undefined);
    // An adapter that gives up on the connection may do so a moment later: look again.
    if (probe.kind === 'answered') await new Promise((r) => setTimeout(r, 200));
    const ending = wire.ending;
    if (ending !== null) {
      if (isCleanEnding(ending, opts.transport)) {
        result.endedByGarbage = true;
        return false;
      }
      violate('garbage-survived', `after ${what} garbage ${JSON.stringify(bytes.slice(0, 60))}: ${describeEnding(ending)}`);
      result.crashed = true;
      return false;
    }
    if (probe.kind === 'timeout') {
      violate('garbage-survived', `after ${what} garbage ${JSON.stringify(bytes.slice(0, 60))}: alive but the next request got no response within ${probe.ms} ms`);
      // It will not answer anything any more: end the session here rather than time out on every action.
      return false;
    }
    return true;
  }
}
