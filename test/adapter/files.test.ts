/**
 * The session reads the program only through the file access it is given (as the web entry gives
 * it vscode.workspace.fs): here an in-memory one whose paths are URIs, which no Node file system
 * could read. Also the Node one's error words, and base64 and the run loop's yield without Node.
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { fromBase64, toBase64 } from '../../src/adapter/base64';
import { baseName, FileReadError, type ProgramFiles } from '../../src/adapter/files';
import { channelSchedule, nextTurn } from '../../src/adapter/nextTurn';
import { nodeFiles } from '../../src/adapter/nodeFiles';
import { HwbpDebugSession } from '../../src/adapter/session';

const TEXT = readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'watch.hwsim'), 'utf8');
const URI = 'memfs://host/work/watch.hwsim';

/** Files kept in a map; `resolve` folds a path spelled '/work/…' into the URI form. */
function memoryFiles(files: Map<string, string>, reads: string[]): ProgramFiles {
  return {
    resolve: (path) => (path.startsWith('/') ? `memfs://host${path}` : path),
    async read(path) {
      reads.push(path);
      const text = files.get(path);
      if (text === undefined) throw new FileReadError('no such file');
      return text;
    },
  };
}

/** An in-process session and a way to send it requests and wait for the answers. */
function start(files: ProgramFiles) {
  const session = new HwbpDebugSession(files);
  const sent: DebugProtocol.ProtocolMessage[] = [];
  session.onDidSendMessage((m) => sent.push(m as DebugProtocol.ProtocolMessage));
  let seq = 1;
  const request = async (command: string, args?: unknown): Promise<DebugProtocol.Response> => {
    const s = seq++;
    session.handleMessage({ seq: s, type: 'request', command, arguments: args } as DebugProtocol.Request);
    for (let i = 0; i < 200; i++) {
      const r = sent.find((m) => m.type === 'response' && (m as DebugProtocol.Response).request_seq === s);
      if (r !== undefined) return r as DebugProtocol.Response;
      await new Promise((done) => setTimeout(done, 5));
    }
    throw new Error(`no answer to ${command}`);
  };
  const event = async (name: string): Promise<DebugProtocol.Event> => {
    for (let i = 0; i < 200; i++) {
      const e = sent.find((m) => m.type === 'event' && (m as DebugProtocol.Event).event === name);
      if (e !== undefined) return e as DebugProtocol.Event;
      await new Promise((done) => setTimeout(done, 5));
    }
    throw new Error(`no ${name} event`);
  };
  return { session, request, event };
}

