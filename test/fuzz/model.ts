/**
 * fast-check arbitraries for fuzzed DAP sessions: what a session launches, and the sequence of
 * actions it sends after initialize → launch (stopOnEntry) → configurationDone:
 *  (a) valid requests with random but well-typed arguments,
 *  (b) the same requests with one argument (or the whole arguments) replaced by a malformed value,
 *      and requests whose envelope is malformed (non-string command, arguments nested thousands deep),
 *  (c) garbage frames.
 *
 * Arguments are templates: ids the adapter hands out (threads, frames, variable references, data
 * ids, breakpoint ids, memory references) are placeholders `{ $: 'frame', i }` resolved when the
 * action runs, from what the session has seen so far, so a counterexample prints and replays.
 */
import fc from 'fast-check';
import type { GarbageKind } from './knownFailures';
import { FIXTURES } from '../support/adapterProcess';

export type RefKind = 'thread' | 'frame' | 'varref' | 'varname' | 'dataId' | 'bpId' | 'memref' | 'ipref' | 'program';

/** A JSON value, or a placeholder resolved at run time. */
export type Template =
  | null | boolean | number | string
  | Template[]
  | { [key: string]: Template }
  | { $: RefKind; i: number }
  | { $: 'long'; n: number }
  | { $: 'deep'; n: number };

export type Action =
  | { kind: 'request'; command: string; args?: Template; malformed?: string }
  /** A request message whose envelope is malformed; seq is added when sent, if `withSeq`. */
  | { kind: 'envelope'; what: string; message: { [key: string]: Template }; withSeq: boolean }
  | { kind: 'garbage'; what: GarbageKind; bytes: string }
  | { kind: 'wait'; ms: number };

export interface SessionPlan {
  program: keyof typeof FIXTURES;
  trace: boolean;
  watchpointMode?: 'auto' | 'pinned' | 'flexible';
  actions: Action[];
  /** Over --server: close the socket without disconnect after this many actions (none: disconnect at the end). */
  vanishAfter?: number;
}

const ref = (k: RefKind): fc.Arbitrary<Template> => fc.nat(7).map((i) => ({ $: k, i }));
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined, freq: 3 });

/** Names that mean something in the fixtures (globals, locals, elements), and some that do not. */
const EXPRESSIONS = ['counter', 'other', 'pair', 'pair[1]', 'pair[0]', 'a', 'e', 'local', 'n', 'r', 'x', 'y', 'v', 'total', 'h', 'hot', 'counter + 1', '&counter', '*&counter', 'counter * 2', 'nosuch', '1 / 0', 'pair[7]'];
const FUNCTIONS = ['main', 'worker', 'bump', 'first', 'second', 'rec', 'helper', 'nosuch'];
const CONDITIONS = ['', 'counter > 3', 'counter == 2', 'n', ') bad (', 'nosuch > 1'];
const HIT_CONDITIONS = ['', '2', '>1', '%3', '==1', 'x2'];

function obj(fields: Record<string, fc.Arbitrary<Template | undefined>>): fc.Arbitrary<Template> {
  return fc.record(fields).map((r) => {
    const out: Record<string, Template> = {};
    for (const [k, v] of Object.entries(r)) if (v !== undefined) out[k] = v;
    return out;
  });
}

