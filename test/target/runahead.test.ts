/**
 * Private instructions run ahead of the other CPUs (machine.ts, run()). That must not change what
 * anyone can see: the same program, machine and seed give the same output, the same memory, the
 * same data stops and the same kernel timeline whether every instruction takes its own turn
 * (exact: the lockstep order) or private ones run ahead. Checked on random programs and machines.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { WatchpointManager } from '../../src/adapter/watchpoints';
import { loadProgram, type Machine, type StopEvent } from '../../src/target';

interface Shape {
  cpus: number;
  timeslice: number;
  mux: number;
  seed: number;
  workers: number;
  bodies: string[][];
  mainBody: string[];
  /** Also watch main's local x (its frame accesses then take their turns; the workers' need not). */
  watchLocal: boolean;
  /** Also a breakpoint on this statement of w0's loop (by index; running ahead stops before it). */
  breakAt: number | null;
}

/** Statements a thread body may hold: shared and private arithmetic, atomics, a mutex, output, sleeps, faults. */
const statement = fc.oneof(
  fc.constantFrom(
    'g = g + 1',
    'h = h + g * 3',
    'x = (x * 7 + 3) % 1000',
    'y = y + x / 3 + 1',
    'arr[x % 8] = arr[x % 8] + 1',
    'atomic_add(&g, 2)',
    'lock m\n    h = h + 1\n    unlock m',
    'x = xchg(&h, x) % 50',
    'yield',
    'sleep 3',
    'if x % 2 == 0 {\n      y = y + 1\n    } else {\n      x = x + 1\n    }',
    'print "x=", x',
    'z = z + 1000 / (y % 97)',
    'x = bump(x)',
    // Lets a local's address out: that function's frame accesses then always take their turn.
    'atomic_add(&y, 1)',
  ),
);

const shape: fc.Arbitrary<Shape> = fc.record({
  cpus: fc.integer({ min: 1, max: 4 }),
  timeslice: fc.integer({ min: 1, max: 30 }),
  mux: fc.integer({ min: 1, max: 50 }),
  seed: fc.integer({ min: 0, max: 1000 }),
  workers: fc.integer({ min: 1, max: 3 }),
  bodies: fc.array(fc.array(statement, { minLength: 1, maxLength: 5 }), { minLength: 3, maxLength: 3 }),
  mainBody: fc.array(statement, { minLength: 0, maxLength: 3 }),
  watchLocal: fc.boolean(),
  breakAt: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }),
});

function source(s: Shape): string {
  const lines = [
    `machine x86_64 cpus=${s.cpus} timeslice=${s.timeslice} mux=${s.mux} seed=${s.seed}`,
    'global g: u32 = 0',
    'global h: u32 = 0',
    'global z: u32 = 0',
    'global arr: u32[8]',
    'global m: mutex',
    // Another user of the registers, time-shared, so that the timeline has rotations to compare.
    'perf flexible rw h len 4 cpu 0',
    'perf flexible w arr len 8 cpu 0',
    'fn bump(v: u32): u32 {',
    '  var t: u32 = v * 3 + 1',
    '  return t % 1000',
    '}',
  ];
  for (let w = 0; w < s.workers; w++) {
    lines.push(`thread w${w} {`, '  var x: u32 = 1', '  var y: u32 = 5', `  repeat ${10 + w * 7} {`);
    for (const st of s.bodies[w]) lines.push(`    ${st}`);
    lines.push('  }', '}');
  }
  // Another thread reaches main's frame through a pointer: main's frame accesses must keep their turns.
  lines.push('thread sharer(p: *u32) {', '  repeat 30 {', '    *p = *p + 1', '  }', '}');
  lines.push('thread main {', '  var x: u32 = 3', '  var y: u32 = 2', '  var other: tid = spawn sharer(&x)');
  for (let w = 0; w < s.workers; w++) lines.push(`  spawn w${w}`);
  lines.push('  repeat 5 {');
  for (const st of s.mainBody) lines.push(`    ${st}`);
  lines.push('  }');
  for (let w = 0; w < s.workers; w++) lines.push(`  join w${w}`);
  lines.push('  join other');
  lines.push('  print "x=", x, " g=", g, " h=", h, " z=", z, " arr=", arr[0], arr[1], arr[2], arr[3], arr[4], arr[5], arr[6], arr[7]', '}');
  return lines.join('\n') + '\n';
}