describe('the session reads the program through the file access it is given', () => {
  it('launches a program that exists only in that file system, names it by URI in frames, and matches breakpoints by either spelling', async () => {
    const reads: string[] = [];
    const files = new Map([[URI, TEXT]]);
    const { session, request, event } = start(memoryFiles(files, reads));
    try {
      await request('initialize', { adapterID: 'hwbp', pathFormat: 'path' });
      const launched = await request('launch', { program: '/work/watch.hwsim', stopOnEntry: true });
      assert.equal(launched.success, true, launched.message);
      assert.deepEqual(reads, [URI]);
      const byPath = await request('setBreakpoints', { source: { path: '/work/watch.hwsim' }, breakpoints: [{ line: 22 }] });
      assert.equal((byPath.body as DebugProtocol.SetBreakpointsResponse['body']).breakpoints[0].verified, true);
      const byUri = await request('setBreakpoints', { source: { path: URI }, breakpoints: [{ line: 22 }] });
      assert.equal((byUri.body as DebugProtocol.SetBreakpointsResponse['body']).breakpoints[0].verified, true);
      const other = await request('setBreakpoints', { source: { path: 'memfs://host/work/other.hwsim' }, breakpoints: [{ line: 3 }] });
      const refused = (other.body as DebugProtocol.SetBreakpointsResponse['body']).breakpoints[0];
      assert.equal(refused.verified, false);
      assert.equal(refused.message, 'not part of the launched program watch.hwsim');
      await request('configurationDone');
      await event('stopped');
      const trace = await request('stackTrace', { threadId: 1 });
      const frame = (trace.body as DebugProtocol.StackTraceResponse['body']).stackFrames[0];
      assert.deepEqual({ name: frame.source?.name, path: frame.source?.path }, { name: 'watch.hwsim', path: URI });

      // A restart reads the file again, as it is now.
      files.set(URI, TEXT.replace('global other: u64 = 0', 'global other: u64 = 0\nglobal added: u8 = 9'));
      const restarted = await request('restart', {});
      assert.equal(restarted.success, true, restarted.message);
      assert.deepEqual(reads, [URI, URI]);
      const info = await request('dataBreakpointInfo', { name: 'added' });
      assert.ok((info.body as DebugProtocol.DataBreakpointInfoResponse['body']).dataId, 'the new global is there after the restart');
    } finally {
      session.clientGone();
    }
  });

  it('a file the access cannot read fails the launch with the program and the reason', async () => {
    const { session, request } = start(memoryFiles(new Map(), []));
    try {
      await request('initialize', { adapterID: 'hwbp', pathFormat: 'path' });
      const r = await request('launch', { program: '/work/missing.hwsim' });
      assert.equal(r.success, false);
      assert.equal(r.message, 'cannot read /work/missing.hwsim: no such file');
      const t = await request('stackTrace', { threadId: 1 });
      assert.equal(t.message, 'no program is running (launch one first)');
    } finally {
      session.clientGone();
    }
  });

  it('a file access that cannot resolve the path fails the launch the same way', async () => {
    const { session, request } = start({ resolve: () => { throw new Error("'::' is not a path"); }, read: async () => '' });
    try {
      await request('initialize', { adapterID: 'hwbp', pathFormat: 'path' });
      const r = await request('launch', { program: '::' });
      assert.equal(r.success, false);
      assert.equal(r.message, "cannot read ::: '::' is not a path");
    } finally {
      session.clientGone();
    }
  });

  it("Node's file access says why in a few words", async () => {
    await assert.rejects(nodeFiles.read('/nonexistent/x.hwsim'), (e: unknown) => e instanceof FileReadError && e.message === 'no such file');
    await assert.rejects(nodeFiles.read(__dirname), (e: unknown) => e instanceof FileReadError && e.message === 'is a directory');
    assert.equal(nodeFiles.resolve('a/../b.hwsim'), join(process.cwd(), 'b.hwsim'));
  });

  it('baseName takes the last part of a path or a URI', () => {
    assert.equal(baseName('/work/race.hwsim'), 'race.hwsim');
    assert.equal(baseName('vscode-remote://127.0.0.1:8080/tmp/ws/race.hwsim'), 'race.hwsim');
    assert.equal(baseName('C:\\work\\race.hwsim'), 'race.hwsim');
    assert.equal(baseName('/work/dir/'), 'dir');
  });

  it('base64 without Buffer: the same text as Buffer, round trips, and rejects what is not base64', () => {
    const bytes = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 7919) % 256);
    const text = toBase64(bytes);
    assert.equal(text, Buffer.from(bytes).toString('base64'));
    assert.deepEqual(fromBase64(text), bytes);
    assert.deepEqual(fromBase64(''), new Uint8Array(0));
    assert.throws(() => fromBase64('a'), /'a' is not base64 text/);
  });
});

describe('nextTurn without setImmediate (the browser)', () => {
  it('a MessageChannel runs the waiting callbacks later, in order, and keeps no process alive', async () => {
    const schedule = channelSchedule();
    const order: number[] = [];
    const last = new Promise<void>((done) => {
      schedule(() => order.push(1));
      schedule(() => order.push(2));
      schedule(() => {
        order.push(3);
        done();
      });
    });
    assert.deepEqual(order, [], 'nothing runs in the same task');
    await last;
    assert.deepEqual(order, [1, 2, 3]);
    await nextTurn();
  });
});
