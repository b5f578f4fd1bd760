/**
 * The hardened adapter: every request's arguments are checked at the door, work per request is
 * bounded, breakpoints belong to their source, sessions in one server are isolated, and a client
 * that vanishes takes nothing with it.
 */
import * as assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { serve } from '../../src/adapter/debugAdapter';
import { nodeFiles } from '../../src/adapter/nodeFiles';
import { HwbpDebugSession } from '../../src/adapter/session';
import type { Machine } from '../../src/target';

const ADAPTER = join(__dirname, '..', '..', 'src', 'adapter', 'debugAdapter.js');
const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures');
const PROGRAM = join(FIXTURES, 'watch.hwsim');

async function session(program = PROGRAM, extra: Record<string, unknown> = {}): Promise<DebugClient> {
  const dc = new DebugClient('node', ADAPTER, 'hwbp');
  await dc.start();
  await Promise.all([dc.configurationSequence(), dc.launch({ program, stopOnEntry: true, ...extra } as DebugProtocol.LaunchRequestArguments), dc.waitForEvent('stopped')]);
  return dc;
}

/** [command, arguments, the argument the message must name]. */
type Case = [string, unknown, string];

const nested = (depth: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { v };
  return v;
};

const BAD: Case[] = [
  ['disassemble', { memoryReference: '0x400000', instructionCount: 2147483648 }, 'instructionCount'],
  ['disassemble', { memoryReference: '0x400000', instructionCount: 1e308 }, 'instructionCount'],
  ['disassemble', { memoryReference: '0x400000', instructionCount: 'Infinity' }, 'instructionCount'],
  ['disassemble', { memoryReference: '0x400000', instructionCount: 1.5 }, 'instructionCount'],
  ['disassemble', { memoryReference: '0x400000', instructionCount: -1 }, 'instructionCount'],
  ['disassemble', { memoryReference: '0x400000', instructionCount: null }, 'instructionCount'],
  ['disassemble', { memoryReference: '0x400000', instructionCount: 4, offset: '4' }, 'offset'],
  ['disassemble', { memoryReference: '0x400000', instructionCount: 4, instructionOffset: 1e12 }, 'instructionOffset'],
  ['disassemble', { memoryReference: 4194304, instructionCount: 4 }, 'memoryReference'],
  ['disassemble', { memoryReference: 'x'.repeat(5000), instructionCount: 4 }, 'memoryReference'],
  ['readMemory', { memoryReference: '0x400000', offset: {}, count: 4 }, 'offset'],
  ['readMemory', { memoryReference: '0x400000', count: 2 ** 21 }, 'count'],
  ['readMemory', { memoryReference: '0x400000', count: 1.5 }, 'count'],
  ['readMemory', { memoryReference: '0x400000', count: '4' }, 'count'],
  ['readMemory', { memoryReference: [], count: 4 }, 'memoryReference'],
  ['writeMemory', { memoryReference: '0x601000', data: 5 }, 'data'],
  ['writeMemory', { memoryReference: '0x601000', data: '!!!!' }, 'data'],
  ['writeMemory', { memoryReference: '0x601000', data: 'AAAA', offset: 1.5 }, 'offset'],
  ['variables', { variablesReference: '1' }, 'variablesReference'],
  ['variables', { variablesReference: -1 }, 'variablesReference'],
  ['variables', { variablesReference: 1000, start: -1 }, 'start'],
  ['variables', { variablesReference: 1000, count: 'all' }, 'count'],
  ['variables', { variablesReference: 1000, filter: 'some' }, 'filter'],
  ['evaluate', { expression: 5 }, 'expression'],
  ['evaluate', { expression: 'x'.repeat(20_000) }, 'expression'],
  ['evaluate', { expression: 'counter', frameId: '1' }, 'frameId'],
  ['setVariable', { variablesReference: 1000, name: 5, value: '1' }, 'name'],
  ['setVariable', { variablesReference: 1000, name: 'counter', value: {} }, 'value'],
  ['scopes', { frameId: '1' }, 'frameId'],
  ['scopes', { frameId: 1e308 }, 'frameId'],
  ['stackTrace', { threadId: '1' }, 'threadId'],
  ['stackTrace', { threadId: 1, startFrame: -1 }, 'startFrame'],
  ['stackTrace', { threadId: 1, levels: 1.5 }, 'levels'],
  ['continue', { threadId: 'main' }, 'threadId'],
  ['next', { threadId: -1 }, 'threadId'],
  ['stepIn', { threadId: 2 ** 40 }, 'threadId'],
  ['stepOut', { singleThread: true }, 'threadId'],
  ['stepOut', undefined, 'arguments'],
  ['next', { threadId: 1, granularity: 'word' }, 'granularity'],
  ['pause', { threadId: null }, 'threadId'],
  ['exceptionInfo', { threadId: 'x' }, 'threadId'],
  ['setBreakpoints', { breakpoints: [] }, 'source'],
  ['setBreakpoints', { source: 'watch.hwsim', breakpoints: [] }, 'source'],
  ['setBreakpoints', { source: { path: PROGRAM }, breakpoints: 'all' }, 'breakpoints'],
  ['setBreakpoints', { source: { path: PROGRAM }, breakpoints: [{ line: '3' }] }, 'breakpoints[0].line'],
  ['setBreakpoints', { source: { path: PROGRAM }, breakpoints: [{ line: 3, condition: 5 }] }, 'breakpoints[0].condition'],
  ['setBreakpoints', { source: { path: PROGRAM }, breakpoints: Array.from({ length: 6000 }, () => ({ line: 1 })) }, 'breakpoints'],
  ['setFunctionBreakpoints', { breakpoints: [{ name: 5 }] }, 'breakpoints[0].name'],
  ['setInstructionBreakpoints', { breakpoints: [{ instructionReference: 5 }] }, 'breakpoints[0].instructionReference'],
  ['setInstructionBreakpoints', { breakpoints: [{ instructionReference: '0x400000', offset: 1.5 }] }, 'breakpoints[0].offset'],
  ['dataBreakpointInfo', { name: 5 }, 'name'],
  ['dataBreakpointInfo', { name: 'counter', bytes: 1.5 }, 'bytes'],
  ['dataBreakpointInfo', { name: 'counter', variablesReference: '1' }, 'variablesReference'],
  ['setDataBreakpoints', { breakpoints: 'x' }, 'breakpoints'],
  ['setDataBreakpoints', { breakpoints: [{ dataId: 5 }] }, 'breakpoints[0].dataId'],
  ['setDataBreakpoints', { breakpoints: Array.from({ length: 2000 }, () => ({ dataId: 'x' })) }, 'breakpoints'],
  ['hwbp.setWatchpointMode', { id: '1', mode: 'pinned' }, 'id'],
  ['hwbp.setWatchpointMode', { id: 1, mode: 'sometimes' }, 'mode'],
  ['hwbp.state', 'everything', 'arguments'],
  ['threads', [1], 'arguments'],
  ['launch', { program: 5 }, 'program'],
  ['launch', { program: PROGRAM, cpus: 65 }, 'cpus'],
  ['launch', { program: PROGRAM, cpus: 1.5 }, 'cpus'],
  ['launch', { program: PROGRAM, seed: -1 }, 'seed'],
  ['launch', { program: PROGRAM, mux: 'fast' }, 'mux'],
  ['launch', { program: PROGRAM, watchpointMode: 'always' }, 'watchpointMode'],
  ['restart', { arguments: 'again' }, 'arguments'],
  ['terminate', { restart: 'yes' }, 'restart'],
  ['disconnect', { terminateDebuggee: 1 }, 'terminateDebuggee'],
];

