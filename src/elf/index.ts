import type { LoweredProgram } from '../target/lower';

export function buildElf(_program: LoweredProgram): Buffer {
  return Buffer.alloc(0);
}
