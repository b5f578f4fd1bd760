/**
 * arm64 debug registers: breakpoint pairs (BVRn/BCRn) for instructions and watchpoint pairs
 * (WVRn/WCRn) for data, in two separate pools. A watchpoint covers 1–8 bytes of one aligned
 * doubleword, selected byte by byte (byte-address-select, BAS); unlike x86 it can trap on reads alone.
 */
import { fail, hex } from '../errors';
import {
  ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, HW_BREAKPOINT_R, HW_BREAKPOINT_RW, HW_BREAKPOINT_W, HW_BREAKPOINT_X,
  type Arm64ControlDecoded, type ControlSnapshot,
} from '../types';
import type { ArchProfile, HwInfo, InstalledView } from './profile';

export const ARM64_MAX_SLOTS = 16;
export const ARM64_DEFAULT_INST_SLOTS = 6;
export const ARM64_DEFAULT_DATA_SLOTS = 4;

// Control register fields: enable bit 0, privilege bits 1–2, type bits 3–4, BAS bits 5–12.
const CTRL_TYPE_EXECUTE = 0;
const CTRL_TYPE_LOAD = 1;
const CTRL_TYPE_STORE = 2;
/** User-space (EL0) privilege value of the PMC field. */
const CTRL_PRIV_EL0 = 2;

export function encodeArm64Control(bas: number, ctrlType: number, enabled: boolean): number {
  return ((bas << 5) | (ctrlType << 3) | (CTRL_PRIV_EL0 << 1) | (enabled ? 1 : 0)) >>> 0;
}

const TYPE_NAMES: Arm64ControlDecoded['type'][] = ['execute', 'load', 'store', 'load/store'];
const PRIVILEGE_NAMES: Arm64ControlDecoded['privilege'][] = ['any', 'EL1', 'EL0', 'any'];

export function decodeArm64Control(slotClass: 'inst' | 'data', index: number, control: number): Arm64ControlDecoded {
  const bas = (control >>> 5) & 0xff;
  const bytes: number[] = [];
  for (let b = 0; b < 8; b++) if (bas & (1 << b)) bytes.push(b);
  return {
    slotClass, index, name: `${slotClass === 'inst' ? 'BCR' : 'WCR'}${index}`, enabled: (control & 1) === 1,
    type: TYPE_NAMES[(control >>> 3) & 3], bas, bytes, privilege: PRIVILEGE_NAMES[(control >>> 1) & 3],
  };
}

export const ARM64_USER_SPACE_END = 0x0001000000000000n;

function checkSlots(what: string, n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > ARM64_MAX_SLOTS) {
    fail('EINVAL', `${what} ${n}: arm64 has 1 to ${ARM64_MAX_SLOTS} of them`);
  }
  return n;
}

export function arm64Profile(instSlots = ARM64_DEFAULT_INST_SLOTS, dataSlots = ARM64_DEFAULT_DATA_SLOTS): ArchProfile {
  checkSlots('instSlots', instSlots);
  checkSlots('dataSlots', dataSlots);
  const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  return {
    name: 'arm64',
    classes: [
      { name: 'inst', slots: instSlots, registerNames: names('BVR', instSlots) },
      { name: 'data', slots: dataSlots, registerNames: names('WVR', dataSlots) },
    ],
    userSpaceEnd: ARM64_USER_SPACE_END,

    // Any read or write bit makes it a watchpoint; pure execute is a breakpoint.
    classOf: (type) => (type & HW_BREAKPOINT_RW ? 1 : 0),

    parse(type: number, addr: bigint, len: number): HwInfo {
      let ctrlType: number;
      let accessMask: number;
      switch (type) {
        case HW_BREAKPOINT_X: ctrlType = CTRL_TYPE_EXECUTE; accessMask = ACCESS_EXEC; break;
        case HW_BREAKPOINT_R: ctrlType = CTRL_TYPE_LOAD; accessMask = ACCESS_READ; break;
        case HW_BREAKPOINT_W: ctrlType = CTRL_TYPE_STORE; accessMask = ACCESS_WRITE; break;
        case HW_BREAKPOINT_RW: ctrlType = CTRL_TYPE_LOAD | CTRL_TYPE_STORE; accessMask = ACCESS_READ | ACCESS_WRITE; break;
        default: return fail('EINVAL', `attr.type ${type}: arm64 supports r, w, rw and x`);
      }
      if (!Number.isInteger(len) || len < 1 || len > 8) {
        fail('EINVAL', `attr.len ${len}: arm64 registers cover 1 to 8 bytes`);
      }
      if (type === HW_BREAKPOINT_X) {
        // AArch64 instructions are 4 bytes; the kernel quietly turns any other execute length into 4.
        if ((addr & 3n) !== 0n) {
          fail('EINVAL', `attr.addr ${hex(addr)}: AArch64 instruction breakpoints need a 4-byte aligned address`);
        }
        const a = Number(addr);
        return { type, addr: a, len: 4, regValue: a, lo: a, hi: a + 1, accessMask, lenCode: 0xf, typeCode: ctrlType };
      }
      const offset = Number(addr & 7n);
      if (offset + len > 8) {
        // The kernel would silently drop the bytes past the window; refusing is the honest answer.
        fail('EINVAL', `attr.addr ${hex(addr)} len ${len}: an arm64 watchpoint must stay inside one aligned 8-byte window (byte-address-select)`);
      }
      const a = Number(addr);
      const bas = ((1 << len) - 1) << offset;
      return { type, addr: a, len, regValue: a - offset, lo: a, hi: a + len, accessMask, lenCode: bas, typeCode: ctrlType };
    },

    controlBits: (_cls, _index, hw) => encodeArm64Control(hw.lenCode, hw.typeCode, true),
    // arm64 has one control register per address register, shown per register in the snapshot; no shared word.
    install: (current) => current,
    uninstall: (current) => current,
    status: (hitBits) => hitBits >>> 0,
    initialStatus: 0,

    describe(view: InstalledView): ControlSnapshot {
      const statusHits: string[] = [];
      for (let i = 0; i < ARM64_MAX_SLOTS; i++) {
        if (view.status & (1 << i)) statusHits.push(`BVR${i}`);
        if (view.status & (1 << (16 + i))) statusHits.push(`WVR${i}`);
      }
      const arm64Decoded: Arm64ControlDecoded[] = [];
      view.byClass.forEach((regs, cls) => regs.forEach((hw, index) => {
        if (hw !== null) arm64Decoded.push(decodeArm64Control(cls === 0 ? 'inst' : 'data', index, encodeArm64Control(hw.lenCode, hw.typeCode, true)));
      }));
      return { statusHits, arm64Decoded };
    },
  };
}
