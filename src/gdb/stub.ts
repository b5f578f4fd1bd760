/**
 * One GDB Remote Serial Protocol session on one machine: packets in, packets out. The transport
 * (TCP, or a test's strings) feeds raw bytes to `receive` and writes what `write` is given.
 *
 * All-stop: the program stands still between stop replies; `vCont;c` runs every thread, `vCont;s:N`
 * steps thread N by one instruction (the others run alongside, as in all-stop on Linux without
 * scheduler-locking). Frames are presented as native ones: see src/gdb/arch.ts and docs/gdb.md.
 */
import { archDef, registerValue, type ArchDef, type RegisterContext } from './arch';
import { fromHex, leHex, parseLeHex, frame, PacketReader, PACKET_SIZE, toHex, type WireEvent } from './packets';
import { PointManager } from './points';
import { RuntimeFault, type Machine, type StopEvent } from '../target';
import type { CpuSnapshot } from '../hwbp';

export interface StubOptions {
  machine: Machine;
  /** Allow flexible (time-shared) watchpoints beyond the registers. */
  flexible: boolean;
  /** The ELF image GDB may load through qXfer:exec-file and vFile, and the name it is known by. */
  elf: { path: string; image: Buffer } | null;
  /** Raw bytes to the client. */
  write: (data: string) => void;
  /** Close the connection (after kill, detach). */
  close: () => void;
  /** Messages for the stub's own console. */
  log?: (line: string) => void;
  /** CPU slots run per turn of the event loop while the program runs. */
  slice?: number;
}

const HEX = /^[0-9a-fA-F]+$/;
/** errno values in E replies: EFAULT for unmapped memory (E14), EACCES for read-only text. */
const E_UNMAPPED = 'E14';
const E_READONLY = 'E0d';

export class GdbSession {
  readonly machine: Machine;
  readonly points: PointManager;
  private readonly arch: ArchDef;
  private readonly reader = new PacketReader();
  private lastSent = '';
  private running = false;
  private gThread = 0;
  private cThread = -1;
  private overlay: Map<number, number> | null = null;
  /** Set after a fault or deadlock: resuming ends the process with this signal. */
  private fatalSignal: number | null = null;
  private exited = false;
  private closed = false;
  private readonly files = new Map<number, Buffer>();
  private nextFd = 3;
  private pendingConsole: string[] = [];
  private readonly unsubscribe: () => void;

  constructor(private readonly opts: StubOptions) {
    this.machine = opts.machine;
    this.arch = archDef(this.machine.config.arch);
    this.points = new PointManager(this.machine, opts.flexible);
    this.unsubscribe = this.machine.on((e) => {
      if (e.kind === 'output') this.console(`${this.machine.thread(e.threadId).name}: ${e.text}\n`);
      else if (e.kind === 'notice') this.console(`hwbp: ${e.text}\n`);
      else if (e.kind === 'thread' && e.state === 'started') for (const n of this.points.threadStarted(e.threadId)) this.console(n + '\n');
    });
  }

  /** Bytes from the client. */
  receive(chunk: string | Buffer): void {
    for (const ev of this.reader.feed(chunk)) this.onWire(ev);
  }