describe('hardened adapter', function () {
  this.timeout(60_000);
  let dc: DebugClient | undefined;
  afterEach(async () => {
    await dc?.stop();
    dc = undefined;
  });

  it('initialize without pathFormat takes DAP\'s default (path) instead of being refused', async () => {
    dc = new DebugClient('node', ADAPTER, 'hwbp');
    await dc.start();
    const r = await dc.customRequest('initialize', { adapterID: 'hwbp' });
    assert.equal(r.success, true);
    assert.equal(r.body.supportsDataBreakpoints, true);
  });

  it('answers every bad argument of every request with an error naming it, and changes nothing', async () => {
    dc = await session();
    const info = await dc.dataBreakpointInfoRequest({ name: 'counter' });
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId! }] });
    await dc.setBreakpointsRequest({ source: { path: PROGRAM }, breakpoints: [{ line: 23 }] });
    const state = async () => JSON.stringify((await dc!.customRequest('hwbp.state')).body);
    const before = await state();
    for (const [command, args, name] of BAD) {
      const what = `${command} ${String(JSON.stringify(args)).slice(0, 80)}`;
      const started = Date.now();
      const err = await dc.customRequest(command, args).then(() => null, (e: Error) => e);
      assert.ok(err !== null, `${what} was accepted`);
      const escaped = name.replace(/[[\].]/g, (c) => `\\${c}`);
      assert.match(err.message, new RegExp(`^${command.replace('.', '\\.')}: ${escaped} must be .+, got .+`), `${what}: ${err.message}`);
      assert.ok(Date.now() - started < 2000, `${what} took ${Date.now() - started} ms`);
      assert.equal(await state(), before, `${what} changed the state`);
    }
    // The door's message for the example, in full.
    await assert.rejects(dc.customRequest('disassemble', { memoryReference: '0x400000', instructionCount: 'Infinity' }),
      /^Error: disassemble: instructionCount must be an integer between 0 and 100000, got "Infinity"$/);
    await assert.rejects(dc.customRequest('evaluate', { expression: '1', junk: nested(100) }), /^Error: evaluate: arguments are nested more than 32 levels deep$/);
    await assert.rejects(dc.customRequest('frobnicate', {}), /^Error: unrecognized request 'frobnicate'$/);
    // Still serving, and the program still stops where it should.
    const [, ev] = await Promise.all([dc.continueRequest({ threadId: 1 }), dc.waitForEvent('stopped')]);
    assert.equal((ev as DebugProtocol.StoppedEvent).body.reason, 'data breakpoint');
  });

  it('answers the largest disassemble and readMemory quickly, with bounded answers, and keeps answering while running', async () => {
    dc = await session(join(FIXTURES, 'loop.hwsim'));
    let t = Date.now();
    const dis = await dc.disassembleRequest({ memoryReference: '0x400000', instructionCount: 100_000 });
    assert.equal(dis.body!.instructions.length, 100_000);
    assert.ok(JSON.stringify(dis.body).length < 16 * 2 ** 20, 'the answer stays under 16 MB');
    assert.equal(dis.body!.instructions.filter((i) => i.location !== undefined).length, 1, 'the source is given once');
    const read = await dc.customRequest('readMemory', { memoryReference: '0x601000', count: 2 ** 20 });
    assert.equal(read.body.unreadableBytes + Buffer.from(read.body.data, 'base64').length <= 2 ** 20, true);
    assert.ok(Date.now() - t < 10_000, `took ${Date.now() - t} ms`);
    // Offsets that would leave the address space are refused, not answered with nonsense.
    await assert.rejects(dc.customRequest('readMemory', { memoryReference: '0x10', offset: -100, count: 4 }), /readMemory: 0x10 - 100 is not an address/);
    // Running: a long request is served between slices, and pause and threads still answer.
    await dc.continueRequest({ threadId: 1 });
    t = Date.now();
    await dc.disassembleRequest({ memoryReference: '0x400000', instructionCount: 100_000 });
    assert.equal((await dc.threadsRequest()).body.threads.length, 1);
    const [, ev] = await Promise.all([dc.pauseRequest({ threadId: 1 }), dc.waitForEvent('stopped', 5000)]);
    assert.equal((ev as DebugProtocol.StoppedEvent).body.reason, 'pause');
    assert.ok(Date.now() - t < 10_000);
  });

  it('pages a big array: indexedVariables, start and count, at most 1000 per answer', async () => {
    dc = await session(join(FIXTURES, 'watch.hwsim'));
    const frame = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    const r = await dc.evaluateRequest({ expression: 'pair', frameId: frame.id });
    assert.equal(r.body.indexedVariables, 2);
    const page = await dc.variablesRequest({ variablesReference: r.body.variablesReference, filter: 'indexed', start: 1, count: 5 });
    assert.deepEqual(page.body.variables.map((v) => v.name), ['[1]']);
    const named = await dc.variablesRequest({ variablesReference: r.body.variablesReference, filter: 'named' });
    assert.deepEqual(named.body.variables, []);
  });

  it('setBreakpoints for another file answers unverified and leaves the program\'s breakpoints alone', async () => {
    dc = await session();
    const own = await dc.setBreakpointsRequest({ source: { path: PROGRAM }, breakpoints: [{ line: 23 }] });
    assert.equal(own.body.breakpoints[0].verified, true);
    const other = await dc.setBreakpointsRequest({ source: { path: join(FIXTURES, 'frames.hwsim') }, breakpoints: [{ line: 7 }, { line: 23 }] });
    assert.deepEqual(other.body.breakpoints.map((b) => [b.verified, b.message, b.line]), [
      [false, 'not part of the launched program watch.hwsim', 7], [false, 'not part of the launched program watch.hwsim', 23],
    ]);
    // An empty list for another file removes nothing of the program's.
    await dc.setBreakpointsRequest({ source: { path: join(FIXTURES, 'frames.hwsim') }, breakpoints: [] });
    await dc.setBreakpointsRequest({ source: { name: 'other.hwsim' }, breakpoints: [] });
    const [, ev] = await Promise.all([dc.continueRequest({ threadId: 1 }), dc.waitForEvent('stopped')]);
    assert.deepEqual([(ev as DebugProtocol.StoppedEvent).body.reason, (ev as DebugProtocol.StoppedEvent).body.hitBreakpointIds], ['breakpoint', [own.body.breakpoints[0].id]]);
    // A path that normalizes to the program is the program; a source with only its name too.
    const same = await dc.setBreakpointsRequest({ source: { path: join(FIXTURES, '..', 'fixtures', '.', 'watch.hwsim') }, breakpoints: [{ line: 27 }] });
    assert.equal(same.body.breakpoints[0].verified, true);
    const byName = await dc.setBreakpointsRequest({ source: { name: 'watch.hwsim' }, breakpoints: [{ line: 27 }] });
    assert.equal(byName.body.breakpoints[0].verified, true);
  });

  it('two --server sessions with trace: each sees its own protocol trace and nothing of the other\'s', async () => {
    const server = serve(0, () => undefined);
    await new Promise<void>((r) => server.once('listening', () => r()));
    const { port } = server.address() as AddressInfo;
    const clients: DebugClient[] = [];
    try {
      const programs = [PROGRAM, join(FIXTURES, 'frames.hwsim')];
      const consoles: string[][] = [];
      for (let i = 0; i < programs.length; i++) {
        const c = new DebugClient('node', '', 'hwbp');
        await c.start(port);
        clients.push(c);
        const lines: string[] = [];
        consoles.push(lines);
        c.on('output', (e: DebugProtocol.OutputEvent) => lines.push(e.body.output));
      }
      // Interleaved: both launched, then both evaluate.
      for (const [i, c] of clients.entries()) {
        await Promise.all([c.configurationSequence(), c.launch({ program: programs[i], stopOnEntry: true, trace: true } as DebugProtocol.LaunchRequestArguments), c.waitForEvent('stopped')]);
      }
      for (const c of clients) await c.threadsRequest();
      for (const [i, lines] of consoles.entries()) {
        const mine = programs[i].split(/[\\/]/).pop()!;
        const theirs = programs[1 - i].split(/[\\/]/).pop()!;
        const trace = lines.filter((l) => l.startsWith('[trace] '));
        assert.ok(trace.some((l) => l.includes('"command":"launch"') && l.includes(mine)), `session ${i} traces its own launch`);
        assert.ok(trace.some((l) => l.includes('"command":"threads"')), `session ${i} traces its requests`);
        assert.ok(lines.every((l) => !l.includes(theirs)), `session ${i} sees nothing of the other session`);
      }
    } finally {
      for (const c of clients) await c.stop();
      server.close();
    }
  });

  it('clientGone: the run stops, the program ends, every register is released; idempotent, also after disconnect', async () => {
    const session = new HwbpDebugSession(nodeFiles);
    const input = new PassThrough();
    const output = new PassThrough();
    output.resume();
    session.start(input, output);
    const sent: DebugProtocol.ProtocolMessage[] = [];
    session.onDidSendMessage((m) => sent.push(m as DebugProtocol.ProtocolMessage));
    let seq = 1;
    const request = async (command: string, args?: unknown): Promise<DebugProtocol.Response> => {
      const s = seq++;
      session.handleMessage({ seq: s, type: 'request', command, arguments: args } as DebugProtocol.Request);
      for (let i = 0; i < 200; i++) {
        const r = sent.find((m) => m.type === 'response' && (m as DebugProtocol.Response).request_seq === s);
        if (r !== undefined) return r as DebugProtocol.Response;
        await new Promise((done) => setTimeout(done, 10));
      }
      throw new Error(`no answer to ${command}`);
    };
    await request('initialize', { adapterID: 'hwbp', pathFormat: 'path' });
    await request('launch', { program: join(FIXTURES, 'loop.hwsim'), stopOnEntry: true });
    await request('configurationDone');
    const id = ((await request('dataBreakpointInfo', { name: 'h' })).body as { dataId: string }).dataId;
    const set = await request('setDataBreakpoints', { breakpoints: [{ dataId: id, condition: 'h == 0' }] });
    assert.equal(set.success, true);
    const machine = (session as unknown as { machine: Machine }).machine;
    assert.ok(machine.kernel.snapshot().events.length > 0, 'the watchpoint holds a register');
    await request('continue', { threadId: 1 });
    await new Promise((done) => setTimeout(done, 100));
    const ran = machine.now;
    assert.ok(ran > 0, 'it runs');
    // The connection closes without a disconnect.
    input.destroy();
    await new Promise((done) => setTimeout(done, 50));
    const at = machine.now;
    await new Promise((done) => setTimeout(done, 300));
    assert.equal(machine.now, at, 'the machine stopped');
    assert.deepEqual(machine.kernel.snapshot().events, [], 'the kernel holds no breakpoint');
    const count = sent.length;
    session.clientGone();
    session.clientGone();
    assert.equal(sent.length, count, 'nothing more is sent');

    // After a disconnect, clientGone is harmless.
    const other = new HwbpDebugSession(nodeFiles);
    const answers: DebugProtocol.ProtocolMessage[] = [];
    other.onDidSendMessage((m) => answers.push(m as DebugProtocol.ProtocolMessage));
    other.handleMessage({ seq: 1, type: 'request', command: 'initialize', arguments: { adapterID: 'hwbp', pathFormat: 'path' } } as DebugProtocol.Request);
    other.handleMessage({ seq: 2, type: 'request', command: 'disconnect', arguments: {} } as DebugProtocol.Request);
    other.clientGone();
    other.clientGone();
    assert.equal(answers.filter((m) => m.type === 'response').length, 2);
  });
});
