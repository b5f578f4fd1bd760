/**
 * Looking at a stopped program: stack frames, scopes, variables (with the debug registers as a
 * scope), evaluate and setVariable, memory and disassembly. Frame and variable references are
 * valid while the program stays stopped; the run loop resets them when it runs.
 */
import { Handles, Source, StackFrame } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { INSTRUCTION_SIZE, type Machine, type VariableInfo } from '../target';
import { fromBase64, toBase64 } from './base64';
import { hex, needMachine, needStopped, parseAddress, UserError, type SessionContext } from './common';
import { baseName } from './files';
import { LIMITS, type Args } from './validation';

/** disassemble: characters of an instruction's text at most. */
const INSTRUCTION_TEXT_MAX = 200;

/** memoryReference + offset, which must land on an address (0 to 2^53). */
function addressAt(request: string, memoryReference: string, offset: number | undefined): number {
  const base = parseAddress(memoryReference);
  const addr = base + (offset ?? 0);
  if (!Number.isSafeInteger(addr) || addr < 0) throw new UserError(`${request}: ${memoryReference} ${offset! < 0 ? '-' : '+'} ${Math.abs(offset ?? 0)} is not an address`);
  return addr;
}

export type VarRef =
  | { kind: 'locals'; threadId: number; frame: number }
  | { kind: 'globals'; threadId: number | null; frame: number }
  | { kind: 'array'; threadId: number | null; frame: number; expr: string; info: VariableInfo }
  | { kind: 'registers'; cpu: number; threadId: number; frame: number }
  | { kind: 'dr7'; cpu: number };

export interface FrameRef {
  threadId: number;
  frame: number;
}

export class Variables {
  private readonly refs = new Handles<VarRef>();
  private readonly frameRefs = new Handles<FrameRef>();

  /**
   * @param isWatched whether a data breakpoint covers bytes of [addr, addr + size) (the Variables
   * view marks such variables).
   */
  constructor(private readonly ctx: SessionContext, private readonly isWatched: (addr: number, size: number) => boolean) {}

  /** The program runs: every frame and variable reference given out so far is void. */
  reset(): void {
    this.frameRefs.reset();
    this.refs.reset();
  }

  /** What a variablesReference stands for, or undefined. */
  ref(id: number): VarRef | undefined {
    return this.refs.get(id);
  }

  frameOf(frameId: unknown): FrameRef {
    const f = typeof frameId === 'number' ? this.frameRefs.get(frameId) : undefined;
    if (f === undefined) throw new UserError(`frame ${String(frameId)} is not valid (frames are valid only while stopped)`);
    return f;
  }

  threadOf(id: unknown): number {
    const m = needMachine(this.ctx);
    // Thread ids are indices into m.threads plus one (see Machine.thread): O(1) with thousands of threads.
    if (typeof id !== 'number' || m.threads[id - 1]?.id !== id) throw new UserError(`no thread with id ${String(id)}`);
    return id;
  }

  threads(): DebugProtocol.Thread[] {
    const m = this.ctx.machine;
    const threads = m === null ? [] : m.threadInfos().filter((t) => t.state !== 'unstarted' && t.state !== 'exited');
    const out = threads.map((t) => ({ id: t.id, name: t.cpu === null ? t.name : `${t.name} (cpu${t.cpu})` }));
    return out.length === 0 ? [{ id: 1, name: 'main' }] : out;
  }

  stackTrace(args: Args<'stackTrace'>): DebugProtocol.StackTraceResponse['body'] {
    const m = needStopped(this.ctx);
    const threadId = this.threadOf(args.threadId);
    const th = m.thread(threadId);
    if (th.state === 'exited' || th.frames.length === 0) return { stackFrames: [], totalFrames: 0 };
    const frames = m.frames(threadId);
    const start = args.startFrame ?? 0;
    const count = args.levels || frames.length; // 0 or absent: all of them
    const source = this.source();
    return {
      stackFrames: frames.slice(start, start + count).map((f) => {
        // A thread instance's body frame is named after the instance (worker#17), not just its thread (worker).
        const name = f.index === frames.length - 1 && th.name !== f.fn ? th.name : f.fn;
        const sf = new StackFrame(this.frameRefs.create({ threadId, frame: f.index }), name, source, f.location.line, f.location.col) as DebugProtocol.StackFrame;
        sf.endLine = f.location.endLine;
        sf.endColumn = f.location.endCol;
        sf.instructionPointerReference = hex(f.location.pc);
        return sf;
      }),
      totalFrames: frames.length,
    };
  }

