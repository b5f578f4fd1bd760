/**
 * A copy-on-write checkpoint of every CPU's registers, for callers that want "the registers as they
 * were at that moment" without paying for a whole snapshot at every such moment (the CLI marks each
 * watchpoint hit and prints the registers at the last one, once, at the end).
 *
 * Taking a checkpoint only bumps an epoch. The scheduler calls noteChange() before it changes what
 * a CPU shows (its registers, DR7, running task, flexible order), the kernel before a CPU's clock
 * or status changes (those two are saved on their own, in O(1)); the first such change after a checkpoint copies that CPU's state into its
 * saved image. So the cost follows the changes actually made: O(registers + flexible order) per
 * CPU that changes, once per epoch, and nothing for CPUs that do not change. Reading the checkpoint
 * combines the saved images with the live state of the CPUs that have not changed since.
 */
import type { HwInfo } from './arch/profile';
import type { Breakpoint, TaskRecord } from './model';
import type { CpuState } from './scheduler';

/** One CPU's state as it was at a checkpoint (valid only while `epoch` is the current epoch). */
export class SavedImage {
  /** Epoch whose checkpoint this image holds; another value means nothing was saved for the current one. */
  epoch = 0;
  running: TaskRecord | null = null;
  /** Per class, per register: the occupant and its HwInfo then (modify() replaces a breakpoint's HwInfo). */
  readonly registers: (Breakpoint | null)[][];
  readonly hw: (HwInfo | null)[][];
  control = 0;
  status = 0;
  rotating = false;
  /** Ids of the flexible order, all classes in turn. */
  readonly flexibleOrder: number[] = [];
  /** The clock and the status are saved on their own: they change on every tick and every hit, the rest far less often. */
  clockEpoch = 0;
  clock = 0;
  statusEpoch = 0;

  constructor(slotsPerClass: readonly number[]) {
    this.registers = slotsPerClass.map((n) => new Array<Breakpoint | null>(n).fill(null));
    this.hw = slotsPerClass.map((n) => new Array<HwInfo | null>(n).fill(null));
  }

  /** Copy the CPU's current state as the checkpoint `epoch`'s (the caller checked it was not saved yet). */
  capture(cpu: CpuState, epoch: number): void {
    this.epoch = epoch;
    this.saveClock(cpu, epoch);
    this.running = cpu.running;
    for (let cls = 0; cls < cpu.registers.length; cls++) {
      const live = cpu.registers[cls];
      const regs = this.registers[cls];
      const hw = this.hw[cls];
      for (let i = 0; i < live.length; i++) {
        const bp = live[i];
        regs[i] = bp;
        hw[i] = bp === null ? null : bp.hw;
      }
    }
    this.control = cpu.control;
    this.saveStatus(cpu, epoch);
    let rotating = false;
    this.flexibleOrder.length = 0;
    for (let cls = 0; cls < cpu.flexibleOrder.length; cls++) {
      if (cpu.overcommitted[cls]) rotating = true;
      const order = cpu.flexibleOrder[cls];
      for (let i = 0; i < order.length; i++) this.flexibleOrder.push(order[i].id);
    }
    this.rotating = rotating;
  }

  /** Before a hit sets the status: keep its value at the checkpoint `epoch`, if not kept yet. */
  saveStatus(cpu: CpuState, epoch: number): void {
    if (this.statusEpoch === epoch) return;
    this.statusEpoch = epoch;
    this.status = cpu.status;
  }

  /** Before the clock moves: keep its value at the checkpoint `epoch`, if not kept yet. */
  saveClock(cpu: CpuState, epoch: number): void {
    if (this.clockEpoch === epoch) return;
    this.clockEpoch = epoch;
    this.clock = cpu.clock;
  }
}