  /** The client went away, or the server is closing: the machine is torn down. */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.running = false;
    this.unsubscribe();
    try {
      this.points.clear();
    } catch {
      // the machine may be gone already; kill() below releases everything anyway
    }
    this.machine.kill();
  }

  private onWire(ev: WireEvent): void {
    if (this.closed) return;
    switch (ev.kind) {
      case 'ack':
        return;
      case 'nack':
        if (this.lastSent !== '') this.opts.write(this.lastSent);
        return;
      case 'bad-checksum':
        this.opts.write('-');
        return;
      case 'oversized':
        this.opts.write('+');
        this.reply('E01');
        return;
      case 'interrupt':
        if (this.running) this.machine.pause();
        return;
      case 'packet':
        this.opts.write('+');
        if (this.running) return; // all-stop: nothing but Ctrl-C is expected while running
        try {
          this.handle(ev.data);
        } catch (e) {
          if (!(e instanceof RuntimeFault)) throw e;
          this.reply('E01');
        }
    }
  }

  private reply(data: string): void {
    this.lastSent = frame(data);
    this.opts.write(this.lastSent);
  }

  /** Text for GDB's console: sent as O packets now while running, else before the next stop reply. */
  private console(text: string): void {
    this.pendingConsole.push(text);
    if (this.running) this.flushConsole();
  }

  private flushConsole(): void {
    for (const t of this.pendingConsole.splice(0)) {
      for (let i = 0; i < t.length; i += 1000) this.opts.write(frame('O' + toHex(t.slice(i, i + 1000))));
    }
  }

  private handle(p: string): void {
    const c = p[0];
    if (p === '?') return this.reply(this.exited ? 'W00' : this.stopReply(this.currentThread(), '05', ''));
    if (p.startsWith('qSupported')) {
      return this.reply(`PacketSize=${PACKET_SIZE.toString(16)};qXfer:features:read+;qXfer:exec-file:read${this.opts.elf === null ? '-' : '+'};hwbreak+;swbreak+;vContSupported+`);
    }
    if (p.startsWith('qXfer:features:read:')) return this.xfer(p.slice('qXfer:features:read:'.length), (annex) => (annex === 'target.xml' ? this.arch.targetXml : null));
    if (p.startsWith('qXfer:exec-file:read:')) return this.xfer(p.slice('qXfer:exec-file:read:'.length), () => this.opts.elf?.path ?? null);
    if (p === 'qfThreadInfo') {
      const ids = this.liveThreads().map((t) => t.id.toString(16));
      return this.reply(ids.length === 0 ? 'l' : 'm' + ids.join(','));
    }
    if (p === 'qsThreadInfo') return this.reply('l');
    if (p === 'qAttached' || p.startsWith('qAttached:')) return this.reply('1');
    if (p === 'qC') return this.reply(`QC${this.currentThread().toString(16)}`);
    if (p.startsWith('qThreadExtraInfo,')) return this.threadExtraInfo(p.slice(17));
    if (p.startsWith('qRcmd,')) return this.monitor(fromHex(p.slice(6)));
    if (p.startsWith('qSymbol')) return this.reply('OK');
    if (p.startsWith('H') && p.length >= 2) return this.setThread(p[1], p.slice(2));
    if (c === 'T' && p.length > 1) return this.reply(this.threadAlive(parseInt(p.slice(1), 16)) ? 'OK' : 'E01');
    if (p === 'g') return this.reply(this.readAllRegisters());
    if (c === 'G') return this.reply(this.writeAllRegisters(p.slice(1)));
    if (c === 'p') return this.reply(this.readRegister(p.slice(1)));
    if (c === 'P') return this.reply(this.writeRegister(p.slice(1)));
    if (c === 'm') return this.reply(this.readMemory(p.slice(1)));
    if (c === 'M') return this.reply(this.writeMemory(p.slice(1)));
    if (p === 'vCont?') return this.reply('vCont;c;C;s;S');
    if (p.startsWith('vCont;')) return this.vCont(p.slice(6).split(';'));
    if (c === 'c' || c === 'C') return this.resume(null);
    if (c === 's' || c === 'S') return this.resume(this.cThread > 0 ? this.cThread : this.currentThread());
    if (c === 'Z' || c === 'z') return this.point(p);
    if (p === 'vCtrlC') {
      this.reply('OK');
      return;
    }
    if (p.startsWith('vFile:')) return this.vFile(p.slice(6));
    if (p === 'k' || p.startsWith('vKill')) return this.kill(p !== 'k');
    if (c === 'D') return this.detach();
    // vMustReplyEmpty, qTStatus, qOffsets, X, QStartNoAckMode and everything else we do not speak.
    return this.reply('');
  }

  // ------------------------------------------------------------------------------------------
  // Threads

  private liveThreads() {
    return this.machine.threads.filter((t) => t.state !== 'exited' && t.state !== 'unstarted');
  }

  private threadAlive(id: number): boolean {
    return this.liveThreads().some((t) => t.id === id);
  }

  private lastStopThread = 1;

  private currentThread(): number {
    if (this.gThread > 0 && this.threadAlive(this.gThread)) return this.gThread;
    if (this.threadAlive(this.lastStopThread)) return this.lastStopThread;
    return this.liveThreads()[0]?.id ?? 1;
  }

  private setThread(op: string, id: string): void {
    const n = id === '-1' ? -1 : HEX.test(id) ? parseInt(id, 16) : NaN;
    if (Number.isNaN(n) || (n > 0 && !this.threadAlive(n))) return this.reply('E01');
    if (op === 'g') this.gThread = n;
    else this.cThread = n;
    this.reply('OK');
  }

  private threadExtraInfo(id: string): void {
    const n = parseInt(id, 16);
    const info = this.machine.threadInfos().find((t) => t.id === n);
    if (info === undefined) return this.reply('E01');
    const state = info.state === 'running' || info.state === 'runnable' ? '' : `, ${info.state}`;
    this.reply(toHex(`${info.name} on cpu${info.cpu ?? '?'}${state}`));
  }

  // ------------------------------------------------------------------------------------------
  // Registers and memory

  /** The register context of a thread's innermost frame, or null if it has none. */
  private context(threadId: number): RegisterContext | null {
    if (!this.threadAlive(threadId)) return null;
    const recs = this.machine.frameRecords(threadId);
    if (recs.length === 0) return null;
    const top = recs[recs.length - 1];
    const caller = recs.length > 1 ? recs[recs.length - 2] : null;
    return { regs: top.regs, pc: top.pc, fp: top.base + top.frameBytes - 16, sp: top.base, ra: caller === null ? 0 : caller.pc + 4 };
  }

  private readAllRegisters(): string {
    const ctx = this.context(this.currentThread());
    return this.arch.registers.map((d) => leHex(registerValue(d, ctx), d.bits / 8)).join('');
  }

  private readRegister(arg: string): string {
    const n = parseInt(arg, 16);
    const d = this.arch.registers[n];
    if (!HEX.test(arg) || d === undefined) return 'E00';
    return leHex(registerValue(d, this.context(this.currentThread())), d.bits / 8);
  }

  /** Set a general register of the current thread's innermost frame; the frame registers (pc, fp, sp) cannot move. */
  private setRegister(n: number, value: bigint): boolean {
    const d = this.arch.registers[n];
    const ctx = this.context(this.currentThread());
    if (d === undefined || ctx === null) return false;
    if (typeof d.source === 'number') {
      const regs = ctx.regs as (number | bigint)[];
      if (d.source >= regs.length) return value === 0n;
      regs[d.source] = typeof regs[d.source] === 'bigint' ? BigInt.asIntN(64, value) : Number(BigInt.asIntN(53, value));
      return true;
    }
    return registerValue(d, ctx) === value;
  }

  private writeRegister(arg: string): string {
    const m = /^([0-9a-fA-F]+)=([0-9a-fA-F]*)$/.exec(arg);
    if (m === null) return 'E00';
    const n = parseInt(m[1], 16);
    const d = this.arch.registers[n];
    if (d === undefined || m[2].length !== d.bits / 4) return 'E00';
    return this.setRegister(n, parseLeHex(m[2])) ? 'OK' : 'E01';
  }

  private writeAllRegisters(hex: string): string {
    const total = this.arch.registers.reduce((s, d) => s + d.bits / 4, 0);
    if (hex.length !== total || !HEX.test(hex)) return 'E00';
    let at = 0;
    this.arch.registers.forEach((d, n) => {
      const v = parseLeHex(hex.slice(at, at + d.bits / 4));
      at += d.bits / 4;
      if (typeof d.source === 'number') this.setRegister(n, v);
    });
    return 'OK';
  }

  /**
   * The frame records GDB unwinds through, 8 bytes each: at each frame's fp the caller's fp, at
   * fp + 8 the return address (0 in a thread's outermost frame). The machine keeps those 16 bytes
   * in every frame but writes nothing there; the stub shows them.
   */
  private frameOverlay(): Map<number, number> {
    if (this.overlay !== null) return this.overlay;
    const map = new Map<number, number>();
    for (const th of this.liveThreads()) {
      const recs = this.machine.frameRecords(th.id);
      recs.forEach((r, i) => {
        const fp = r.base + r.frameBytes - 16;
        const caller = i > 0 ? recs[i - 1] : null;
        map.set(fp, caller === null ? 0 : caller.base + caller.frameBytes - 16);
        map.set(fp + 8, caller === null ? 0 : caller.pc + 4);
      });
    }
    this.overlay = map;
    return map;
  }

  private readMemory(arg: string): string {
    const m = /^([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(arg);
    if (m === null) return 'E00';
    const addr = parseInt(m[1], 16);
    const len = Math.min(parseInt(m[2], 16), (PACKET_SIZE - 16) / 2);
    if (!Number.isSafeInteger(addr) || len === 0) return len === 0 ? '' : E_UNMAPPED;
    const bytes: number[] = [];
    const mem = this.machine.memory;
    for (let a = addr; a < addr + len;) {
      const seg = mem.find(a, 1);
      if (seg === null) break;
      const end = Math.min(addr + len, seg.end);
      for (; a < end; a++) bytes.push(seg.bytes[a - seg.base]);
    }
    if (bytes.length === 0) return E_UNMAPPED;
    const overlay = this.frameOverlay();
    for (const [at, value] of overlay) {
      if (at + 8 <= addr || at >= addr + bytes.length) continue;
      let v = BigInt(value);
      for (let i = 0; i < 8; i++, v >>= 8n) {
        const k = at + i - addr;
        if (k >= 0 && k < bytes.length) bytes[k] = Number(v & 0xffn);
      }
    }
    return Buffer.from(bytes).toString('hex');
  }

  private writeMemory(arg: string): string {
    const m = /^([0-9a-fA-F]+),([0-9a-fA-F]+):([0-9a-fA-F]*)$/.exec(arg);
    if (m === null) return 'E00';
    const addr = parseInt(m[1], 16);
    const len = parseInt(m[2], 16);
    if (m[3].length !== len * 2) return 'E00';
    if (len === 0) return 'OK';
    const text = this.machine.segments().find((s) => s.name === 'text');
    if (text !== undefined && addr < text.base + text.size && addr + len > text.base) return E_READONLY;
    if (this.machine.memory.find(addr, len) === null) return E_UNMAPPED;
    this.machine.memory.write(addr, Buffer.from(m[3], 'hex'));
    return 'OK';
  }

  // ------------------------------------------------------------------------------------------
  // Breakpoints and watchpoints

  private softBreaks = new Set<number>();

  private point(p: string): void {
    const m = /^([zZ])([0-4]),([0-9a-fA-F]+),([0-9a-fA-F]+)(;.*)?$/.exec(p);
    if (m === null) return this.reply('E00');
    const insert = m[1] === 'Z';
    const z = Number(m[2]);
    const addr = parseInt(m[3], 16);
    const kind = parseInt(m[4], 16);
    if (!Number.isSafeInteger(addr)) return this.reply('E00');
    if (z === 0) {
      if (insert && this.machine.instructionAt(addr) === undefined) return this.reply(E_UNMAPPED);
      if (insert) this.softBreaks.add(addr);
      else this.softBreaks.delete(addr);
      this.machine.setSoftwareBreakpoints(this.softBreaks);
      return this.reply('OK');
    }
    if (z === 1 && insert && this.machine.instructionAt(addr) === undefined) return this.reply(E_UNMAPPED);
    if (!insert) {
      this.points.remove(z, addr, kind);
      return this.reply('OK');
    }
    const r = this.points.insert(z, addr, kind);
    for (const n of r.notes) this.opts.log?.(n);
    if (r.ok) {
      for (const n of r.notes) this.pendingConsole.push(n + '\n');
      return this.reply('OK');
    }
    if (r.unsupported) return this.reply('');
    // GDB 13 takes an O packet sent in answer to a Z packet as the Z's reply (and the E after it
    // as the reply to its next packet), so the reason cannot precede the error. It is shown on
    // GDB's console at the next exchange that carries console output (a stop reply, a monitor
    // command), and at once on the stub's console.
    for (const n of r.notes) this.pendingConsole.push(n + '\n');
    this.reply('E0c'); // ENOSPC: refused
  }

  // ------------------------------------------------------------------------------------------
  // Running

  private vCont(actions: string[]): void {
    let step: number | null = null;
    for (const a of actions) {
      const [act, tid] = a.split(':');
      if (act[0] === 's' || act[0] === 'S') {
        step = tid === undefined || tid === '-1' ? this.currentThread() : parseInt(tid, 16);
        break;
      }
      if (act[0] !== 'c' && act[0] !== 'C') return this.reply('E00');
    }
    this.resume(step);
  }

  private resume(stepThread: number | null): void {
    if (this.exited) return this.reply('W00');
    if (this.fatalSignal !== null) {
      this.exited = true;
      return this.reply(`X${this.fatalSignal.toString(16).padStart(2, '0')}`);
    }
    if (stepThread !== null) {
      try {
        this.machine.step(stepThread, 'instruction');
      } catch (e) {
        if (!(e instanceof RuntimeFault)) throw e;
        return this.reply('E01');
      }
    } else {
      this.machine.cancelStep();
    }
    this.overlay = null;
    this.running = true;
    this.flushConsole();
    setImmediate(() => this.runSome());
  }

  private runSome(): void {
    if (!this.running || this.closed) return;
    let stop: StopEvent | null;
    try {
      stop = this.machine.run(this.opts.slice ?? 200_000);
    } catch (e) {
      this.running = false;
      this.console(`hwbp: internal error: ${(e as Error).message}\n`);
      this.flushConsole();
      this.fatalSignal = 6;
      this.reply(this.stopReply(this.currentThread(), '06', ''));
      return;
    }
    if (stop === null) {
      setImmediate(() => this.runSome());
      return;
    }
    this.running = false;
    this.onStop(stop);
  }

  private onStop(stop: StopEvent): void {
    this.machine.cancelStep();
    this.overlay = null;
    const tid = stop.threadId ?? this.currentThread();
    if (stop.threadId !== null) this.lastStopThread = stop.threadId;
    this.gThread = 0;
    let reply: string;
    switch (stop.reason) {
      case 'exited':
        this.exited = true;
        reply = `W${((stop.exitCode ?? 0) & 0xff).toString(16).padStart(2, '0')}`;
        break;
      case 'breakpoint':
        reply = this.stopReply(tid, '05', 'swbreak:;');
        break;
      case 'exec':
      case 'data':
        reply = this.stopReply(tid, '05', this.points.stopFields(stop));
        break;
      case 'pause':
        reply = this.stopReply(tid, '02', '');
        break;
      case 'exception':
      case 'deadlock':
        this.pendingConsole.push(`hwbp: ${stop.message ?? stop.reason}\n`);
        this.fatalSignal = stop.reason === 'exception' ? 11 : 6;
        reply = this.stopReply(tid, stop.reason === 'exception' ? '0b' : '06', '');
        break;
      default:
        reply = this.stopReply(tid, '05', '');
    }
    this.flushConsole();
    this.reply(reply);
  }

  private stopReply(tid: number, signal: string, fields: string): string {
    const ctx = this.context(tid);
    const regs = ctx === null ? '' : [this.arch.pcReg, this.arch.fpReg, this.arch.spReg]
      .map((n) => `${n.toString(16).padStart(2, '0')}:${leHex(registerValue(this.arch.registers[n], ctx), 8)};`).join('');
    return `T${signal}${fields}${regs}thread:${tid.toString(16)};`;
  }

  private kill(reply: boolean): void {
    this.points.clear();
    this.machine.kill();
    this.exited = true;
    if (reply) this.reply('OK');
    this.opts.close();
  }

  /** Detach: the breakpoints go, the program runs on to its end without a debugger, the connection closes. */
  private detach(): void {
    this.points.clear();
    this.softBreaks.clear();
    this.machine.setSoftwareBreakpoints([]);
    this.machine.cancelStep();
    this.reply('OK');
    const log = this.opts.log;
    const off = this.machine.on((e) => {
      if (e.kind === 'output') log?.(`${this.machine.thread(e.threadId).name}: ${e.text}`);
    });
    this.unsubscribe();
    this.closed = true;
    const runOn = (left: number) => {
      const stop = this.machine.run(200_000);
      if (stop === null && left > 0) {
        setImmediate(() => runOn(left - 1));
        return;
      }
      off();
      if (stop !== null && stop.reason !== 'exited') log?.(`hwbp: after detach: ${stop.message ?? stop.reason}`);
      this.machine.kill();
    };
    setImmediate(() => runOn(1000));
    this.opts.close();
  }

  // ------------------------------------------------------------------------------------------
  // Transfers and files

  private xfer(rest: string, content: (annex: string) => string | null): void {
    const m = /^([^:]*):([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(rest);
    if (m === null) return this.reply('E00');
    const body = content(m[1]);
    if (body === null) return this.reply('E00');
    const off = parseInt(m[2], 16);
    const len = Math.min(parseInt(m[3], 16), PACKET_SIZE / 2);
    const chunk = body.slice(off, off + len);
    this.reply((off + len >= body.length ? 'l' : 'm') + chunk);
  }

  private vFile(rest: string): void {
    const [op, argText = ''] = rest.split(/:(.*)/s);
    const args = argText.split(',');
    const elf = this.opts.elf;
    switch (op) {
      case 'setfs':
        return this.reply('F0');
      case 'open': {
        const name = Buffer.from(args[0] ?? '', 'hex').toString('latin1');
        if (elf === null || name !== elf.path) return this.reply('F-1,2');
        const fd = this.nextFd++;
        this.files.set(fd, elf.image);
        return this.reply(`F${fd.toString(16)}`);
      }
      case 'pread': {
        const file = this.files.get(parseInt(args[0], 16));
        if (file === undefined) return this.reply('F-1,9');
        const count = Math.min(parseInt(args[1], 16), (PACKET_SIZE - 32) / 2);
        const offset = parseInt(args[2], 16);
        const data = file.subarray(offset, offset + count);
        return this.reply(`F${data.length.toString(16)};${data.toString('latin1')}`);
      }
      case 'fstat': {
        const file = this.files.get(parseInt(args[0], 16));
        if (file === undefined) return this.reply('F-1,9');
        // struct gdb_stat, big-endian: dev ino mode nlink uid gid rdev (4 each), size blksize blocks (8 each), atime mtime ctime (4 each).
        const st = Buffer.alloc(64);
        st.writeUInt32BE(0o100644, 8);
        st.writeUInt32BE(1, 12);
        st.writeBigUInt64BE(BigInt(file.length), 28);
        st.writeBigUInt64BE(4096n, 36);
        st.writeBigUInt64BE(BigInt(Math.ceil(file.length / 512)), 44);
        return this.reply(`F${st.length.toString(16)};${st.toString('latin1')}`);
      }
      case 'close':
        this.files.delete(parseInt(args[0], 16));
        return this.reply('F0');
      default:
        return this.reply('');
    }
  }

  // ------------------------------------------------------------------------------------------
  // monitor

  private monitor(cmd: string): void {
    const out = (text: string) => {
      for (let i = 0; i < text.length; i += 1000) this.opts.write(frame('O' + toHex(text.slice(i, i + 1000))));
    };
    const c = cmd.trim();
    for (const t of this.pendingConsole.splice(0)) out(t);
    if (c === 'hwbp-state') {
      out(JSON.stringify(this.state(), null, 1) + '\n');
    } else if (c === 'registers') {
      out(registersTable(this.machine.kernel.snapshot().cpus, (n) => this.points.slotLabel(n)));
    } else if (c === 'help' || c === '') {
      out('monitor hwbp-state   the debugger state as JSON (kernel snapshot, watchpoints, threads)\nmonitor registers    each CPU\'s debug registers and who holds them\n');
    } else {
      out(`hwbp: unknown monitor command '${c}' (try monitor help)\n`);
    }
    this.reply('OK');
  }

  /** The shape of the adapter's hwbp.state body, with the stub's breakpoints as its watchpoints. */
  state(): object {
    return {
      running: this.running,
      kernel: this.machine.kernel.snapshot(),
      watchpoints: this.points.list(),
      softwareBreakpoints: [...this.softBreaks].map((a) => `0x${a.toString(16)}`),
      threads: this.machine.threadInfos(),
      stoppedThreadId: this.running ? null : this.lastStopThread,
    };
  }
}

/** Each CPU's debug registers and their holders, as `monitor registers` prints them. */
export function registersTable(cpus: CpuSnapshot[], slotLabel: (n: number) => string | null): string {
  const lines: string[] = [];
  for (const cpu of cpus) {
    lines.push(`cpu${cpu.cpu} [${cpu.runningName ?? 'idle'}]${cpu.control.dr7 !== undefined ? ` DR7=0x${cpu.control.dr7.toString(16)}` : ''}${cpu.rotating ? ' (flexible rotating)' : ''}`);
    for (const cls of cpu.classes) {
      for (const r of cls.registers) {
        const o = r.occupant;
        let who = 'free';
        if (o !== null) {
          const m = /^ptrace DR(\d)$/.exec(o.owner);
          const label = m === null ? null : slotLabel(Number(m[1]));
          who = `${o.owner}${label === null ? '' : ` (${label})`}: ${o.type} 0x${o.addr.toString(16)}/${o.len} ${o.pinned ? 'pinned' : 'flexible'}${o.pid === null ? '' : ` pid ${o.pid}`}`;
        }
        lines.push(`  ${r.name.padEnd(5)} ${who}`);
      }
    }
  }
  return lines.join('\n') + '\n';
}
