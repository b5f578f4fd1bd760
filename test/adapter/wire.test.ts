/** The adapter's transport on its own: framing, garbage recovery and the shape guard, with a fake session. */
import * as assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import * as fc from 'fast-check';
import { connectWire, shapeProblem, type WireSession } from '../../src/adapter/wire';

const frame = (body: string) => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const request = (seq: number, command = 'threads', args?: object) => JSON.stringify({ seq, type: 'request', command, ...(args ? { arguments: args } : {}) });

/** A session that records what it is handed and answers each request with an empty success. */
function fakeSession(): WireSession & { got: object[]; gone: number } {
  let listener: (m: object) => void = () => undefined;
  const s = {
    got: [] as object[],
    gone: 0,
    handleMessage(m: object) {
      s.got.push(m);
      const r = m as { seq: number; command: string };
      listener({ seq: s.got.length, type: 'response', request_seq: r.seq, command: r.command, success: true });
    },
    onDidSendMessage(l: (m: object) => void) { listener = l; },
    clientGone() { s.gone++; },
  };
  return s;
}

/** Parse everything the wire wrote back into messages. */
function written(out: PassThrough): { type: string; [k: string]: unknown }[] {
  const text = (out.read() as Buffer | null)?.toString('utf8') ?? '';
  return text.split(/Content-Length: \d+\r\n\r\n/).filter((p) => p !== '').map((p) => JSON.parse(p));
}

function setup(options = {}) {
  const input = new PassThrough();
  const output = new PassThrough();
  const session = fakeSession();
  const close = connectWire(session, input, output, options);
  return { input, output, session, close };
}

describe('adapter transport (wire)', () => {
  it('delivers the same messages however the bytes are split into chunks', () => {
    fc.assert(fc.property(fc.array(fc.nat(200), { maxLength: 12 }), fc.boolean(), (cuts, lfOnly) => {
      const { input, session } = setup();
      const bytes = Buffer.from([1, 2, 3, 4].map((i) => {
        const f = frame(request(i, 'threads', { text: 'é✓'.repeat(i) }));
        return lfOnly ? f.replace('\r\n\r\n', '\n\n') : f;
      }).join(''));
      const points = [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
      let from = 0;
      for (const p of [...points, bytes.length]) {
        input.write(bytes.subarray(from, p));
        from = p;
      }
      assert.deepEqual(session.got.map((m) => (m as { seq: number }).seq), [1, 2, 3, 4]);
    }), { numRuns: 200, seed: 42 });
  });

  it('reports and skips frames it cannot read, and keeps answering after them', () => {
    const { input, output, session } = setup();
    const garbage = [
      'Content-Length: abc\r\n\r\n{}', 'Content-Length: -5\r\n\r\n', 'Content-Length: 99999999999\r\n\r\n', Buffer.from([0, 1, 2, 255, 10, 13]),
      'X-Nothing: 1\r\n\r\n', frame('not json'), frame('['.repeat(50_000)), frame('{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000)),
    ];
    for (const [i, g] of garbage.entries()) {
      input.write(g);
      input.write(frame(request(i + 1)));
    }
    assert.deepEqual(session.got.map((m) => (m as { seq: number }).seq), [1, 2, 3, 4, 5, 6, 7, 8], 'every good request after the garbage got through');
    const notes = written(output).filter((m) => m.type === 'event').map((m) => (m.body as { output: string }).output);
    assert.equal(notes.length, garbage.length, notes.join(''));
    assert.match(notes[0], /Content-Length "abc" is not a byte count/);
    assert.match(notes[2], /99999999999 bytes \(at most 16777216/);
    assert.match(notes[4], /without a Content-Length header/);
    assert.match(notes[5], /body is not JSON/);
  });

  it('answers requests of the wrong shape itself, naming what is wrong, and hands the session only good ones', () => {
    const { input, output, session } = setup();
    input.write(frame(JSON.stringify({ seq: 7, type: 'request', command: { toString: 1 } })));
    input.write(frame(JSON.stringify({ seq: 8, type: 'request', command: 'threads', arguments: [1, 2] })));
    input.write(frame(`{"seq":9,"type":"request","command":"variables","arguments":${'{"a":'.repeat(300)}1${'}'.repeat(300)}}`));
    input.write(frame(JSON.stringify({ seq: 1.5, type: 'request', command: 'threads' })));
    input.write(frame(JSON.stringify({ seq: 10, type: 'event', event: 'x' })));
    assert.deepEqual(session.got, []);
    const answers = written(output);
    assert.deepEqual(answers.filter((m) => m.type === 'response').map((m) => [m.request_seq, m.success]), [[7, false], [8, false], [9, false]]);
    assert.match(answers[0].message as string, /^request: command must be a request name .* got \{"toString":1\}$/);
    assert.match(answers[1].message as string, /^threads: arguments must be an object, got \[1,2\]$/);
    assert.match(answers[2].message as string, /^variables: arguments are nested more than 256 levels deep$/);
    assert.equal(answers.filter((m) => m.type === 'event').length, 2, 'no seq to answer to: reported as output');
  });

  it('tells the session when the client goes, once, and calls back after a disconnect response', async () => {
    let disconnected = 0;
    const { input, session } = setup({ onDisconnected: () => { disconnected++; } });
    input.write(frame(request(1, 'disconnect')));
    await new Promise((r) => setImmediate(r));
    assert.equal(disconnected, 1);
    input.end();
    input.destroy();
    await new Promise((r) => setImmediate(r));
    assert.equal(session.gone, 1);
  });

  it('shapeProblem accepts what DAP allows', () => {
    assert.equal(shapeProblem({ seq: 0, type: 'request', command: 'initialize', arguments: { adapterID: 'x' } }), null);
    assert.equal(shapeProblem({ seq: 3, type: 'response', request_seq: 1, command: 'runInTerminal', success: true }), null);
    assert.match(shapeProblem('x')!, /JSON object/);
    assert.match(shapeProblem({ seq: -1, type: 'request', command: 'a' })!, /seq must be/);
  });
});
