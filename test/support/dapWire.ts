/**
 * A small raw Debug Adapter Protocol client for black-box tests of the adapter binary: it speaks
 * framed messages over a child process's stdio or a TCP socket, can send any bytes at all (garbage
 * frames, bodies that are not JSON, requests whose fields have the wrong types), matches responses
 * to requests by `request_seq` with a time bound per request, collects events, and notices when
 * the process exits or the socket closes.
 *
 * Unlike @vscode/debugadapter-testsupport's DebugClient it never validates what it sends, and a
 * request it sends resolves to an outcome (answered, timed out, or the connection ended) instead of
 * rejecting, so a test can assert on each.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';

export interface DapMessage {
  seq: number;
  type: string;
  [key: string]: unknown;
}

export interface DapResponse extends DapMessage {
  type: 'response';
  request_seq: number;
  success: boolean;
  command: string;
  message?: string;
  body?: unknown;
}

export interface DapEvent extends DapMessage {
  type: 'event';
  event: string;
  body?: unknown;
}

/** What became of one request. */
export type Outcome =
  | { kind: 'answered'; response: DapResponse; ms: number }
  | { kind: 'timeout'; ms: number }
  | { kind: 'ended'; ms: number; how: string };

/** How the connection ended: the process's exit, or the socket's close. */
export interface Ending {
  how: 'exit' | 'close';
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Everything the process wrote on stderr (stdio only). */
  stderr: string;
}

export interface WireOptions {
  /** The default time bound of a request, in ms. */
  timeoutMs?: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

export class DapWire {
  /** Requests sent, raw writes, events received: for the fuzz run's figures. */
  readonly stats = { requests: 0, raw: 0, answered: 0, timeouts: 0, ended: 0 };
  readonly events: DapEvent[] = [];
  /** Responses nobody waited for (a request_seq unknown to us, or answered after its time bound). */
  readonly strayResponses: DapResponse[] = [];
  /** Bytes the adapter sent that did not parse as a frame or as JSON. */
  readonly protocolErrors: string[] = [];
  ending: Ending | null = null;
  stderr = '';

  private nextSeq = 1;
  private buffer: Buffer<ArrayBufferLike> = Buffer.alloc(0);
  private readonly pending = new Map<number, { resolve: (o: Outcome) => void; timer: NodeJS.Timeout; start: number }>();
  private readonly eventWaiters: { pred: (e: DapEvent) => boolean; resolve: (e: DapEvent | null) => void; timer: NodeJS.Timeout }[] = [];
  private readonly endWaiters: ((e: Ending) => void)[] = [];
  private readonly timeoutMs: number;

  private constructor(
    input: Readable,
    private readonly output: Writable,
    readonly child: ChildProcess | null,
    readonly socket: Socket | null,
    options: WireOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    input.on('data', (d: Buffer) => this.onData(d));
    output.on('error', () => { /* EPIPE after the peer went away: reported through the ending */ });
    input.on('error', () => { /* idem */ });
  }

  /** Start `node script args…` and speak DAP on its stdin/stdout. */
  static spawnStdio(script: string, args: string[] = [], options: WireOptions & { nodeArgs?: string[] } = {}): DapWire {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const wire = new DapWire(child.stdout!, child.stdin!, child, null, options);
    child.stderr!.on('data', (d: Buffer) => { if (wire.stderr.length < 1 << 16) wire.stderr += d.toString('utf8'); });
    child.on('exit', (code, signal) => {
      // Let stdout drain first: a last response may still be in the pipe.
      setTimeout(() => wire.end({ how: 'exit', code, signal, stderr: wire.stderr }), 20);
    });
    return wire;
  }

