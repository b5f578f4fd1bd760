/**
 * The door: every request's arguments are checked against a schema before any handler runs.
 * Types, whole numbers, ranges, string lengths, list lengths and nesting depth are checked here, so
 * a handler sees only arguments of the declared shape (the schemas give their types) and does a
 * bounded amount of work; what they mean (is there a thread 7, is 0x10 mapped) is the handler's.
 *
 * A request that fails is answered `success: false` with a message that names the request, the
 * argument and what was expected, and nothing changes. Unknown keys are allowed (clients add their
 * own, VS Code adds `__sessionId` and more to launch) and dropped before the handler runs.
 */
import { z } from 'zod';
import { OVERRIDE_LIMITS } from '../target';
import { EXPORT_TRACE_REQUEST, SET_MODE_REQUEST, STATE_REQUEST, TIMELINE_REQUEST } from './protocol';

/** The caps on what one request may ask for (docs/adapter.md lists them). */
export const LIMITS = Object.freeze({
  /** disassemble: instructions per answer. */
  instructions: 100_000,
  /** disassemble: instructionOffset, either way. */
  instructionOffset: 1_000_000,
  /** readMemory: bytes per answer (1 MiB). */
  readBytes: 1 << 20,
  /** writeMemory: bytes per request (1 MiB; base64 is 4/3 of it). */
  writeBytes: 1 << 20,
  /** readMemory, writeMemory, disassemble: offset, either way. */
  offset: 2 ** 32,
  /** variables: elements of an array per answer (ask for more with start/count). */
  variables: 1_000,
  /** evaluate, setVariable and conditions: characters of an expression. */
  expression: 10_000,
  /** hitCondition, logMessage and other short texts. */
  shortText: 1_000,
  /** A path or a program. */
  path: 4_096,
  /** Names of things (a variable, a function, a client). */
  name: 1_000,
  /** memoryReference and instructionReference. */
  reference: 100,
  /** A dataId (ours are JSON of a few fields). */
  dataId: 4_096,
  /** setBreakpoints, setFunctionBreakpoints, setInstructionBreakpoints: breakpoints per request. */
  codeBreakpoints: 5_000,
  /** setDataBreakpoints: data breakpoints per request. */
  dataBreakpoints: 1_000,
  /** Nesting of arguments (objects in lists in objects …). */
  depth: 32,
});

/** Ids the adapter hands out (threads, frames, variables, breakpoints) are positive 31-bit integers; 0 means none. */
const ID_MAX = 2 ** 31 - 1;

// ---- building blocks: each carries the words for what it expects

function integer(lo: number, hi: number) {
  const what = `an integer between ${lo} and ${hi}`;
  return z.number({ error: what }).int({ error: what }).min(lo, { error: what }).max(hi, { error: what });
}

function text(max: number, min = 0) {
  const what = min > 0 ? `a non-empty string of at most ${max} characters` : `a string of at most ${max} characters`;
  return z.string({ error: what }).min(min, { error: what }).max(max, { error: what });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `one of ${values.map((v) => `"${v}"`).join(', ')}` });
}

function list<T extends z.ZodType>(item: T, max: number, what: string) {
  const words = `a list of at most ${max} ${what}`;
  return z.array(item, { error: words }).max(max, { error: words });
}

/** Keys a schema does not name are allowed but dropped: the handler sees only what it declared. */
function object<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.object(shape, { error: 'an object' });
}

const bool = z.boolean({ error: 'true or false' });
const id = integer(0, ID_MAX);
const threadId = integer(0, ID_MAX);
const reference = text(LIMITS.reference, 1);
const offset = integer(-LIMITS.offset, LIMITS.offset);
const condition = text(LIMITS.expression);
const hitCondition = text(LIMITS.shortText);
const format = object({ hex: bool.optional() });
const none = object({});
const granularity = oneOf(['statement', 'line', 'instruction']);
const stepping = object({ threadId, singleThread: bool.optional(), granularity: granularity.optional() });

