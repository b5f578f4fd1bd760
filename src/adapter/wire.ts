/**
 * The adapter's transport: DAP's framing (`Content-Length: N` headers, then N bytes of JSON) over a
 * byte stream (stdio or one TCP connection), with a guard in front of @vscode/debugadapter's
 * dispatch.
 *
 * The library's own stream reader trusts its client: a bad Content-Length or a body that is not
 * JSON leaves it waiting forever or throws out of its data handler, and a request whose `command`
 * is not a string throws inside its logging before any handler of ours runs. So the session never
 * sees a stream: this reader frames, parses and checks every message's shape, hands only
 * well-formed messages to `session.handleMessage`, and answers everything else itself, then carries
 * on with the next frame. Per-command argument checks are the session's (validation.ts); this layer
 * knows only what every DAP message must look like.
 */
import type { Readable, Writable } from 'node:stream';

/** What the wire needs of a session: the library's inline-adapter surface, and a way to say the client left. */
export interface WireSession {
  handleMessage(message: object): void;
  onDidSendMessage(listener: (message: object) => void): unknown;
  /** The client vanished without `disconnect`: stop the program and release everything. */
  clientGone?(): void;
}

export interface WireOptions {
  /** Largest body accepted (bytes); a frame announcing more is refused and skipped. */
  maxBodyBytes?: number;
  /** Deepest nesting of arrays and objects accepted in a message. */
  maxDepth?: number;
  /** After the response to `disconnect` is written (stdio: exit the process; a socket: close it). */
  onDisconnected?: () => void;
  /** The input ended or failed (after clientGone was called). */
  onClosed?: () => void;
}

export const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Far above what any request needs (the session's validation allows 32): a guard against absurd nesting only. */
export const MAX_DEPTH = 256;
/** Longest header block we wait for before deciding the bytes are not a header at all. */
const MAX_HEADER_BYTES = 1024;
const HEADER_NAME = Buffer.from('content-length:', 'latin1');

/** A frame that cannot be read, and why (for the message to the client). */
class FrameError extends Error {}

/**
 * Connects a session to a byte stream pair. Returns a function that closes the connection (the
 * session is told the client is gone).
 */
export function connectWire(session: WireSession, input: Readable, output: Writable, options: WireOptions = {}): () => void {
  const maxBody = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const maxDepth = options.maxDepth ?? MAX_DEPTH;
  let buffer: Buffer = Buffer.alloc(0);
  let closed = false;
  let seq = 1_000_000_000; // our own messages (refusals) are numbered apart from the session's

  const write = (message: object) => {
    if (closed || output.destroyed || output.writableEnded) return;
    const json = JSON.stringify(message);
    output.write(`Content-Length: ${Buffer.byteLength(json, 'utf8')}\r\n\r\n${json}`, 'utf8');
  };
  session.onDidSendMessage((message) => {
    write(message);
    const m = message as { type?: string; command?: string };
    if (m.type === 'response' && m.command === 'disconnect' && options.onDisconnected !== undefined) {
      // Let the response reach the client first.
      setImmediate(options.onDisconnected);
    }
  });
  /** Tell the client about input we dropped: an `output` event, as nothing else in DAP can carry it. */
  const complain = (text: string) => {
    write({ seq: seq++, type: 'event', event: 'output', body: { category: 'stderr', output: `hwbp adapter: ${text}\n` } });
  };
  const refuse = (requestSeq: number, command: string, message: string) => {
    write({ seq: seq++, type: 'response', request_seq: requestSeq, command, success: false, message, body: { error: { id: 1001, format: message.replace(/[{}]/g, (c) => (c === '{' ? '(' : ')')), showUser: false } } });
  };

  const deliver = (body: Buffer) => {
    let message: unknown;
    try {
      message = JSON.parse(body.toString('utf8'));
    } catch (e) {
      // A stack overflow on absurd nesting lands here too.
      complain(`ignored a message whose body is not JSON (${e instanceof RangeError ? 'nested too deeply' : preview(body)})`);
      return;
    }
    const problem = shapeProblem(message, maxDepth);
    if (problem !== null) {
      const m = message as { seq?: unknown; command?: unknown; type?: unknown };
      // Only something meant as a request gets a response; anything else is reported as output.
      const meantAsRequest = typeof m === 'object' && m !== null && (m.type === 'request' || m.type === undefined);
      const requestSeq = meantAsRequest && Number.isSafeInteger(m.seq) && (m.seq as number) >= 0 ? (m.seq as number) : null;
      if (requestSeq !== null) refuse(requestSeq, typeof m.command === 'string' ? m.command.slice(0, 100) : '', problem);
      else complain(`ignored an invalid message: ${problem}`);
      return;
    }
    const request = message as { type: string; seq: number; command?: string };
    try {
      session.handleMessage(request);
    } catch (e) {
      // A handler that throws must not take the connection down with it.
      if (request.type === 'request') refuse(request.seq, request.command ?? '', `internal error in ${request.command}: ${(e as Error).message}`);
      else complain(`internal error on a ${request.type}: ${(e as Error).message}`);
    }
  };

  /** Read every complete frame in the buffer; leave a partial one for the next chunk. */
  const drain = () => {
    for (;;) {
      if (closed) return;
      // Blank lines between frames are harmless: skip them without a word.
      let start = 0;
      while (start < buffer.length && (buffer[start] === 0x0d || buffer[start] === 0x0a || buffer[start] === 0x20)) start++;
      if (start > 0) buffer = buffer.subarray(start);
      if (buffer.length === 0) return;
      let frame: { headerEnd: number; length: number } | null;
      try {
        frame = readHeader(buffer, maxBody);
      } catch (e) {
        if (!(e instanceof FrameError)) throw e;
        complain(`${e.message}; skipped to the next Content-Length header`);
        buffer = resync(buffer);
        continue;
      }
      if (frame === null) return; // need more bytes
      if (buffer.length < frame.headerEnd + frame.length) return;
      const body = buffer.subarray(frame.headerEnd, frame.headerEnd + frame.length);
      buffer = buffer.subarray(frame.headerEnd + frame.length);
      deliver(Buffer.from(body));
    }
  };

  const close = () => {
    if (closed) return;
    session.clientGone?.();
    closed = true;
    buffer = Buffer.alloc(0);
    options.onClosed?.();
  };
  input.on('data', (chunk: Buffer | string) => {
    buffer = buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([buffer, Buffer.from(chunk)]);
    drain();
  });
  input.on('end', close);
  input.on('close', close);
  input.on('error', close);
  output.on('error', close);
  input.resume();
  return close;
}

/**
 * The header block at the start of `buf`: where the body starts and how long it is, or null if the
 * block is not complete yet. Lines may end in CRLF or, leniently, LF alone. Throws FrameError when
 * the bytes cannot be a valid header.
 */
function readHeader(buf: Buffer, maxBody: number): { headerEnd: number; length: number } | null {
  let end = -1;
  let sep = 0;
  const crlf = buf.indexOf('\r\n\r\n', 0, 'latin1');
  const lf = buf.indexOf('\n\n', 0, 'latin1');
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) { end = crlf; sep = 4; } else if (lf >= 0) { end = lf; sep = 2; }
  if (end < 0) {
    if (buf.length > MAX_HEADER_BYTES) throw new FrameError(`ignored ${buf.length} bytes that are not a DAP header`);
    // A header always starts with a name; bytes that cannot begin one are garbage now, not later.
    if (!/^[A-Za-z]/.test(buf.toString('latin1', 0, 1))) throw new FrameError('ignored bytes that are not a DAP header');
    return null;
  }
  const lines = buf.toString('latin1', 0, end).split(/\r?\n/);
  let length: number | null = null;
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0 || !/^[A-Za-z][A-Za-z0-9-]*$/.test(line.slice(0, colon))) throw new FrameError(`ignored a frame with a malformed header line ${JSON.stringify(line.slice(0, 60))}`);
    if (line.slice(0, colon).toLowerCase() !== 'content-length') continue;
    const value = line.slice(colon + 1).trim();
    if (!/^\d{1,12}$/.test(value)) throw new FrameError(`ignored a frame whose Content-Length ${JSON.stringify(value.slice(0, 40))} is not a byte count`);
    length = Number(value);
  }
  if (length === null) throw new FrameError('ignored a frame without a Content-Length header');
  if (length > maxBody) throw new FrameError(`ignored a frame of ${length} bytes (at most ${maxBody} are accepted)`);
  return { headerEnd: end + sep, length };
}

