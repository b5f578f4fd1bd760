/**
 * Hardware breakpoints and watchpoints for the GDB stub, set the way gdbserver on Linux sets them.
 *
 * x86-64: through the ptrace door. A Z1/Z2/Z4 range is split into aligned 1/2/4/8-byte pieces (as
 * gdb/nat/x86-dregs.c does); each piece takes one of the four virtual debug registers DR0–DR3,
 * the same one in every thread (the debug register state is the process's), written with
 * PTRACE_POKEUSER (Kernel.pokeUser) into DRn and enabled in DR7. A piece equal to one already
 * there (address, length, type) shares its register (reference counted). No register left:
 * refused. With `flexible`, the pieces that find no register become flexible perf events per
 * thread instead, time-sharing a register (and missing accesses while scheduled out).
 *
 * arm64 has no ptrace door here (NT_ARM_HW_WATCH is a register set); each piece is a pinned perf
 * event bound to each thread, which is what the kernel makes of the register set's writes.
 */
import { debugRegOffset, encodeDr7Slot, HwbpError, NoSpaceError, X86_LEN_1, X86_LEN_2, X86_LEN_4, X86_LEN_8, X86_TYPE_EXECUTE, X86_TYPE_RW, X86_TYPE_WRITE, type PerfEvent } from '../hwbp';
import type { Machine, StopEvent } from '../target';

export type PieceType = 'x' | 'w' | 'r' | 'rw';

interface Piece {
  addr: number;
  len: number;
  type: PieceType;
  refs: number;
  /** x86: the virtual debug register (0–3) it occupies, or null when it is a perf event. */
  slot: number | null;
  flexible: boolean;
  /** Perf events (arm64, or flexible), by thread id. */
  events: Map<number, PerfEvent>;
  label: string;
}

interface Point {
  key: string;
  z: number;
  addr: number;
  kind: number;
  pieces: Piece[];
}

export type InsertResult = { ok: true; notes: string[] } | { ok: false; unsupported: boolean; notes: string[] };

const LEN_CODE: Record<number, number> = { 1: X86_LEN_1, 2: X86_LEN_2, 4: X86_LEN_4, 8: X86_LEN_8 };

/** Split [addr, addr+len) into aligned pieces of 1, 2, 4 or 8 bytes. */
export function splitRange(addr: number, len: number): { addr: number; len: number }[] {
  const out: { addr: number; len: number }[] = [];
  let a = addr;
  const end = addr + len;
  while (a < end) {
    let size = 8;
    while (size > 1 && (a % size !== 0 || a + size > end)) size /= 2;
    out.push({ addr: a, len: size });
    a += size;
  }
  return out;
}

export class PointManager {
  private readonly points = new Map<string, Point>();
  private readonly slots: (Piece | null)[] = [null, null, null, null];
  private readonly flexPieces: Piece[] = [];
  private readonly byEvent = new Map<number, Piece>();
  /** Labels already told about (GDB re-inserts every watchpoint at every resume). */
  private readonly told = new Set<string>();

  constructor(private readonly machine: Machine, private readonly flexible: boolean) {}

  private get x86(): boolean {
    return this.machine.config.arch === 'x86_64';
  }

  /** Live threads with a kernel task. */
  private liveThreads() {
    return this.machine.threads.filter((t) => t.task !== null && t.state !== 'exited' && t.state !== 'unstarted');
  }

  /** A name for people: the global (element) at an address, else the address. */
  label(addr: number, len: number): string {
    for (const g of this.machine.program.globals) {
      if (addr < g.addr || addr >= g.addr + g.size) continue;
      if (g.type.k === 'array') {
        const es = g.size / g.type.count;
        const i = Math.floor((addr - g.addr) / es);
        return len > es && addr === g.addr ? g.name : `${g.name}[${i}]`;
      }
      return g.name;
    }
    const f = this.machine.frameHolding(addr, Math.max(1, len));
    if (f !== null) {
      const rec = this.machine.frameRecords(f.threadId);
      const frame = rec[rec.length - 1 - f.index];
      const fn = this.machine.program.functions.get(f.fn) ?? this.machine.program.threads.find((t) => t.name === f.fn)?.fn;
      const local = fn?.locals.find((l) => frame.base + l.offset <= addr && addr < frame.base + l.offset + 8);
      if (local !== undefined) return `${f.fn}::${local.name}`;
    }
    return `0x${addr.toString(16)}`;
  }