/** (a) Well-typed requests, by command. */
const VALID: Record<string, fc.Arbitrary<Template>> = {
  threads: fc.constant({}),
  stackTrace: obj({ threadId: ref('thread'), startFrame: opt(fc.nat(3)), levels: opt(fc.nat(5)) }),
  scopes: obj({ frameId: ref('frame') }),
  variables: obj({ variablesReference: ref('varref') }),
  evaluate: obj({ expression: fc.constantFrom(...EXPRESSIONS), frameId: opt(ref('frame')), context: opt(fc.constantFrom('hover', 'watch', 'repl')) }),
  setVariable: obj({ variablesReference: ref('varref'), name: ref('varname'), value: fc.constantFrom('1', '0', '42', '0x10', 'counter + 1', 'oops') }),
  dataBreakpointInfo: fc.oneof(
    obj({ name: fc.constantFrom(...EXPRESSIONS), frameId: opt(ref('frame')), bytes: opt(fc.integer({ min: 1, max: 64 })) }),
    obj({ name: ref('varname'), variablesReference: ref('varref') }),
    obj({ name: ref('memref'), asAddress: fc.constant(true), bytes: opt(fc.integer({ min: 1, max: 16 })) }),
  ),
  setDataBreakpoints: obj({
    breakpoints: fc.array(obj({
      dataId: ref('dataId'),
      accessType: opt(fc.constantFrom('write', 'readWrite', 'read')),
      condition: opt(fc.constantFrom(...CONDITIONS)),
      hitCondition: opt(fc.constantFrom(...HIT_CONDITIONS)),
    }), { maxLength: 6 }),
  }),
  setBreakpoints: obj({
    source: obj({ path: ref('program') }),
    breakpoints: fc.array(obj({
      line: fc.integer({ min: 1, max: 40 }),
      mode: opt(fc.constantFrom('software', 'hardware')),
      condition: opt(fc.constantFrom(...CONDITIONS)),
      hitCondition: opt(fc.constantFrom(...HIT_CONDITIONS)),
    }), { maxLength: 5 }),
  }),
  setFunctionBreakpoints: obj({ breakpoints: fc.array(obj({ name: fc.constantFrom(...FUNCTIONS), condition: opt(fc.constantFrom(...CONDITIONS)) }), { maxLength: 3 }) }),
  setInstructionBreakpoints: obj({
    breakpoints: fc.array(obj({
      instructionReference: fc.integer({ min: 0, max: 40 }).map((k) => '0x' + (0x400000 + 4 * k).toString(16)),
      offset: opt(fc.constantFrom(0, 4, 2)),
      mode: opt(fc.constantFrom('software', 'hardware')),
    }), { maxLength: 4 }),
  }),
  continue: obj({ threadId: ref('thread') }),
  next: obj({ threadId: ref('thread'), granularity: opt(fc.constantFrom('statement', 'line', 'instruction')) }),
  stepIn: obj({ threadId: ref('thread') }),
  stepOut: obj({ threadId: ref('thread') }),
  pause: obj({ threadId: ref('thread') }),
  readMemory: obj({ memoryReference: fc.oneof(ref('memref'), fc.constant('0x400000')), offset: opt(fc.integer({ min: -16, max: 16 })), count: fc.nat(64) }),
  writeMemory: obj({ memoryReference: ref('memref'), offset: opt(fc.integer({ min: 0, max: 4 })), data: fc.constantFrom('AQ==', 'AAAAAA==', '', 'KioqKg==') }),
  disassemble: obj({
    memoryReference: fc.oneof(ref('ipref'), fc.constant('0x400000')),
    offset: opt(fc.integer({ min: -8, max: 8 })),
    instructionOffset: opt(fc.integer({ min: -5, max: 5 })),
    instructionCount: fc.nat(48),
    resolveSymbols: opt(fc.boolean()),
  }),
  exceptionInfo: obj({ threadId: ref('thread') }),
  'hwbp.state': fc.constant({}),
  'hwbp.setWatchpointMode': obj({ id: ref('bpId'), mode: fc.constantFrom('auto', 'pinned', 'flexible') }),
  restart: fc.constant({}),
  terminate: fc.constant({}),
};

/** How often each command is picked (restart and terminate rarely: they end what the others explore). */
const WEIGHTS: Record<string, number> = {
  threads: 2, stackTrace: 4, scopes: 4, variables: 4, evaluate: 3, setVariable: 2, dataBreakpointInfo: 5, setDataBreakpoints: 5,
  setBreakpoints: 3, setFunctionBreakpoints: 1, setInstructionBreakpoints: 2, continue: 4, next: 3, stepIn: 2, stepOut: 2, pause: 2,
  readMemory: 3, writeMemory: 1, disassemble: 3, exceptionInfo: 1, 'hwbp.state': 2, 'hwbp.setWatchpointMode': 3, restart: 1, terminate: 1,
};

export const COMMANDS = Object.keys(VALID);

