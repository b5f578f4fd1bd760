/**
 * One deterministic repro per known failure (knownFailures.ts). Each returns null when the adapter
 * behaves, or what went wrong. The mocha suite expects exactly the listed ones to fail.
 */
import { AdapterServer, cpuShare, FIXTURES, CHILD_NODE_ARGS } from '../support/adapterProcess';
import { adapterScript } from '../support/adapterProcess';
import { DapWire, describeEnding, type Outcome } from '../support/dapWire';
import { FAILURE_IDS, KNOWN_ADAPTER_FAILURES, type FailureId } from './knownFailures';
import { findJunk } from './session';

/** Time bound of a request: generous for requests answered in milliseconds, short enough to keep the suite quick. */
const BOUND_MS = 2500;

/** Set-up is not what a repro tests: it gets a generous bound (a loaded machine starts node slowly). */
const SETUP_MS = 20_000;

class SetUpError extends Error {}

async function setUp(w: DapWire, program: string = FIXTURES.watch, extra: Record<string, unknown> = {}): Promise<void> {
  const init = await w.request('initialize', { adapterID: 'hwbp', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' }, SETUP_MS);
  if (init.kind !== 'answered' || !init.response.success) throw new SetUpError(`set-up: initialize ${init.kind}`);
  const launch = await w.request('launch', { program, stopOnEntry: true, ...extra }, SETUP_MS);
  if (launch.kind !== 'answered' || !launch.response.success) throw new SetUpError(`set-up: launch ${launch.kind}`);
  await w.request('configurationDone', undefined, SETUP_MS);
  if ((await w.waitForEvent((e) => e.event === 'stopped', SETUP_MS)) === null) throw new SetUpError('set-up: no stopped event');
}

/** A fresh stdio adapter, set up, given to fn, disposed. */
async function withStdio<T>(fn: (w: DapWire) => Promise<T>, nodeArgs = CHILD_NODE_ARGS): Promise<T> {
  const w = DapWire.spawnStdio(adapterScript(), [], { timeoutMs: BOUND_MS, nodeArgs });
  try {
    await setUp(w);
    return await fn(w);
  } finally {
    await w.dispose();
  }
}

function what(o: Outcome): string | null {
  if (o.kind === 'timeout') return `no response within ${o.ms} ms`;
  if (o.kind === 'ended') return o.how;
  return null;
}

/** After something the adapter should survive: a later request is answered, and it is still alive a moment later. */
async function stillAnswers(w: DapWire): Promise<string | null> {
  await new Promise((r) => setTimeout(r, 250));
  const o = await w.request('threads');
  const bad = what(o);
  if (bad !== null) return `the next request: ${bad}`;
  if (!w.alive) return describeEnding(w.ending!);
  return null;
}

/** Over stdio and over --server, a request that must be answered (an error is fine) and survived. */
async function answeredOnBoth(body: (seq: number) => string, label: string): Promise<string | null> {
  const problems: string[] = [];
  const stdio = await withStdio(async (w) => {
    const seq = w.peekSeq();
    const o = await w.requestText(seq, body(seq));
    return what(o) ?? (await stillAnswers(w));
  });
  if (stdio !== null) problems.push(`stdio: ${stdio}`);
  const server = await AdapterServer.start();
  try {
    const w = await server.connect({ timeoutMs: BOUND_MS });
    await setUp(w);
    const seq = w.peekSeq();
    const o = await w.requestText(seq, body(seq));
    const s = what(o) ?? (await stillAnswers(w));
    if (s !== null) problems.push(`--server: ${s}`);
    await w.dispose();
  } finally {
    await server.stop();
  }
  return problems.length === 0 ? null : `${label}: ${problems.join('; ')}`;
}

async function junkOf(command: string, args: unknown): Promise<string | null> {
  return withStdio(async (w) => {
    const o = await w.request(command, args);
    if (o.kind !== 'answered') return `${command}: ${what(o)}`;
    if (!o.response.success) return null;
    const j = findJunk(o.response.body, new Set(), true);
    return j === null ? null : `${command} ${JSON.stringify(args)} succeeded with ${j}`;
  });
}

/** After these bytes, the adapter answers, or ends the connection saying why on stderr (stdio). */
async function garbageSurvived(bytes: Buffer | string): Promise<string | null> {
  return withStdio(async (w) => {
    w.sendRaw(bytes);
    const s = await stillAnswers(w);
    if (s === null) return null;
    if (w.ending !== null && w.ending.stderr.trim() !== '') return null; // ended, and said why
    return `after ${JSON.stringify(bytes.toString())}: ${s}`;
  });
}

export const REPROS: Record<FailureId, () => Promise<string | null>> = {
  'non-string-command': () => answeredOnBoth((seq) => JSON.stringify({ seq, type: 'request', command: { toString: 1 } }), 'command {"toString":1}'),

  'deep-arguments': () => answeredOnBoth(
    (seq) => `{"seq":${seq},"type":"request","command":"threads","arguments":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`,
    'arguments 5000 levels deep',
  ),

  'disassemble-unbounded-count': async () => {
    // A 64 MiB heap makes an unbounded allocation fail within a second or two instead of minutes.
    const counts: unknown[] = [2147483648, 1e308, 'Infinity'];
    const results = await Promise.all(counts.map((c) => withStdio(async (w) => {
      const o = await w.request('disassemble', { memoryReference: '0x400000', instructionCount: c });
      return what(o) === null ? null : `instructionCount ${JSON.stringify(c)}: ${what(o)}`;
    }, ['--max-old-space-size=64'])));
    const bad = results.filter((r): r is string => r !== null);
    return bad.length === 0 ? null : bad.join('; ');
  },

  'disassemble-loose-count': () => withStdio(async (w) => {
    const bad: string[] = [];
    for (const c of [1.5, -3, '5', true, []]) {
      const o = await w.request('disassemble', { memoryReference: '0x400000', instructionCount: c });
      if (o.kind !== 'answered') bad.push(`${JSON.stringify(c)}: ${what(o)}`);
      else if (o.response.success) {
        const n = (o.response.body as { instructions: unknown[] }).instructions.length;
        if (n !== c) bad.push(`${JSON.stringify(c)} → ${n} instructions`);
      }
    }
    return bad.length === 0 ? null : `disassemble instructionCount ${bad.join(', ')}`;
  }),

  'disassemble-nan-address': async () => {
    for (const args of [
      { memoryReference: '0x400000', offset: 'x', instructionCount: 1 },
      { memoryReference: '0x400000', instructionOffset: 'x', instructionCount: 1 },
    ]) {
      const j = await junkOf('disassemble', args);
      if (j !== null) return j;
    }
    return null;
  },

  'read-memory-object-offset': () => junkOf('readMemory', { memoryReference: '0x400000', offset: {}, count: 4 }),

  'set-breakpoints-foreign-source': () => withStdio(async (w) => {
    const o = await w.request('setBreakpoints', { source: { path: '/tmp/hwbp-fuzz-elsewhere/other.hwsim' }, breakpoints: [{ line: 20 }] });
    if (o.kind !== 'answered') return `setBreakpoints: ${what(o)}`;
    if (!o.response.success) return null;
    const bps = (o.response.body as { breakpoints: { verified: boolean; line?: number; source?: { path?: string } }[] }).breakpoints;
    const v = bps.filter((b) => b.verified);
    return v.length === 0 ? null : `setBreakpoints for /tmp/hwbp-fuzz-elsewhere/other.hwsim line 20 verified it at ${v[0].source?.path}:${v[0].line}`;
  }),

  'breakpoint-entry-not-object': async () => {
    for (const [command, args] of [
      ['setFunctionBreakpoints', { breakpoints: ['x'] }],
      ['setDataBreakpoints', { breakpoints: [42] }],
      ['setFunctionBreakpoints', { breakpoints: [{ name: {} }] }],
    ] as const) {
      const j = await junkOf(command, args);
      if (j !== null) return j;
    }
    return null;
  },

  'frame-huge-content-length': () => garbageSurvived('Content-Length: 99999999999999\r\n\r\n{}'),
  'frame-loose-content-length': () => garbageSurvived('Content-Length: 0x10\r\n\r\n'),
  'frame-lf-only-header': () => garbageSurvived('Content-Length: 2\n\n{}'),
  'frame-binary-bytes': () => garbageSurvived(Buffer.from([0x00, 0xff, 0x01, 0x02, 0x03, 0xc8])),
  'frame-non-json-body': () => garbageSurvived('Content-Length: 9\r\n\r\n{not json'),
  'frame-null-body': () => garbageSurvived('Content-Length: 4\r\n\r\nnull'),

  'server-trace-cross-talk': async () => {
    const server = await AdapterServer.start();
    try {
      const a = await server.connect({ timeoutMs: BOUND_MS });
      const b = await server.connect({ timeoutMs: BOUND_MS });
      await setUp(a, FIXTURES.watch, { trace: true });
      await setUp(b, FIXTURES.watch, { trace: true });
      await a.request('evaluate', { expression: 'zzmarkA' });
      await b.request('evaluate', { expression: 'zzmarkB' });
      await new Promise((r) => setTimeout(r, 200));
      const out = (w: DapWire) => w.events.filter((e) => e.event === 'output').map((e) => String((e.body as { output?: unknown }).output)).join('');
      const problems: string[] = [];
      if (out(b).includes('zzmarkA')) problems.push("session B's console shows session A's trace");
      if (out(a).includes('zzmarkB')) problems.push("session A's console shows session B's trace");
      await a.dispose();
      await b.dispose();
      return problems.length === 0 ? null : problems.join('; ');
    } finally {
      await server.stop();
    }
  },

  'server-vanished-client-runs-on': async () => {
    const server = await AdapterServer.start();
    try {
      const w = await server.connect({ timeoutMs: BOUND_MS });
      await setUp(w, FIXTURES.loop);
      await w.request('continue', { threadId: 1 });
      await new Promise((r) => setTimeout(r, 200));
      w.hangUp();
      await new Promise((r) => setTimeout(r, 500));
      const share = await cpuShare(server.pid, 1000);
      return share > 0.25 ? `${(share * 100).toFixed(0)}% of a core busy 0.5 s after the only client closed its socket while test/fixtures/loop.hwsim ran` : null;
    } finally {
      await server.stop();
    }
  },
};

export interface ReproResult {
  id: FailureId;
  listed: boolean;
  failure: string | null;
  /** The repro could not run (its set-up failed): neither pass nor fail. */
  error?: string;
}

export async function checkRepros(ids: readonly FailureId[] = FAILURE_IDS): Promise<ReproResult[]> {
  // A few at a time: most of the time is spent waiting out time bounds.
  const out: ReproResult[] = [];
  for (let i = 0; i < ids.length; i += 4) {
    out.push(...(await Promise.all(ids.slice(i, i + 4).map(async (id) => {
      const listed = KNOWN_ADAPTER_FAILURES.includes(id);
      try {
        return { id, listed, failure: await REPROS[id]() };
      } catch (e) {
        return { id, listed, failure: null, error: `the repro could not run: ${(e as Error).message}` };
      }
    }))));
  }
  return out;
}