  insert(z: number, addr: number, kind: number): InsertResult {
    const key = `${z},${addr},${kind}`;
    if (this.points.has(key)) return { ok: true, notes: [] };
    if (z === 3 && this.x86) return { ok: false, unsupported: true, notes: [] };
    const type: PieceType = z === 1 ? 'x' : z === 2 ? 'w' : z === 3 ? 'r' : 'rw';
    if (!(kind >= 1 && kind <= 64) && z !== 1) return { ok: false, unsupported: false, notes: [`cannot watch ${kind} bytes`] };
    const ranges = z === 1 ? [{ addr, len: 1 }] : splitRange(addr, kind);
    const label = this.label(addr, z === 1 ? 1 : kind);
    const point: Point = { key, z, addr, kind, pieces: [] };
    const added: Piece[] = [];
    const notes: string[] = [];
    for (const r of ranges) {
      const same = this.allPieces().find((p) => p.addr === r.addr && p.len === r.len && p.type === type);
      if (same !== undefined) {
        same.refs++;
        point.pieces.push(same);
        continue;
      }
      const piece: Piece = { addr: r.addr, len: r.len, type, refs: 1, slot: null, flexible: false, events: new Map(), label };
      point.pieces.push(piece);
      added.push(piece);
    }
    try {
      for (const piece of added) this.place(piece, notes);
    } catch (e) {
      if (!(e instanceof HwbpError)) throw e;
      for (const p of point.pieces) this.release(p);
      this.applyAll();
      notes.push(this.refusal(e, label));
      return { ok: false, unsupported: false, notes };
    }
    this.points.set(key, point);
    return { ok: true, notes };
  }

  remove(z: number, addr: number, kind: number): void {
    const key = `${z},${addr},${kind}`;
    const point = this.points.get(key);
    if (point === undefined) return;
    this.points.delete(key);
    for (const p of point.pieces) this.release(p);
    this.applyAll();
  }

  /** Remove everything (detach, kill). */
  clear(): void {
    for (const p of [...this.points.values()]) this.remove(p.z, p.addr, p.kind);
  }

  private allPieces(): Piece[] {
    return [...this.slots.filter((p): p is Piece => p !== null), ...this.flexPieces];
  }

  /** Give a new piece a register (x86), or perf events (arm64, flexible); throws HwbpError when refused. */
  private place(piece: Piece, notes: string[]): void {
    if (this.x86) {
      // With flexible watchpoints, DR3 is never written through ptrace (a ptrace slot, once
      // written, keeps its reservation until the thread exits): the fourth register stays free
      // for the flexible perf events to time-share. Alone, a flexible one holds it all the time.
      const free = this.slots.findIndex((p, n) => p === null && !(this.flexible && n === 3));
      if (free >= 0) {
        this.slots[free] = piece;
        piece.slot = free;
        try {
          this.applyAll();
          return;
        } catch (e) {
          this.slots[free] = null;
          piece.slot = null;
          this.applyAll();
          if (!(e instanceof HwbpError) || !this.flexible) throw e;
        }
      } else if (!this.flexible) {
        const holders = this.slots.map((p) => p!.label);
        const main = this.liveThreads()[0]?.name ?? 'main';
        throw new HwbpError('ENOSPC', `DR0–DR3 of thread ${main} held by watchpoints on ${[...new Set(holders)].join(', ')}`);
      }
      piece.flexible = true;
      this.flexPieces.push(piece);
      this.openEvents(piece);
      if (!this.told.has(piece.label)) notes.push(`hwbp: watchpoint on ${piece.label} is a flexible perf event: it time-shares a debug register and may miss accesses while scheduled out`);
      this.told.add(piece.label);
      return;
    }
    piece.flexible = this.flexible;
    this.flexPieces.push(piece);
    this.openEvents(piece);
  }

  private release(piece: Piece): void {
    if (--piece.refs > 0) return;
    if (piece.slot !== null) {
      this.slots[piece.slot] = null;
      piece.slot = null;
    }
    const i = this.flexPieces.indexOf(piece);
    if (i >= 0) this.flexPieces.splice(i, 1);
    for (const ev of piece.events.values()) {
      this.byEvent.delete(ev.id);
      this.machine.setStopping(ev.id, false);
      try {
        ev.close();
      } catch (e) {
        if (!(e instanceof HwbpError)) throw e; // gone with its thread
      }
    }
    piece.events.clear();
  }

  /** Open the piece's perf event in every live thread that lacks one; on refusal close them again and throw. */
  private openEvents(piece: Piece, only: number | null = null): void {
    const opened: PerfEvent[] = [];
    try {
      for (const th of this.liveThreads()) {
        if (piece.events.has(th.id) || (only !== null && th.id !== only)) continue;
        const ev = this.machine.kernel.perfEventOpen(
          { type: piece.type, addr: piece.addr, len: piece.len, pinned: !piece.flexible },
          { pid: th.task!.pid, cpu: -1 }, { owner: `gdb ${piece.label}` },
        );
        opened.push(ev);
        piece.events.set(th.id, ev);
        this.byEvent.set(ev.id, piece);
        this.machine.setStopping(ev.id, true, { lo: piece.addr, hi: piece.addr + piece.len });
      }
    } catch (e) {
      if (only !== null) throw e;
      for (const ev of opened) {
        for (const [k, v] of piece.events) if (v === ev) piece.events.delete(k);
        this.byEvent.delete(ev.id);
        this.machine.setStopping(ev.id, false);
        ev.close();
      }
      const i = this.flexPieces.indexOf(piece);
      if (i >= 0) this.flexPieces.splice(i, 1);
      throw e;
    }
  }

