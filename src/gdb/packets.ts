/**
 * The framing of the GDB Remote Serial Protocol: `$data#cs` packets, `+`/`-` acks, `}` escapes,
 * run-length encoding (`X*N`) and the raw Ctrl-C byte (0x03). Strings here are 'latin1' (one char
 * per byte), so binary payloads (vFile:pread, X) pass through unchanged.
 */

/** Largest packet (data bytes, before unescaping) we accept; advertised as PacketSize. */
export const PACKET_SIZE = 0x4000;

export function checksum(data: string): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum = (sum + data.charCodeAt(i)) & 0xff;
  return sum;
}

/** Escape `#`, `$`, `}` and `*` as `}` + (byte ^ 0x20). */
export function escape(data: string): string {
  let out = '';
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    out += c === '#' || c === '$' || c === '}' || c === '*' ? '}' + String.fromCharCode(c.charCodeAt(0) ^ 0x20) : c;
  }
  return out;
}

/** A whole packet ready for the wire. */
export function frame(data: string): string {
  const body = escape(data);
  return `$${body}#${checksum(body).toString(16).padStart(2, '0')}`;
}

/** Undo escapes, then expand run-length encoding (`X*N`: X repeated N - 29 more times). */
export function decodeBody(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '}' && i + 1 < raw.length) {
      out += String.fromCharCode(raw.charCodeAt(++i) ^ 0x20);
    } else if (c === '*' && out.length > 0 && i + 1 < raw.length) {
      const n = raw.charCodeAt(++i) - 29;
      if (n > 0 && n <= 126) out += out[out.length - 1].repeat(n);
    } else {
      out += c;
    }
  }
  return out;
}

export type WireEvent =
  | { kind: 'packet'; data: string }
  | { kind: 'bad-checksum' }
  | { kind: 'oversized' }
  | { kind: 'interrupt' }
  | { kind: 'ack' }
  | { kind: 'nack' };

/**
 * Incremental reader of the byte stream from GDB. Bytes outside a packet other than `+`, `-`,
 * `$` and 0x03 are garbage and dropped.
 */
export class PacketReader {
  private state: 'idle' | 'data' | 'sum1' | 'sum2' = 'idle';
  private raw = '';
  private sum = '';
  private tooLong = false;

  constructor(private readonly limit = PACKET_SIZE) {}

  feed(chunk: string | Buffer): WireEvent[] {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    const out: WireEvent[] = [];
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      switch (this.state) {
        case 'idle':
          if (c === '$') this.begin();
          else if (c === '\x03') out.push({ kind: 'interrupt' });
          else if (c === '+') out.push({ kind: 'ack' });
          else if (c === '-') out.push({ kind: 'nack' });
          break;
        case 'data':
          if (c === '#') this.state = 'sum1';
          else if (c === '$') this.begin(); // a new packet starts: the broken one is dropped
          else if (this.raw.length < this.limit) this.raw += c;
          else this.tooLong = true;
          break;
        case 'sum1':
          this.sum = c;
          this.state = 'sum2';
          break;
        case 'sum2': {
          this.sum += c;
          this.state = 'idle';
          if (this.tooLong) out.push({ kind: 'oversized' });
          else if (!/^[0-9a-fA-F]{2}$/.test(this.sum) || parseInt(this.sum, 16) !== checksum(this.raw)) out.push({ kind: 'bad-checksum' });
          else out.push({ kind: 'packet', data: decodeBody(this.raw) });
          this.raw = '';
          break;
        }
      }
    }
    return out;
  }

  private begin(): void {
    this.state = 'data';
    this.raw = '';
    this.tooLong = false;
  }
}

export function toHex(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

export function fromHex(hex: string): string {
  return Buffer.from(hex, 'hex').toString('utf8');
}

/** Little-endian hex of an unsigned value of `bytes` bytes. */
export function leHex(value: number | bigint, bytes: number): string {
  let v = BigInt.asUintN(bytes * 8, BigInt(value));
  let out = '';
  for (let i = 0; i < bytes; i++) {
    out += Number(v & 0xffn).toString(16).padStart(2, '0');
    v >>= 8n;
  }
  return out;
}

export function parseLeHex(hex: string): bigint {
  let v = 0n;
  for (let i = hex.length - 2; i >= 0; i -= 2) v = (v << 8n) | BigInt(parseInt(hex.slice(i, i + 2), 16));
  return v;
}