/** Drop bytes up to the next `Content-Length:` after the start (keeping a possible partial one). */
function resync(buf: Buffer): Buffer {
  const lower = Buffer.from(buf.toString('latin1').toLowerCase(), 'latin1');
  const next = lower.indexOf(HEADER_NAME, 1);
  if (next >= 0) return buf.subarray(next);
  // Keep only a tail that could be the start of the next header, split across chunks.
  for (let k = Math.min(buf.length - 1, HEADER_NAME.length - 1); k > 0; k--) {
    if (lower.subarray(lower.length - k).equals(HEADER_NAME.subarray(0, k))) return Buffer.from(buf.subarray(buf.length - k));
  }
  return Buffer.alloc(0);
}

/** What is wrong with a parsed message's shape, or null if it is a message DAP allows. */
export function shapeProblem(message: unknown, maxDepth: number = MAX_DEPTH): string | null {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) return 'a message must be a JSON object';
  const m = message as Record<string, unknown>;
  if (!Number.isSafeInteger(m.seq) || (m.seq as number) < 0) return `seq must be a non-negative integer, got ${describe(m.seq)}`;
  if (m.type !== 'request' && m.type !== 'response') return `type must be "request" (or "response" to a request of ours), got ${describe(m.type)}`;
  if (m.type === 'request') {
    if (typeof m.command !== 'string' || m.command.length === 0 || m.command.length > 100) return `request: command must be a request name (a string of 1 to 100 characters), got ${describe(m.command)}`;
    if (m.arguments !== undefined && (m.arguments === null || typeof m.arguments !== 'object' || Array.isArray(m.arguments))) {
      return `${m.command}: arguments must be an object, got ${describe(m.arguments)}`;
    }
  } else if (!Number.isSafeInteger(m.request_seq) || typeof m.command !== 'string' || typeof m.success !== 'boolean') {
    return 'a response needs request_seq, command and success';
  }
  if (depthOver(message, maxDepth)) return `${typeof m.command === 'string' ? m.command : 'message'}: arguments are nested more than ${maxDepth} levels deep`;
  return null;
}

/** True if objects and arrays nest deeper than `max` (iterative: no recursion to overflow). */
function depthOver(value: unknown, max: number): boolean {
  const stack: { v: unknown; d: number }[] = [{ v: value, d: 1 }];
  while (stack.length > 0) {
    const { v, d } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > max) return true;
    for (const child of Object.values(v as object)) if (child !== null && typeof child === 'object') stack.push({ v: child, d: d + 1 });
  }
  return false;
}

/** A short, safe rendering of a value for a message. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  try {
    const text = JSON.stringify(value);
    return text === undefined ? typeof value : text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return typeof value;
  }
}

function preview(body: Buffer): string {
  const text = body.toString('utf8', 0, Math.min(body.length, 40)).replace(/[^\x20-\x7e]/g, '?');
  return `starts ${JSON.stringify(text)}`;
}
