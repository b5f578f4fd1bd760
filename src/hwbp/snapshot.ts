/**
 * The whole layer as plain data: what a view draws and what a test compares. Built on demand; it
 * is the only way state leaves this layer besides hits and counts.
 */
import type { Kernel } from './kernel';
import { typeName } from './kernel';
import type { ArchProfile, HwInfo } from './arch/profile';
import type { Breakpoint, TaskRecord } from './model';
import type { CpuState } from './scheduler';
import { DR6_RESERVED } from './arch/x86';
import type { CpuSnapshot, EventSnapshot, KernelSnapshot, TaskSnapshot } from './types';

/** What one CPU shows, live or as saved at a checkpoint: both are drawn by cpuSnapshot(). */
interface CpuImage {
  running: TaskRecord | null;
  clock: number;
  registers: readonly (readonly (Breakpoint | null)[])[];
  /** The occupants' HwInfo, register for register. */
  hw: readonly (readonly (HwInfo | null)[])[];
  control: number;
  status: number;
  rotating: boolean;
  flexibleOrder: number[];
}

function cpuSnapshot(profile: ArchProfile, index: number, image: CpuImage): CpuSnapshot {
  return {
    cpu: index,
    runningPid: image.running?.pid ?? null,
    runningName: image.running?.name ?? null,
    time: image.clock,
    classes: profile.classes.map((klass, cls) => ({
      name: klass.name,
      slots: klass.slots,
      registers: image.registers[cls].map((bp, index) => {
        const hw = image.hw[cls][index];
        return {
          index,
          name: klass.registerNames[index],
          value: hw?.regValue ?? 0,
          control: bp === null || hw === null ? 0 : profile.controlBits(cls, index, hw),
          occupant: bp === null || hw === null ? null : {
            eventId: bp.id, addr: hw.addr, len: hw.len, type: typeName(hw.type), pinned: bp.pinned,
            owner: bp.owner, pid: bp.task?.pid ?? null,
          },
        };
      }),
    })),
    control: profile.describe({ byClass: image.hw, control: image.control, status: image.status }),
    rotating: image.rotating,
    flexibleOrder: image.flexibleOrder,
  };
}

function liveImage(cpu: CpuState): CpuImage {
  return {
    running: cpu.running,
    clock: cpu.clock,
    registers: cpu.registers,
    hw: cpu.registers.map((regs) => regs.map((bp): HwInfo | null => bp?.hw ?? null)),
    control: cpu.control,
    status: cpu.status,
    rotating: cpu.overcommitted.some((o) => o),
    flexibleOrder: cpu.flexibleOrder.flatMap((order) => order.map((bp) => bp.id)),
  };
}

/**
 * Every CPU as it was at the scheduler's latest checkpoint: the saved image of each CPU that has
 * changed since, the live state of the others.
 */
export function buildCheckpointCpus(kernel: Kernel): CpuSnapshot[] {
  const epoch = kernel.scheduler.checkpointEpoch;
  return kernel.scheduler.cpus.map((cpu) => {
    const saved = cpu.saved;
    const image = saved.epoch === epoch
      ? { ...saved, flexibleOrder: [...saved.flexibleOrder] }
      : liveImage(cpu);
    // The clock and status are kept on their own: a CPU may have ticked or hit without anything else changing.
    if (saved.clockEpoch === epoch) image.clock = saved.clock;
    if (saved.statusEpoch === epoch) image.status = saved.status;
    return cpuSnapshot(kernel.profile, cpu.index, image);
  });
}

export function buildSnapshot(kernel: Kernel): KernelSnapshot {
  const profile = kernel.profile;
  const cpus: CpuSnapshot[] = kernel.scheduler.cpus.map((cpu) => cpuSnapshot(profile, cpu.index, liveImage(cpu)));

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
