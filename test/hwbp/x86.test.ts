import * as assert from 'node:assert/strict';
import {
  createKernel, DR6_RESERVED, encodeDr7Slot, X86_LEN_1, X86_LEN_4, X86_LEN_8, X86_TYPE_EXECUTE, X86_TYPE_RW, X86_TYPE_WRITE,
  type BreakpointAttr, type Kernel,
} from '../../src/hwbp';
import { assertErrno, errnoOf } from '../support/errno';

const cpu0 = { pid: -1, cpu: 0 };

function fillCpu0(k: Kernel, n = 4): void {
  for (let i = 0; i < n; i++) k.perfEventOpen({ type: 'w', addr: 0x9000 + 8 * i, len: 8 }, cpu0);
}

describe('x86_64 profile', () => {
  describe('request validation (arch_build_bp_info order)', () => {
    const cases: [string, BreakpointAttr, string][] = [
      ['w len 1', { type: 'w', addr: 0x1001, len: 1 }, 'ok'],
      ['w len 2 aligned', { type: 'w', addr: 0x1002, len: 2 }, 'ok'],
      ['rw len 4 aligned', { type: 'rw', addr: 0x1004, len: 4 }, 'ok'],
      ['rw len 8 aligned', { type: 'rw', addr: 0x1008, len: 8 }, 'ok'],
      ['len 2 misaligned', { type: 'w', addr: 0x1001, len: 2 }, 'EINVAL'],
      ['len 4 at addr = 2 mod 4', { type: 'w', addr: 0x1002, len: 4 }, 'EINVAL'],
      ['len 8 at addr = 4 mod 8', { type: 'w', addr: 0x1004, len: 8 }, 'EINVAL'],
      ['execute len 8 (sizeof long)', { type: 'x', addr: 0x400123, len: 8 }, 'ok'],
      ['execute len 1', { type: 'x', addr: 0x400123, len: 1 }, 'EINVAL'],
      ['execute len 4', { type: 'x', addr: 0x400124, len: 4 }, 'EINVAL'],
      ['len 3', { type: 'w', addr: 0x1000, len: 3 }, 'EINVAL'],
      ['len 0', { type: 'w', addr: 0x1000, len: 0 }, 'EINVAL'],
      ['len 16 aligned needs AMD BPEXT', { type: 'w', addr: 0x1000, len: 16 }, 'EOPNOTSUPP'],
      ['len 16 misaligned', { type: 'w', addr: 0x1008, len: 16 }, 'EINVAL'],
      ['read-only', { type: 'r', addr: 0x1000, len: 4 }, 'EINVAL'],
      ['HW_BREAKPOINT_EMPTY', { type: 0, addr: 0x1000, len: 4 }, 'EINVAL'],
      ['HW_BREAKPOINT_INVALID', { type: 7, addr: 0x1000, len: 4 }, 'EINVAL'],
      ['x|r', { type: 5, addr: 0x1000, len: 8 }, 'EINVAL'],
      ['x|w', { type: 6, addr: 0x1000, len: 8 }, 'EINVAL'],
      ['last user-space doubleword', { type: 'w', addr: 0x7ffffffffff8, len: 8 }, 'ok'],
      ['kernel address, unprivileged', { type: 'w', addr: 0x800000000000, len: 8 }, 'EPERM'],
      ['kernel address, excludeKernel (ptrace)', { type: 'w', addr: 0xffffffff81000000n, len: 8, excludeKernel: true }, 'EINVAL'],
      ['wrap-around past 2^64', { type: 'w', addr: 0xffffffffffffffffn, len: 2 }, 'EINVAL'],
      ['address beyond 64 bits', { type: 'w', addr: 1n << 64n, len: 1 }, 'EINVAL'],
    ];
    for (const [name, attr, expected] of cases) {
      it(`${name} -> ${expected}`, () => {
        const k = createKernel({ cpus: 1 });
        const before = k.snapshot();
        assert.equal(errnoOf(() => k.perfEventOpen(attr, cpu0)), expected);
        if (expected !== 'ok') assert.deepEqual(k.snapshot(), before, 'a failed call must change nothing');
      });
    }

    it('names the field at fault', () => {
      const k = createKernel({ cpus: 1 });
      assertErrno(() => k.perfEventOpen({ type: 'w', addr: 0x1002, len: 4 }, cpu0), 'EINVAL', 'attr.addr 0x1002', 'aligned');
      assertErrno(() => k.perfEventOpen({ type: 'r', addr: 0x1000, len: 4 }, cpu0), 'EINVAL', 'attr.type r');
      assertErrno(() => k.perfEventOpen({ type: 'x', addr: 0x1000, len: 4 }, cpu0), 'EINVAL', 'attr.len 4', 'execute');
      assertErrno(() => k.perfEventOpen({ type: 'w', addr: 0x800000000000, len: 8 }, cpu0), 'EPERM', 'kernel address');
      assertErrno(() => k.perfEventOpen({ type: 'q' as 'w', addr: 0x1000, len: 4 }, cpu0), 'EINVAL', "attr.type 'q'");
      assertErrno(() => k.perfEventOpen({ type: 'w', addr: '4096' as unknown as number, len: 4 }, cpu0), 'EINVAL', 'attr.addr');
      assertErrno(() => k.perfEventOpen({ type: 'w', addr: 0x1000, len: -4 }, cpu0), 'EINVAL', 'attr.len');
    });
  });

  describe('error precedence: reservation before parsing', () => {
    it('an invalid request on a full CPU reports ENOSPC, on an empty one EINVAL', () => {
      const full = createKernel({ cpus: 1 });
      fillCpu0(full);
      assert.equal(errnoOf(() => full.perfEventOpen({ type: 'r', addr: 0x1000, len: 4 }, cpu0)), 'ENOSPC');
      assert.equal(errnoOf(() => full.perfEventOpen({ type: 'w', addr: 0x1002, len: 4 }, cpu0)), 'ENOSPC');
      const empty = createKernel({ cpus: 1 });
      assert.equal(errnoOf(() => empty.perfEventOpen({ type: 'r', addr: 0x1000, len: 4 }, cpu0)), 'EINVAL');
    });

    it('the empty and the invalid type are EINVAL even on a full CPU', () => {
      const k = createKernel({ cpus: 1 });
      fillCpu0(k);
      assert.equal(errnoOf(() => k.perfEventOpen({ type: 0, addr: 0x1000, len: 4 }, cpu0)), 'EINVAL');
      assert.equal(errnoOf(() => k.perfEventOpen({ type: 7, addr: 0x1000, len: 4 }, cpu0)), 'EINVAL');
    });

    it('a disabled breakpoint still holds its slot', () => {
      const k = createKernel({ cpus: 2 });
      const t = k.createTask();
      for (let i = 0; i < 4; i++) k.perfEventOpen({ type: 'w', addr: 0x1000 + 8 * i, len: 8, disabled: true }, { pid: t.pid, cpu: -1 });
      assertErrno(() => k.perfEventOpen({ type: 'w', addr: 0x2000, len: 8 }, { pid: t.pid, cpu: -1 }), 'ENOSPC', 'DR0–DR3');
    });
  });

  describe('DR7 encoding', () => {
    it('matches the worked values for each slot, length and type', () => {
      assert.equal((encodeDr7Slot(0, X86_LEN_4, X86_TYPE_WRITE) | 0x200) >>> 0, 0x000d0202);
      assert.equal((encodeDr7Slot(1, X86_LEN_8, X86_TYPE_RW) | 0x200) >>> 0, 0x00b00208);
      assert.equal((encodeDr7Slot(2, X86_LEN_1, X86_TYPE_WRITE) | 0x200) >>> 0, 0x01000220);
      assert.equal((encodeDr7Slot(3, X86_LEN_1, X86_TYPE_EXECUTE) | 0x200) >>> 0, 0x00000280);
    });

    it('is what the CPU holds after installing those breakpoints, with only global enables and GE', () => {
      const k = createKernel({ cpus: 1 });
      k.perfEventOpen({ type: 'w', addr: 0x1000, len: 4 }, cpu0);
      k.perfEventOpen({ type: 'rw', addr: 0x2000, len: 8 }, cpu0);
      k.perfEventOpen({ type: 'w', addr: 0x3001, len: 1 }, cpu0);
      k.perfEventOpen({ type: 'x', addr: 0x401000, len: 8 }, cpu0);
      const cpu = k.snapshot().cpus[0];
      assert.equal(cpu.control.dr7, (0x000d0202 | 0x00b00208 | 0x01000220 | 0x00000280) >>> 0);
      assert.deepEqual(cpu.classes[0].registers.map((r) => r.control), [0x000d0002, 0x00b00008, 0x01000020, 0x00000080]);
      assert.deepEqual(cpu.classes[0].registers.map((r) => r.value), [0x1000, 0x2000, 0x3001, 0x401000]);
      assert.deepEqual(cpu.control.dr7Decoded!.map((d) => [d.global, d.local, d.rw, d.len]), [
        [true, false, 'write', 4], [true, false, 'readwrite', 8], [true, false, 'write', 1], [true, false, 'execute', 1],
      ]);
    });

    it('keeps GE set after the last breakpoint is removed, as the kernel does', () => {
      const k = createKernel({ cpus: 1 });
      k.perfEventOpen({ type: 'w', addr: 0x1000, len: 4 }, cpu0).close();
      assert.equal(k.snapshot().cpus[0].control.dr7, 0x200);
    });
  });

  describe('physical slot choice', () => {
    it('installs at the lowest free register', () => {
      const k = createKernel({ cpus: 1 });
      const a = k.perfEventOpen({ type: 'w', addr: 0x1000, len: 4 }, cpu0);
      const b = k.perfEventOpen({ type: 'w', addr: 0x2000, len: 4 }, cpu0);
      const c = k.perfEventOpen({ type: 'w', addr: 0x3000, len: 4 }, cpu0);
      const occupants = () => k.snapshot().cpus[0].classes[0].registers.map((r) => r.occupant?.eventId ?? null);
      assert.deepEqual(occupants(), [a.id, b.id, c.id, null]);
      a.close();
      const d = k.perfEventOpen({ type: 'rw', addr: 0x4000, len: 8 }, cpu0);
      assert.deepEqual(occupants(), [d.id, b.id, c.id, null]);
      assert.equal(k.snapshot().cpus[0].control.dr7! & 0x000f0003, encodeDr7Slot(0, X86_LEN_8, X86_TYPE_RW));
    });
  });

  describe('hits', () => {
    it('report DR6 with the trap bit of the physical register and count on the event', () => {
      const k = createKernel({ cpus: 1 });
      k.perfEventOpen({ type: 'w', addr: 0x1000, len: 4 }, cpu0);
      k.perfEventOpen({ type: 'w', addr: 0x2000, len: 4 }, cpu0);
      const c = k.perfEventOpen({ type: 'w', addr: 0x3000, len: 4 }, cpu0);
      const hit = k.access(0, 0x3002, 2, 'write');
      assert.ok(hit);
      assert.equal(hit.status, (DR6_RESERVED | 0x4) >>> 0);
      assert.deepEqual(hit.matches, [{ register: 2, registerName: 'DR2', eventId: c.id, ptraceIndex: null }]);
      assert.equal(c.read().count, 1);
      assert.equal(k.snapshot().cpus[0].control.dr6, 0xffff0ff4);
      assert.deepEqual(k.snapshot().cpus[0].control.statusHits, ['DR2']);
    });

    it('report every register that matches one access', () => {
      const k = createKernel({ cpus: 1 });
      const a = k.perfEventOpen({ type: 'w', addr: 0x1000, len: 8 }, cpu0);
      const b = k.perfEventOpen({ type: 'rw', addr: 0x1004, len: 4 }, cpu0);
      const hit = k.access(0, 0x1004, 4, 'write');
      assert.equal(hit?.status, 0xffff0ff3);
      assert.deepEqual(hit?.matches.map((m) => m.eventId), [a.id, b.id]);
      assert.equal(a.read().count + b.read().count, 2);
    });

    it('match by access kind and byte overlap', () => {
      const k = createKernel({ cpus: 1 });
      k.perfEventOpen({ type: 'w', addr: 0x1000, len: 4 }, cpu0);
      k.perfEventOpen({ type: 'rw', addr: 0x2000, len: 1 }, cpu0);
      k.perfEventOpen({ type: 'x', addr: 0x401000, len: 8 }, cpu0);
      assert.equal(k.access(0, 0x1000, 4, 'read'), null, 'a write watchpoint ignores reads');
      assert.ok(k.access(0, 0x2000, 1, 'read'), 'rw matches reads');
      assert.ok(k.access(0, 0x1ffe, 4, 'write'), 'an access overlapping one watched byte matches');
      assert.equal(k.access(0, 0x2001, 4, 'write'), null, 'no overlap, no match');
      assert.equal(k.access(0, 0x0ffc, 4, 'write'), null, 'adjacent bytes do not match');
      assert.ok(k.access(0, 0x401000, 4, 'exec'), 'execute matches the instruction start');
      assert.equal(k.access(0, 0x400ffe, 4, 'exec'), null, 'an instruction starting before it does not');
      assert.equal(k.access(0, 0x401000, 8, 'read'), null, 'an execute breakpoint ignores data reads');
    });

    it('calls the handler with the hit, and rejects bad arguments clearly', () => {
      const k = createKernel({ cpus: 2 });
      const seen: number[] = [];
      const ev = k.perfEventOpen({ type: 'w', addr: 0x1000, len: 4 }, { pid: -1, cpu: 1 }, { onHit: (h) => seen.push(h.cpu) });
      assert.equal(k.access(0, 0x1000, 4, 'write'), null, 'only registers installed on that CPU match');
      k.access(1, 0x1000, 4, 'write');
      assert.deepEqual(seen, [1]);
      assert.equal(ev.read().count, 1);
      assertErrno(() => k.access(2, 0x1000, 4, 'write'), 'EINVAL', 'cpu 2');
      assertErrno(() => k.access(1, 0x1000, 4, 'poke' as 'write'), 'EINVAL', 'access kind');
    });
  });
});
