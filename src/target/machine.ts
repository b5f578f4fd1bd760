/**
 * The simulated machine: CPUs running the threads of a .hwsim program, every memory access and
 * every statement fetch going through the debug registers installed on that CPU (src/hwbp).
 *
 * Time advances in cycles; in each cycle every CPU executes at most one instruction of the thread
 * it runs (the CPUs take turns in an order drawn from the seed, cycle by cycle, so a seed fixes the
 * interleaving). What only its own thread can see, a CPU runs ahead of the others (run(), below).
 * A data watchpoint traps after the instruction that touched it; an execute breakpoint faults
 * before the instruction runs. A stop never perturbs the schedule: running again resumes exactly
 * where it stopped.
 *
 * The machine knows nothing of DAP; the adapter drives it through the methods below and reads
 * plain data back.
 */
import { createKernel, HwbpError, type HitInfo, type Kernel, type Task } from '../hwbp';
import { CodeGen, formatValue, type CompiledFunction, type ExecThread, type Frame, type Port } from './codegen';
import { Executor, FLAG_FIRST, FLAG_MEMORY, FLAG_PRIVATE, FLAG_STACK } from './execute';
import { encodeQuick, runQuick, xorshift32, type AheadState } from './quick';
import { translate, type AheadRunner } from './translate';
import { disassemble, INSTRUCTION_SIZE } from './isa';
import { lowerExpression, STACK_SLOTS, STACK_SPACING, TEXT_BASE, type LoweredProgram, type MachineConfig, type OtherUser } from './lower';
import { Memory, readerFor, RuntimeFault, writerFor, type Segment, type Value } from './memory';
import { parseExpression } from './parser';
import { formatDiagnostic, type Diagnostic } from './diagnostics';
import { MUTEX, sizeOf, typeToString, type AtomicKind, type IntType, type LoweredFunction, type Place, type StatementInfo, type TExpr, type Type, type ValueType } from './types';

/** Stacks sit below this address, one region per thread. */
export const STACK_TOP = 0x7ffe_0000_0000;
/** Stack slots of the declared threads (slot i for the i-th); instances take the slots above, reused once their thread exits. */
const DECLARED_SLOTS = 64;
/** Most instances (spawn NAME(…)) alive at once: one stack slot each. */
export const MAX_INSTANCES = STACK_SLOTS - DECLARED_SLOTS;
/** Most threads a run may start in all (thread ids are never reused). */
export const MAX_THREADS = 1 << 20;
/** Return address and saved frame pointer, as a real frame has. */
const FRAME_OVERHEAD = 16;
export const MAX_CALL_DEPTH = 10_000;
/** Where a thread that has not started stands. */
const NO_FRAME: Frame = { id: 0, fn: null as unknown as CompiledFunction, pc: 0, base: 0, regs: [], dest: -1, quietGeneration: -1, quietOk: false };
/** One memory instruction in this many waits a cycle (a cache miss); a power of two. */
export const MISS_ONE_IN = 8;
const MISS_MASK = MISS_ONE_IN - 1;

const CALLED = -1;
const BLOCKED = -2;
const YIELDED = -3;
const EXITED = -4;

/**
 * Source steps go statement by statement. 'instruction' executes exactly one instruction (into a
 * call, as stepi does); 'instruction-over' one, or a whole call if it is one (as nexti does).
 */
export type StepKind = 'into' | 'over' | 'out' | 'instruction' | 'instruction-over';

export type ThreadState = 'unstarted' | 'runnable' | 'running' | 'blocked' | 'sleeping' | 'exited';

export interface ThreadRecord extends ExecThread {
  readonly id: number;
  readonly name: string;
  readonly pinnedCpu: number | null;
  readonly entry: CompiledFunction;
  /** Started by `spawn NAME(…)` (named NAME#id), not the declared thread NAME itself. */
  readonly instance: boolean;
  /** Its stack slot (see STACK_SLOTS). */
  readonly slot: number;
  /** Threads blocked in a join on this one. */
  joiners: ThreadRecord[];
  /** The mutex (its address) this thread waits for, or null. */
  lockWait: number | null;
  /** The mutex an unlock handed to this thread while it waited: its lock completes without another try. */
  handoff: number | null;
  state: ThreadState;
  task: Task | null;
  /** CPU it is running on (cpu is the last one it ran on). */
  runningOn: number;
  sp: number;
  joinTarget: ThreadRecord | null;
  wakeAt: number;
  /** Skip the statement-boundary checks once: set after stopping before a statement (x86's RF flag). */
  resumeFlag: boolean;
  /** The innermost frame (frames' last), kept with them. */
  frame: Frame;
  /** Instructions executed, and statements begun (statement boundaries passed). */
  instructions: number;
  statements: number;
  /**
   * After a data trap: the statement that made the access, shown as where the thread stands (the
   * line that wrote) until it runs again, at the frame depth it ran in.
   */
  trap: { depth: number; fnIndex: CompiledFunction; stmt: number; pc: number } | null;
}

export interface Location {
  fn: string;
  line: number;
  col: number;
  endLine: number;
  endCol: number;
  /** The statement's address (its first instruction). */
  codeAddr: number;
  text: string;
  /** The instruction the frame stands at: the next to run, the call a caller waits in, or the one that trapped. */
  pc: number;
}

/** One instruction, as the Disassembly view shows it. */
export interface InstructionInfo {
  addr: number;
  /** Mnemonic and operands, e.g. `ld.u32 r1, [0x601000]`. */
  text: string;
  fn: string;
  statement: StatementInfo;
  /** It begins its statement (where a line breakpoint goes). */
  first: boolean;
  /** The function's first instruction. */
  entry: boolean;
}

export interface DataHit {
  hit: HitInfo;
  kind: 'read' | 'write' | 'exec';
  type: string;
  oldValue: string | null;
  newValue: string;
  /**
   * A write that stored exactly what another thread's previous write (caught here) to the same
   * bytes stored: that thread and when. The signature of a lost update: both read the same old
   * value and computed the same new one.
   */
  sameAs: { threadId: number; thread: string; time: number } | null;
}

/** The lost-update hint for a write that stored what another thread's previous write stored, or ''. */
export function lostUpdateHint(h: DataHit): string {
  return h.sameAs === null ? '' : ` — the same as ${h.sameAs.thread}'s write at t=${h.sameAs.time}: a lost update?`;
}

export type StopReason = 'breakpoint' | 'data' | 'exec' | 'step' | 'pause' | 'exception' | 'exited' | 'deadlock';

export interface StopEvent {
  reason: StopReason;
  threadId: number | null;
  cpu: number | null;
  location: Location | null;
  /** Data or execute hits that stopped the program (one access can match several registers). */
  hits: DataHit[];
  /** Ids of the breakpoints/watchpoints that caused the stop. */
  eventIds: number[];
  message: string | null;
  exitCode: number | null;
  /** Machine time (cycles) when it stopped. */
  time: number;
}

export type MachineEvent =
  | { kind: 'output'; threadId: number; text: string }
  /** A program access matched registers (emitted for every such access, stopping or not). */
  | { kind: 'hit'; threadId: number; hit: HitInfo }
  | { kind: 'thread'; threadId: number; name: string; state: 'started' | 'exited'; pid: number }
  | { kind: 'notice'; text: string }
  /**
   * A frame that was entered, for functions passed to watchCalls() only (after its parameters are
   * stored; a thread's body after its 'started' event).
   */
  | { kind: 'call'; threadId: number; frameId: number; fn: string }
  /**
   * A frame passed to watchFrame() ended: its function returned (a thread's body returning ends the
   * thread), or its thread was ended because main returned (`killed`). `line` is where it stood:
   * the return statement, or the closing brace it fell off.
   */
  | { kind: 'return'; threadId: number; frameId: number; fn: string; thread: boolean; line: number; killed: boolean };

/** A live frame, by identity: what a local's watchpoint is scoped to. */
export interface FrameRef {
  threadId: number;
  /** The frame's serial number in its machine (Frame.id). */
  frameId: number;
  fn: string;
  /** 0 = innermost, as frames() numbers them. */
  index: number;
}

export interface ThreadInfo {
  id: number;
  name: string;
  state: ThreadState;
  cpu: number | null;
  pid: number | null;
  instructions: number;
}

export interface FrameInfo {
  index: number;
  /** The frame's identity (never reused): see FrameRef. */
  id: number;
  fn: string;
  location: Location;
  base: number;
}

export interface VariableInfo {
  name: string;
  type: string;
  addr: number;
  size: number;
  value: string;
  /** For an array: how many elements, of which type and size (read them with Machine.elements). */
  array?: { length: number; elementType: string; elementSize: number };
}

export interface EvaluateResult {
  value: string;
  type: string;
  /** Address and size when the expression names a place in memory. */
  addr: number | null;
  size: number | null;
  /** The live frame whose stack memory holds the place (a local, or what a pointer into a stack points at); null for globals. */
  frame: FrameRef | null;
}

/** Options of the machine that are not part of the program's machine line. */
export interface MachineOptions {
  /** Records the kernel's register timeline keeps (0: no recording); see src/hwbp/recorder.ts. */
  timelineCapacity?: number;
  /**
   * Run every instruction in its own turn, private ones too (as when breakpoints or a step are
   * active). Memory, output and the kernel see exactly the same run either way; only where other
   * CPUs stand at a stop differs. For tests that compare the two.
   */
  exact?: boolean;
}

interface CpuRun {
  index: number;
  current: ThreadRecord | null;
  queue: ThreadRecord[];
  sliceLeft: number;
  /** The cycle of this CPU's next slot, and that slot's place in the machine's order (cycle × CPUs + turn within the cycle). */
  cycle: number;
  key: number;
  /** The slot at `cycle` has run an instruction that used up the timeslice; whether to preempt is still to decide, in turn. */
  sliceCheck: boolean;
  /** Where this CPU sits in the machine's heap of CPUs. */
  heapAt: number;
  /** This CPU's cache-miss generator (xorshift32, never 0): drawn in its own instruction order, so running ahead draws the same. */
  missState: number;
}

