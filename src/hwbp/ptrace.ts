/**
 * The ptrace front door, as GDB drives x86: PTRACE_PEEKUSER/POKEUSER on the debug registers in the
 * tracee's struct user. Each task has four *virtual* DR0–DR3; a debugger writes an address there and
 * then enables it through a virtual DR7. Behind each virtual register sits an ordinary breakpoint:
 * pinned, bound to the task, on every CPU. Which physical register it occupies on a CPU is decided
 * at install time and is unrelated to its virtual index, which is why the virtual DR6 reports the
 * virtual index that hit.
 */
import { decodeDr7Slot, DR6_RESERVED, DR7_CONTROL_RESERVED, x86GenericFields } from './arch/x86';
import { fail, HwbpError, NoSpaceError } from './errors';
import type { Kernel } from './kernel';
import type { TaskRecord } from './model';
import { HW_BREAKPOINT_W } from './types';

/** offsetof(struct user, u_debugreg) and sizeof(struct user) on x86-64. */
export const USER_DEBUGREG_OFFSET = 848;
export const USER_STRUCT_SIZE = 912;

/** The struct user offset of virtual debug register n (0–7). */
export function debugRegOffset(n: number): number {
  return USER_DEBUGREG_OFFSET + 8 * n;
}

export class PtraceFrontDoor {
  constructor(private readonly kernel: Kernel) {}

  peek(task: TaskRecord, offset: number): number {
    const n = this.debugRegister(offset);
    if (n < 4) return task.ptraceSlots[n]?.hw.addr ?? 0;
    if (n === 6) return (task.virtualDr6 ^ DR6_RESERVED) >>> 0; // stored positive, read back in the CPU's polarity
    if (n === 7) return task.ptraceDr7;
    return 0; // DR4 and DR5 read as 0
  }

  /** `value` is an unsigned long: a number, or a bigint for values beyond 2^53. */
  poke(task: TaskRecord, offset: number, value: number | bigint): void {
    const n = this.debugRegister(offset);
    if (n === 4 || n === 5) fail('EIO', `offset ${offset} is DR${n}: there are no DR4 or DR5 registers to write`);
    const ok = typeof value === 'bigint' ? value >= 0n && value < 1n << 64n : Number.isSafeInteger(value) && value >= 0;
    if (!ok) fail('EINVAL', `value ${String(value)} for DR${n}: need an unsigned 64-bit integer`);
    if (n < 4) {
      this.setAddress(task, n, value);
      return;
    }
    // DR6 and DR7 are meaningful in their low 32 bits only.
    const low = Number(BigInt(value) & 0xffffffffn);
    if (n === 6) task.virtualDr6 = (low ^ DR6_RESERVED) >>> 0;
    else this.writeDr7(task, low);
  }

  /** Index 0–7 of the debug register at a struct user offset, or EIO as the kernel answers. */
  private debugRegister(offset: number): number {
    if (this.kernel.arch !== 'x86_64') {
      fail('EIO', 'PEEKUSER/POKEUSER debug registers exist only on x86; arm64 debuggers use the NT_ARM_HW_WATCH register set');
    }
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || offset >= USER_STRUCT_SIZE || offset % 8 !== 0) {
      fail('EIO', `offset ${String(offset)}: struct user offsets are 8-byte aligned and below ${USER_STRUCT_SIZE}`);
    }
    if (offset < USER_DEBUGREG_OFFSET) {
      fail('EIO', `offset ${offset} is inside struct user but before u_debugreg (${USER_DEBUGREG_OFFSET}); only debug registers are simulated`);
    }
    return (offset - USER_DEBUGREG_OFFSET) / 8;
  }

  /** Writing DRn: the first write creates a disabled stub breakpoint (which already holds a slot). */
  private setAddress(task: TaskRecord, n: number, addr: number | bigint): void {
    const bp = task.ptraceSlots[n];
    if (bp === null) {
      task.ptraceSlots[n] = this.kernel.openBreakpoint(
        { type: HW_BREAKPOINT_W, addr, len: 1, disabled: true, pinned: true, excludeKernel: true },
        task, -1, { onHit: null, owner: `ptrace DR${n}` }, n, null,
      );
    } else {
      this.kernel.modifyBreakpoint(bp, { addr });
    }
  }

  /** Writing DR7: apply each slot's enable/type/len; on the first error restore the old DR7 and report it. */
  /**
   * The kernel's second pass re-applies the old DR7, which leaves behind any breakpoint the first
   * pass registered and turns disabled slots into execute/len-8 ones (an empty DR7 field decodes
   * that way). Ours puts every slot back exactly as it was, so a refused write changes nothing.
   */
  private writeDr7(task: TaskRecord, value: number): void {
    const requested = (value & ~DR7_CONTROL_RESERVED) >>> 0;
    const before = task.ptraceSlots.map((bp) => (bp === null ? null : { bp, type: bp.hw.type, len: bp.hw.len, disabled: bp.disabled }));
    const firstError = this.applyDr7(task, requested);
    if (firstError !== null) {
      before.forEach((was, i) => {
        const now = task.ptraceSlots[i];
        if (now !== null && now !== was?.bp) this.kernel.closeBreakpoint(now);
        if (was !== null) this.kernel.modifyBreakpoint(was.bp, { type: was.type, len: was.len, disabled: was.disabled });
        task.ptraceSlots[i] = was?.bp ?? null;
      });
      throw firstError;
    }
    task.ptraceDr7 = value;
  }

  private applyDr7(task: TaskRecord, dr7: number): HwbpError | null {
    for (let i = 0; i < 4; i++) {
      const { enabled, lenCode, typeCode } = decodeDr7Slot(dr7, i);
      const bp = task.ptraceSlots[i];
      if (bp === null && !enabled) continue;
      try {
        const { type, len } = x86GenericFields(lenCode, typeCode);
        if (bp === null) {
          task.ptraceSlots[i] = this.kernel.openBreakpoint(
            { type, addr: 0, len, disabled: false, pinned: true, excludeKernel: true },
            task, -1, { onHit: null, owner: `ptrace DR${i}` }, i, null,
          );
        } else {
          this.kernel.modifyBreakpoint(bp, { type, len, disabled: !enabled });
        }
      } catch (e) {
        const message = e instanceof HwbpError ? `DR7 slot ${i}: ${e.message.replace(/^[A-Z]+: /, '')}` : '';
        if (e instanceof NoSpaceError) return new NoSpaceError(message, e.detail);
        if (e instanceof HwbpError) return new HwbpError(e.code, message);
        throw e;
      }
    }
    return null;
  }
}
