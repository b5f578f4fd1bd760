/**
 * `npm run soak`: 1,000 sessions on one `--server` adapter process (a separate process, as a user
 * runs it), a few at a time, over 127.0.0.1 only. Each session: initialize, launch
 * test/fixtures/watch.hwsim (stopOnEntry), configurationDone, threads, a data breakpoint on
 * `counter`, continue to its hit, stackTrace, hwbp.state, then disconnect; every fifth closes its
 * socket without disconnect instead (right after the hit, or while test/fixtures/loop.hwsim runs
 * once the vanished-client failure is fixed).
 *
 * Every 100 sessions it prints the server's resident memory (VmRSS from /proc/PID/status) and the
 * rate. It asserts bounded growth: RSS after 1,000 sessions ≤ 1.5 × RSS after 100 + 32 MiB. The
 * first 100 sessions warm the heap (JIT code, the program's parse, V8's heap growth to its working
 * size), so that is the baseline; a server that kept each session's machine (a few hundred KiB of
 * simulated memory, registers and closures) would grow by hundreds of MiB over the next 900, far
 * past the bound, while GC noise stays well inside the slack. Also asserted: every request of every
 * session answered within 5 s, the server alive throughout, and idle (< 25% of a core) at the end.
 *
 *   node out/test/fuzz/soak.js [--sessions N] [--concurrency N]
 */
import { AdapterServer, cpuShare, FIXTURES } from '../support/adapterProcess';
import type { DapWire, Outcome } from '../support/dapWire';
import { isKnown } from './knownFailures';

function arg(name: string, fallback: number): number {
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  const i = process.argv.indexOf(`--${name}`);
  return Number(eq !== undefined ? eq.slice(name.length + 3) : i >= 0 ? process.argv[i + 1] : fallback);
}

const TIMEOUT_MS = 5000;

class SoakError extends Error {}

function ok(o: Outcome, what: string): Record<string, unknown> {
  if (o.kind === 'timeout') throw new SoakError(`${what}: no response within ${o.ms} ms`);
  if (o.kind === 'ended') throw new SoakError(`${what}: ${o.how}`);
  if (!o.response.success) throw new SoakError(`${what} refused: ${o.response.message}`);
  return (o.response.body ?? {}) as Record<string, unknown>;
}

async function session(server: AdapterServer, n: number): Promise<'disconnected' | 'vanished'> {
  const vanish = n % 5 === 4;
  // Vanishing while the program runs, once that no longer leaves it running in the server.
  const running = vanish && n % 10 === 9 && !isKnown('server-vanished-client-runs-on');
  const w: DapWire = await server.connect({ timeoutMs: TIMEOUT_MS });
  try {
    ok(await w.request('initialize', { adapterID: 'hwbp', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' }), 'initialize');
    ok(await w.request('launch', { program: running ? FIXTURES.loop : FIXTURES.watch, stopOnEntry: true }), 'launch');
    ok(await w.request('configurationDone'), 'configurationDone');
    if ((await w.waitForEvent((e) => e.event === 'stopped')) === null) throw new SoakError('no stopped event on entry');
    ok(await w.request('threads'), 'threads');
    const info = ok(await w.request('dataBreakpointInfo', { name: running ? 'h' : 'counter' }), 'dataBreakpointInfo');
    const set = ok(await w.request('setDataBreakpoints', { breakpoints: [{ dataId: info.dataId }] }), 'setDataBreakpoints');
    if (!(set.breakpoints as { verified: boolean }[])[0].verified) throw new SoakError('the data breakpoint was not verified');
    if (running) {
      // Clear it and let the program run on, then vanish.
      ok(await w.request('setDataBreakpoints', { breakpoints: [] }), 'setDataBreakpoints []');
      ok(await w.request('continue', { threadId: 1 }), 'continue');
      w.hangUp();
      return 'vanished';
    }
    const from = w.events.length;
    ok(await w.request('continue', { threadId: 1 }), 'continue');
    const stop = await w.waitForEvent((e) => e.event === 'stopped', TIMEOUT_MS, from);
    if (stop === null || (stop.body as { reason?: string }).reason !== 'data breakpoint') throw new SoakError('continue did not stop at the data breakpoint');
    ok(await w.request('stackTrace', { threadId: 1 }), 'stackTrace');
    ok(await w.request('hwbp.state'), 'hwbp.state');
    if (vanish) {
      w.hangUp();
      return 'vanished';
    }
    ok(await w.request('disconnect', { terminateDebuggee: true }), 'disconnect');
    return 'disconnected';
  } finally {
    await w.dispose();
  }
}

async function main(): Promise<void> {
  const total = arg('sessions', 1000);
  const concurrency = arg('concurrency', 4);
  const server = await AdapterServer.start();
  console.log(`soak: ${total} sessions on one --server adapter (pid ${server.pid}, 127.0.0.1:${server.port}), ${concurrency} at a time; RSS at start ${server.rssKiB()} KiB`);
  const rss: Record<number, number> = {};
  const failures: string[] = [];
  let done = 0;
  let vanished = 0;
  let next = 0;
  const t0 = Date.now();
  let tLast = t0;
  try {
    const worker = async () => {
      while (next < total && failures.length < 20) {
        const n = next++;
        try {
          if ((await session(server, n)) === 'vanished') vanished++;
        } catch (e) {
          failures.push(`session #${n}: ${e instanceof SoakError ? e.message : (e as Error).stack}`);
        }
        done++;
        if (done % 100 === 0) {
          const now = Date.now();
          rss[done] = server.alive ? server.rssKiB() : NaN;
          console.log(`  ${String(done).padStart(5)} sessions: RSS ${(rss[done] / 1024).toFixed(1)} MiB, ${(100 / ((now - tLast) / 1000)).toFixed(1)} sessions/s (${vanished} vanished so far)`);
          tLast = now;
        }
        if (!server.alive) {
          failures.push(`the server exited (${JSON.stringify(server.exit)}): ${server.stderr.slice(-500)}`);
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const secs = (Date.now() - t0) / 1000;
    console.log(`soak: ${done} sessions in ${secs.toFixed(1)} s, ${(done / secs).toFixed(1)} sessions/s, ${vanished} closed without disconnect`);
    if (server.alive) {
      await new Promise((r) => setTimeout(r, 500));
      const share = await cpuShare(server.pid, 1000);
      console.log(`soak: server CPU with no client: ${(share * 100).toFixed(0)}% of a core`);
      if (share > 0.25) failures.push(`the server uses ${(share * 100).toFixed(0)}% of a core with no client connected`);
    }
    const base = rss[100];
    const last = rss[Math.floor(done / 100) * 100];
    if (base !== undefined && last !== undefined && done >= 200) {
      const bound = base * 1.5 + 32 * 1024;
      console.log(`soak: RSS after ${Math.floor(done / 100) * 100} sessions ${(last / 1024).toFixed(1)} MiB; bound 1.5 × ${(base / 1024).toFixed(1)} MiB (after 100) + 32 MiB = ${(bound / 1024).toFixed(1)} MiB`);
      if (!(last <= bound)) failures.push(`RSS grew without bound: ${(last / 1024).toFixed(1)} MiB > ${(bound / 1024).toFixed(1)} MiB`);
    }
  } finally {
    await server.stop();
  }
  if (failures.length > 0) {
    console.log(`soak: FAILED\n${failures.map((f) => `- ${f}`).join('\n')}`);
    process.exitCode = 1;
  } else {
    console.log('soak: passed');
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 2;
});