/** (b) Values that are wrong for any field: wrong types, NaN-like strings, negative, huge, fractional, long, deep. */
export const badValue: fc.Arbitrary<Template> = fc.oneof(
  fc.constantFrom<Template>('NaN', 'Infinity', '-Infinity', '1e999', '0x', '', ' ', '-1', '0x7fffffff', 'undefined', 'null', '{}', '[object Object]'),
  fc.constantFrom<Template>(null, true, false, {}, [], [1, 2], { a: 1 }, { toString: 1 }, { valueOf: 5 }),
  fc.constantFrom<Template>(-1, -2147483648, 2147483648, 4294967296, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 1e21, 1e308, -1e308, 1.5, -0.5, 0.1),
  fc.integer({ min: 1000, max: 200_000 }).map((n): Template => ({ $: 'long', n })),
  fc.integer({ min: 2, max: 64 }).map((n): Template => {
    let v: Template = 1;
    for (let i = 0; i < n; i++) v = [v];
    return v;
  }),
  fc.integer({ min: 1000, max: 8000 }).map((n): Template => ({ $: 'deep', n })),
);

/** Every path to a field (objects and arrays) of a template, placeholders counted as leaves. */
function paths(t: Template, prefix: (string | number)[] = []): (string | number)[][] {
  if (t === null || typeof t !== 'object' || '$' in t) return prefix.length === 0 ? [] : [prefix];
  const out: (string | number)[][] = prefix.length === 0 ? [] : [prefix];
  const entries: [string | number, Template][] = Array.isArray(t) ? t.map((v, i) => [i, v]) : Object.entries(t);
  for (const [k, v] of entries) out.push(...paths(v, [...prefix, k]));
  return out;
}

function setAt(t: Template, path: (string | number)[], v: Template): Template {
  if (path.length === 0) return v;
  const [k, ...rest] = path;
  if (Array.isArray(t)) return t.map((x, i) => (i === k ? setAt(x, rest, v) : x));
  if (t !== null && typeof t === 'object' && !('$' in t)) return { ...t, [k]: setAt((t as Record<string, Template>)[k as string] ?? null, rest, v) };
  return t;
}

/** Field names the adapter reads, to add where a request does not have them. */
const FIELDS = ['threadId', 'frameId', 'variablesReference', 'name', 'expression', 'memoryReference', 'offset', 'count', 'instructionCount', 'instructionOffset', 'breakpoints', 'source', 'line', 'dataId', 'id', 'mode', 'levels', 'startFrame', 'bytes', 'asAddress', 'accessType', 'condition', 'hitCondition', 'value', 'data', 'program'];

const validRequest: fc.Arbitrary<Action> = fc.oneof(
  ...COMMANDS.map((c) => ({ weight: WEIGHTS[c] ?? 1, arbitrary: VALID[c].map((args): Action => ({ kind: 'request', command: c, args })) })),
);

const malformedRequest: fc.Arbitrary<Action> = fc.tuple(fc.constantFrom(...COMMANDS.filter((c) => c !== 'restart' && c !== 'terminate')), fc.nat(), fc.nat(3), fc.constantFrom(...FIELDS), badValue)
  .chain(([c, pick, how, field, bad]) => VALID[c].map((args): Action => {
    const ps = paths(args);
    if (how === 0) return { kind: 'request', command: c, args: bad, malformed: 'arguments' };
    if (how === 1 || ps.length === 0) return { kind: 'request', command: c, args: setAt(args, [field], bad), malformed: field };
    const p = ps[pick % ps.length];
    return { kind: 'request', command: c, args: setAt(args, p, bad), malformed: p.join('.') };
  }));

