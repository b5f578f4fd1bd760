/** The adapter's other ways in: the esbuild bundle, the TCP server, and restart. */
import * as assert from 'node:assert/strict';
import type { AddressInfo, Server } from 'node:net';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { serve } from '../../src/adapter/debugAdapter';

const ROOT = join(__dirname, '..', '..', '..');
const PROGRAM = join(ROOT, 'test', 'fixtures', 'watch.hwsim');

async function hitCounter(dc: DebugClient): Promise<DebugProtocol.StoppedEvent> {
  await Promise.all([dc.configurationSequence(), dc.launch({ program: PROGRAM, stopOnEntry: true } as DebugProtocol.LaunchRequestArguments), dc.waitForEvent('stopped')]);
  const info = await dc.dataBreakpointInfoRequest({ name: 'counter' });
  await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId! }] });
  const [, ev] = await Promise.all([dc.continueRequest({ threadId: 1 }), dc.waitForEvent('stopped')]);
  return ev as DebugProtocol.StoppedEvent;
}

describe('debug adapter entry points', function () {
  this.timeout(30_000);

  it('dist/debugAdapter.js (the esbuild bundle) serves a whole session over stdio', async () => {
    const dc = new DebugClient('node', join(ROOT, 'dist', 'debugAdapter.js'), 'hwbp');
    await dc.start();
    try {
      const ev = await hitCounter(dc);
      assert.equal(ev.body.description, 'Hardware watchpoint DR0 (cpu0): counter written 0 → 1');
    } finally {
      await dc.stop();
    }
  });

  it('--server listens on 127.0.0.1 and runs one session per connection', async () => {
    const lines: string[] = [];
    const server: Server = serve(0, (l) => lines.push(l));
    await new Promise<void>((r) => server.once('listening', () => r()));
    const { address, port } = server.address() as AddressInfo;
    assert.equal(address, '127.0.0.1');
    try {
      for (let i = 0; i < 2; i++) {
        const dc = new DebugClient('node', '', 'hwbp');
        await dc.start(port);
        const ev = await hitCounter(dc);
        assert.equal(ev.body.reason, 'data breakpoint');
        await dc.stop();
      }
      assert.match(lines[0], new RegExp(`listening on 127\\.0\\.0\\.1:${port}`));
    } finally {
      server.close();
    }
  });

  it('restart reloads the program and keeps the watchpoints', async () => {
    const dc = new DebugClient('node', join(ROOT, 'out', 'src', 'adapter', 'debugAdapter.js'), 'hwbp');
    await dc.start();
    try {
      await hitCounter(dc);
      await Promise.all([dc.restartRequest({}), dc.waitForEvent('stopped')]);
      const [, ev] = await Promise.all([dc.continueRequest({ threadId: 1 }), dc.waitForEvent('stopped')]);
      assert.equal((ev as DebugProtocol.StoppedEvent).body.description, 'Hardware watchpoint DR0 (cpu0): counter written 0 → 1', 'from the start again');
    } finally {
      await dc.stop();
    }
  });
});