  scopes(args: Args<'scopes'>): DebugProtocol.Scope[] {
    const m = needStopped(this.ctx);
    const { threadId, frame } = this.frameOf(args.frameId);
    const cpu = m.thread(threadId).cpu;
    return [
      { name: 'Locals', variablesReference: this.refs.create({ kind: 'locals', threadId, frame }), expensive: false, presentationHint: 'locals' },
      { name: 'Globals', variablesReference: this.refs.create({ kind: 'globals', threadId, frame }), expensive: false },
      { name: `Registers (cpu${cpu})`, variablesReference: this.refs.create({ kind: 'registers', cpu, threadId, frame }), expensive: false, presentationHint: 'registers' },
    ];
  }

  variables(args: Args<'variables'>): DebugProtocol.Variable[] {
    const m = needStopped(this.ctx);
    const ref = this.refs.get(args.variablesReference);
    if (ref === undefined) throw new UserError(`variablesReference ${args.variablesReference} is not valid (references are valid only while stopped)`);
    switch (ref.kind) {
      case 'locals':
        if (args.filter === 'indexed') return [];
        return m.locals(ref.threadId, ref.frame).map((v) => this.variable(v, v.name, ref.threadId, ref.frame));
      case 'globals':
        if (args.filter === 'indexed') return [];
        return m.globals().map((v) => this.variable(v, v.name, ref.threadId, ref.frame));
      case 'array': {
        // Elements are indexed variables, paged with start and count; one answer holds at most LIMITS.variables.
        const a = ref.info.array!;
        if (args.filter === 'named') return [];
        const start = Math.min(args.start ?? 0, a.length);
        const count = Math.min(args.count || a.length - start, a.length - start, LIMITS.variables);
        return m.elements(ref.expr, ref.threadId, ref.frame, start, count).map((value, k) => ({
          name: `[${start + k}]`, value, type: a.elementType, variablesReference: 0, evaluateName: `${ref.expr}[${start + k}]`,
          memoryReference: hex(ref.info.addr + (start + k) * a.elementSize),
        }));
      }
      case 'registers':
        // The frame's own registers (pc, fp, sp, r0…), then the CPU's debug registers.
        return [
          ...m.registers(ref.threadId, ref.frame).map((r) => ({ name: r.name, value: r.value, variablesReference: 0 })),
          ...this.registerVariables(m, ref.cpu),
        ];
      case 'dr7':
        return (m.kernel.snapshot().cpus[ref.cpu].control.dr7Decoded ?? []).map((d) => ({
          name: `slot ${d.slot}`, value: `${d.global ? 'G' : '-'}${d.local ? 'L' : '-'} ${d.rw} len ${d.len}`, variablesReference: 0,
        }));
    }
  }

  evaluate(args: Args<'evaluate'>): DebugProtocol.EvaluateResponse['body'] {
    const m = needStopped(this.ctx);
    const scope = args.frameId === undefined ? null : this.frameOf(args.frameId);
    const r = m.evaluate(args.expression, scope?.threadId ?? null, scope?.frame ?? 0);
    let ref = 0;
    if (r.type.endsWith(']')) {
      const info = m.variable(args.expression, scope?.threadId ?? null, scope?.frame ?? 0);
      if (info?.array !== undefined) ref = this.refs.create({ kind: 'array', threadId: scope?.threadId ?? null, frame: scope?.frame ?? 0, expr: args.expression, info });
    }
    return {
      result: r.value, type: r.type, variablesReference: ref, memoryReference: r.addr === null ? undefined : hex(r.addr),
      indexedVariables: ref === 0 ? undefined : m.variable(args.expression, scope?.threadId ?? null, scope?.frame ?? 0)?.array?.length,
    };
  }

  setVariable(args: Args<'setVariable'>): DebugProtocol.SetVariableResponse['body'] {
    const m = needStopped(this.ctx);
    const ref = this.refs.get(args.variablesReference);
    if (ref === undefined || ref.kind === 'registers' || ref.kind === 'dr7') throw new UserError('only variables and array elements can be set');
    const expr = ref.kind === 'array' ? `${ref.expr}${args.name}` : args.name;
    const threadId = ref.kind === 'globals' ? null : ref.threadId;
    const r = m.assign(expr, args.value, threadId, ref.frame);
    return { value: r.value, type: r.type };
  }

