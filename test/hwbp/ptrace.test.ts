import * as assert from 'node:assert/strict';
import { createKernel, debugRegOffset, USER_DEBUGREG_OFFSET, type Kernel, type Task } from '../../src/hwbp';
import { assertErrno } from '../support/errno';

const DR = (n: number) => debugRegOffset(n);

function ptraceBreakpoints(k: Kernel, t: Task) {
  const snap = k.snapshot();
  const slots = snap.tasks.find((x) => x.pid === t.pid)!.ptrace.slots;
  return slots.map((id) => (id === null ? null : snap.events.find((e) => e.id === id)!));
}

describe('ptrace front door (x86 struct user debug registers)', () => {
  let k: Kernel;
  let t: Task;
  beforeEach(() => {
    k = createKernel({ cpus: 2 });
    t = k.createTask('tracee');
  });

  it('maps u_debugreg[n] at offset 848 + 8n', () => {
    assert.equal(USER_DEBUGREG_OFFSET, 848);
    assert.deepEqual([0, 1, 2, 3, 6, 7].map(DR), [848, 856, 864, 872, 896, 904]);
    k.pokeUser(t, 864, 0x601000);
    assert.equal(k.peekUser(t, DR(2)), 0x601000);
  });

  it('reads a fresh task as DR0–DR3 = 0, DR6 = reserved bits, DR7 = 0, DR4/DR5 = 0', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((n) => k.peekUser(t, DR(n))), [0, 0, 0, 0, 0, 0, 0xffff0ff0, 0]);
  });

  it('answers EIO for DR4/DR5 writes and for misaligned, out-of-range or non-debug offsets', () => {
    assertErrno(() => k.pokeUser(t, DR(4), 0), 'EIO', 'DR4');
    assertErrno(() => k.pokeUser(t, DR(5), 0), 'EIO', 'DR5');
    for (const offset of [849, 852, 912, 920, -8, 1.5]) assertErrno(() => k.peekUser(t, offset), 'EIO');
    assertErrno(() => k.peekUser(t, 0), 'EIO', 'before u_debugreg');
    assertErrno(() => k.pokeUser(t, 912, 0), 'EIO');
    const arm = createKernel({ arch: 'arm64', cpus: 1 });
    assertErrno(() => arm.peekUser(arm.createTask(), DR(0)), 'EIO', 'x86');
    assert.equal(k.isUsed(), false);
  });

  it('writing an address registers a disabled stub that already holds a slot', () => {
    for (let i = 0; i < 3; i++) k.perfEventOpen({ type: 'w', addr: 0x9000 + 8 * i, len: 8 }, { pid: -1, cpu: 1 });
    k.pokeUser(t, DR(0), 0x1000);
    const [stub] = ptraceBreakpoints(k, t);
    assert.ok(stub);
    assert.deepEqual([stub.state, stub.disabled, stub.type, stub.len, stub.pinned, stub.cpu, stub.ptraceIndex], ['off', true, 'w', 1, true, -1, 0]);
    // cpu1 now has 3 CPU-bound + the stub: a second address cannot be registered.
    assertErrno(() => k.pokeUser(t, DR(1), 0x2000), 'ENOSPC', 'cpu1');
    assert.equal(k.peekUser(t, DR(1)), 0, 'the failed write left DR1 empty');
  });

  it('a kernel address is EINVAL (ptrace excludes the kernel)', () => {
    assertErrno(() => k.pokeUser(t, DR(0), 0x800000001000), 'EINVAL', 'kernel');
    assertErrno(() => k.pokeUser(t, DR(0), 0xffffffff81000000n), 'EINVAL', 'kernel');
    assertErrno(() => k.pokeUser(t, DR(0), -1), 'EINVAL', 'unsigned');
    assert.equal(k.isUsed(), false);
  });

  it('DR7 enables, retypes and disables the breakpoints behind DR0–DR3', () => {
    k.pokeUser(t, DR(0), 0x1000);
    k.pokeUser(t, DR(1), 0x2000);
    k.pokeUser(t, DR(7), 0x000d_0001 | 0x00b0_0004); // slot 0: L0, W len 4; slot 1: L1, RW len 8
    let [a, b] = ptraceBreakpoints(k, t);
    assert.deepEqual([a!.state, a!.type, a!.len], ['inactive', 'w', 4]);
    assert.deepEqual([b!.state, b!.type, b!.len], ['inactive', 'rw', 8]);
    assert.equal(k.peekUser(t, DR(7)), 0x00bd_0005);
    k.pokeUser(t, DR(7), 0x000d_0001);
    [a, b] = ptraceBreakpoints(k, t);
    assert.equal(a!.disabled, false);
    assert.equal(b!.disabled, true);
    // Enabling a slot whose address was never written registers a breakpoint at address 0.
    k.pokeUser(t, DR(7), 0x000d_0001 | 0x1000_0040); // slot 3: L3, W len 1
    const d = ptraceBreakpoints(k, t)[3];
    assert.deepEqual([d!.addr, d!.type, d!.len, d!.disabled], [0, 'w', 1, false]);
  });

  it('a failed DR7 write restores every slot (two passes) and leaves DR7 unchanged', () => {
    k.perfEventOpen({ type: 'w', addr: 0x9000, len: 8 }, { pid: -1, cpu: 1 });
    k.pokeUser(t, DR(0), 0x1000);
    k.pokeUser(t, DR(1), 0x2000);
    k.pokeUser(t, DR(2), 0x3000);
    k.pokeUser(t, DR(7), 0x0001_0001); // slot 0 enabled, W len 1
    const before = k.snapshot();
    // Enable all four: slot 3 has no breakpoint yet and cpu1 has no register left for it.
    assertErrno(() => k.pokeUser(t, DR(7), 0x1111_0055), 'ENOSPC', 'DR7 slot 3', 'cpu1');
    assert.equal(k.peekUser(t, DR(7)), 0x0001_0001);
    const after = k.snapshot();
    assert.deepEqual(after.events, before.events, 'slots 0–2 are back as they were and no slot-3 breakpoint remains');
    assert.deepEqual(after.constraints, before.constraints);
  });

  it('a DR7 write that fails on a later slot keeps the earlier slot as it was', () => {
    k.pokeUser(t, DR(0), 0x1000);
    k.pokeUser(t, DR(7), 0x000d_0001); // slot 0: W len 4
    // Slot 0 would become RW len 8, but slot 1 asks for R/W = 10 (I/O), which is EINVAL.
    assertErrno(() => k.pokeUser(t, DR(7), 0x002b_0005), 'EINVAL', 'DR7 slot 1', 'I/O');
    const [a] = ptraceBreakpoints(k, t);
    assert.deepEqual([a!.type, a!.len, a!.disabled], ['w', 4, false]);
    assert.equal(k.peekUser(t, DR(7)), 0x000d_0001);
  });

  it('enabling a length the address is not aligned to is EINVAL and changes nothing', () => {
    k.pokeUser(t, DR(0), 0x1002);
    assertErrno(() => k.pokeUser(t, DR(7), 0x000d_0001), 'EINVAL', 'aligned');
    assert.equal(ptraceBreakpoints(k, t)[0]!.disabled, true);
  });

  it('virtual DR6 reports the ptrace index that hit, not the physical register', () => {
    k.perfEventOpen({ type: 'w', addr: 0x9000, len: 8 }, { pid: -1, cpu: 0 }); // takes physical DR0 on cpu0
    k.pokeUser(t, DR(2), 0x601000);
    k.pokeUser(t, DR(7), 0x0d00_0010); // slot 2: L2, W len 4
    k.contextSwitch(0, t);
    const hit = k.access(0, 0x601000, 4, 'write');
    assert.ok(hit);
    assert.deepEqual(hit.matches.map((m) => [m.registerName, m.ptraceIndex]), [['DR1', 2]]);
    assert.equal(hit.status, 0xffff0ff2, 'physical DR6 has B1');
    assert.equal(k.peekUser(t, DR(6)), 0xffff0ff4, 'virtual DR6 has B2');
    k.pokeUser(t, DR(6), 0xffff0ff0); // the debugger clears it
    assert.equal(k.peekUser(t, DR(6)), 0xffff0ff0);
  });

  it('task exit releases the ptrace breakpoints', () => {
    k.pokeUser(t, DR(0), 0x1000);
    k.pokeUser(t, DR(7), 0x1);
    assert.equal(k.isUsed(), true);
    k.exitTask(t);
    assert.equal(k.isUsed(), false);
    assertErrno(() => k.peekUser(t, DR(0)), 'ESRCH', `pid ${t.pid}`);
  });
});