  /** x86: write DR0–DR3 and DR7 of every live thread from the slot table. */
  private applyAll(): void {
    if (!this.x86) return;
    for (const th of this.liveThreads()) this.applyTask(th.task!);
  }

  private applyTask(task: { pid: number }): void {
    const k = this.machine.kernel;
    let dr7 = 0;
    this.slots.forEach((p, n) => {
      if (p === null) return;
      const typeCode = p.type === 'x' ? X86_TYPE_EXECUTE : p.type === 'w' ? X86_TYPE_WRITE : X86_TYPE_RW;
      dr7 |= encodeDr7Slot(n, p.type === 'x' ? X86_LEN_1 : LEN_CODE[p.len], typeCode);
    });
    // Off first, then the addresses, then the new enables, as GDB's x86 code orders its writes.
    k.pokeUser(task.pid, debugRegOffset(7), 0);
    this.slots.forEach((p, n) => {
      if (p !== null) k.pokeUser(task.pid, debugRegOffset(n), p.addr);
    });
    k.pokeUser(task.pid, debugRegOffset(7), dr7 >>> 0);
  }

  /** A thread started: it inherits the process's debug registers and flexible events. Returns notes for the console. */
  threadStarted(threadId: number): string[] {
    const notes: string[] = [];
    const th = this.machine.thread(threadId);
    if (th.task === null) return notes;
    try {
      if (this.x86 && this.slots.some((p) => p !== null)) this.applyTask(th.task);
    } catch (e) {
      if (!(e instanceof HwbpError)) throw e;
      notes.push(`hwbp: thread ${th.name} could not take the debug registers: ${e.message}`);
    }
    for (const piece of this.flexPieces) {
      try {
        this.openEvents(piece, threadId);
      } catch (e) {
        if (!(e instanceof HwbpError)) throw e;
        notes.push(`hwbp: thread ${th.name}: watchpoint on ${piece.label} refused: ${e.message}`);
      }
    }
    return notes;
  }

  private refusal(e: HwbpError, label: string): string {
    if (e instanceof NoSpaceError) {
      const d = e.detail;
      const holders = d.holders.map((h) => `${h.owner}${h.pid === null ? ` (cpu${h.cpu})` : ''}`);
      const named = holders.map((h) => {
        const m = /^ptrace DR(\d)$/.exec(h);
        const p = m === null ? null : this.slots[Number(m[1])];
        return p === null || p === undefined ? h : `DR${m![1]} (${p.label})`;
      });
      return `hwbp: no debug register for a watchpoint on ${label}: ${d.registerNames.join('–')} on cpu${d.cpu} held by ${named.join(', ')}`;
    }
    return `hwbp: no debug register for a watchpoint on ${label}: ${e.message.replace(/^[A-Z]+: /, '')}`;
  }

  /** The stop reply fields for a hardware hit: `watch:ADDR;`, `awatch:ADDR;`, `rwatch:ADDR;` or `hwbreak:;`. */
  stopFields(stop: StopEvent): string {
    for (const h of stop.hits) {
      for (const m of h.hit.matches) {
        const piece = m.ptraceIndex !== null && this.x86 ? this.slots[m.ptraceIndex] : this.byEvent.get(m.eventId) ?? null;
        if (piece === null || piece === undefined) continue;
        if (piece.type === 'x') return 'hwbreak:;';
        const name = piece.type === 'w' ? 'watch' : piece.type === 'r' ? 'rwatch' : 'awatch';
        const at = Math.min(Math.max(h.hit.addr, piece.addr), piece.addr + piece.len - 1);
        return `${name}:${at.toString(16)};`;
      }
    }
    return '';
  }

  /** What the stub holds, for `monitor hwbp-state` and `monitor registers`. */
  list(): { key: string; label: string; pieces: { addr: number; len: number; type: PieceType; register: string | null; flexible: boolean; events: number[] }[] }[] {
    return [...this.points.values()].map((p) => ({
      key: p.key, label: p.pieces[0]?.label ?? '',
      pieces: p.pieces.map((x) => ({ addr: x.addr, len: x.len, type: x.type, register: x.slot === null ? null : `DR${x.slot}`, flexible: x.flexible, events: [...x.events.values()].map((e) => e.id) })),
    }));
  }

  slotLabel(n: number): string | null {
    return this.slots[n]?.label ?? null;
  }
}
