/**
 * x86-64 debug registers: DR0–DR3 hold addresses, DR7 says which are enabled and what they match,
 * DR6 reports which matched. The four address registers serve instruction and data breakpoints
 * alike, so there is a single slot class ("mixed", the kernel's HAVE_MIXED_BREAKPOINTS_REGS).
 */
import { fail, hex } from '../errors';
import {
  ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, HW_BREAKPOINT_R, HW_BREAKPOINT_RW, HW_BREAKPOINT_W, HW_BREAKPOINT_X,
  type ControlSnapshot, type Dr7SlotDecoded,
} from '../types';
import { isPowerOfTwo, type ArchProfile, type HwInfo, type InstalledView } from './profile';

export const X86_SLOTS = 4;

// Arch encodings of length and type (arch/x86/include/asm/hw_breakpoint.h values).
export const X86_LEN_1 = 0x40;
export const X86_LEN_2 = 0x44;
export const X86_LEN_4 = 0x4c;
export const X86_LEN_8 = 0x48;
export const X86_LEN_X = X86_LEN_1;
export const X86_TYPE_EXECUTE = 0x80;
export const X86_TYPE_WRITE = 0x81;
export const X86_TYPE_RW = 0x83;

// DR7 layout: two enable bits per register from bit 0, four type/length bits per register from bit 16.
const DR7_CONTROL_SHIFT = 16;
const DR7_CONTROL_SIZE = 4;
const DR7_ENABLE_SIZE = 2;
const DR7_GLOBAL_ENABLE = 0x2;
/** GE, "global exact": the kernel sets it with the first breakpoint and never clears it. */
export const DR7_GLOBAL_SLOWDOWN = 0x200;
/** Bits a ptrace DR7 write may not set (bits 10–15; the upper half does not exist in our 32-bit values). */
export const DR7_CONTROL_RESERVED = 0xfc00;

/** DR6 bits that read as 1 when nothing set them. */
export const DR6_RESERVED = 0xffff0ff0;
export const DR6_TRAP_BITS = 0xf;

/** First kernel-space address as the issue and the x86-64 user/kernel split define it. */
export const X86_USER_SPACE_END = 0x0000800000000000n;

const LEN_BY_BYTES: Record<number, number> = { 1: X86_LEN_1, 2: X86_LEN_2, 4: X86_LEN_4, 8: X86_LEN_8 };
const BYTES_BY_LEN: Record<number, number> = { [X86_LEN_1]: 1, [X86_LEN_2]: 2, [X86_LEN_4]: 4, [X86_LEN_8]: 8 };

/** The DR7 bits one enabled register contributes (without GE): global enable plus its R/W and LEN field. */
export function encodeDr7Slot(slot: number, lenCode: number, typeCode: number): number {
  const field = (lenCode | typeCode) & 0xf;
  return ((field << (DR7_CONTROL_SHIFT + slot * DR7_CONTROL_SIZE)) | (DR7_GLOBAL_ENABLE << (slot * DR7_ENABLE_SIZE))) >>> 0;
}

/** What DR7 says about one slot: whether it is enabled and which arch len/type it selects. */
export function decodeDr7Slot(dr7: number, slot: number): { enabled: boolean; lenCode: number; typeCode: number } {
  const field = (dr7 >>> (DR7_CONTROL_SHIFT + slot * DR7_CONTROL_SIZE)) & 0xf;
  return {
    enabled: ((dr7 >>> (slot * DR7_ENABLE_SIZE)) & 0x3) !== 0,
    lenCode: (field & 0xc) | 0x40,
    typeCode: (field & 0x3) | 0x80,
  };
}

const RW_NAMES: Dr7SlotDecoded['rw'][] = ['execute', 'write', 'io', 'readwrite'];
const LEN_BYTES_BY_FIELD = [1, 2, 8, 4];

export function decodeDr7(dr7: number): Dr7SlotDecoded[] {
  const out: Dr7SlotDecoded[] = [];
  for (let slot = 0; slot < X86_SLOTS; slot++) {
    const field = (dr7 >>> (DR7_CONTROL_SHIFT + slot * DR7_CONTROL_SIZE)) & 0xf;
    out.push({
      slot,
      local: ((dr7 >>> (slot * 2)) & 1) === 1,
      global: ((dr7 >>> (slot * 2 + 1)) & 1) === 1,
      rw: RW_NAMES[field & 0x3],
      len: LEN_BYTES_BY_FIELD[field >> 2],
    });
  }
  return out;
}

