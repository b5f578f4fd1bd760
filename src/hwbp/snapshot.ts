/**
 * The whole layer as plain data: what a view draws and what a test compares. Built on demand; it
 * is the only way state leaves this layer besides hits and counts.
 */
import type { Kernel } from './kernel';
import { typeName } from './kernel';
import type { Breakpoint } from './model';
import { DR6_RESERVED } from './arch/x86';
import type { CpuSnapshot, EventSnapshot, KernelSnapshot, TaskSnapshot } from './types';

export function buildSnapshot(kernel: Kernel): KernelSnapshot {
  const profile = kernel.profile;
  const cpus: CpuSnapshot[] = kernel.scheduler.cpus.map((cpu) => ({
    cpu: cpu.index,
    runningPid: cpu.running?.pid ?? null,
    runningName: cpu.running?.name ?? null,
    time: cpu.clock,
    classes: profile.classes.map((klass, cls) => ({
      name: klass.name,
      slots: klass.slots,
      registers: cpu.registers[cls].map((bp, index) => ({
        index,
        name: klass.registerNames[index],
        value: bp?.hw.regValue ?? 0,
        control: bp === null ? 0 : profile.controlBits(cls, index, bp.hw),
        occupant: bp === null ? null : {
          eventId: bp.id, addr: bp.hw.addr, len: bp.hw.len, type: typeName(bp.hw.type), pinned: bp.pinned,
          owner: bp.owner, pid: bp.task?.pid ?? null,
        },
      })),
    })),
    control: profile.describe(cpu.view()),
    rotating: cpu.overcommitted.some((o) => o),
    flexibleOrder: cpu.flexibleOrder.flatMap((order) => order.map((bp) => bp.id)),
  }));

  const events: EventSnapshot[] = [...kernel.breakpoints.values()].map((bp: Breakpoint) => {
    const counts = kernel.readCounts(bp);
    return {
      id: bp.id, owner: bp.owner, addr: bp.hw.addr, len: bp.hw.len, type: typeName(bp.hw.type), pinned: bp.pinned,
      disabled: bp.disabled, pid: bp.task?.pid ?? null, cpu: bp.cpu, slotClass: profile.classes[bp.cls].name,
      state: counts.state,
      installedOn: bp.register < 0 ? null : {
        cpu: bp.eligibleOn, register: bp.register, registerName: profile.classes[bp.cls].registerNames[bp.register],
      },
      count: counts.count, timeEnabled: counts.timeEnabled, timeRunning: counts.timeRunning, estimate: counts.estimate,
      ptraceIndex: bp.ptraceIndex, wideId: bp.wideId,
    };
  });

  const tasks: TaskSnapshot[] = [...kernel.tasks.values()].map((t) => ({
    pid: t.pid,
    name: t.name,
    runningOn: t.runningOn >= 0 ? t.runningOn : null,
    events: [...t.breakpoints].map((bp) => bp.id),
    ptrace: {
      dr7: t.ptraceDr7,
      dr6: (t.virtualDr6 ^ DR6_RESERVED) >>> 0,
      slots: t.ptraceSlots.map((bp) => bp?.id ?? null),
    },
  }));

  const constraints = profile.classes.map((klass, cls) => ({
    name: klass.name, slots: klass.slots, ...kernel.accounting[cls].table(),
  }));

  return { arch: kernel.arch, muxInterval: kernel.muxInterval, cpus, events, tasks, constraints };
}
