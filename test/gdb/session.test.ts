import * as assert from 'node:assert/strict';
import { gdbPath, gdbSession } from '../support/gdbSession';

describe('hwbp gdbserver with stock GDB', function () {
  this.timeout(60_000);

  before(() => {
    gdbPath(); // fails clearly when gdb is missing
  });

  it('attaches, lists threads, reads registers and memory, steps, watches through DR0–DR3 and continues to exit', async () => {
    const { out, log } = await gdbSession('examples/race.hwsim', [
      'info threads',
      'p/x $rip',
      'x/2xw 0x601000',
      'stepi',
      'info threads',
      'watch *(unsigned int*)0x601000',
      'continue',
      'delete',
      'continue',
    ]);
    assert.match(out, /\* 1 +Thread 1 \(main on cpu0\)/, out);
    assert.match(out, /\$1 = 0x400034/, out);
    assert.match(out, /0x601000.*:\s+0x00000000\s+0x00000000/, out);
    assert.match(out, /2 +Thread 2 \(worker on cpu1\)/, out);
    assert.match(out, /Hardware watchpoint 1: \*\(unsigned int\*\)0x601000/, out);
    assert.match(out, /Old value = 0\nNew value = 1/, out);
    assert.match(out, /main: counter = \d+/, out);
    assert.match(out, /\[Inferior 1 \(.*\) exited normally\]/, out);
    assert.ok(log.some((l) => l.includes('client gone')), log.join('\n'));
  });

  it('refuses a fifth watchpoint on x86 (four debug registers) and says who holds them', async () => {
    const { out } = await gdbSession('examples/multiplex.hwsim', [
      ...['601000', '601008', '601010', '601018', '601020'].map((a) => `watch *(unsigned long*)0x${a}`),
      'continue',
      'delete 5',
      'continue',
    ]);
    assert.match(out, /Could not insert hardware watchpoint 5\./, out);
    assert.match(out, /hwbp: no debug register for a watchpoint on e: DR0–DR3 of thread main held by watchpoints on a, b, c, d/, out);
    assert.match(out, /hit Hardware watchpoint \d: \*\(unsigned long\*\)0x6010/, out);
  });

  it('on arm64 (gdb-multiarch): a read watchpoint traps on a read alone, with the value, in the reading thread', async () => {
    const { out } = await gdbSession('examples/arm64-read.hwsim', ['info threads', 'rwatch secret', 'continue', 'bt', 'p secret', 'kill'], { multiarch: true });
    assert.match(out, /\* 1 +Thread 1 \(main on cpu0\) main \(\) at arm64-read\.hwsim:10/, out);
    assert.match(out, /Hardware read watchpoint 1: secret/, out);
    assert.match(out, /Thread 2 hit Hardware read watchpoint 1: secret\n\nValue = 42/, out);
    assert.match(out, /#0 +0x[0-9a-f]+ in spy \(\) at arm64-read\.hwsim:18/, out);
    assert.match(out, /\$1 = 42/, out);
  });

  it('with --flexible the fifth watchpoint time-shares a register', async () => {
    const { out } = await gdbSession('examples/multiplex.hwsim', [
      ...['601000', '601008', '601010', '601018', '601020'].map((a) => `watch *(unsigned long*)0x${a}`),
      ...new Array<string>(16).fill('continue'),
    ], { flexible: true });
    assert.doesNotMatch(out, /Could not insert/, out);
    assert.match(out, /watchpoint on e is a flexible perf event/, out);
    assert.match(out, /hit Hardware watchpoint [45]: \*\(unsigned long\*\)0x6010[12][08]/, out);
    assert.equal(out.match(/watchpoint on e is a flexible perf event/g)?.length, 1, out);
  });

  it('with the ELF from the stub: breakpoints on lines, bt across frames, locals, globals, next/step/stepi/finish', async () => {
    const { out } = await gdbSession('examples/race.hwsim', [
      'break race.hwsim:11', 'continue', 'bt', 'info locals', 'info args', 'p counter', 'p flags[1]', 'x/4xw &log',
      'thread 2', 'bt', 'thread 1', 'delete',
      'next', 'next', 'step', 'stepi', 'finish',
    ]);
    assert.match(out, /Reading symbols from target:.*race\.elf/, out);
    assert.match(out, /Breakpoint 1 at 0x400014: file race\.hwsim, line 11\./, out);
    assert.match(out, /hit Breakpoint 1, bump \(times=1000\) at race\.hwsim:11/, out);
    assert.match(out, /#0 +bump \(times=1000\) at race\.hwsim:11\n#1 +0x[0-9a-f]+ in (worker|main) \(\) at race\.hwsim:(24|18)/, out);
    assert.match(out, /^i = 0$/m, out);
    assert.match(out, /^times = 1000$/m, out);
    assert.match(out, /\$1 = 0/, out);
    assert.match(out, /0x601100 <log>:\s+0x00000000\s+0x00000000\s+0x00000000\s+0x00000000/, out);
    assert.match(out, /^12\t {4}i = i \+ 1$/m, out);
    assert.match(out, /(main|worker) \(\) at race\.hwsim:(19|25)/, out);
  });

  it('watch counter: "Old value = 0 / New value = 1" in bump at race.hwsim:11; hbreak; monitor; kill', async () => {
    const { out } = await gdbSession('examples/race.hwsim', [
      'hbreak bump', 'continue', 'delete', 'watch counter', 'continue', 'monitor registers', 'monitor hwbp-state', 'kill',
    ]);
    assert.match(out, /Hardware assisted breakpoint 1 at 0x400000: file race\.hwsim, line 9\./, out);
    assert.match(out, /hit Breakpoint 1, bump \(times=1000\) at race\.hwsim:9/, out);
    assert.match(out, /Hardware watchpoint 2: counter/, out);
    assert.match(out, /hit Hardware watchpoint 2: counter\n\nOld value = 0\nNew value = 1\n.*in bump \(times=1000\) at race\.hwsim:11/, out);
    assert.match(out, /cpu1 \[\w+\] DR7=0x[0-9a-f]+\n +DR0 +perf pinned rw 0x601100/, out);
    assert.match(out, /"kernel": \{/, out);
    assert.match(out, /\[Inferior 1 \(.*\) killed\]/, out);
  });
});
