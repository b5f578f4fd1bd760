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
});
