/**
 * Covering a watched byte range with debug registers. A register watches an aligned 1, 2, 4 or 8
 * bytes (x86) or any bytes of one aligned doubleword (arm64's byte-address-select), so a range
 * takes one register per doubleword it touches: the fewest possible. On x86 that register may
 * watch a few bytes more than asked (an unaligned u16 at …3 takes the 4 bytes at …0); hits on
 * those extra bytes are filtered out by the watched range.
 */

export interface Piece {
  addr: number;
  len: number;
}

export function coverRange(addr: number, size: number, arch: 'x86_64' | 'arm64'): Piece[] {
  const pieces: Piece[] = [];
  const end = addr + size;
  for (let dw = Math.floor(addr / 8) * 8; dw < end; dw += 8) {
    const lo = Math.max(addr, dw);
    const hi = Math.min(end, dw + 8);
    if (arch === 'arm64') {
      pieces.push({ addr: lo, len: hi - lo });
      continue;
    }
    // The smallest aligned block that holds [lo, hi).
    for (const len of [1, 2, 4, 8]) {
      const start = Math.floor(lo / len) * len;
      if (start + len >= hi) {
        pieces.push({ addr: start, len });
        break;
      }
    }
  }
  return pieces;
}
