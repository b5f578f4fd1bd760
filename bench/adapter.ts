/**
 * The debug adapter over a real stdio connection (the built adapter in a child process, driven by
 * DebugClient): latency of setDataBreakpoints with 100 watchpoints, of continue → stopped on a
 * watchpoint hit, and stepping throughput.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { fmt, line, median } from './util';

const ADAPTER = join(__dirname, '..', 'src', 'adapter', 'debugAdapter.js');
const PROGRAM = join(__dirname, '..', '..', 'test', 'fixtures', 'bench.hwsim');

function p99(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))];
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export async function runAdapterBench(write: (s: string) => void): Promise<void> {
  const dc = new DebugClient('node', ADAPTER, 'hwbp');
  await dc.start();
  await Promise.all([dc.configurationSequence(), dc.launch({ program: PROGRAM, stopOnEntry: true } as DebugProtocol.LaunchRequestArguments), dc.waitForEvent('stopped')]);

  // 100 watchpoints on 100 words of `words` (most end up flexible or refused: there are 4 registers).
  const ids: string[] = [];
  for (let i = 0; i < 100; i++) {
    const info = await dc.dataBreakpointInfoRequest({ name: `words[${i}]` });
    ids.push(info.body.dataId!);
  }
  const setTimes: number[] = [];
  for (let r = 0; r < 40; r++) {
    // Alternate between the full set and an empty one, so that every request really installs and releases.
    setTimes.push(await timed(() => dc.setDataBreakpointsRequest({ breakpoints: r % 2 === 0 ? ids.map((dataId) => ({ dataId })) : [] })));
  }

  // continue → stopped on a hit: one pinned watchpoint on the hot counter.
  const hot = (await dc.dataBreakpointInfoRequest({ name: 'hot' })).body.dataId!;
  await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: hot }] });
  const hitTimes: number[] = [];
  for (let i = 0; i < 200; i++) {
    hitTimes.push(await timed(() => Promise.all([dc.continueRequest({ threadId: 1 }), dc.waitForEvent('stopped')])));
  }
  await dc.setDataBreakpointsRequest({ breakpoints: [] });

  const steps = 300;
  const t = performance.now();
  for (let i = 0; i < steps; i++) await Promise.all([dc.nextRequest({ threadId: 1 }), dc.waitForEvent('stopped')]);
  const stepsPerSecond = steps / ((performance.now() - t) / 1000);
  await dc.stop();

  write('\n== debug adapter over stdio (a child process, as VS Code runs it) ==');
  const w = [52, 12, 12];
  write(line(['request', 'median ms', 'p99 ms'], w));
  write(line(['setDataBreakpoints with 100 watchpoints (and back to 0)', fmt(median(setTimes)), fmt(p99(setTimes))], w));
  write(line(['continue → stopped on a watchpoint hit', fmt(median(hitTimes)), fmt(p99(hitTimes))], w));
  write(`stepping: ${stepsPerSecond.toFixed(0)} steps/s (next → stopped, round trip)`);
}