interface Observed {
  output: string[];
  stops: string[];
  end: string;
  memory: string;
  timeline: string;
  accesses: number;
  finishedThreads: string;
}

/** Run to the end, continuing over data stops of a watchpoint on g; what anyone could see. */
function observe(src: string, exact: boolean, watchLocal = false, breakAt: number | null = null): Observed | null {
  const { machine, diagnostics } = loadProgram(src, 'p.hwsim', { exact });
  if (machine === null) throw new Error(diagnostics.map((d) => d.message).join('\n'));
  const m: Machine = machine;
  const output: string[] = [];
  m.on((e) => { if (e.kind === 'output') output.push(`${e.threadId}:${e.text}`); });
  const wm = new WatchpointManager(m);
  wm.add({ label: 'g', addr: m.evaluate('g', null).addr!, size: 4, access: 'w', mode: 'auto' });
  if (watchLocal) {
    const main = m.threads.find((t) => t.name === 'main')!;
    wm.add({ label: 'x', addr: m.evaluate('x', main.id, 0, true).addr!, size: 4, access: 'w', mode: 'auto' });
  }
  if (breakAt !== null) {
    // The breakAt-th statement inside w0's repeat loop (its lines follow the `repeat` line).
    const repeatLine = src.split('\n').findIndex((l) => l.startsWith('thread w0 ')) + 4;
    const inLoop = m.allStatements().filter((st) => st.span.line > repeatLine && st.span.line <= repeatLine + 5);
    if (inLoop.length > 0) m.setSoftwareBreakpoints([inLoop[breakAt % inLoop.length].codeAddr]);
  }
  const stops: string[] = [];
  let stop: StopEvent | null = null;
  for (let round = 0; round < 2000; round++) {
    stop = m.run(10_000);
    if (stop === null) continue;
    if (stop.reason !== 'data' && stop.reason !== 'breakpoint') break;
    stops.push(`${stop.reason} ${stop.threadId}@${stop.location?.pc}:${stop.hits.map((h) => `${h.oldValue}->${h.newValue}`).join(',')} t=${stop.time}`);
    stop = null;
  }
  if (stop === null) return null; // did not finish within the rounds (both modes are compared on what they did)
  const globals = ['g', 'h', 'z', 'arr[0]', 'arr[3]', 'arr[7]'].map((g) => m.evaluate(g, null).value).join(' ');
  const tl = m.kernel.timeline();
  return {
    output,
    stops,
    end: `${stop.reason} ${stop.message ?? ''} t=${stop.time}`,
    memory: globals,
    timeline: JSON.stringify(tl),
    accesses: m.memoryAccesses,
    // Threads that ended by themselves ran every instruction in both modes.
    finishedThreads: m.threads.filter((t) => t.state === 'exited' && t.frames.length === 0).map((t) => `${t.name}:${t.instructions}/${t.statements}`).join(' '),
  };
}

