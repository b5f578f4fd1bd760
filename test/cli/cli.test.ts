import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkChromeTrace } from '../support/chromeTrace';

const CLI = join(__dirname, '..', '..', 'src', 'cli', 'hwbp.js');

function hwbp(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function tempProgram(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hwbp-cli-'));
  const file = join(dir, 'p.hwsim');
  writeFileSync(file, source);
  return file;
}

describe('hwbp command line', () => {
  it('hwbp run examples/race.hwsim runs the race, which loses updates', () => {
    const r = hwbp('run', 'examples/race.hwsim');
    assert.equal(r.code, 0, r.err);
    const total = Number(/^main: counter = (\d+)$/m.exec(r.out)?.[1]);
    assert.ok(total >= 1000 && total < 2000, r.out);
    assert.match(r.out, /exited: main returned/);
  });

  it('hwbp disasm prints the instructions with addresses under their source lines', () => {
    const r = hwbp('disasm', 'examples/race.hwsim', 'bump');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^fn bump: \d+ instructions, \d+ registers, \d+ bytes of locals$/m);
    assert.match(r.out, /^ +11 {2}counter = counter \+ 1\n +0x4[0-9a-f]+ {2}ld\.u32 r\d+, \[0x601000\]\n +0x4[0-9a-f]+ {2}add\.u32 r\d+, r\d+, 1\n +0x4[0-9a-f]+ {2}st\.u32 \[0x601000\], r\d+$/m);
    assert.doesNotMatch(r.out, /thread main/, 'only the function asked for');
    const all = hwbp('disasm', 'examples/race.hwsim');
    assert.deepEqual(all.out.split('\n').filter((l) => /^(fn|thread) /.test(l)).map((l) => l.split(':')[0]), ['fn bump', 'thread main', 'thread worker']);
    const unknown = hwbp('disasm', 'examples/race.hwsim', 'nope');
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /has no function or thread 'nope' \(it has bump, main, worker\)/);
    const missing = hwbp('disasm');
    assert.equal(missing.code, 2);
    assert.match(missing.err, /disasm: give a \.hwsim file/);
    const dir = mkdtempSync(join(tmpdir(), 'hwbp-dis-'));
    writeFileSync(join(dir, 'bad.hwsim'), 'thread main {\n  x = 1\n}\n');
    const bad = hwbp('disasm', join(dir, 'bad.hwsim'));
    assert.equal(bad.code, 1);
    assert.match(bad.err, /bad\.hwsim:2:3: error: .*'x'/);
    assert.equal(bad.out, '');
  });

  it('reports a deadlock once, naming the threads and mutexes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hwbp-dl-'));
    const file = join(dir, 'dl.hwsim');
    writeFileSync(file, 'machine x86_64 cpus=2\nglobal a: mutex\nglobal b: mutex\nthread t1 { lock a\n sleep 5\n lock b }\nthread main { spawn t1\n lock b\n sleep 5\n lock a\n join t1 }\n');
    const r = hwbp('run', file);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /^deadlock: (t1|main) waits for mutex [ab] held by (t1|main), (t1|main) waits for mutex [ab] held by (t1|main)$/m);
    assert.doesNotMatch(r.out, /deadlock: deadlock/);
  });

  it('flags a write that stores what another thread just stored as a lost update', () => {
    const r = hwbp('run', 'examples/race.hwsim', '--watch', 'counter', '--hits', '500');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^\[t=\d+\] watch #1 counter: thread (main|worker) cpu\d DR\d line 11 `counter = counter \+ 1`: (\d+) → \2 — the same as (main|worker)'s write at t=\d+: a lost update\?$/m);
    const json = hwbp('run', 'examples/race.hwsim', '--watch', 'counter', '--hits', '500', '--json');
    const flagged = json.out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((o) => o.type === 'hit' && o.sameAs !== null);
    assert.ok(flagged.length > 0 && flagged.every((o) => o.old === o.new && o.sameAs.thread !== o.thread), JSON.stringify(flagged[0]));
  });

  it('reports each hit with thread, CPU, register, line and old → new, then registers and the table', () => {
    const r = hwbp('run', 'examples/overrun.hwsim', '--watch', 'canary');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /watch #1 canary: thread main cpu0 DR0 line 12 `buf\[i\] = i \* 3`: 3405705229 → 24/);
    assert.match(r.out, /Registers at the last hit/);
    assert.match(r.out, /^\s+1\s+canary\s+w\s+pinned\s+active\s+1\s/m);
  });

  it('--json prints JSON lines with the same content', () => {
    const r = hwbp('run', 'examples/overrun.hwsim', '--watch', 'canary', '--json');
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as { type: string } & Record<string, unknown>);
    const hit = lines.find((l) => l.type === 'hit')!;
    assert.deepEqual([hit.thread, hit.cpu, hit.registers, hit.line, hit.old, hit.new], ['main', 0, 'DR0', 12, '3405705229', '24']);
    assert.deepEqual(lines.map((l) => l.type), ['start', 'watch', 'hit', 'output', 'exit', 'registers', 'watchpoint']);
  });

  it('shows flexible multiplexing in the table', () => {
    const args = ['a', 'b', 'c', 'd', 'e', 'f'].flatMap((v) => ['--watch', `${v}:flexible`]);
    const r = hwbp('run', 'examples/multiplex.hwsim', ...args, '--json');
    assert.equal(r.code, 0, r.err);
    const wps = r.out.trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.type === 'watchpoint').map((l) => l.watchpoint);
    assert.equal(wps.length, 6);
    for (const w of wps) {
      assert.equal(w.mode, 'flexible');
      assert.ok(w.timeRunning < w.timeEnabled, `${w.label} never waited`);
      assert.ok(w.hits < 500 && w.estimate > w.hits, `${w.label}: ${w.hits} hits, estimate ${w.estimate}`);
    }
  });

  it('in the default mode, 5, 6 and 8 watchpoints on four registers are all served: three pinned, the rest time-shared', () => {
    const vars = Array.from({ length: 8 }, (_, i) => `v${i}`);
    const file = tempProgram(`machine x86_64 cpus=2 timeslice=30 mux=50 seed=1
${vars.map((v) => `global ${v}: u64`).join('\n')}
thread main {
  spawn helper
  repeat 200 {
${vars.map((v) => `    ${v} = ${v} + 1`).join('\n')}
  }
  join helper
}
thread helper { repeat 300 { v7 = v7 + 0 } }
`);
    for (const n of [5, 6, 8]) {
      const r = hwbp('run', file, ...vars.slice(0, n).flatMap((v) => ['--watch', v]), '--json');
      assert.equal(r.code, 0, r.err);
      const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
      const wps = lines.filter((l) => l.type === 'watchpoint').map((l) => l.watchpoint);
      assert.deepEqual(wps.map((w) => w.state), Array(n).fill('active'), `n=${n}`);
      assert.deepEqual(wps.map((w) => w.mode), vars.slice(0, n).map((_, i) => (i < 3 ? 'pinned' : 'flexible')));
      // The pinned ones never miss: main writes each 200 times.
      for (const w of wps.slice(0, 3)) assert.equal(w.hits, 200, w.label);
      assert.deepEqual(lines.filter((l) => l.type === 'watchpoint-changed').map((l) => [l.watchpoint.label, l.why]), [['v3', 'downgraded']]);
    }
  });

  it('hwbp check reports every error as file:line:col and exits 1', () => {
    const file = tempProgram('thread main {\n  x = 1\n  var y: u8 = 999\n}\n');
    const r = hwbp('check', file, 'examples/race.hwsim');
    assert.equal(r.code, 1);
    assert.deepEqual(r.err.trim().split('\n'), [`${file}:2:3: error: unknown name 'x'`, `${file}:3:15: error: 999 does not fit in u8`]);
    assert.match(r.out, /examples\/race\.hwsim: ok/);
    assert.equal(hwbp('check', 'examples/race.hwsim').code, 0);
  });

  it('refuses bad arguments clearly with exit 2', () => {
    const cases: [string[], RegExp][] = [
      [['run'], /give a \.hwsim file/],
      [['run', 'nope.hwsim'], /cannot read nope\.hwsim: no such file/],
      [['run', 'examples/race.hwsim', '--frobnicate'], /unknown option --frobnicate/],
      [['run', 'examples/race.hwsim', '--watch', 'nothere'], /--watch nothere: unknown name 'nothere'/],
      [['run', 'examples/race.hwsim', '--watch', 'counter:r'], /x86 debug registers cannot trap on reads alone/],
      [['run', 'examples/race.hwsim', '--watch', 'counter + 1'], /not a variable or element in memory/],
      [['run', 'examples/race.hwsim', '--seed', 'x'], /--seed needs a whole number/],
      [['frob'], /unknown command 'frob'/],
    ];
    for (const [args, expected] of cases) {
      const r = hwbp(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, expected);
      assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
    }
  });

  it('names thread instances (worker#N) in hits and in a thread-scoped watchpoint\'s end; race-fixed prints 2000', () => {
    const r = hwbp('run', 'test/fixtures/instances.hwsim', '--watch', 'worker::n:rw');
    assert.equal(r.code, 0, r.err);
    for (const id of [3, 4, 5]) {
      assert.match(r.out, new RegExp(`watch #\\d worker::n: thread worker#${id} cpu\\d DR0 line 7 \`atomic_add\\(&total, n\\)\`: read ${id - 2}`));
      assert.match(r.out, new RegExp(`Watchpoint on worker::n deleted: thread worker#${id} ended \\(line 8\\) after 1 hit`));
    }
    assert.match(r.out, /^main: total = 6$/m);
    const fixed = hwbp('run', 'examples/race-fixed.hwsim');
    assert.match(fixed.out, /^main: counter = 2000$/m);
  });

  it('--watch FN::EXPR watches a local in every call of FN and deletes each watchpoint when its call returns', () => {
    const r = hwbp('run', 'test/fixtures/frames.hwsim', '--watch', 'first::x');
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n').filter((l) => /watch #/.test(l));
    assert.equal(lines.length, 4, r.out);
    assert.match(lines[0], /^watch #1 first::x \(4 bytes at 0x7ffd[0-9a-f]+, w, thread main\): Pinned/);
    assert.match(lines[1], /watch #1 first::x: thread main cpu0 DR0 line 6 `var x: u32 = 0`: 0 → 0/);
    assert.match(lines[2], /watch #1 first::x: thread main cpu0 DR0 line 7 `x = 7`: 0 → 7/);
    assert.equal(lines[3], 'watch #1: Watchpoint on first::x deleted: first() returned (line 8) after 2 hits', "second()'s y, at the same address, is not reported");
    // Recursion: each call has its own watchpoint; the inner one ends first.
    const rec = hwbp('run', 'test/fixtures/frames.hwsim', '--watch', 'rec::v', '--json');
    assert.equal(rec.code, 0, rec.err);
    const events = rec.out.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => ['watch', 'hit', 'watchpoint-changed'].includes(e.type));
    assert.deepEqual(events.map((e) => e.type === 'hit' ? `hit #${e.watchpoint} line ${e.line} ${e.old}→${e.new}` : e.type === 'watch' ? `watch #${e.watchpoint.id}` : `${e.why} #${e.watchpoint.id}: ${e.watchpoint.message}`), [
      'watch #1', 'hit #1 line 18 0→2',
      'watch #2', 'hit #2 line 18 0→1', 'hit #2 line 22 1→2', 'deleted #2: Watchpoint on rec::v deleted: rec() returned (line 23)',
      'hit #1 line 20 2→4', 'hit #1 line 22 4→8', 'deleted #1: Watchpoint on rec::v deleted: rec() returned (line 23)',
      'watch #3', 'hit #3 line 18 0→1', 'hit #3 line 22 1→2', 'deleted #3: Watchpoint on rec::v deleted: rec() returned (line 23)',
    ]);
  });

  it('--watch on a local without its function says how to watch it; bad FN::EXPR is refused clearly', () => {
    const cases: [string, RegExp][] = [
      ['x', /--watch x: x is not a global but a local of first, which lives only while a call runs; use --watch first::x to watch it in every call of first/],
      ['first::total', /--watch first::total: total is not a local or parameter of first/],
      ['nofn::x', /--watch nofn::x: no function or thread named 'nofn'/],
      ['first::nope', /--watch first::nope: unknown name 'nope'/],
      ['first::x:r', /--watch first::x: x86 debug registers cannot trap on reads alone/],
      ['first::', /--watch first::: give a local of first after ::/],
      ['::x', /--watch ::x: write FN::EXPR with a function or thread name before ::/],
    ];
    for (const [spec, expected] of cases) {
      const r = hwbp('run', 'test/fixtures/frames.hwsim', '--watch', spec);
      assert.equal(r.code, 2, `${spec}: ${r.err}`);
      assert.match(r.err, expected);
      assert.doesNotMatch(r.out, /total = /, 'nothing ran');
    }
  });

  it('stops a program that runs too long, with a message', () => {
    const file = tempProgram('thread main {\n  while 1 {\n    yield\n  }\n}\n');
    const r = hwbp('run', file, '--max-steps', '5000');
    assert.equal(r.code, 2);
    assert.match(r.out, /stopped after 5000 CPU steps/);
  });

  it('reports a runtime error with its position and exits 1', () => {
    const file = tempProgram('thread main {\n  var z: u32 = 0\n  print 1 / z\n}\n');
    const r = hwbp('run', file);
    assert.equal(r.code, 1);
    assert.match(r.out, /exception: division by zero \(.*p\.hwsim:3:3, thread main\)/);
  });
});