/** arch_bp_generic_fields(): the generic type and length a DR7 len/type pair stands for. */
export function x86GenericFields(lenCode: number, typeCode: number): { type: number; len: number } {
  switch (typeCode) {
    case X86_TYPE_EXECUTE:
      if (lenCode !== X86_LEN_X) {
        fail('EINVAL', `DR7 selects an execute breakpoint with LEN ${((lenCode >> 2) & 3).toString(2).padStart(2, '0')}; execute breakpoints must use LEN 00`);
      }
      return { type: HW_BREAKPOINT_X, len: 8 };
    case X86_TYPE_WRITE:
    case X86_TYPE_RW: {
      const len = BYTES_BY_LEN[lenCode] ?? fail('EINVAL', `DR7 LEN code ${hex(lenCode)} is not a length`);
      return { type: typeCode === X86_TYPE_WRITE ? HW_BREAKPOINT_W : HW_BREAKPOINT_RW, len };
    }
    default:
      return fail('EINVAL', 'DR7 selects R/W = 10 (I/O breakpoints), which user space cannot use');
  }
}

function describeType(type: number): string {
  return ['empty', 'r', 'w', 'rw', 'x', 'x|r', 'x|w', 'x|rw'][type] ?? String(type);
}

export const x86Profile: ArchProfile = {
  name: 'x86_64',
  classes: [{ name: 'mixed', slots: X86_SLOTS, registerNames: ['DR0', 'DR1', 'DR2', 'DR3'] }],
  userSpaceEnd: X86_USER_SPACE_END,

  classOf: () => 0,

  parse(type: number, addr: bigint, len: number): HwInfo {
    // Order follows arch_build_bp_info(): type (with the execute length rule), then length, then alignment.
    let typeCode: number;
    let accessMask: number;
    let lenCode: number;
    let align: number;
    switch (type) {
      case HW_BREAKPOINT_W: typeCode = X86_TYPE_WRITE; accessMask = ACCESS_WRITE; break;
      case HW_BREAKPOINT_RW: typeCode = X86_TYPE_RW; accessMask = ACCESS_READ | ACCESS_WRITE; break;
      case HW_BREAKPOINT_X:
        if (len !== 8) {
          fail('EINVAL', `attr.len ${len}: x86-64 execute breakpoints must have len 8 (sizeof(long))`);
        }
        typeCode = X86_TYPE_EXECUTE; accessMask = ACCESS_EXEC; break;
      case HW_BREAKPOINT_R:
        return fail('EINVAL', 'attr.type r: x86 debug registers cannot trap on reads alone; use rw');
      default:
        return fail('EINVAL', `attr.type ${describeType(type)}: x86 supports w, rw and x`);
    }
    if (type === HW_BREAKPOINT_X) {
      lenCode = X86_LEN_X;
      align = 0;
    } else if (LEN_BY_BYTES[len] !== undefined) {
      lenCode = LEN_BY_BYTES[len];
      align = len - 1;
    } else {
      // Any other length would need AMD's address-mask extension (BPEXT), which this CPU does not have.
      if (!Number.isInteger(len) || !isPowerOfTwo(len)) {
        fail('EINVAL', `attr.len ${len}: x86 registers watch 1, 2, 4 or 8 bytes`);
      }
      if ((addr & BigInt(len - 1)) !== 0n) {
        fail('EINVAL', `attr.addr ${hex(addr)} is not aligned to attr.len ${len}`);
      }
      return fail('EOPNOTSUPP', `attr.len ${len}: ranges beyond 8 bytes need AMD's breakpoint address masks (BPEXT), which this CPU lacks`);
    }
    if ((addr & BigInt(align)) !== 0n) {
      fail('EINVAL', `attr.addr ${hex(addr)} is not aligned to attr.len ${len}`);
    }
    const a = Number(addr);
    return {
      type, addr: a, len, regValue: a, lo: a, hi: type === HW_BREAKPOINT_X ? a + 1 : a + len,
      accessMask, lenCode, typeCode,
    };
  },

  controlBits: (_cls, index, hw) => encodeDr7Slot(index, hw.lenCode, hw.typeCode),
  install: (current, _cls, index, hw) => (current | encodeDr7Slot(index, hw.lenCode, hw.typeCode) | DR7_GLOBAL_SLOWDOWN) >>> 0,
  uninstall: (current, _cls, index, hw) => (current & ~encodeDr7Slot(index, hw.lenCode, hw.typeCode)) >>> 0,
  status: (hitBits) => (DR6_RESERVED | (hitBits & DR6_TRAP_BITS)) >>> 0,
  initialStatus: DR6_RESERVED,

  describe(view: InstalledView): ControlSnapshot {
    const statusHits: string[] = [];
    for (let i = 0; i < X86_SLOTS; i++) {
      if (view.status & (1 << i)) statusHits.push(`DR${i}`);
    }
    return { dr7: view.control, dr7Decoded: decodeDr7(view.control), dr6: view.status, statusHits };
  },
};