const NO_QUICK = encodeQuick([], new Uint8Array(0));

/** Most slots a CPU runs ahead in one turn (keeps pause and the run budget responsive). */
const RUN_AHEAD = 256;

/** Does this memory access miss the cache (one in MISS_ONE_IN, from the CPU's own generator)? Allocates nothing. */
function misses(cpu: CpuRun): boolean {
  cpu.missState = xorshift32(cpu.missState);
  return (cpu.missState & MISS_MASK) === 0;
}

/** A function's run-ahead code translated (with these stops written in, or none), else the interpreter on it. */
function makeRunner(fn: CompiledFunction, mask: number | null): AheadRunner {
  const quick = fn.quick;
  return translate(quick, fn.lowered.instrs, fn.flags, mask)
    ?? ((flags, ops, m, th, s, limit, missMask) => runQuick(quick, flags, ops, m, th, s, limit, missMask));
}

/** Count one more (or one fewer) interest in a key; the key goes when nobody is left. */
function count<K>(map: Map<K, number>, key: K, on: boolean): void {
  const n = (map.get(key) ?? 0) + (on ? 1 : -1);
  if (n > 0) map.set(key, n);
  else map.delete(key);
}

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Machine implements Port {
  readonly kernel: Kernel;
  readonly memory = new Memory();
  readonly config: MachineConfig;
  readonly program: LoweredProgram;
  readonly threads: ThreadRecord[] = [];
  /** Other users of the debug registers declared by the program (perf/wide lines), as opened. */
  readonly users: { user: OtherUser; eventIds: number[]; error: string | null }[] = [];
  readonly access: Port['access'];
  private readonly functions = new Map<string, CompiledFunction>();
  private readonly paramStores = new Map<CompiledFunction, ((th: ExecThread, v: Value) => void)[]>();
  /** A thread's arguments are stored unchecked, as if passed in registers: nobody's watchpoint sees its frame being made. */
  private readonly threadParamStores = new Map<CompiledFunction, ((th: ExecThread, v: Value) => void)[]>();
  /** Declared threads by name. */
  private readonly declared = new Map<string, ThreadRecord>();
  /** Stack slots of exited instances, to reuse; the next never used. */
  private readonly freeSlots: number[] = [];
  private nextSlot = DECLARED_SLOTS;
  /** Threads waiting for each mutex (by address), first come first served. */
  private readonly mutexWaiters = new Map<number, ThreadRecord[]>();
  /** Threads on all CPU queues together (an idle CPU looks for one to take only if there is one). */
  private queued = 0;
  /** Threads in a sleep. */
  private readonly sleepers = new Set<ThreadRecord>();
  private readonly cpus: CpuRun[] = [];
  private readonly random: () => number;
  /** Replaced, never changed in place: emit() walks the array it started with while listeners come and go. */
  private listeners: readonly ((e: MachineEvent) => void)[] = [];
  /**
   * Events whose hits stop the program (the debugger's; ptrace breakpoints always do), each with the
   * byte range it really watches: a register may cover more than was asked for (x86 can only watch
   * aligned 1/2/4/8 bytes), and an access outside the range is not the user's business.
   */
  private readonly stopping = new Map<number, { lo: number; hi: number } | null>();
  private readonly softwareBreakpoints = new Set<number>();
  private hasBreakpoints = false;
  private readonly statementsByAddr = new Map<number, StatementInfo>();
  /** The function each instruction slot of the text segment belongs to (slot = (addr − TEXT_BASE) / 4); its text is made when asked. */
  private readonly textOwner: LoweredFunction[] = [];
  private pendingHits: DataHit[] = [];
  /** The last write hit at each address: what was stored, by whom, when (for the lost-update hint). */
  private readonly lastWrites = new Map<number, { value: string; size: number; threadId: number; thread: string; time: number }>();
  private stepping: { thread: ThreadRecord; kind: StepKind; depth: number; armed: boolean } | null = null;
  private pauseRequested = false;
  /** Frame serial numbers; `runId` tells this machine's frames from another run's (a restart's, another adapter's). */
  private nextFrameId = 1;
  readonly runId = Math.floor(Math.random() * 0x1_0000_0000).toString(16);
  /** Frames (by id) whose end is reported, with how many asked; functions whose calls are reported. */
  private readonly watchedFrames = new Map<number, number>();
  private readonly watchedCalls = new Map<string, number>();
  /** Data accesses made by the program (not by the debugger), for statistics. */
  memoryAccesses = 0;
  /** The cycle of the slot being run (the kernel's clocks have been ticked up to it). */
  now = 0;
  /** The CPUs as a binary heap on their next slot's key: the root runs next. */
  private readonly heap: CpuRun[] = [];
  /** Slots and instructions run by the current run() call (its budget). */
  private spent = 0;
  /** runAhead's exchange with the interpreter, kept so that a turn allocates nothing. */
  private readonly ahead: AheadState = { pc: 0, left: 0, slots: 0, ran: 0, statements: 0, accesses: 0, missState: 1, sliceCheck: false };
  private readonly exact: boolean;
  /** Mixed into the turn order of every cycle (from the seed). */
  private readonly orderSeed: number;
  /** Threads asleep, and the earliest cycle one of them wakes at (a bound: it may have woken already). */
  private nextWake = Infinity;
  private finished: StopEvent | null = null;
  /** The program's other debug-register users, to close when the program is killed. */
  private readonly userHandles: { close(): void }[] = [];

  constructor(program: LoweredProgram, options: MachineOptions = {}) {
    this.program = program;
    this.config = program.machine;
    this.random = rng(this.config.seed);
    this.orderSeed = Math.floor(this.random() * 0x1_0000_0000) | 0;
    this.exact = options.exact ?? false;
    this.kernel = createKernel({ arch: this.config.arch, cpus: this.config.cpus, muxInterval: this.config.mux, timelineCapacity: options.timelineCapacity });
    const kernel = this.kernel;
    this.access = (cpu, addr, size, kind) => {
      this.memoryAccesses++;
      return kernel.access(cpu, addr, size, kind);
    };
    // Memory: text (one 4-byte slot per statement), data (globals and their initial values).
    this.memory.map('text', 0x400000, Math.max(0x1000, Math.ceil((program.textEnd - 0x400000) / 0x1000) * 0x1000));
    for (const [start, end] of program.dataSegments) this.memory.map('data', start, end - start);
    for (const g of program.globals) {
      if (g.init === null) continue;
      const elem = (g.type.k === 'array' ? g.type.elem : g.type) as ValueType;
      const write = writerFor(elem);
      const size = sizeOf(elem);
      g.init.forEach((v, i) => {
        const addr = g.addr + i * size;
        const seg = this.memory.segmentFor(addr, size, 'initialise');
        const value = elem.k === 'ptr' ? Number(BigInt.asUintN(64, v)) : elem.size === 8 ? v : Number(BigInt.asUintN(elem.size * 8, v));
        write(seg.view, addr - seg.base, value);
      });
    }
    // Code: every function and thread body, compiled to closures.
    for (const f of [...program.functions.values(), ...program.threads.map((t) => t.fn)]) {
      const compiled: CompiledFunction = {
        lowered: f, code: [], flags: new Uint8Array(0), frameBytes: f.frameSize + FRAME_OVERHEAD,
        quiet: [], quick: NO_QUICK, ahead: new Uint8Array(0), runAhead: null, runLoud: null, runQuiet: null, stackLo: 0, stackHi: 0,
      };
      this.functions.set(`${f.kind}:${f.name}`, compiled);
      for (const s of f.statements) this.statementsByAddr.set(s.codeAddr, s);
      for (const ins of f.instrs) this.textOwner[(ins.addr - TEXT_BASE) / INSTRUCTION_SIZE] = f;
    }
    const byName = new Map([...program.functions.keys()].map((n) => [n, this.functions.get(`fn:${n}`)!]));
    const gen = new CodeGen(this);
    const rawGen = new CodeGen({ ...this.portFunctions(), memory: this.memory, access: null });
    const executor = new Executor(this, byName);
    // Could a thread ever reach another's frame? Only through a local's address (kept, or left
    // dangling after its function returned and another call reused the bytes), pointer arithmetic, a
    // pointer made from a number, or an index wide enough to jump from a global into the stacks
    // (32-bit ones reach 16 GiB past a global; the stacks lie 2^47 up). A program that does none of
    // these has private frames.
    const forged = [...this.functions.values()].some((c) => c.lowered.instrs.some((i) =>
      (i.op === 'lea' && i.mem.base === 'fp') || i.op === 'padd' || (i.op === 'cvt' && i.to.k === 'ptr' && i.from.k !== 'ptr')
      || ((i.op === 'ld' || i.op === 'st' || i.op === 'lea') && i.mem.index >= 0 && i.mem.wideIndex)));
    for (const compiled of this.functions.values()) {
      executor.compileFunction(compiled, forged);
      compiled.quick = encodeQuick(compiled.lowered.instrs, compiled.flags);
      compiled.ahead = compiled.flags;
      this.paramStores.set(compiled, compiled.lowered.params.map((p) => gen.store({ k: 'local', offset: p.offset, type: p.type, name: p.name })));
      if (compiled.lowered.kind === 'thread') {
        this.threadParamStores.set(compiled, compiled.lowered.params.map((p) => rawGen.store({ k: 'local', offset: p.offset, type: p.type, name: p.name })));
      }
    }
    // Threads: each has its stack region from the start (backed as it grows); a kernel task only once it runs.
    program.threads.forEach((t, i) => {
      const th = this.newThread(i + 1, t.name, i, t.name, false);
      this.threads.push(th);
      this.declared.set(t.name, th);
    });
    for (let c = 0; c < this.config.cpus; c++) {
      const missState = (Math.floor(this.random() * 0x7fff_ffff) | 1);
      const cpu: CpuRun = { index: c, current: null, queue: [], sliceLeft: this.config.timeslice, cycle: 0, key: 0, sliceCheck: false, heapAt: c, missState };
      cpu.key = this.keyOf(c, 0);
      this.cpus.push(cpu);
      this.heapPush(cpu);
    }
    // Other users: CPU-bound and wide ones exist from the start; thread-bound ones when their thread starts.
    for (const user of program.users) if (user.thread === null) this.openUser(user, null);
    this.start(this.threads.find((t) => t.name === 'main')!);
  }

  /** A thread record with its stack reserved in `slot` (nothing backed until its first frame). */
  private newThread(id: number, name: string, slot: number, decl: string, instance: boolean): ThreadRecord {
    const top = STACK_TOP - slot * STACK_SPACING;
    const stack = this.memory.mapStack(`stack of ${name}`, top, this.config.stack);
    const t = this.program.threads.find((x) => x.name === decl)!;
    return {
      id, name, pinnedCpu: t.cpu, entry: this.functions.get(`thread:${decl}`)!, instance, slot, state: 'unstarted',
      task: null, cpu: t.cpu ?? 0, runningOn: -1, frames: [], stack, sp: top, joinTarget: null, wakeAt: 0,
      resumeFlag: false, instructions: 0, statements: 0, trap: null, regs: [], fp: 0, frame: NO_FRAME, joiners: [], lockWait: null, handoff: null,
    };
  }

  /** Bytes of memory the program has mapped now (stacks count what they have grown to). */
  get mappedBytes(): number {
    return this.memory.mappedBytes;
  }

  on(listener: (e: MachineEvent) => void): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners = [...this.listeners.slice(0, i), ...this.listeners.slice(i + 1)];
    };
  }

  private emit(e: MachineEvent): void {
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) listeners[i](e);
  }

  // ------------------------------------------------------------------------------------------
  // Debugger controls

  /**
   * Hits of this event stop the program (the debugger's watchpoints and hardware breakpoints); with
   * a range, only accesses that touch [lo, hi) do.
   */
  setStopping(eventId: number, stops: boolean, range: { lo: number; hi: number } | null = null): void {
    if (stops) this.stopping.set(eventId, range);
    else this.stopping.delete(eventId);
  }

  /** Report the end of this frame with a 'return' event (counted: call once per interest, and again with false to drop it). */
  watchFrame(frameId: number, on: boolean): void {
    count(this.watchedFrames, frameId, on);
  }

  /** Report every new frame of this function (or thread body) with a 'call' event (counted, as watchFrame). */
  watchCalls(fn: string, on: boolean): void {
    count(this.watchedCalls, fn, on);
  }

  /** Software breakpoints: the code addresses of statements (unlimited, no register needed). */
  setSoftwareBreakpoints(addrs: Iterable<number>): void {
    this.softwareBreakpoints.clear();
    for (const a of addrs) this.softwareBreakpoints.add(a);
    this.hasBreakpoints = this.softwareBreakpoints.size > 0;
    // Running ahead stops before a breakpoint's instruction, which then takes its own turn and stops there.
    // A function without one keeps its own flags (and so the runners with the stops written in).
    for (const compiled of this.functions.values()) {
      const f = compiled.lowered;
      compiled.ahead = compiled.flags;
      if (!this.hasBreakpoints) continue;
      f.instrs.forEach((ins, pc) => {
        if (this.softwareBreakpoints.has(ins.addr) || (ins.first && this.softwareBreakpoints.has(f.statements[ins.stmt].codeAddr))) {
          if (compiled.ahead === compiled.flags) compiled.ahead = compiled.flags.slice();
          compiled.ahead[pc] &= ~(FLAG_PRIVATE | FLAG_STACK);
        }
      });
    }
  }

  statementAt(addr: number): StatementInfo | undefined {
    return this.statementsByAddr.get(addr);
  }

  /** The instruction at an address of the text segment, with its function and statement. */
  instructionAt(addr: number): InstructionInfo | undefined {
    const slot = (addr - TEXT_BASE) / INSTRUCTION_SIZE;
    const f = Number.isInteger(slot) ? this.textOwner[slot] : undefined;
    if (f === undefined) return undefined;
    const k = (addr - f.instrs[0].addr) / INSTRUCTION_SIZE;
    const ins = f.instrs[k];
    const at = (target: number) => f.instrs[target]?.addr ?? f.instrs[f.instrs.length - 1].addr + INSTRUCTION_SIZE;
    return { addr, text: disassemble(ins, at), fn: f.name, statement: f.statements[ins.stmt], first: ins.first, entry: k === 0 };
  }

  /** Every statement, in code address order. */
  allStatements(): StatementInfo[] {
    return [...this.statementsByAddr.values()].sort((a, b) => a.codeAddr - b.codeAddr);
  }

  pause(): void {
    this.pauseRequested = true;
  }

  /** Arrange for `run` to stop when thread `id` has completed a step. */
  step(threadId: number, kind: StepKind): void {
    const th = this.thread(threadId);
    if (th.state === 'exited' || th.state === 'unstarted') throw new RuntimeFault(`thread ${th.name} is not running (${th.state})`);
    // After a data trap the thread is shown at the instruction that made the access, but it is
    // already past it: the next statement boundary ends a source step, and an instruction step ends
    // before the next instruction (the one after the access, where the thread really is).
    this.stepping = { thread: th, kind, depth: th.frames.length, armed: th.trap !== null };
    th.trap = null;
  }

  /**
   * Forget a step in progress. A breakpoint stop leaves the step pending (a debugger that skips the
   * stop, because a condition was false, goes on stepping); the debugger cancels it when it reports
   * another stop or the user continues.
   */
  cancelStep(): void {
    this.stepping = null;
  }

  get state(): 'ready' | 'exited' {
    return this.finished === null ? 'ready' : 'exited';
  }

  /**
   * Run at most about `budget` CPU slots. Returns the stop, or null if the budget ran out first (call
   * again: the adapter yields to its event loop in between, so pause works on infinite loops).
   *
   * The machine runs as if in lockstep: in every cycle each CPU has one slot, taken in a turn order
   * drawn from the seed (cycle by cycle), and whatever one CPU does in its slot the CPUs after it in
   * that cycle see. Only what others can see needs that order: shared memory, the kernel, the
   * scheduler, output. So after a CPU's visible instruction it runs the ones that follow and no other
   * CPU can see (registers only, FLAG_PRIVATE; accesses to its own frame when no breakpoint covers
   * it, FLAG_STACK) at once, ahead of the others, and takes its next turn at the slot where lockstep
   * would reach its next visible instruction: the CPUs are kept in a heap ordered by their next slot
   * instead of being visited every cycle. Accesses, misses, preemptions and the timeline come out
   * exactly as in lockstep; only at a stop may another CPU already stand a few such instructions
   * further on (as a real CPU retires what it has in flight when interrupted). A breakpoint's
   * instruction takes its own turn; while a step or an execute watchpoint is set, every instruction
   * does. docs/language.md, "How the simulator keeps up".
   */
  run(budget: number): StopEvent | null {
    if (this.finished !== null) return this.finished;
    const heap = this.heap;
    this.spent = 0;
    while (this.spent < budget) {
      if (this.pauseRequested) {
        this.pauseRequested = false;
        const th = this.cpus.map((c) => c.current).find((t) => t !== null) ?? this.threads.find((t) => t.state !== 'exited' && t.state !== 'unstarted') ?? null;
        return this.stop('pause', th, null);
      }
      const cpu = heap[0];
      if (cpu.cycle !== this.now) this.advanceTo(cpu.cycle);
      const stop = this.runSlot(cpu);
      if (stop !== null) return stop;
    }
    return null;
  }

  /** The place of CPU `c`'s slot in cycle `cycle` in the machine's order. */
  private keyOf(c: number, cycle: number): number {
    const n = this.config.cpus;
    if (n === 1) return cycle;
    // Which CPU goes first in a cycle: a hash of the cycle and the seed, so any cycle's order is known without drawing the ones before.
    let h = cycle | 0;
    if (cycle > 0x7fff_ffff) h = (cycle % 0x1_0000_0000) ^ Math.imul(Math.floor(cycle / 0x1_0000_0000), 0x9e3779b1);
    h ^= this.orderSeed;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    // Kept in small integers (a modulo of a full 32-bit value would be a floating-point one).
    const first = ((h & 0xffff) * n) >>> 16;
    const turn = c >= first ? c - first : c + n - first;
    return cycle * n + turn;
  }

  /** Move the clock to cycle `t`: the kernel ticks at the end of every cycle passed, and sleepers due wake at the start of theirs. */
  private advanceTo(t: number): void {
    while (this.now < t) {
      // In one step up to the next wake-up (or t).
      const to = this.sleepers.size > 0 && this.nextWake > this.now && this.nextWake < t ? this.nextWake : t;
      this.kernel.tickAllBy(to - this.now);
      this.now = to;
      if (this.sleepers.size > 0 && this.nextWake <= this.now) this.wakeSleepers();
    }
  }

  /** The root CPU's next slot is at `cycle`: give it its place in the heap. */
  private moveOn(cpu: CpuRun, cycle: number): void {
    cpu.cycle = cycle;
    cpu.key = this.keyOf(cpu.index, cycle);
    this.siftDown(cpu);
  }

  private heapPush(cpu: CpuRun): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(cpu);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent];
      if (p.key <= cpu.key) break;
      heap[i] = p;
      p.heapAt = i;
      i = parent;
    }
    heap[i] = cpu;
    cpu.heapAt = i;
  }

  private siftDown(cpu: CpuRun): void {
    const heap = this.heap;
    const n = heap.length;
    let i = cpu.heapAt;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && heap[r].key < heap[l].key ? r : l;
      const c = heap[child];
      if (c.key >= cpu.key) break;
      heap[i] = c;
      c.heapAt = i;
      i = child;
    }
    heap[i] = cpu;
    cpu.heapAt = i;
  }

  /** Wake the sleepers whose time has come (in thread order, as the scheduler always has); note when the next one is due. */
  private wakeSleepers(): void {
    const due: ThreadRecord[] = [];
    let next = Infinity;
    for (const th of this.sleepers) {
      if (th.state !== 'sleeping') this.sleepers.delete(th);
      else if (th.wakeAt <= this.now) due.push(th);
      else if (th.wakeAt < next) next = th.wakeAt;
    }
    due.sort((a, b) => a.id - b.id);
    for (const th of due) {
      this.sleepers.delete(th);
      this.makeRunnable(th);
    }
    this.nextWake = next;
  }

  /**
   * One CPU slot, the root of the heap: pick a thread if needed, then execute one instruction and
   * the private ones after it. A stop before the instruction (breakpoint, execute watchpoint, step)
   * leaves the slot to be run again; anything else moves the CPU on.
   */
  private runSlot(cpu: CpuRun): StopEvent | null {
    const t = cpu.cycle;
    this.spent++;
    if (cpu.sliceCheck) {
      // The rest of a slot whose private instruction, run ahead, used up the timeslice.
      cpu.sliceCheck = false;
      const th = cpu.current;
      if (th !== null) this.endSlice(cpu, th);
      this.moveOn(cpu, cpu.current === th && th !== null && this.mayRunAhead() ? this.runAhead(cpu, th, t + 1) : t + 1);
      return null;
    }
    let th = cpu.current;
    if (th === null) {
      th = this.pickNext(cpu);
      if (th === null) {
        this.moveOn(cpu, t + 1);
        return this.checkDeadlock();
      }
    }
    const f = th.frame;
    const fn = f.fn;
    const pc = f.pc;
    const flags = fn.flags[pc];
    // A memory instruction misses the cache one time in MISS_ONE_IN and waits out this cycle: the
    // seed decides when, and so how the CPUs' instruction streams drift against each other.
    if ((flags & FLAG_MEMORY) !== 0 && misses(cpu)) {
      this.moveOn(cpu, t + 1);
      return null;
    }
    const op = fn.code[pc];
    // Hits and misses the timeline records in this slot are marked with the instruction's line.
    const kernel = this.kernel;
    const seq = kernel.timelineSeq;
    // Set only between runs (and cleared by a step's own stop), so read once per turn at most.
    const checked = this.hasBreakpoints || this.stepping !== null || kernel.execWatchedAnywhere;
    if (!th.resumeFlag && checked) {
      // Before the instruction: breakpoints (at its address, or at its statement's when it starts
      // the statement again, as a loop head does), the execute check of its fetch, and steps.
      if (this.hasBreakpoints && (this.softwareBreakpoints.has(op.addr) || ((flags & FLAG_FIRST) !== 0 && this.softwareBreakpoints.has(f.fn.lowered.statements[op.stmt].codeAddr)))) {
        th.resumeFlag = true;
        return this.stop('breakpoint', th, null);
      }
      const exec = kernel.execWatched(cpu.index) ? kernel.access(cpu.index, op.addr, 1, 'exec') : null;
      if (exec !== null) {
        kernel.setTimelineLine(seq, f.fn.lowered.statements[op.stmt].span.line);
        this.emit({ kind: 'hit', threadId: th.id, hit: exec });
        if (this.stops(exec)) {
          th.resumeFlag = true;
          return this.stop('exec', th, null, [{ hit: exec, kind: 'exec', type: 'code', oldValue: null, newValue: f.fn.lowered.statements[op.stmt].text, sameAs: null }]);
        }
      }
      const step = this.stepping;
      if (step !== null && step.thread === th && step.armed && this.stepEnds(step, th, (flags & FLAG_FIRST) !== 0)) {
        this.stepping = null;
        return this.stop('step', th, null);
      }
    }
    // Once the stepping thread executes anything, the next boundary can end the step.
    if (checked && this.stepping?.thread === th) this.stepping.armed = true;
    th.resumeFlag = false;
    th.trap = null;
    const depth = th.frames.length;
    let result: number;
    try {
      result = op(th);
    } catch (e) {
      if (kernel.timelineSeq !== seq) kernel.setTimelineLine(seq, f.fn.lowered.statements[op.stmt].span.line);
      if (e instanceof RuntimeFault || e instanceof HwbpError) {
        this.moveOn(cpu, t + 1);
        return this.fault(th, e.message);
      }
      throw e;
    }
    if (kernel.timelineSeq !== seq) kernel.setTimelineLine(seq, f.fn.lowered.statements[op.stmt].span.line);
    th.instructions++;
    if ((flags & FLAG_FIRST) !== 0) th.statements++;
    if (result >= 0) f.pc = result;
    else if (result === EXITED) this.exitThread(th, cpu);
    else if (result === BLOCKED) {
      // It stays at its instruction (a debugger shows the join or sleep it waits in) and runs it
      // again when woken, without the checks before it a second time.
      th.resumeFlag = true;
      this.deschedule(cpu, th, th.state === 'sleeping' ? 'sleeping' : 'blocked');
    }
    else if (result === YIELDED) this.requeue(cpu, th);
    if (th.state === 'running' && --cpu.sliceLeft <= 0) this.endSlice(cpu, th);
    if (this.pendingHits.length > 0) {
      const hits = this.pendingHits;
      this.pendingHits = [];
      // Usually every hit is the debugger's: keep the array as it is then.
      let stopping = hits;
      for (let i = 0; i < hits.length; i++) {
        if (!this.stops(hits[i].hit)) {
          stopping = hits.filter((h) => this.stops(h.hit));
          break;
        }
      }
      if (stopping.length > 0) {
        this.moveOn(cpu, t + 1);
        if (th.frames.length === depth) th.trap = { depth, fnIndex: f.fn, stmt: op.stmt, pc };
        const stop = this.stop('data', th, null, stopping);
        // The line of the instruction that made the access, even when the thread has since entered a call.
        stop.location = this.locationOf(f.fn, op.stmt, pc);
        return stop;
      }
    }
    if (this.finished !== null) {
      this.moveOn(cpu, t + 1);
      return this.finished;
    }
    // Asked afresh: a spawn may have opened an execute breakpoint for the new thread.
    this.moveOn(cpu, cpu.current === th && this.mayRunAhead() ? this.runAhead(cpu, th, t + 1) : t + 1);
    return null;
  }

  /** Private instructions may run ahead of the other CPUs (nothing checks every instruction: breakpoints are marked in `ahead`). */
  private mayRunAhead(): boolean {
    return !this.exact && this.stepping === null && !this.kernel.execWatchedAnywhere;
  }

  /** A timeslice is used up: start a new one, and preempt only if someone else is waiting for this CPU. */
  private endSlice(cpu: CpuRun, th: ThreadRecord): void {
    cpu.sliceLeft = this.config.timeslice;
    if (cpu.queue.length > 0 && cpu.queue.some((t) => t.state === 'runnable')) this.requeue(cpu, th);
  }

  /**
   * Run the private instructions `th` reaches next, the first in the CPU's slot at `cycle`, one slot
   * each (a frame access that misses the cache takes one more, as in its own turn); return the slot
   * of the CPU's next turn. It stops before an instruction that others can see, before one that
   * would fault (it faults in its own turn, so in order), or after one that ends the timeslice (whose
   * preemption check takes that slot's turn). Frame accesses (FLAG_STACK) count as private while no
   * breakpoint covers the frame.
   */
  private runAhead(cpu: CpuRun, th: ThreadRecord, cycle: number): number {
    const f = th.frame;
    const fn = f.fn;
    const quiet = fn.stackLo < fn.stackHi && this.frameIsQuiet(f, th.fp);
    const s = this.ahead;
    s.pc = f.pc;
    s.left = cpu.sliceLeft;
    s.missState = cpu.missState;
    this.runnerFor(fn, quiet)(fn.ahead, quiet ? fn.quiet : fn.code, quiet ? FLAG_PRIVATE | FLAG_STACK : FLAG_PRIVATE, th, s, RUN_AHEAD, MISS_MASK);
    f.pc = s.pc;
    cpu.sliceLeft = s.left;
    cpu.missState = s.missState;
    cpu.sliceCheck = s.sliceCheck;
    th.instructions += s.ran;
    th.statements += s.statements;
    this.memoryAccesses += s.accesses;
    this.spent += s.slots;
    // The slice check belongs to the last instruction's slot; otherwise the next turn is the slot after it.
    return s.sliceCheck ? cycle + s.slots - 1 : cycle + s.slots;
  }

  /**
   * The runner for this function now, made on first use (a function that never runs ahead, or never
   * with a breakpoint, costs no translation): with a breakpoint in it, the one that reads the flags;
   * else the one with the stops written in for a quiet frame or for one that is not.
   */
  private runnerFor(fn: CompiledFunction, quiet: boolean): AheadRunner {
    if (fn.ahead !== fn.flags) return (fn.runAhead ??= makeRunner(fn, null));
    if (quiet) return (fn.runQuiet ??= makeRunner(fn, FLAG_PRIVATE | FLAG_STACK));
    return (fn.runLoud ??= makeRunner(fn, FLAG_PRIVATE));
  }

  /**
   * May this frame (at `fp`) be accessed quietly: does no breakpoint (open now, or a perf line of the
   * program still to open) cover the bytes its frame accesses touch? Kept on the frame until the
   * kernel's breakpoints change.
   */
  private frameIsQuiet(f: Frame, fp: number): boolean {
    const generation = this.kernel.watchGeneration;
    if (f.quietGeneration === generation) return f.quietOk;
    const lo = fp + f.fn.stackLo;
    const hi = fp + f.fn.stackHi;
    let ok = !this.kernel.watches(lo, hi);
    // A register covers up to 8 aligned bytes around what was asked: keep clear of a perf line by that much.
    for (const u of this.program.users) if (u.addr - 8 < hi && u.addr + u.len + 8 > lo) ok = false;
    f.quietGeneration = generation;
    f.quietOk = ok;
    return ok;
  }

  /** Does the step in progress end before this instruction of its thread? */
  private stepEnds(step: NonNullable<Machine['stepping']>, th: ThreadRecord, boundary: boolean): boolean {
    switch (step.kind) {
      case 'instruction': return true;
      case 'instruction-over': return th.frames.length <= step.depth;
      case 'into': return boundary;
      case 'over': return boundary && th.frames.length <= step.depth;
      case 'out': return boundary && th.frames.length < step.depth;
    }
  }

  /** Does this hit belong to the debugger (so it stops the program)? */
  private stops(hit: HitInfo): boolean {
    for (let i = 0; i < hit.matches.length; i++) {
      const m = hit.matches[i];
      if (this.stopsFor(hit, m.eventId, m.ptraceIndex)) return true;
    }
    return false;
  }

  private stopsFor(hit: HitInfo, eventId: number, ptraceIndex: number | null): boolean {
    const range = this.stopping.get(eventId);
    // A ptrace breakpoint nobody registered here belongs to some debugger: it stops, as SIGTRAP does.
    if (range === undefined) return ptraceIndex !== null;
    if (range === null) return true;
    const end = hit.kind === 'exec' ? hit.addr + 1 : hit.addr + hit.size;
    return hit.addr < range.hi && end > range.lo;
  }

  // ------------------------------------------------------------------------------------------
  // Scheduling

  private start(th: ThreadRecord, args: Value[] = []): void {
    th.task = this.kernel.createTask(th.name);
    th.state = 'runnable';
    th.sp = th.stack.end;
    th.frames = [];
    this.pushFrame(th, th.entry, [], -1);
    const stores = this.threadParamStores.get(th.entry);
    if (stores !== undefined) for (let i = 0; i < args.length; i++) stores[i](th, args[i]);
    // The debugger hears of the thread before it runs, as with PTRACE_EVENT_CLONE.
    this.emit({ kind: 'thread', threadId: th.id, name: th.name, state: 'started', pid: th.task.pid });
    if (this.watchedCalls.size !== 0) this.called(th);
    // A perf line bound to a thread covers every instance of it.
    for (const user of this.program.users) if (user.thread === th.entry.lowered.name) this.openUser(user, th);
    this.place(th);
  }

  /** Put a runnable thread on a CPU queue: its own CPU if pinned, else the least loaded (ties by seed). */
  private place(th: ThreadRecord): void {
    let cpu: CpuRun;
    if (th.pinnedCpu !== null) {
      cpu = this.cpus[th.pinnedCpu];
    } else if (this.queued === 0 && this.cpus.every((c) => c.current === null)) {
      // The first thread of the program starts on the boot CPU.
      cpu = this.cpus[0];
    } else {
      const load = (c: CpuRun) => c.queue.length + (c.current === null ? 0 : 1);
      const least = Math.min(...this.cpus.map(load));
      const candidates = this.cpus.filter((c) => load(c) === least);
      cpu = candidates[Math.floor(this.random() * candidates.length)];
    }
    cpu.queue.push(th);
    th.cpu = cpu.index; // where it waits to run (shown for a thread that has not run yet)
    this.queued++;
  }

  private pickNext(cpu: CpuRun): ThreadRecord | null {
    let th = cpu.queue.shift() ?? null;
    if (th !== null) this.queued--;
    if (th === null && this.queued > 0) {
      // Idle: migrate an unpinned runnable thread from the busiest other CPU.
      // Counted without allocating: with many CPUs, most may look here every cycle.
      let donor: CpuRun | null = null;
      let most = 0;
      for (const c of this.cpus) {
        if (c === cpu || c.queue.length <= most) continue;
        let movable = 0;
        for (const t of c.queue) if (t.pinnedCpu === null) movable++;
        if (movable > most) {
          donor = c;
          most = movable;
        }
      }
      if (donor !== null) {
        const i = donor.queue.findIndex((t) => t.pinnedCpu === null);
        th = donor.queue.splice(i, 1)[0];
        this.queued--;
      }
    }
    if (th === null) return null;
    cpu.current = th;
    cpu.sliceLeft = this.config.timeslice;
    th.state = 'running';
    th.runningOn = cpu.index;
    th.cpu = cpu.index;
    this.kernel.contextSwitch(cpu.index, th.task);
    return th;
  }

  private deschedule(cpu: CpuRun, th: ThreadRecord, state: ThreadState): void {
    cpu.current = null;
    th.state = state;
    th.runningOn = -1;
    this.kernel.contextSwitch(cpu.index, null);
  }

  private requeue(cpu: CpuRun, th: ThreadRecord): void {
    this.deschedule(cpu, th, 'runnable');
    cpu.queue.push(th);
    this.queued++;
  }

  private makeRunnable(th: ThreadRecord): void {
    th.state = 'runnable';
    th.joinTarget = null;
    th.lockWait = null;
    this.place(th);
  }

  private exitThread(th: ThreadRecord, cpu: CpuRun): void {
    this.deschedule(cpu, th, 'exited');
    // Listeners hear of the exit while the task's breakpoints can still be read; then they are released.
    this.emit({ kind: 'thread', threadId: th.id, name: th.name, state: 'exited', pid: th.task!.pid });
    this.kernel.exitTask(th.task!);
    for (const other of th.joiners.splice(0)) {
      if (other.state === 'blocked' && other.joinTarget === th) this.makeRunnable(other);
    }
    if (th.instance) {
      // Its stack goes, and its slot serves a later instance.
      this.memory.unmap(th.stack);
      this.freeSlots.push(th.slot);
    }
    if (th.name === 'main') {
      // main returning ends the program, as returning from C's main does.
      for (const other of this.threads) {
        if (other.state === 'exited' || other.state === 'unstarted') continue;
        for (const c of this.cpus) {
          if (c.current === other) this.deschedule(c, other, 'exited');
          const i = c.queue.indexOf(other);
          if (i >= 0) {
            c.queue.splice(i, 1);
            this.queued--;
          }
        }
        other.state = 'exited';
        if (this.watchedFrames.size !== 0) {
          for (let i = other.frames.length - 1; i >= 0; i--) this.frameEnded(other, other.frames[i], this.location(other, i).line, true);
        }
        this.emit({ kind: 'thread', threadId: other.id, name: other.name, state: 'exited', pid: other.task!.pid });
        this.kernel.exitTask(other.task!);
      }
      this.finished = this.stopEvent('exited', null, null, [], 'main returned', 0);
    }
  }

  /**
   * End the program at once, as SIGKILL does (its debugger went away): every live thread exits, so
   * every breakpoint bound to its task is released, and the program's other users close theirs.
   * No event is emitted. Afterwards the kernel holds nothing of this program.
   */
  kill(): void {
    for (const h of this.userHandles.splice(0)) {
      try {
        h.close();
      } catch (e) {
        if (!(e instanceof HwbpError)) throw e; // released already, with its thread
      }
    }
    for (const th of this.threads) {
      if (th.state === 'exited' || th.state === 'unstarted') continue;
      for (const c of this.cpus) {
        if (c.current === th) this.deschedule(c, th, 'exited');
        const i = c.queue.indexOf(th);
        if (i >= 0) {
          c.queue.splice(i, 1);
          this.queued--;
        }
      }
      th.state = 'exited';
      if (th.task !== null) this.kernel.exitTask(th.task);
    }
    this.finished ??= this.stopEvent('exited', null, null, [], 'killed', 137);
  }

  private checkDeadlock(): StopEvent | null {
    // Cheap first: a runnable thread is on a queue, a running one on a CPU, a sleeping one wakes.
    if (this.sleepers.size > 0) return null;
    for (const c of this.cpus) if (c.current !== null || c.queue.length > 0) return null;
    const live = this.threads.filter((t) => t.state !== 'exited' && t.state !== 'unstarted');
    if (live.length === 0) return null;
    if (live.some((t) => t.state === 'running' || t.state === 'runnable' || t.state === 'sleeping')) return null;
    const shown = live.slice(0, 16).map((t) => this.waitText(t));
    const waits = shown.join(', ') + (live.length > shown.length ? `, and ${live.length - shown.length} more` : '');
    this.finished = this.stopEvent('deadlock', live[0], null, [], `deadlock: every thread is blocked (${waits})`, null);
    return this.finished;
  }

  /** What a blocked thread waits for, in words. */
  private waitText(t: ThreadRecord): string {
    if (t.lockWait !== null) {
      const owner = this.mutexOwner(t.lockWait);
      return `${t.name} waits for mutex ${this.mutexName(t.lockWait)}${owner === null ? '' : ` held by ${owner.name}`}`;
    }
    return `${t.name} waits for ${t.joinTarget?.name ?? '?'}`;
  }

  /**
   * After `th` blocked: if following what each thread waits for (a mutex's owner, a joined thread)
   * leads back to it through at least one mutex, that is a deadlock, reported now.
   */
  private checkWaitCycle(th: ThreadRecord): void {
    const chain: ThreadRecord[] = [th];
    let viaMutex = false;
    for (let cur = th; chain.length <= this.threads.length;) {
      let next: ThreadRecord | null;
      if (cur.state !== 'blocked') return;
      if (cur.lockWait !== null) {
        next = this.mutexOwner(cur.lockWait);
        viaMutex = true;
      } else {
        next = cur.joinTarget;
      }
      if (next === null) return;
      if (next === th) break;
      if (chain.includes(next)) return; // a cycle that does not pass through th: reported when it formed
      chain.push(next);
      cur = next;
    }
    if (!viaMutex) return;
    const text = chain.map((t) => this.waitText(t)).join(', ');
    this.finished = this.stopEvent('deadlock', th, null, [], `deadlock: ${text}`, null);
  }

  /** The thread whose id the mutex word at `addr` holds, or null (free, or not a thread). */
  private mutexOwner(addr: number): ThreadRecord | null {
    const seg = this.memory.find(addr, 4);
    if (seg === null) return null;
    const id = seg.view.getUint32(addr - seg.base, true);
    return id >= 1 && id <= this.threads.length ? this.threads[id - 1] : null;
  }

  /** A mutex's name for people: the global (or element) it is, else its address. */
  private mutexName(addr: number): string {
    for (const g of this.program.globals) {
      if (addr < g.addr || addr >= g.addr + g.size) continue;
      if (g.type.k === 'array') return `${g.name}[${(addr - g.addr) / sizeOf(g.type.elem)}]`;
      return g.name;
    }
    const owner = this.threads.find((t) => t.state !== 'exited' && addr >= t.stack.base && addr < t.stack.end);
    return `at 0x${addr.toString(16)}${owner === undefined ? '' : ` (stack of ${owner.name})`}`;
  }

  private fault(th: ThreadRecord, message: string): StopEvent {
    const loc = this.location(th, th.frames.length - 1);
    this.finished = this.stopEvent('exception', th, th.runningOn >= 0 ? th.runningOn : th.cpu, [], `${message} (${this.program.file}:${loc.line}:${loc.col}, thread ${th.name})`, null);
    return this.finished;
  }

  private stop(reason: StopReason, th: ThreadRecord | null, message: string | null, hits: DataHit[] = []): StopEvent {
    return this.stopEvent(reason, th, th === null ? null : th.runningOn >= 0 ? th.runningOn : th.cpu, hits, message, null);
  }

  private stopEvent(reason: StopReason, th: ThreadRecord | null, cpu: number | null, hits: DataHit[], message: string | null, exitCode: number | null): StopEvent {
    const eventIds: number[] = [];
    for (const h of hits) {
      for (const m of h.hit.matches) {
        if (!eventIds.includes(m.eventId) && this.stopsFor(h.hit, m.eventId, m.ptraceIndex)) eventIds.push(m.eventId);
      }
    }
    return {
      reason, threadId: th?.id ?? null, cpu, location: th !== null && th.frames.length > 0 ? this.location(th, th.frames.length - 1) : null,
      hits, eventIds, message, exitCode, time: this.now,
    };
  }

  private openUser(user: OtherUser, th: ThreadRecord | null): void {
    const attr = { type: user.type, addr: user.addr, len: user.len, pinned: user.pinned };
    try {
      if (user.kind === 'wide') {
        const wide = this.kernel.registerWideBreakpoint(attr, { owner: user.label });
        this.userHandles.push(wide);
        this.users.push({ user, eventIds: wide.events.map((e) => e.id), error: null });
      } else {
        const ev = this.kernel.perfEventOpen(attr, { pid: th?.task?.pid ?? -1, cpu: user.cpu ?? -1 }, { owner: user.label });
        this.userHandles.push(ev);
        this.users.push({ user, eventIds: [ev.id], error: null });
      }
    } catch (e) {
      if (!(e instanceof HwbpError)) throw e;
      this.users.push({ user, eventIds: [], error: e.message });
      this.emit({ kind: 'notice', text: `${user.label}: refused: ${e.message}` });
    }
  }

  // ------------------------------------------------------------------------------------------
  // Port: what compiled code calls

  hit(th: ExecThread, hit: HitInfo, type: ValueType, oldValue: Value | null, newValue: Value): void {
    const t = th as ThreadRecord;
    const formatted = formatValue(newValue, type);
    let sameAs: DataHit['sameAs'] = null;
    if (hit.kind === 'write') {
      const last = this.lastWrites.get(hit.addr);
      if (last !== undefined && last.size === hit.size && last.value === formatted && last.threadId !== t.id) {
        sameAs = { threadId: last.threadId, thread: last.thread, time: last.time };
      }
      if (last === undefined) {
        this.lastWrites.set(hit.addr, { value: formatted, size: hit.size, threadId: t.id, thread: t.name, time: this.now });
      } else {
        last.value = formatted;
        last.size = hit.size;
        last.threadId = t.id;
        last.thread = t.name;
        last.time = this.now;
      }
    }
    this.pendingHits.push({
      hit, kind: hit.kind, type: typeToString(type), oldValue: oldValue === null ? null : formatValue(oldValue, type),
      newValue: formatted, sameAs,
    });
    this.emit({ kind: 'hit', threadId: (th as ThreadRecord).id, hit });
  }

  call(th: ExecThread, fn: CompiledFunction, args: Value[], dest: number, returnTo: number): number {
    const t = th as ThreadRecord;
    t.frames[t.frames.length - 1].pc = returnTo;
    this.pushFrame(t, fn, args, dest);
    if (this.watchedCalls.size !== 0) this.called(t);
    return CALLED;
  }

  private called(th: ThreadRecord): void {
    const f = th.frames[th.frames.length - 1];
    if (this.watchedCalls.has(f.fn.lowered.name)) this.emit({ kind: 'call', threadId: th.id, frameId: f.id, fn: f.fn.lowered.name });
  }

  /**
   * A watched frame is gone: tell the listeners, then forget any access the ending instruction made
   * to the frame's memory: its trap would be delivered after the frame is gone, against a watchpoint
   * that ended with it. (`ret` itself touches no memory; `return x` loads x in the instruction before.)
   */
  private frameEnded(th: ThreadRecord, frame: Frame, line: number, killed: boolean): void {
    if (!this.watchedFrames.has(frame.id)) return;
    this.watchedFrames.delete(frame.id);
    this.emit({ kind: 'return', threadId: th.id, frameId: frame.id, fn: frame.fn.lowered.name, thread: frame.fn.lowered.kind === 'thread', line, killed });
    const lo = frame.base;
    const hi = frame.base + frame.fn.frameBytes;
    if (this.pendingHits.length > 0) this.pendingHits = this.pendingHits.filter((h) => !(h.hit.addr < hi && h.hit.addr + h.hit.size > lo));
  }

  private pushFrame(th: ThreadRecord, fn: CompiledFunction, args: Value[], dest: number): void {
    if (th.frames.length >= MAX_CALL_DEPTH) throw new RuntimeFault(`call depth limit (${MAX_CALL_DEPTH}) reached calling ${fn.lowered.name}`);
    const base = th.sp - fn.frameBytes;
    if (base < th.stack.base && base >= th.stack.limit) this.memory.grow(th.stack, base);
    if (base < th.stack.base) {
      throw new RuntimeFault(`stack overflow calling ${fn.lowered.name}: thread ${th.name} has ${this.config.stack} bytes of stack (set stack= on the machine line)`);
    }
    // Fresh frames start zeroed, so a run never depends on what an earlier call left behind.
    th.stack.bytes.fill(0, base - th.stack.base, th.sp - th.stack.base);
    th.sp = base;
    const frame: Frame = { id: this.nextFrameId++, fn, pc: 0, base, regs: new Array<Value>(fn.lowered.registers).fill(0), dest, quietGeneration: -1, quietOk: false };
    th.frames.push(frame);
    th.frame = frame;
    th.regs = frame.regs;
    th.fp = base;
    const stores = this.paramStores.get(fn);
    if (stores !== undefined) for (let i = 0; i < args.length; i++) stores[i](th, args[i]);
  }

  ret(th: ExecThread, value: Value | null): number {
    const t = th as ThreadRecord;
    const frame = t.frames.pop()!;
    t.sp = frame.base + frame.fn.frameBytes;
    // frame.pc is still the `ret` instruction: its statement is the line it returned from.
    if (this.watchedFrames.size !== 0) this.frameEnded(t, frame, frame.fn.lowered.statements[frame.fn.code[frame.pc].stmt].span.line, false);
    if (t.frames.length === 0) return EXITED;
    const caller = t.frames[t.frames.length - 1];
    t.frame = caller;
    t.regs = caller.regs;
    t.fp = caller.base;
    if (frame.dest >= 0 && value !== null) caller.regs[frame.dest] = value;
    return CALLED;
  }

  spawn(_th: ExecThread, name: string): void {
    const target = this.declared.get(name)!;
    if (target.state !== 'unstarted') throw new RuntimeFault(`spawn ${name}: thread ${name} was already spawned (each thread runs once)`);
    this.start(target);
  }

  join(th: ExecThread, name: string, next: number): number {
    const t = th as ThreadRecord;
    const target = this.declared.get(name)!;
    if (target.state === 'unstarted') throw new RuntimeFault(`join ${name}: thread ${name} was never spawned`);
    return this.waitFor(t, target, next);
  }

  private waitFor(t: ThreadRecord, target: ThreadRecord, next: number): number {
    if (target.state === 'exited') return next;
    t.joinTarget = target;
    target.joiners.push(t);
    t.state = 'blocked';
    this.checkWaitCycle(t);
    return BLOCKED;
  }

  spawnInstance(_th: ExecThread, thread: string, args: Value[]): number {
    if (this.threads.length >= MAX_THREADS) throw new RuntimeFault(`spawn ${thread}: too many threads (at most ${MAX_THREADS} in a run)`);
    const slot = this.freeSlots.pop() ?? (this.nextSlot < STACK_SLOTS ? this.nextSlot++ : -1);
    if (slot < 0) throw new RuntimeFault(`spawn ${thread}: too many threads alive at once (at most ${MAX_INSTANCES} started with spawn NAME(…))`);
    const id = this.threads.length + 1;
    const record = this.newThread(id, `${thread}#${id}`, slot, thread, true);
    this.threads.push(record);
    try {
      this.start(record, args);
    } catch (e) {
      // Could not make its first frame (out of memory): it never ran.
      record.state = 'exited';
      this.memory.unmap(record.stack);
      this.freeSlots.push(slot);
      if (record.task !== null) this.kernel.exitTask(record.task);
      throw e;
    }
    return id;
  }

  joinTid(th: ExecThread, tid: number, next: number): number {
    const t = th as ThreadRecord;
    const target = Number.isInteger(tid) && tid >= 1 ? this.threads[tid - 1] : undefined;
    if (target === undefined) throw new RuntimeFault(`join: no thread has tid ${tid}`);
    if (target === t) throw new RuntimeFault(`join: thread ${t.name} cannot join itself`);
    if (target.state === 'unstarted') throw new RuntimeFault(`join ${target.name}: thread ${target.name} was never spawned`);
    return this.waitFor(t, target, next);
  }

  atomic(th: ExecThread, kind: AtomicKind, addr: number, operands: Value[], type: IntType): Value {
    const t = th as ThreadRecord;
    const size = type.size;
    const what = kind === 'add' ? 'atomic_add' : kind;
    if (addr % size !== 0) throw new RuntimeFault(`${what} of ${size} bytes at 0x${addr.toString(16)}: the address is not a multiple of ${size} (atomics must be aligned)`);
    const seg = this.memory.segmentFor(addr, size, what);
    const off = addr - seg.base;
    const read = readerFor(type);
    const old = read(seg.view, off);
    let wrote = true;
    if (kind === 'add') writerFor(type)(seg.view, off, size === 8 ? (old as bigint) + (operands[0] as bigint) : (old as number) + (operands[0] as number));
    else if (kind === 'xchg') writerFor(type)(seg.view, off, operands[0]);
    else if (old === operands[0]) writerFor(type)(seg.view, off, operands[1]);
    else wrote = false;
    const access = this.access;
    const hit = access === null ? null : access(t.cpu, addr, size, wrote ? 'write' : 'read');
    if (hit !== null) this.hit(t, hit, type, old, read(seg.view, off));
    return old;
  }

  lock(th: ExecThread, addr: number, next: number): number {
    const t = th as ThreadRecord;
    if (t.handoff === addr) {
      // The unlocking thread wrote our id into the word and woke us: we hold it.
      t.handoff = null;
      return next;
    }
    const seg = this.memory.segmentFor(addr, 4, 'lock');
    const off = addr - seg.base;
    const owner = seg.view.getUint32(off, true);
    const access = this.access!;
    if (owner === 0) {
      seg.view.setUint32(off, t.id, true);
      const hit = access(t.cpu, addr, 4, 'write');
      if (hit !== null) this.hit(t, hit, MUTEX, 0, t.id);
      return next;
    }
    const hit = access(t.cpu, addr, 4, 'read');
    if (hit !== null) this.hit(t, hit, MUTEX, owner, owner);
    if (owner === t.id) {
      this.finished = this.stopEvent('deadlock', t, null, [], `deadlock: ${t.name} locks mutex ${this.mutexName(addr)}, which it already holds`, null);
      t.state = 'blocked';
      t.lockWait = addr;
      return BLOCKED;
    }
    const waiters = this.mutexWaiters.get(addr);
    if (waiters === undefined) this.mutexWaiters.set(addr, [t]);
    else waiters.push(t);
    t.lockWait = addr;
    t.state = 'blocked';
    this.checkWaitCycle(t);
    return BLOCKED;
  }

  unlock(th: ExecThread, addr: number): void {
    const t = th as ThreadRecord;
    const seg = this.memory.segmentFor(addr, 4, 'unlock');
    const off = addr - seg.base;
    const owner = seg.view.getUint32(off, true);
    if (owner !== t.id) {
      const holder = owner === 0 ? 'it is not locked' : `it is held by ${this.mutexOwner(addr)?.name ?? `tid ${owner}`}`;
      throw new RuntimeFault(`unlock ${this.mutexName(addr)}: thread ${t.name} does not hold this mutex (${holder})`);
    }
    // The first waiter gets the mutex directly (first come, first served): the word names it.
    const waiters = this.mutexWaiters.get(addr);
    const heir = waiters === undefined ? undefined : waiters.shift();
    if (waiters !== undefined && waiters.length === 0) this.mutexWaiters.delete(addr);
    const value = heir === undefined ? 0 : heir.id;
    seg.view.setUint32(off, value, true);
    const hit = this.access!(t.cpu, addr, 4, 'write');
    if (hit !== null) this.hit(t, hit, MUTEX, t.id, value);
    if (heir !== undefined) {
      heir.handoff = addr;
      this.makeRunnable(heir);
    }
  }

  yieldCpu(th: ExecThread, next: number): number {
    const t = th as ThreadRecord;
    t.frames[t.frames.length - 1].pc = next;
    return YIELDED;
  }

  sleep(th: ExecThread, units: Value, next: number): number {
    const t = th as ThreadRecord;
    if (t.wakeAt > 0) {
      // Run again after waking: the sleep is over.
      t.wakeAt = 0;
      return next;
    }
    const n = typeof units === 'bigint' ? Number(units) : units;
    if (!(n > 0)) return next;
    t.wakeAt = this.now + n;
    t.state = 'sleeping';
    this.sleepers.add(t);
    if (t.wakeAt < this.nextWake) this.nextWake = t.wakeAt;
    return BLOCKED;
  }

  print(th: ExecThread, text: string): void {
    this.emit({ kind: 'output', threadId: (th as ThreadRecord).id, text });
  }

  // ------------------------------------------------------------------------------------------
  // Inspection (no watchpoint is ever triggered by these)

  thread(id: number): ThreadRecord {
    // Thread ids are their place in `threads` plus one: found in O(1), as every hit asks.
    const th = Number.isInteger(id) ? this.threads[id - 1] : undefined;
    if (th === undefined || th.id !== id) throw new RuntimeFault(`no thread with id ${id}`);
    return th;
  }

  threadInfos(): ThreadInfo[] {
    return this.threads.map((t) => ({
      id: t.id, name: t.name, state: t.state, cpu: t.runningOn >= 0 ? t.runningOn : t.state === 'unstarted' ? null : t.cpu,
      pid: t.task?.pid ?? null, instructions: t.instructions,
    }));
  }

  /** Where frame `index` (0 = outermost) of a thread is. */
  location(th: ThreadRecord, index: number): Location {
    const { stmt, pc } = this.standing(th, index);
    return this.locationOf(th.frames[index].fn, stmt, pc);
  }

  /**
   * The instruction (and its statement) frame `index` (0 = outermost) stands at: after a data trap
   * the one that made the access; a caller, the call it waits in (its pc already points past it).
   */
  private standing(th: ThreadRecord, index: number): { stmt: number; pc: number } {
    const f = th.frames[index];
    const top = index === th.frames.length - 1;
    if (top && th.trap !== null && th.trap.depth === th.frames.length && th.trap.fnIndex === f.fn) return { stmt: th.trap.stmt, pc: th.trap.pc };
    const code = f.fn.code;
    const pc = Math.min(top ? f.pc : Math.max(0, f.pc - 1), code.length - 1);
    return { stmt: code[pc].stmt, pc };
  }

  private locationOf(fn: CompiledFunction, stmt: number, pc: number): Location {
    const s = fn.lowered.statements[stmt];
    return {
      fn: fn.lowered.name, line: s.span.line, col: s.span.col, endLine: s.span.endLine, endCol: s.span.endCol, codeAddr: s.codeAddr, text: s.text,
      pc: fn.code[pc].addr,
    };
  }

  /**
   * The machine registers of a thread's frame (`frameIndex` 0 = innermost, as frames() numbers
   * them): pc (where the frame stands), fp, sp, then r0… of that frame's register window, each as
   * the Disassembly view names them.
   */
  registers(threadId: number, frameIndex = 0): { name: string; value: string }[] {
    const th = this.thread(threadId);
    const i = th.frames.length - 1 - frameIndex;
    const f = th.frames[i];
    if (f === undefined) throw new RuntimeFault(`thread ${th.name} has no frame ${frameIndex}`);
    const hex = (n: number) => '0x' + n.toString(16);
    // A frame's stack pointer is its base; the innermost one's is the thread's.
    const sp = i === th.frames.length - 1 ? th.sp : f.base;
    const out = [{ name: 'pc', value: hex(this.location(th, i).pc) }, { name: 'fp', value: hex(f.base) }, { name: 'sp', value: hex(sp) }];
    f.regs.forEach((v, r) => out.push({ name: `r${r}`, value: typeof v === 'bigint' ? v.toString() : String(v) }));
    return out;
  }

  /** Frames of a thread, innermost first. */
  frames(threadId: number): FrameInfo[] {
    const th = this.thread(threadId);
    const out: FrameInfo[] = [];
    for (let i = th.frames.length - 1; i >= 0; i--) {
      out.push({ index: th.frames.length - 1 - i, id: th.frames[i].id, fn: th.frames[i].fn.lowered.name, location: this.location(th, i), base: th.frames[i].base });
    }
    return out;
  }

  /** The live frame with this identity, or null once it has returned (or if the thread never had it). */
  findFrame(threadId: number, frameId: number): FrameRef | null {
    const th = Number.isInteger(threadId) && this.threads[threadId - 1]?.id === threadId ? this.threads[threadId - 1] : undefined;
    if (th === undefined || th.state === 'exited') return null;
    const i = th.frames.findIndex((f) => f.id === frameId);
    return i < 0 ? null : { threadId, frameId, fn: th.frames[i].fn.lowered.name, index: th.frames.length - 1 - i };
  }

  /** The live frame whose stack memory holds [addr, addr + size), of any thread, or null (globals, memory below every frame). */
  frameHolding(addr: number, size: number): FrameRef | null {
    for (const th of this.threads) {
      if (th.state === 'exited' || th.state === 'unstarted' || addr < th.stack.base || addr >= th.stack.end) continue;
      for (let i = th.frames.length - 1; i >= 0; i--) {
        const f = th.frames[i];
        if (addr >= f.base && addr + size <= f.base + f.fn.frameBytes) return { threadId: th.id, frameId: f.id, fn: f.fn.lowered.name, index: th.frames.length - 1 - i };
      }
    }
    return null;
  }

  /** Functions and thread bodies that have a local or parameter of this name. */
  functionsWithLocal(name: string): string[] {
    const out = new Set<string>();
    for (const f of this.functions.values()) if (f.lowered.locals.some((l) => l.name === name)) out.add(f.lowered.name);
    return [...out];
  }

  /**
   * Null if `text`, read in function (or thread) `fn` with all its locals in scope, names a local or
   * parameter of fn or an element of one; else the reason.
   */
  localPlaceError(fn: string, text: string): string | null {
    const f = this.functions.get(`fn:${fn}`) ?? this.functions.get(`thread:${fn}`);
    if (f === undefined) return `no function or thread named '${fn}'`;
    const diagnostics: Diagnostic[] = [];
    const ast = parseExpression(text, diagnostics);
    if (ast === null || diagnostics.length > 0) return diagnostics.map((d) => d.message).join('; ') || 'cannot parse the expression';
    const lowered = lowerExpression(this.program, ast, f.lowered.locals, diagnostics);
    if (lowered === null) return diagnostics.map((d) => d.message).join('; ');
    // An element of an array place (not of a pointer: p[i] indexes an expression) belongs to that place.
    let place: Place | TExpr | null = lowered.place;
    while (place !== null && place.k === 'elem') place = place.base;
    if (place === null || place.k !== 'local') return `${text} is not a local or parameter of ${fn} (nor an element of one)`;
    const size = sizeOf(lowered.place!.type);
    if (size > 64) return `${text} is ${size} bytes; a watchpoint covers at most 64 (watch an element)`;
    return null;
  }

  private frameAt(threadId: number, frameIndex: number): { th: ThreadRecord; f: Frame; stmt: number } {
    const th = this.thread(threadId);
    const i = th.frames.length - 1 - frameIndex;
    if (!(frameIndex >= 0 && i >= 0)) throw new RuntimeFault(`thread ${th.name} has no frame ${frameIndex}`);
    return { th, f: th.frames[i], stmt: this.standing(th, i).stmt };
  }

  /** Locals and parameters in scope in a frame. */
  locals(threadId: number, frameIndex: number): VariableInfo[] {
    const { f, stmt } = this.frameAt(threadId, frameIndex);
    return f.fn.lowered.locals
      .filter((l) => l.isParam || (l.scopeStart <= stmt && stmt < l.scopeEnd))
      .map((l) => this.describeVariable(l.name, l.type, f.base + l.offset));
  }

  globals(): VariableInfo[] {
    return this.program.globals.map((g) => this.describeVariable(g.name, g.type, g.addr));
  }

  describeVariable(name: string, type: Type, addr: number): VariableInfo {
    const size = sizeOf(type);
    if (type.k === 'array') {
      const elem = type.elem as ValueType;
      const es = sizeOf(elem);
      // The value shows the first few elements; the rest are read on demand (elements()).
      const preview: string[] = [];
      for (let i = 0; i < type.count && i < 8; i++) preview.push(this.readValue(addr + i * es, elem));
      return {
        name, type: typeToString(type), addr, size, value: `[${preview.join(', ')}${type.count > 8 ? ', …' : ''}]`,
        array: { length: type.count, elementType: typeToString(elem), elementSize: es },
      };
    }
    return { name, type: typeToString(type), addr, size, value: this.readValue(addr, type) };
  }

  /** Elements [start, start + count) of the array an expression names, formatted (fewer past its end). */
  elements(text: string, threadId: number | null, frameIndex: number, start: number, count: number): string[] {
    const { lowered, fake, gen } = this.compileForDebugger(text, threadId, frameIndex);
    const type = lowered.place?.type;
    if (lowered.place === null || type === undefined || type.k !== 'array') throw new RuntimeFault(`${text} is not an array`);
    const elem = type.elem as ValueType;
    const es = sizeOf(elem);
    const addr = gen.address(lowered.place)(fake);
    const out: string[] = [];
    for (let i = start; i < type.count && i < start + count; i++) out.push(this.readValue(addr + i * es, elem));
    return out;
  }

  private readValue(addr: number, type: ValueType): string {
    const size = sizeOf(type);
    const seg = this.memory.find(addr, size);
    if (seg === null) return '<unmapped>';
    return formatValue(readerFor(type)(seg.view, addr - seg.base), type);
  }

  private compileForDebugger(text: string, threadId: number | null, frameIndex: number, wholeFunction = false) {
    const diagnostics: Diagnostic[] = [];
    const ast = parseExpression(text, diagnostics);
    if (ast === null || diagnostics.length > 0) throw new RuntimeFault(diagnostics.map((d) => formatDiagnostic(d).replace(/^<expression>:\d+:/, 'col ')).join('; ') || 'cannot parse the expression');
    const scope = threadId === null ? null : this.frameAt(threadId, frameIndex);
    const locals = scope === null ? [] : scope.f.fn.lowered.locals.filter((l) => wholeFunction || l.isParam || (l.scopeStart <= scope.stmt && scope.stmt < l.scopeEnd));
    const lowered = lowerExpression(this.program, ast, locals, diagnostics);
    if (lowered === null) throw new RuntimeFault(diagnostics.map((d) => d.message).join('; '));
    const debuggerPort: Port = { ...this.portFunctions(), memory: this.memory, access: null };
    const gen = new CodeGen(debuggerPort);
    const fake: ExecThread = scope === null
      ? { cpu: 0, frames: [], stack: this.threads[0].stack, regs: [], fp: 0 }
      : { cpu: scope.th.cpu, frames: [scope.f], stack: scope.th.stack, regs: scope.f.regs, fp: scope.f.base };
    return { lowered, gen, fake };
  }

  /**
   * Evaluate an expression as the debugger does: in a frame's scope, reading memory without
   * triggering watchpoints. With `wholeFunction`, every local of the frame's function is in scope,
   * wherever the frame stands (its locals have their slots from the call on).
   */
  evaluate(text: string, threadId: number | null, frameIndex = 0, wholeFunction = false): EvaluateResult {
    const { lowered, gen, fake } = this.compileForDebugger(text, threadId, frameIndex, wholeFunction);
    if (lowered.place !== null && lowered.place.type.k !== 'array') {
      const addr = gen.address(lowered.place)(fake);
      const type = lowered.place.type as ValueType;
      return { value: this.readValue(addr, type), type: typeToString(type), addr, size: sizeOf(type), frame: this.frameHolding(addr, sizeOf(type)) };
    }
    if (lowered.place !== null) {
      const addr = gen.address(lowered.place)(fake);
      const v = this.describeVariable(text, lowered.place.type, addr);
      return { value: v.value, type: v.type, addr, size: v.size, frame: this.frameHolding(addr, v.size) };
    }
    const value = gen.expr(lowered.expr)(fake);
    return { value: formatValue(value, lowered.expr.type), type: typeToString(lowered.expr.type), addr: null, size: null, frame: null };
  }

  /** The variable an expression names (arrays with their elements), or null if it names no place. */
  variable(text: string, threadId: number | null, frameIndex = 0): VariableInfo | null {
    const { lowered, fake, gen } = this.compileForDebugger(text, threadId, frameIndex);
    if (lowered.place === null) return null;
    return this.describeVariable(text, lowered.place.type, gen.address(lowered.place)(fake));
  }

  /** Null if `text` parses as an expression, else the reason (names are checked where it is used). */
  checkExpression(text: string): string | null {
    const diagnostics: Diagnostic[] = [];
    const ast = parseExpression(text, diagnostics);
    if (ast !== null && diagnostics.length === 0) return null;
    return diagnostics.map((d) => d.message).join('; ') || 'cannot parse the expression';
  }

  /** Assign to a place named by an expression (setVariable); no watchpoint sees it, as with ptrace POKEDATA. */
  assign(text: string, valueText: string, threadId: number | null, frameIndex = 0): EvaluateResult {
    const target = this.evaluate(text, threadId, frameIndex);
    if (target.addr === null || target.size === null || target.type.includes('[')) throw new RuntimeFault(`${text} is not a variable, element or *pointer that can be set`);
    const v = this.evaluate(valueText, threadId, frameIndex);
    let big: bigint;
    try {
      big = BigInt(v.value.startsWith('0x') ? v.value : v.value);
    } catch {
      throw new RuntimeFault(`${valueText} does not evaluate to a number`);
    }
    const bytes = new Uint8Array(target.size);
    let x = BigInt.asUintN(target.size * 8, big);
    for (let i = 0; i < target.size; i++) {
      bytes[i] = Number(x & 0xffn);
      x >>= 8n;
    }
    this.memory.write(target.addr, bytes);
    return this.evaluate(text, threadId, frameIndex);
  }

  private portFunctions(): Omit<Port, 'memory' | 'access'> {
    const refuse = (): never => {
      throw new RuntimeFault('only expressions without side effects can be evaluated here');
    };
    return {
      hit: () => undefined, call: refuse, ret: refuse, spawn: refuse, join: refuse, yieldCpu: refuse, sleep: refuse, print: refuse,
      spawnInstance: refuse, joinTid: refuse, atomic: refuse, lock: refuse, unlock: refuse,
    };
  }

  /**
   * A thread's frames as a native debugger sees them, outermost first: the function, the frame's
   * base and size in bytes (its locals, then 16 bytes for return address and frame pointer), the
   * instruction it stands at (as location() tells), and its registers (the live array: writing an
   * element sets the register). For the GDB stub (src/gdb).
   */
  frameRecords(threadId: number): { fn: string; base: number; frameBytes: number; pc: number; regs: Value[] }[] {
    const th = this.thread(threadId);
    return th.frames.map((f, i) => ({ fn: f.fn.lowered.name, base: f.base, frameBytes: f.fn.frameBytes, pc: this.location(th, i).pc, regs: f.regs }));
  }

  /** Segments, for people and for readMemory requests. */
  segments(): { name: string; base: number; size: number }[] {
    return this.memory.list().map((s: Segment) => ({ name: s.name, base: s.base, size: s.size }));
  }
}