describe('private instructions running ahead', () => {
  it('change nothing anyone can see: output, memory, data stops, timeline (random programs and machines)', function () {
    this.timeout(120_000);
    let compared = 0;
    fc.assert(fc.property(shape, (s) => {
      const src = source(s);
      const exact = observe(src, true, s.watchLocal, s.breakAt);
      const ahead = observe(src, false, s.watchLocal, s.breakAt);
      if (exact === null || ahead === null) {
        assert.equal(ahead === null, exact === null, src);
        return;
      }
      compared++;
      assert.deepEqual(ahead, exact, src);
    }), { numRuns: 60, seed: 20261130 });
    assert.ok(compared >= 30, `only ${compared} programs ran to their end`);
  });

  it('on a loop like the benchmark\'s: the same result and the same stops', () => {
    const src = `
machine x86_64 cpus=2 timeslice=100 seed=4
global ws: u32[64]
global g: u32
global h: u32
global z: u32
global arr: u32[8]
fn work(start: u32, n: u32) {
  var i: u32 = 0
  while i < n {
    var k: u32 = ((i * 7 + start) % 32) * 2 + 1
    ws[k] = ws[k] + i
    i = i + 1
    if i % 50 == 0 {
      g = g + 1
    }
  }
}
thread main {
  spawn other
  work(0, 500)
  join other
  print ws[1], " ", ws[63]
}
thread other {
  work(16, 500)
}
`;
    const a = observe(src, true)!;
    const b = observe(src, false)!;
    assert.deepEqual(b, a);
    assert.equal(a.output.length, 1);
  });

  /** Output and end of a program run in both modes (optionally without the timeline). */
  function both(src: string, overrides: { timelineCapacity?: number } = {}): [string, string] {
    const run = (exact: boolean): string => {
      const { machine, diagnostics } = loadProgram(src, 'p.hwsim', { exact, ...overrides });
      if (machine === null) throw new Error(diagnostics.map((d) => d.message).join('\n'));
      const out: string[] = [];
      machine.on((e) => { if (e.kind === 'output') out.push(e.text); });
      let stop: StopEvent | null = null;
      for (let i = 0; i < 1000 && stop === null; i++) stop = machine.run(10_000);
      const counts = machine.kernel.snapshot().events.map((e) => `${e.id}:${e.count}`).join(' ');
      return `${out.join(',')} | ${stop?.reason} | ${counts}`;
    };
    return [run(true), run(false)];
  }

  // Found in review: ways into another thread's frame without taking the address in that function.
  const reader = (setup: string, fns: string) => `machine x86_64 cpus=2 timeslice=1000 seed=2
global gp: *u32
global g: u32
${fns}
fn quietfn(): u32 {
  var a: u32 = 0
  var i: u32 = 0
  while i < 300 {
    a = a + 1
    i = i + 1
  }
  return a
}
thread main {
  ${setup}
  spawn reader
  var r: u32 = quietfn()
  print "r=", r
}
thread reader {
  repeat 100 {
    print *gp
  }
}
`;

  it('a dangling pointer into a frame another call reuses: frame accesses keep their turns', () => {
    const [exact, ahead] = both(reader('leak()', 'fn leak() {\n  var v: u32 = 0\n  var w: u32 = 0\n  gp = &v\n}'));
    assert.equal(ahead, exact);
    assert.match(exact, /r=300/);
  });

  it('pointer arithmetic from a global into a thread\'s stack: frame accesses keep their turns', () => {
    // Where main's quietfn frame will be: found by running once (the program is deterministic).
    const probe = loadProgram(reader('gp = &g', ''), 'p.hwsim', {}).machine!;
    const mainStack = probe.threads.find((t) => t.name === 'main')!;
    const frameOffset = mainStack.fp - 32 - probe.evaluate('g', null).addr!;
    const [exact, ahead] = both(reader(`gp = &g\n  gp = gp + ${Math.floor(frameOffset / 4)}`, ''));
    assert.equal(ahead, exact);
  });

  it('an execute breakpoint waiting for a register, with the timeline off, is checked from the first cycle', () => {
    const src = (addr: string) => `machine x86_64 cpus=1 timeslice=1000 mux=3 seed=1
global a: u32
global b: u32
global c: u32
global d: u32
thread main {
  var i: u32 = 0
  var s: u32 = 0
  while i < 300 {
    s = s + i * 3
    i = i + 1
  }
  a = s
}
perf flexible w a len 4 cpu 0
perf flexible w b len 4 cpu 0
perf flexible w c len 4 cpu 0
perf flexible w d len 4 cpu 0
perf flexible x ${addr} len 8 cpu 0
`;
    const probe = loadProgram(src('0x400000'), 'p.hwsim', {}).machine!;
    const loop = probe.allStatements().find((st) => st.text.includes('s = s + i'))!;
    for (const timelineCapacity of [0, 1000]) {
      const [exact, ahead] = both(src(`0x${loop.codeAddr.toString(16)}`), { timelineCapacity });
      assert.equal(ahead, exact, `timelineCapacity ${timelineCapacity}`);
    }
  });
});