  /** Connect to a `--server=PORT` adapter on 127.0.0.1. */
  static connect(port: number, options: WireOptions = {}): Promise<DapWire> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.removeListener('error', reject);
        const wire = new DapWire(socket, socket, null, socket, options);
        socket.on('close', () => wire.end({ how: 'close', code: null, signal: null, stderr: '' }));
        resolve(wire);
      });
    });
  }

  get alive(): boolean {
    return this.ending === null;
  }

  /** The seq the next request will carry. */
  peekSeq(): number {
    return this.nextSeq;
  }

  /** Send a request and wait for its response, its time bound, or the end of the connection. */
  request(command: unknown, args?: unknown, timeoutMs = this.timeoutMs): Promise<Outcome> {
    const seq = this.nextSeq++;
    const msg: Record<string, unknown> = { seq, type: 'request', command };
    if (args !== undefined) msg.arguments = args;
    return this.requestMessage(msg, timeoutMs);
  }

  /**
   * Send any JSON object as a request body; its `seq` (a number) is what the response is matched
   * by. For requests whose other fields are malformed on purpose.
   */
  requestMessage(msg: Record<string, unknown>, timeoutMs = this.timeoutMs): Promise<Outcome> {
    return this.requestText(msg.seq as number, JSON.stringify(msg), timeoutMs);
  }

  /**
   * Send this exact body text (which should carry `"seq": seq`) and wait for the response to seq.
   * For bodies JSON.stringify cannot make (arguments nested thousands of levels deep).
   */
  requestText(seq: number, body: string, timeoutMs = this.timeoutMs): Promise<Outcome> {
    if (typeof seq === 'number' && seq >= this.nextSeq) this.nextSeq = seq + 1;
    this.stats.requests++;
    const start = Date.now();
    return new Promise((resolve) => {
      if (this.ending !== null) {
        this.stats.ended++;
        resolve({ kind: 'ended', ms: 0, how: describeEnding(this.ending) });
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        this.stats.timeouts++;
        resolve({ kind: 'timeout', ms: Date.now() - start });
      }, timeoutMs);
      this.pending.set(seq, { resolve, timer, start });
      this.write(frame(body));
    });
  }

  /** Send a frame with this body text, a correct Content-Length, and no answer awaited. */
  sendBody(body: string): void {
    this.stats.raw++;
    this.write(frame(body));
  }

  /** Send these bytes exactly as they are. */
  sendRaw(bytes: Buffer | string): void {
    this.stats.raw++;
    this.write(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes);
  }

  /** The next event (already received after `from`, or still to come) that satisfies pred; null on time-out or end. */
  waitForEvent(pred: (e: DapEvent) => boolean, timeoutMs = this.timeoutMs, from = 0): Promise<DapEvent | null> {
    const seen = this.events.slice(from).find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.ending !== null) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter = {
        pred,
        resolve,
        timer: setTimeout(() => {
          this.eventWaiters.splice(this.eventWaiters.indexOf(waiter), 1);
          resolve(null);
        }, timeoutMs),
      };
      this.eventWaiters.push(waiter);
    });
  }

  /** Resolves with the ending (at once if it ended already), or null after timeoutMs. */
  waitForEnd(timeoutMs: number): Promise<Ending | null> {
    if (this.ending !== null) return Promise.resolve(this.ending);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), timeoutMs);
      this.endWaiters.push((e) => {
        clearTimeout(timer);
        resolve(e);
      });
    });
  }

  /**
   * End our side without a word: stdio closes the adapter's stdin, TCP closes the socket (the
   * "vanished client"). Returns at once.
   */
  hangUp(): void {
    if (this.socket !== null) this.socket.destroy();
    else this.child?.stdin?.end();
  }

  /** Make sure nothing is left: kill the child (if still there) or destroy the socket. */
  async dispose(): Promise<void> {
    if (this.socket !== null) {
      this.socket.destroy();
    } else if (this.child !== null && this.ending === null) {
      this.child.stdin?.end();
      if ((await this.waitForEnd(1000)) === null) {
        this.child.kill('SIGKILL');
        await this.waitForEnd(2000);
      }
    }
    for (const [, p] of this.pending) clearTimeout(p.timer);
    for (const w of this.eventWaiters) clearTimeout(w.timer);
  }

  private write(bytes: Buffer): void {
    if (this.ending !== null) return;
    if (this.socket !== null && this.socket.destroyed) return;
    if (this.child !== null && (this.child.stdin === null || this.child.stdin.destroyed || this.child.stdin.writableEnded)) return;
    this.output.write(bytes);
  }

  private onData(d: Buffer): void {
    this.buffer = this.buffer.length === 0 ? d : Buffer.concat([this.buffer, d]);
    for (;;) {
      const end = this.buffer.indexOf(HEADER_END);
      if (end < 0) return;
      const header = this.buffer.subarray(0, end).toString('latin1');
      const m = /^Content-Length: (\d+)$/im.exec(header);
      if (m === null) {
        this.protocolErrors.push(`header without Content-Length: ${JSON.stringify(header.slice(0, 200))}`);
        this.buffer = this.buffer.subarray(end + HEADER_END.length);
        continue;
      }
      const len = Number(m[1]);
      if (this.buffer.length < end + HEADER_END.length + len) return;
      const body = this.buffer.subarray(end + HEADER_END.length, end + HEADER_END.length + len).toString('utf8');
      this.buffer = this.buffer.subarray(end + HEADER_END.length + len);
      let msg: DapMessage;
      try {
        msg = JSON.parse(body) as DapMessage;
      } catch {
        this.protocolErrors.push(`body is not JSON: ${JSON.stringify(body.slice(0, 200))}`);
        continue;
      }
      this.onMessage(msg);
    }
  }

  private onMessage(msg: DapMessage): void {
    if (msg.type === 'response') {
      const r = msg as DapResponse;
      const p = this.pending.get(r.request_seq);
      if (p === undefined) {
        this.strayResponses.push(r);
        return;
      }
      this.pending.delete(r.request_seq);
      clearTimeout(p.timer);
      this.stats.answered++;
      p.resolve({ kind: 'answered', response: r, ms: Date.now() - p.start });
    } else if (msg.type === 'event') {
      const e = msg as DapEvent;
      if (this.events.length < 20_000) this.events.push(e);
      for (const w of [...this.eventWaiters]) {
        if (w.pred(e)) {
          clearTimeout(w.timer);
          this.eventWaiters.splice(this.eventWaiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    }
    // Reverse requests (runInTerminal…) are not used by this adapter; ignored.
  }

  private end(e: Ending): void {
    if (this.ending !== null) return;
    this.ending = e;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      this.stats.ended++;
      p.resolve({ kind: 'ended', ms: Date.now() - p.start, how: describeEnding(e) });
    }
    this.pending.clear();
    for (const w of this.eventWaiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve(null);
    }
    for (const w of this.endWaiters.splice(0)) w(e);
  }
}

export function frame(body: string): Buffer {
  const b = Buffer.from(body, 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${b.length}\r\n\r\n`, 'ascii'), b]);
}

export function describeEnding(e: Ending): string {
  if (e.how === 'close') return 'the socket closed';
  const err = e.stderr.trim();
  const tail = err === '' ? 'no stderr'
    : /heap out of memory|Last few GCs/.test(err) ? 'out of memory: "JavaScript heap out of memory" on stderr'
      : `stderr: ${err.slice(0, 300)}`;
  return `the process exited (${e.signal !== null ? `signal ${e.signal}` : `status ${e.code}`}, ${tail})`;
}

/** The response if answered, else throws with what happened instead (for setup steps). */
export function answered(o: Outcome, what: string): DapResponse {
  if (o.kind === 'answered') return o.response;
  throw new Error(`${what}: ${o.kind === 'timeout' ? `no response within ${o.ms} ms` : `no response: ${o.how}`}`);
}