const source = object({
  name: text(LIMITS.name).optional(),
  path: text(LIMITS.path).optional(),
  sourceReference: integer(0, ID_MAX).optional(),
});

const launch = object({
  program: text(LIMITS.path, 1),
  stopOnEntry: bool.optional(),
  noDebug: bool.optional(),
  arch: oneOf(['x86_64', 'arm64']).optional(),
  cpus: integer(...OVERRIDE_LIMITS.cpus).optional(),
  seed: integer(...OVERRIDE_LIMITS.seed).optional(),
  mux: integer(...OVERRIDE_LIMITS.mux).optional(),
  timeslice: integer(...OVERRIDE_LIMITS.timeslice).optional(),
  timelineCapacity: integer(...OVERRIDE_LIMITS.timelineCapacity).optional(),
  watchpointMode: oneOf(['auto', 'pinned', 'flexible']).optional(),
  trace: bool.optional(),
});

/** The schema of each request the adapter serves. A command not here is not served. */
export const REQUEST_SCHEMAS = {
  initialize: object({
    adapterID: text(LIMITS.name),
    clientID: text(LIMITS.name).optional(),
    clientName: text(LIMITS.name).optional(),
    locale: text(LIMITS.name).optional(),
    linesStartAt1: bool.optional(),
    columnsStartAt1: bool.optional(),
    // DAP's default is 'path'; the library refuses an initialize that leaves it out, so it is filled in here.
    pathFormat: text(LIMITS.name).optional().default('path'),
  }),
  launch,
  configurationDone: none.optional(),
  disconnect: object({ restart: bool.optional(), terminateDebuggee: bool.optional(), suspendDebuggee: bool.optional() }).optional(),
  terminate: object({ restart: bool.optional() }).optional(),
  restart: object({ arguments: launch.optional() }).optional(),
  setBreakpoints: object({
    source,
    breakpoints: list(object({
      line: integer(1, ID_MAX),
      column: integer(0, ID_MAX).optional(),
      condition: condition.optional(),
      hitCondition: hitCondition.optional(),
      logMessage: text(LIMITS.shortText).optional(),
      mode: text(LIMITS.name).optional(),
    }), LIMITS.codeBreakpoints, 'breakpoints').optional(),
    lines: list(integer(1, ID_MAX), LIMITS.codeBreakpoints, 'lines').optional(),
    sourceModified: bool.optional(),
  }),
  setFunctionBreakpoints: object({
    breakpoints: list(object({ name: text(LIMITS.name, 1), condition: condition.optional(), hitCondition: hitCondition.optional() }), LIMITS.codeBreakpoints, 'breakpoints'),
  }),
  setInstructionBreakpoints: object({
    breakpoints: list(object({
      instructionReference: reference,
      offset: offset.optional(),
      condition: condition.optional(),
      hitCondition: hitCondition.optional(),
      mode: text(LIMITS.name).optional(),
    }), LIMITS.codeBreakpoints, 'breakpoints'),
  }),
  setExceptionBreakpoints: object({ filters: list(text(LIMITS.name), 100, 'filters') }),
  dataBreakpointInfo: object({
    variablesReference: id.optional(),
    name: text(LIMITS.expression),
    frameId: id.optional(),
    // The range (1–64) is the handler's: out of it, the answer is "cannot watch", not an error.
    bytes: integer(0, ID_MAX).optional(),
    asAddress: bool.optional(),
    mode: text(LIMITS.name).optional(),
  }),
  setDataBreakpoints: object({
    breakpoints: list(object({
      dataId: text(LIMITS.dataId),
      accessType: text(LIMITS.name).optional(),
      condition: condition.optional(),
      hitCondition: hitCondition.optional(),
    }), LIMITS.dataBreakpoints, 'data breakpoints'),
  }),
  continue: stepping,
  next: stepping,
  stepIn: object({ threadId, singleThread: bool.optional(), targetId: id.optional(), granularity: granularity.optional() }),
  stepOut: stepping,
  pause: object({ threadId }),
  threads: none.optional(),
  stackTrace: object({ threadId, startFrame: integer(0, ID_MAX).optional(), levels: integer(0, ID_MAX).optional(), format: object({}).optional() }),
  scopes: object({ frameId: id }),
  variables: object({
    variablesReference: id,
    filter: oneOf(['indexed', 'named']).optional(),
    start: integer(0, ID_MAX).optional(),
    count: integer(0, ID_MAX).optional(),
    format: format.optional(),
  }),
  setVariable: object({ variablesReference: id, name: text(LIMITS.name, 1), value: text(LIMITS.expression), format: format.optional() }),
  evaluate: object({ expression: text(LIMITS.expression), frameId: id.optional(), context: text(LIMITS.name).optional(), format: format.optional() }),
  exceptionInfo: object({ threadId }),
  readMemory: object({ memoryReference: reference, offset: offset.optional(), count: integer(0, LIMITS.readBytes) }),
  writeMemory: object({
    memoryReference: reference,
    offset: offset.optional(),
    allowPartial: bool.optional(),
    data: z.string({ error: 'base64 text of at most 1 MiB' })
      .max(Math.ceil(LIMITS.writeBytes / 3) * 4, { error: `base64 text of at most ${LIMITS.writeBytes} bytes` })
      .regex(/^[A-Za-z0-9+/]*={0,2}$/, { error: 'base64 text' }),
  }),
  disassemble: object({
    // VS Code's Disassembly view asks with an empty reference when it has no frame to follow (it
    // stays open across sessions): that is answered with no instructions, not an error.
    memoryReference: text(LIMITS.reference),
    offset: offset.optional(),
    instructionOffset: integer(-LIMITS.instructionOffset, LIMITS.instructionOffset).optional(),
    instructionCount: integer(0, LIMITS.instructions),
    resolveSymbols: bool.optional(),
  }),
  [STATE_REQUEST]: none.optional(),
  [SET_MODE_REQUEST]: object({ id, mode: oneOf(['auto', 'pinned', 'flexible']) }),
  [TIMELINE_REQUEST]: object({ since: integer(0, Number.MAX_SAFE_INTEGER).optional() }).optional(),
  [EXPORT_TRACE_REQUEST]: none.optional(),
} as const;