/** Requests whose envelope (not the arguments) is malformed. */
const envelope: fc.Arbitrary<Action> = fc.oneof(
  fc.constantFrom<Template>({ toString: 1 }, 42, null, [], ['threads'], true, '', ' threads', 'THREADS', 'constructor', '__proto__', 'hasOwnProperty')
    .map((command): Action => ({ kind: 'envelope', what: `command ${JSON.stringify(command)}`, message: { type: 'request', command }, withSeq: true })),
  fc.integer({ min: 1000, max: 8000 }).map((n): Action => ({ kind: 'envelope', what: `arguments ${n} levels deep`, message: { type: 'request', command: 'threads', arguments: { $: 'deep', n } }, withSeq: true })),
  fc.constantFrom<Action>(
    { kind: 'envelope', what: 'no seq', message: { type: 'request', command: 'threads' }, withSeq: false },
    { kind: 'envelope', what: 'seq is a string', message: { seq: 'x', type: 'request', command: 'threads' }, withSeq: false },
    { kind: 'envelope', what: 'no type', message: { command: 'threads' }, withSeq: true },
    { kind: 'envelope', what: 'a response from the client', message: { type: 'response', request_seq: 1, success: true, command: 'threads' }, withSeq: true },
    { kind: 'envelope', what: 'an event from the client', message: { type: 'event', event: 'stopped' }, withSeq: true },
    { kind: 'envelope', what: 'initialize again', message: { type: 'request', command: 'initialize', arguments: { adapterID: 'hwbp', pathFormat: 'path' } }, withSeq: true },
    { kind: 'envelope', what: 'launch again', message: { type: 'request', command: 'launch', arguments: { program: { $: 'program', i: 0 }, stopOnEntry: true } }, withSeq: true },
    { kind: 'envelope', what: 'configurationDone again', message: { type: 'request', command: 'configurationDone' }, withSeq: true },
  ),
);

/** (c) Garbage frames: bytes a framing layer must survive (answer later requests, or end the connection cleanly). */
export const garbage: fc.Arbitrary<Action> = fc.oneof(
  fc.constantFrom('-5', 'abc', '', '-0', ' 12 x', 'NaN').map((v): Action => ({ kind: 'garbage', what: 'bad-content-length', bytes: `Content-Length: ${v}\r\n\r\n` })),
  fc.constantFrom('0x10', '1.5', '1e1', '+3', '0b11').map((v): Action => ({ kind: 'garbage', what: 'loose-content-length', bytes: `Content-Length: ${v}\r\n\r\n` })),
  fc.constantFrom('2147483648', '99999999999999', '1e308').map((v): Action => ({ kind: 'garbage', what: 'huge-content-length', bytes: `Content-Length: ${v}\r\n\r\n{}` })),
  fc.constant<Action>({ kind: 'garbage', what: 'lf-only-header', bytes: 'Content-Length: 2\n\n{}' }),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b): Action => ({ kind: 'garbage', what: 'binary', bytes: Buffer.from(b).toString('latin1') })),
  fc.constantFrom('{not json', '\u0000', '{"seq":', 'Content-Length', '\ud800').map((b): Action => ({ kind: 'garbage', what: 'non-json-body', bytes: frameText(b) })),
  fc.constantFrom('42', '[]', '"threads"', 'true', '{}').map((b): Action => ({ kind: 'garbage', what: 'non-object-body', bytes: frameText(b) })),
  fc.constant<Action>({ kind: 'garbage', what: 'null-body', bytes: frameText('null') }),
  fc.constantFrom('X-Foo: 1\r\n\r\n', 'content-type: x\r\n\r\n').map((b): Action => ({ kind: 'garbage', what: 'no-content-length', bytes: b })),
);

/** A whole frame (header and body) as latin1 text, the body encoded as UTF-8. */
function frameText(body: string): string {
  const b = Buffer.from(body, 'utf8');
  return `Content-Length: ${b.length}\r\n\r\n` + b.toString('latin1');
}

export const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 12, arbitrary: validRequest },
  { weight: 5, arbitrary: malformedRequest },
  { weight: 1, arbitrary: envelope },
  { weight: 1, arbitrary: garbage },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 150 }).map((ms): Action => ({ kind: 'wait', ms })) },
);

export function sessionPlan(maxActions: number, options: { vanish?: boolean } = {}): fc.Arbitrary<SessionPlan> {
  return fc.record({
    program: fc.constantFrom<SessionPlan['program']>('watch', 'watch', 'frames', 'loop', 'race', 'contention', 'arm64'),
    trace: fc.boolean(),
    watchpointMode: opt(fc.constantFrom('auto', 'pinned', 'flexible')),
    actions: fc.array(action, { minLength: 1, maxLength: maxActions }),
    vanishAfter: options.vanish === true ? opt(fc.nat(maxActions)) : fc.constant(undefined),
  }).map((p) => {
    const plan: SessionPlan = { program: p.program, trace: p.trace, actions: p.actions };
    if (p.watchpointMode !== undefined) plan.watchpointMode = p.watchpointMode;
    if (p.vanishAfter !== undefined) plan.vanishAfter = p.vanishAfter;
    return plan;
  });
}
