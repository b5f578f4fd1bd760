import * as assert from 'node:assert/strict';
import { createKernel, encodeArm64Control } from '../../src/hwbp';
import { assertErrno, errnoOf } from '../support/errno';

const cpu0 = { pid: -1, cpu: 0 };

describe('arm64 profile', () => {
  it('has separate breakpoint and watchpoint pools (6 and 4 by default)', () => {
    const k = createKernel({ arch: 'arm64', cpus: 1 });
    for (let i = 0; i < 4; i++) k.perfEventOpen({ type: 'rw', addr: 0x1000 + 8 * i, len: 8 }, cpu0);
    assertErrno(() => k.perfEventOpen({ type: 'w', addr: 0x2000, len: 8 }, cpu0), 'ENOSPC', 'WVR0–WVR3');
    for (let i = 0; i < 6; i++) k.perfEventOpen({ type: 'x', addr: 0x400000 + 4 * i, len: 4 }, cpu0);
    assertErrno(() => k.perfEventOpen({ type: 'x', addr: 0x400100, len: 4 }, cpu0), 'ENOSPC', 'BVR0–BVR5');
    const snap = k.snapshot();
    assert.deepEqual(snap.cpus[0].classes.map((c) => [c.name, c.slots]), [['inst', 6], ['data', 4]]);
  });

  it('supports read-only watchpoints', () => {
    const k = createKernel({ arch: 'arm64', cpus: 1 });
    k.perfEventOpen({ type: 'r', addr: 0x1000, len: 4 }, cpu0);
    assert.equal(k.access(0, 0x1000, 4, 'write'), null);
    assert.ok(k.access(0, 0x1002, 1, 'read'));
  });

  it('encodes byte-address-select inside the aligned doubleword', () => {
    const k = createKernel({ arch: 'arm64', cpus: 1 });
    k.perfEventOpen({ type: 'rw', addr: 0x1003, len: 2 }, cpu0);
    k.perfEventOpen({ type: 'w', addr: 0x2000, len: 8 }, cpu0);
    k.perfEventOpen({ type: 'x', addr: 0x400004, len: 4 }, cpu0);
    const [inst, data] = k.snapshot().cpus[0].classes;
    assert.deepEqual([data.registers[0].value, data.registers[0].control], [0x1000, encodeArm64Control(0b11 << 3, 3, true)]);
    assert.equal(encodeArm64Control(0b11 << 3, 3, true), (0x18 << 5) | (3 << 3) | (2 << 1) | 1);
    assert.deepEqual([data.registers[1].value, data.registers[1].control], [0x2000, 0x1ff5]);
    assert.deepEqual([inst.registers[0].name, inst.registers[0].value, inst.registers[0].control], ['BVR0', 0x400004, (0xf << 5) | (2 << 1) | 1]);
    assert.deepEqual(k.snapshot().cpus[0].control.arm64Decoded, [
      { slotClass: 'inst', index: 0, name: 'BCR0', enabled: true, type: 'execute', bas: 0xf, bytes: [0, 1, 2, 3], privilege: 'EL0' },
      { slotClass: 'data', index: 0, name: 'WCR0', enabled: true, type: 'load/store', bas: 0x18, bytes: [3, 4], privilege: 'EL0' },
      { slotClass: 'data', index: 1, name: 'WCR1', enabled: true, type: 'store', bas: 0xff, bytes: [0, 1, 2, 3, 4, 5, 6, 7], privilege: 'EL0' },
    ]);
    assert.ok(k.access(0, 0x1004, 1, 'write'), 'byte 4 of the doubleword is selected');
    assert.equal(k.access(0, 0x1005, 1, 'write'), null, 'byte 5 is not');
  });

  it('validates lengths, windows and instruction alignment', () => {
    const k = createKernel({ arch: 'arm64', cpus: 1 });
    const open = (type: 'r' | 'w' | 'x', addr: number, len: number) => errnoOf(() => k.perfEventOpen({ type, addr, len }, cpu0).close());
    assert.equal(open('w', 0x1001, 7), 'ok');
    assert.equal(open('w', 0x1003, 3), 'ok');
    assert.equal(open('w', 0x1006, 4), 'EINVAL', 'crosses the 8-byte window');
    assert.equal(open('w', 0x1000, 9), 'EINVAL');
    assert.equal(open('w', 0x1000, 0), 'EINVAL');
    assert.equal(open('x', 0x400002, 4), 'EINVAL');
    assert.equal(open('x', 0x400000, 8), 'ok', 'execute lengths are taken as 4, as the kernel does');
    assert.equal(open('w', 0x1000000000000, 8), 'EPERM');
    assertErrno(() => k.perfEventOpen({ type: 'w', addr: 0x1006, len: 4 }, cpu0), 'EINVAL', 'window');
  });

  it('reports a status bit per matching register, breakpoints and watchpoints in separate lanes', () => {
    const k = createKernel({ arch: 'arm64', cpus: 1 });
    for (let i = 0; i < 3; i++) k.perfEventOpen({ type: 'w', addr: 0x1000 + 8 * i, len: 8 }, cpu0);
    k.perfEventOpen({ type: 'x', addr: 0x400000, len: 4 }, cpu0);
    const hit = k.access(0, 0x1010, 8, 'write');
    assert.deepEqual([hit?.status, hit?.matches[0].registerName], [0b100 << 16, 'WVR2']);
    assert.deepEqual(k.snapshot().cpus[0].control.statusHits, ['WVR2']);
    assert.equal(k.access(0, 0x400000, 4, 'exec')?.status, 0b1, 'breakpoint registers report in the low lane');
    assert.deepEqual(k.snapshot().cpus[0].control.statusHits, ['BVR0']);
  });
});