export type Command = keyof typeof REQUEST_SCHEMAS;
/** The arguments of a request as its handler sees them, once they passed the door. */
export type Args<C extends Command> = z.infer<(typeof REQUEST_SCHEMAS)[C]>;

export type Checked = { ok: true; args: unknown } | { ok: false; message: string; unknown: boolean };

/** Check one request's arguments. */
export function checkRequest(command: unknown, args: unknown): Checked {
  if (typeof command !== 'string') return { ok: false, unknown: true, message: `a request's command must be a string, got ${show(command)}` };
  const name = command.length > 64 ? `${command.slice(0, 64)}…` : command;
  if (!Object.hasOwn(REQUEST_SCHEMAS, command)) return { ok: false, unknown: true, message: `unrecognized request '${name}'` };
  const depth = depthOf(args, LIMITS.depth);
  if (depth > LIMITS.depth) return { ok: false, unknown: false, message: `${name}: arguments are nested more than ${LIMITS.depth} levels deep` };
  const r = REQUEST_SCHEMAS[command as Command].safeParse(args);
  if (r.success) return { ok: true, args: r.data };
  const issue = r.error.issues[0];
  const where = issue.path.length === 0 ? 'arguments' : pathText(issue.path);
  return { ok: false, unknown: false, message: `${name}: ${where} must be ${issue.message}, got ${show(valueAt(args, issue.path))}` };
}

/** How deep a JSON value nests (a scalar is 0), counted no further than `cap` + 1; no recursion. */
function depthOf(value: unknown, cap: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d + 1 > deepest) deepest = d + 1;
    if (deepest > cap) return deepest;
    for (const child of Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, d + 1]);
  }
  return deepest;
}

function pathText(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const p of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** A short picture of a value for an error message. */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object' && v !== null) return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return String(v);
}
