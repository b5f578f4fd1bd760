/**
 * Edges found in review: hangs, state left behind by failed calls, inputs that crashed instead of
 * being refused, and kernel orderings.
 */
import * as assert from 'node:assert/strict';
import { createKernel, debugRegOffset, type Kernel } from '../../src/hwbp';
import { assertErrno } from '../support/errno';

function flexibleCpuBound(k: Kernel, n: number, cpu = 0): void {
  for (let i = 0; i < n; i++) k.perfEventOpen({ type: 'w', addr: 0x1000 + 8 * i, len: 8, pinned: false }, { pid: -1, cpu });
}

describe('edges', () => {
  describe('time', () => {
    it('time units are whole numbers and a clock never passes 2^53, so rotation cannot stall', () => {
      assertErrno(() => createKernel({ cpus: 1, muxInterval: 1e-300 }), 'EINVAL', 'muxInterval');
      assertErrno(() => createKernel({ cpus: 1, muxInterval: 1.5 }), 'EINVAL', 'muxInterval');
      const k = createKernel({ cpus: 1, muxInterval: 1 });
      flexibleCpuBound(k, 5);
      assertErrno(() => k.tick(0, 2 ** 54 + 12), 'EINVAL', 'elapsed');
      assertErrno(() => k.tick(0, 0.5), 'EINVAL', 'elapsed');
      k.tick(0, 2 ** 53 - 101);
      assertErrno(() => k.tick(0, 101), 'EINVAL', '2^53');
      k.tick(0, 100); // exactly up to the bound, and it returns
      assert.equal(k.clock(0), Number.MAX_SAFE_INTEGER);
    });

    it('a huge tick with many flexible breakpoints on two arm64 pools returns, with exact shares', () => {
      const k = createKernel({ arch: 'arm64', cpus: 1, muxInterval: 1, instSlots: 16, dataSlots: 16 });
      for (let i = 0; i < 1009; i++) k.perfEventOpen({ type: 'x', addr: 0x400000 + 4 * i, len: 4, pinned: false }, { pid: -1, cpu: 0 });
      for (let i = 0; i < 1013; i++) k.perfEventOpen({ type: 'w', addr: 0x800000 + 8 * i, len: 8, pinned: false }, { pid: -1, cpu: 0 });
      k.tick(0, 1009 * 1013 * 15);
      const snap = k.snapshot();
      const share = (cls: string) => snap.events.filter((e) => e.slotClass === cls).map((e) => e.timeRunning / e.timeEnabled);
      // Every one ran 16 (all the registers of its pool) of each K intervals, give or take one interval.
      for (const r of share('inst')) assert.ok(Math.abs(r - 16 / 1009) <= 1 / 15000, `inst ratio ${r}`);
      for (const r of share('data')) assert.ok(Math.abs(r - 16 / 1013) <= 1 / 15000, `data ratio ${r}`);
    });

    it('jumping any number of rotations (not only whole periods) equals stepping one by one', () => {
      const build = () => {
        const k = createKernel({ cpus: 1, muxInterval: 2 });
        k.perfEventOpen({ type: 'w', addr: 0x2000, len: 8 }, { pid: -1, cpu: 0 });
        flexibleCpuBound(k, 7); // K = 7 on F = 3: lcm 21, and 50 rotations is not a multiple of it
        k.tick(0, 1);
        return k;
      };
      const stepped = build();
      const jumped = build();
      for (let i = 0; i < 101; i++) stepped.tick(0, 1);
      jumped.tick(0, 101);
      assert.deepEqual(jumped.snapshot(), stepped.snapshot());
      for (const k of [stepped, jumped]) for (let i = 0; i < 9; i++) k.tick(0, 3);
      assert.deepEqual(jumped.snapshot(), stepped.snapshot());
    });
  });

  it('a refused DR7 write leaves every breakpoint exactly as it was', () => {
    const k = createKernel({ cpus: 2 });
    const t = k.createTask();
    k.perfEventOpen({ type: 'w', addr: 0x9000, len: 8 }, { pid: -1, cpu: 0 });
    k.perfEventOpen({ type: 'w', addr: 0x9008, len: 8 }, { pid: -1, cpu: 0 });
    k.pokeUser(t, debugRegOffset(0), 0x1000); // a disabled w/1 stub
    const before = k.snapshot();
    assertErrno(() => k.pokeUser(t, debugRegOffset(7), 0x0111_0015), 'ENOSPC', 'DR7 slot 2');
    assert.deepEqual(k.snapshot(), before);
    k.perfEventOpen({ type: 'w', addr: 0x9010, len: 8 }, { pid: -1, cpu: 0 }); // still fits, as before
  });

  describe('bad input to access() is refused by name', () => {
    const k = createKernel({ cpus: 1 });
    k.perfEventOpen({ type: 'w', addr: 0x1000, len: 8 }, { pid: -1, cpu: 0 });
    const empty = createKernel({ cpus: 1 });
    it('bigint address, NaN or negative size, unknown kind, string cpu', () => {
      assertErrno(() => k.access(0, 0x1000n as unknown as number, 4, 'write'), 'EINVAL', 'addr');
      assertErrno(() => k.access(0, 0x1000, Number.NaN, 'write'), 'EINVAL', 'size');
      assertErrno(() => k.access(0, 0x1000, -4, 'write'), 'EINVAL', 'size');
      assertErrno(() => empty.access(0, 0x1000, 4, 'poke' as 'write'), 'EINVAL', 'kind');
      assertErrno(() => k.access('0' as unknown as number, 0x1000, 4, 'write'), 'EINVAL', 'cpu');
    });
  });

  it('a length beyond 32 bits that is not a power of two is EINVAL', () => {
    const k = createKernel({ cpus: 1 });
    assertErrno(() => k.perfEventOpen({ type: 'w', addr: 0, len: 3 * 2 ** 32 }, { pid: -1, cpu: 0 }), 'EINVAL', 'attr.len');
  });

  it('modify keeps excludeKernel: a kernel address stays EINVAL', () => {
    const k = createKernel({ cpus: 1 });
    const e = k.perfEventOpen({ type: 'w', addr: 0x1000, len: 8, excludeKernel: true }, { pid: -1, cpu: 0 });
    assertErrno(() => e.modify({ addr: 0xffff800000000000n }), 'EINVAL', 'excludes the kernel');
  });

  it('wide registration reports errors in the kernel order: the first CPU parses before later CPUs reserve', () => {
    const k = createKernel({ cpus: 2 });
    for (let i = 0; i < 4; i++) k.perfEventOpen({ type: 'w', addr: 0x9000 + 8 * i, len: 8 }, { pid: -1, cpu: 1 });
    assertErrno(() => k.registerWideBreakpoint({ type: 'r', addr: 0x1000, len: 4 }), 'EINVAL', 'attr.type r');
  });

  it('ptrace breakpoints have no perf handle; closed events are EBADF to read', () => {
    const k = createKernel({ cpus: 1 });
    const t = k.createTask();
    k.pokeUser(t, debugRegOffset(0), 0x1000);
    const id = k.snapshot().events[0].id;
    assert.equal(k.event(id), undefined);
    const e = k.perfEventOpen({ type: 'w', addr: 0x2000, len: 8 }, { pid: -1, cpu: 0 });
    e.close();
    assertErrno(() => e.read(), 'EBADF');
  });

  it('other misuse: DR4 is EIO whatever the value, a bad accounting is EINVAL', () => {
    const k = createKernel({ cpus: 1 });
    assertErrno(() => k.pokeUser(k.createTask(), debugRegOffset(4), -1), 'EIO', 'DR4');
    assertErrno(() => createKernel({ cpus: 1, accounting: 5 as never }), 'EINVAL', 'accounting');
  });

  it('arm64 execute breakpoints read back with length 4, as the kernel fixes them up', () => {
    const k = createKernel({ arch: 'arm64', cpus: 1 });
    k.perfEventOpen({ type: 'x', addr: 0x400000, len: 1 }, { pid: -1, cpu: 0 });
    assert.equal(k.snapshot().events[0].len, 4);
  });
});