describe('hwbp run --trace', () => {
  const flexible = ['a', 'b', 'c', 'd', 'e', 'f'].flatMap((v) => ['--watch', `${v}:flexible`]);

  it('writes a Chrome trace of who held each register, hits and missed accesses', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hwbp-trace-')), 'run.json');
    const r = hwbp('run', 'examples/multiplex.hwsim', ...flexible, '--trace', out);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /trace: .*run\.json \(\d+ register intervals, 3000 hits and missed accesses/);
    assert.equal(r.err, '');
    const trace = JSON.parse(readFileSync(out, 'utf8'));
    const counts = checkChromeTrace(trace);
    assert.ok(counts.slices > 100);
    assert.equal(counts.instants, 3000);
    assert.deepEqual([trace.otherData.droppedIntervals, trace.otherData.droppedMarks], [0, 0]);
  });

  it('refuses an unwritable path before running anything (exit 2)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hwbp-trace-'));
    for (const bad of [join(dir, 'no', 'such', 'dir', 'x.json'), dir]) {
      const r = hwbp('run', 'examples/multiplex.hwsim', ...flexible, '--trace', bad);
      assert.equal(r.code, 2);
      assert.match(r.err, /--trace .*: cannot write the trace there \((its directory does not exist|it is a directory)\); nothing was run/);
      assert.equal(r.out, '', 'nothing ran');
    }
    assert.equal(hwbp('run', 'examples/multiplex.hwsim', '--trace').code, 2);
    const off = hwbp('run', 'examples/multiplex.hwsim', '--trace', join(dir, 'y.json'), '--timeline-capacity', '0');
    assert.equal(off.code, 2);
    assert.match(off.err, /--timeline-capacity 0 turns it off/);
    assert.match(hwbp('run', 'examples/multiplex.hwsim', '--timeline-capacity', '99999999999').err, /--timeline-capacity 99999999999: need a whole number/);
  });

  it('keeps its bound on a long run and says what it dropped, in the trace and on stderr', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hwbp-trace-')), 'small.json');
    const r = hwbp('run', 'examples/multiplex.hwsim', ...flexible, '--trace', out, '--timeline-capacity', '500', '--json');
    assert.equal(r.code, 0, r.err);
    const line = r.out.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.type === 'trace');
    assert.equal(line.capacity, 500);
    assert.ok(line.dropped.intervals + line.dropped.marks >= 3000 + 248 - 500);
    assert.match(r.err, /kept the newest 500 records and dropped \d+ intervals and \d+ hits\/misses/);
    const trace = JSON.parse(readFileSync(out, 'utf8'));
    checkChromeTrace(trace);
    assert.equal(trace.otherData.capacity, 500);
    assert.equal(trace.otherData.droppedMarks, line.dropped.marks);
    assert.ok(trace.traceEvents.some((e: { cat?: string }) => e.cat === 'dropped'));
  });
});
