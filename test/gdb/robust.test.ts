import * as assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { frame } from '../../src/gdb/packets';
import { startGdbServer, type RunningServer } from '../../src/gdb/server';
import { loadMachine } from '../support/gdbSession';

/** A raw client: send bytes, wait for a reply matching a pattern (with a timeout). */
class Raw {
  data = '';
  closed = false;
  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (this.data += d));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }
  static connect(port: number): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new Raw(s)));
      s.once('error', reject);
    });
  }
  async until(pattern: RegExp, ms = 5000): Promise<string> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const m = pattern.exec(this.data);
      if (m !== null) {
        this.data = this.data.slice(m.index + m[0].length);
        return m[0];
      }
      if (this.closed) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`timed out waiting for ${pattern} (have ${JSON.stringify(this.data.slice(0, 200))})`);
  }
  async ask(packet: string): Promise<string> {
    this.socket.write(frame(packet), 'latin1');
    const r = await this.until(/\$([^#]*)#[0-9a-f]{2}/);
    return r.slice(1, -3);
  }
}

describe('hwbp gdbserver: bad input never crashes or hangs it', function () {
  this.timeout(20_000);
  let server: RunningServer;
  const log: string[] = [];

  beforeEach(async () => {
    server = await startGdbServer({ port: 0, flexible: false, once: false, elf: null, load: () => loadMachine('examples/race.hwsim'), log: (l) => log.push(l) });
  });
  afterEach(async () => {
    await server.close();
  });

  it('answers garbage, bad checksums, oversized and unknown packets in the protocol\'s error forms', async () => {
    const c = await Raw.connect(server.port);
    c.socket.write('hello garbage\r\n+++');
    c.socket.write('$g#00');
    assert.equal(await c.until(/-/), '-');
    c.socket.write(frame('M601000,1:' + '0'.repeat(0x5000)));
    assert.equal(await c.until(/\$E01#[0-9a-f]{2}/), '$E01#a6');
    assert.equal(await c.ask('vMustReplyEmpty'), '');
    assert.equal(await c.ask('qNoSuchThing:1'), '');
    assert.equal(await c.ask('?'), await c.ask('?'));
    assert.equal(await c.ask('m10,4'), 'E14'); // unmapped
    assert.equal(await c.ask('m601000,4'), '00000000');
    assert.equal(await c.ask('M400000,4:90909090'), 'E0d'); // read-only text
    assert.equal(await c.ask('M601000,4:2a000000'), 'OK');
    assert.equal(await c.ask('m601000,4'), '2a000000');
    assert.equal(await c.ask('m601000,zz'), 'E00');
    assert.equal(await c.ask('Z2,601000,4'), 'OK');
    assert.equal(await c.ask('Z2,601000,4'), 'OK'); // idempotent
    assert.equal(await c.ask('Z3,601000,4'), ''); // x86: no read-only watchpoints
    assert.equal(await c.ask('z2,601000,4'), 'OK');
    assert.equal(await c.ask('z2,601000,4'), 'OK');
    assert.equal(await c.ask('Z9,1,1'), 'E00');
    assert.equal(await c.ask('Hg99'), 'E01');
    assert.equal(await c.ask('p999'), 'E00');
    // RLE and escapes in an incoming packet: M with '0*"' (0 then 5 more) = 6 zeros... plus escaped bytes
    assert.equal(await c.ask('qSupported:x'), 'PacketSize=4000;qXfer:features:read+;qXfer:exec-file:read-;hwbreak+;swbreak+;vContSupported+');
    c.socket.destroy();
  });

  it('Ctrl-C interrupts a run with SIGINT; a second client is refused; a client vanishing mid-run tears the machine down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hwbp-gdb-'));
    const spin = join(dir, 'spin.hwsim');
    writeFileSync(spin, 'global x: u32\nthread main {\n  while 1 {\n    x = x + 1\n  }\n}\n');
    await server.close();
    server = await startGdbServer({ port: 0, flexible: false, once: false, elf: null, load: () => loadMachine(spin), log: (l) => log.push(l) });
    const c = await Raw.connect(server.port);
    assert.equal(await c.ask('qfThreadInfo'), 'm1');
    const second = await Raw.connect(server.port);
    assert.match(await second.until(/\$E\.[^#]*#/), /another GDB is attached/);
    c.socket.write(frame('vCont;c'));
    await new Promise((r) => setTimeout(r, 20));
    c.socket.write('\x03');
    assert.match(await c.until(/\$T02[^#]*#/), /T02.*thread:1;/);
    c.socket.write(frame('vCont;c'));
    await new Promise((r) => setTimeout(r, 5));
    c.socket.destroy(); // gone mid-run
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(log.some((l) => l.includes('machine torn down')), log.join('\n'));
    // the server serves the next client, from a fresh machine
    const d = await Raw.connect(server.port);
    assert.match(await d.ask('?'), /^T05.*thread:1;$/);
    assert.equal(await d.ask('m601000,4'), '00000000');
    d.socket.destroy();
  });

  it('--once: the port is freed when the client goes', async () => {
    const once = await startGdbServer({ port: 0, flexible: false, once: true, elf: null, load: () => loadMachine('examples/race.hwsim'), log: () => undefined });
    const c = await Raw.connect(once.port);
    assert.equal(await c.ask('vKill;a410'), 'OK');
    await once.closed;
    await assert.rejects(Raw.connect(once.port));
  });
});