  readMemory(args: Args<'readMemory'>): DebugProtocol.ReadMemoryResponse['body'] {
    const m = needStopped(this.ctx);
    const base = addressAt('readMemory', args.memoryReference, args.offset);
    const count = args.count; // at most LIMITS.readBytes (checked at the door)
    // Skip what is unmapped before the first readable byte; stop at the first unmapped one after it.
    let leading = 0;
    while (leading < count && m.memory.find(base + leading, 1) === null) leading++;
    const bytes: number[] = [];
    for (let a = base + leading; a < base + count; a++) {
      const seg = m.memory.find(a, 1);
      if (seg === null) break;
      bytes.push(seg.bytes[a - seg.base]);
    }
    return bytes.length === 0
      ? { address: hex(base), data: '', unreadableBytes: count }
      : { address: hex(base + leading), data: toBase64(bytes), unreadableBytes: count - leading - bytes.length };
  }

  writeMemory(args: Args<'writeMemory'>): DebugProtocol.WriteMemoryResponse['body'] {
    const m = needStopped(this.ctx);
    const addr = addressAt('writeMemory', args.memoryReference, args.offset);
    const data = fromBase64(args.data);
    m.memory.write(addr, data);
    return { bytesWritten: data.length };
  }

  disassemble(args: Args<'disassemble'>): DebugProtocol.DisassembleResponse['body'] {
    const m = needMachine(this.ctx);
    if (args.memoryReference === '') return { instructions: [] };
    const base = addressAt('disassemble', args.memoryReference, args.offset);
    const start = Math.floor(base / INSTRUCTION_SIZE) * INSTRUCTION_SIZE + (args.instructionOffset ?? 0) * INSTRUCTION_SIZE;
    const source = this.source();
    // At most LIMITS.instructions (checked at the door), each of bounded size. The source is given
    // once (DAP lets later instructions of the same source leave it out); every instruction names
    // its statement's line, so the view can show which line each one carries out.
    let sourceGiven = false;
    const instructions: DebugProtocol.DisassembledInstruction[] = [];
    for (let i = 0; i < args.instructionCount; i++) {
      const addr = start + i * INSTRUCTION_SIZE;
      const ins = addr < 0 ? undefined : m.instructionAt(addr);
      if (ins === undefined) {
        instructions.push({ address: addr < 0 ? '0x0' : hex(addr), instruction: '??', presentationHint: 'invalid' });
        continue;
      }
      const s = ins.statement;
      instructions.push({
        address: hex(addr), instruction: ins.text.length > INSTRUCTION_TEXT_MAX ? `${ins.text.slice(0, INSTRUCTION_TEXT_MAX)}…` : ins.text,
        symbol: ins.entry ? ins.fn : undefined,
        location: sourceGiven ? undefined : source,
        line: s.span.line, column: s.span.col, endLine: s.span.endLine, endColumn: s.span.endCol,
      });
      sourceGiven = true;
    }
    return { instructions };
  }

  private variable(v: VariableInfo, expr: string, threadId: number | null, frame: number): DebugProtocol.Variable {
    return {
      name: v.name, value: v.value, type: v.type, evaluateName: expr, memoryReference: hex(v.addr),
      variablesReference: v.array !== undefined ? this.refs.create({ kind: 'array', threadId, frame, expr, info: v }) : 0,
      indexedVariables: v.array?.length,
      presentationHint: this.isWatched(v.addr, v.size) ? { attributes: ['hasDataBreakpoint'] } : undefined,
    };
  }

  /** The stopped CPU's debug registers, decoded. */
  private registerVariables(m: Machine, cpu: number): DebugProtocol.Variable[] {
    const snap = m.kernel.snapshot().cpus[cpu];
    const out: DebugProtocol.Variable[] = [];
    for (const cls of snap.classes) {
      for (const r of cls.registers) {
        const o = r.occupant;
        out.push({
          name: r.name,
          value: o === null ? 'free' : `${hex(r.value)}  #${o.eventId} ${o.owner}: ${o.type} len ${o.len} ${o.pinned ? 'pinned' : 'flexible'}`,
          variablesReference: 0,
        });
      }
    }
    if (snap.control.dr7 !== undefined) {
      out.push({ name: 'DR6', value: hex(snap.control.dr6 ?? 0) + (snap.control.statusHits.length > 0 ? `  (${snap.control.statusHits.join(', ')})` : ''), variablesReference: 0 });
      out.push({ name: 'DR7', value: hex(snap.control.dr7), variablesReference: this.refs.create({ kind: 'dr7', cpu }) });
    }
    return out;
  }

  private source(): Source {
    return new Source(baseName(this.ctx.programPath), this.ctx.programPath);
  }
}

