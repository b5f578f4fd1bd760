/**
 * Code breakpoints: source lines, functions and instruction addresses. A software one costs
 * nothing (the machine stops at the address); a hardware one takes an execute debug register on
 * every thread, through the watchpoint manager, and may be refused.
 */
import { BreakpointEvent, Source } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { checkConditions } from './conditions';
import { baseName } from './files';
import { hex, needMachine, orNull, parseAddress, type SessionContext } from './common';
import type { Args } from './validation';
import type { WatchpointInfo } from './watchpoints';

export interface CodeBp {
  id: number;
  addr: number;
  line: number;
  mode: 'software' | 'hardware';
  watchId: number | null;
  condition: string | null;
  hitCondition: string | null;
  hits: number;
  kind: 'source' | 'function' | 'instruction';
}

/** What a set*Breakpoints request asks for one breakpoint, resolved to an address (or the problem). */
interface Wanted {
  addr: number;
  line: number;
  mode: string | undefined;
  condition: string | undefined;
  hitCondition: string | undefined;
  problem: string | null;
}

export class CodeBreakpoints {
  private bps: CodeBp[] = [];

  constructor(private readonly ctx: SessionContext) {}

  /** Every code breakpoint, of every kind. */
  all(): readonly CodeBp[] {
    return this.bps;
  }

  find(id: unknown): CodeBp | undefined {
    return this.bps.find((b) => b.id === id);
  }

  /**
   * setBreakpoints: the breakpoints of one source file. Only the launched program has code: for
   * any other file each breakpoint is answered unverified, and the program's own are left alone.
   */
  setSource(args: Args<'setBreakpoints'>): DebugProtocol.Breakpoint[] {
    const statements = needMachine(this.ctx).allStatements();
    if (!this.isProgram(args.source)) {
      const message = `not part of the launched program ${baseName(this.ctx.programPath)}`;
      return (args.breakpoints ?? []).map((sb) => ({ id: this.ctx.nextBreakpointId(), verified: false, message, reason: 'failed', line: sb.line }));
    }
    return this.replace('source', (args.breakpoints ?? []).map((sb) => {
      // A line without a statement moves to the next one that has one.
      const s = statements.filter((x) => x.span.line >= sb.line).sort((a, b) => a.span.line - b.span.line || a.codeAddr - b.codeAddr)[0];
      return {
        addr: s?.codeAddr ?? -1, line: s?.span.line ?? sb.line, mode: sb.mode, condition: sb.condition, hitCondition: sb.hitCondition,
        problem: s === undefined ? `no statement at or after line ${sb.line}` : null,
      };
    }));
  }

  setFunction(args: Args<'setFunctionBreakpoints'>): DebugProtocol.Breakpoint[] {
    const statements = needMachine(this.ctx).allStatements();
    return this.replace('function', (args.breakpoints ?? []).map((fb) => {
      const s = statements.find((x) => x.fn === fb.name);
      return {
        addr: s?.codeAddr ?? -1, line: s?.span.line ?? 0, mode: undefined, condition: fb.condition, hitCondition: fb.hitCondition,
        problem: s === undefined ? `no function or thread named '${fb.name}'` : null,
      };
    }));
  }

  setInstruction(args: Args<'setInstructionBreakpoints'>): DebugProtocol.Breakpoint[] {
    const m = needMachine(this.ctx);
    return this.replace('instruction', (args.breakpoints ?? []).map((ib) => {
      let addr = -1;
      let problem: string | null = null;
      try {
        addr = parseAddress(ib.instructionReference) + (ib.offset ?? 0);
      } catch (e) {
        problem = (e as Error).message;
      }
      const ins = addr >= 0 ? m.instructionAt(addr) : undefined;
      if (problem === null && ins === undefined) problem = `${hex(addr)} is not the address of an instruction (instructions are 4 bytes apart in the text segment from 0x400000)`;
      return { addr, line: ins?.statement.span.line ?? 0, mode: ib.mode, condition: ib.condition, hitCondition: ib.hitCondition, problem };
    }));
  }

  /**
   * Whether a source is the launched program: its path, resolved as the session's file access
   * resolves paths, is the program's; a source without a path is matched by its name.
   */
  private isProgram(source: { path?: string; name?: string }): boolean {
    if (source.path !== undefined && source.path !== '') return this.ctx.resolvePath(source.path) === this.ctx.programPath;
    return source.name !== undefined && source.name === baseName(this.ctx.programPath);
  }

  /** The machine is gone (end, restart): no breakpoint holds a register any more. */
  detach(): void {
    for (const bp of this.bps) bp.watchId = null;
  }

  /** Place every breakpoint again on a new machine (restart); a new run counts hits afresh. */
  reapply(): void {
    for (const bp of this.bps) {
      bp.hits = 0;
      if (bp.mode === 'hardware') this.placeHardware(bp);
    }
    this.syncSoftware();
  }

  /** Software breakpoints at an address. */
  softwareAt(addr: number | undefined): CodeBp[] {
    return this.bps.filter((bp) => bp.mode === 'software' && bp.addr === addr);
  }

  /** Hardware breakpoints whose watchpoint is one of these. */
  withWatch(watchIds: ReadonlySet<number>): CodeBp[] {
    return this.bps.filter((bp) => bp.watchId !== null && watchIds.has(bp.watchId));
  }

  /** The manager moved a watchpoint on its own: tell the client about the breakpoints behind it. */
  watchChanged(info: WatchpointInfo): void {
    for (const bp of this.bps) {
      if (bp.watchId !== info.id) continue;
      this.ctx.send(breakpointChanged({ id: bp.id, verified: info.state === 'active', message: info.message } as DebugProtocol.Breakpoint));
    }
  }

  /**
   * Replace all breakpoints of one kind (what each set*Breakpoints request means): release the old
   * ones first, so that hardware ones can take the registers they freed, then place the new ones.
   */
  private replace(kind: CodeBp['kind'], wanted: Wanted[]): DebugProtocol.Breakpoint[] {
    const keyOf = (addr: number, mode: string, condition: string | null, hitCondition: string | null) => `${addr}|${mode}|${condition}|${hitCondition}`;
    const old = this.bps.filter((bp) => bp.kind === kind);
    const plans = wanted.map((w) => {
      const mode = w.mode === 'hardware' ? 'hardware' : 'software';
      const condition = orNull(w.condition);
      const hitCondition = orNull(w.hitCondition);
      return { w, mode, condition, hitCondition, key: keyOf(w.addr, mode, condition, hitCondition) };
    });
    // An unchanged breakpoint keeps its id, its hit count and its register.
    const reused = new Map<number, CodeBp>();
    const taken = new Set<CodeBp>();
    plans.forEach((p, i) => {
      if (p.w.problem !== null) return;
      const match = old.find((bp) => !taken.has(bp) && keyOf(bp.addr, bp.mode, bp.condition, bp.hitCondition) === p.key);
      if (match !== undefined) {
        taken.add(match);
        reused.set(i, match);
      }
    });
    // Release the others first, so that new hardware ones can take the registers they free.
    for (const bp of old) if (!taken.has(bp) && bp.watchId !== null) this.ctx.watches?.remove(bp.watchId);
    const kept = this.bps.filter((bp) => bp.kind !== kind);
    const added: CodeBp[] = [];
    const results = plans.map((p, i) => {
      const same = reused.get(i);
      if (same !== undefined) {
        added.push(same);
        const info = same.watchId === null ? undefined : this.ctx.watches?.find(same.watchId);
        const verified = same.mode === 'software' || info?.state === 'active';
        return {
          id: same.id, verified, message: info?.message, reason: verified ? undefined : 'failed' as const, line: same.line,
          source: this.source(), instructionReference: hex(same.addr),
        };
      }
      const bp: CodeBp = {
        id: this.ctx.nextBreakpointId(), addr: p.w.addr, line: p.w.line, mode: p.mode as CodeBp['mode'], watchId: null,
        condition: p.condition, hitCondition: p.hitCondition, hits: 0, kind,
      };
      added.push(bp);
      return this.place(bp, p.w.problem, p.w.mode);
    });
    this.bps = [...kept, ...added];
    this.syncSoftware();
    return results;
  }

  private place(bp: CodeBp, problem: string | null, mode: string | undefined): DebugProtocol.Breakpoint {
    if (mode !== undefined && mode !== 'software' && mode !== 'hardware') problem ??= `unknown breakpoint mode '${mode}' (software or hardware)`;
    problem ??= checkConditions(this.ctx.machine, bp.condition, bp.hitCondition);
    if (problem !== null) {
      bp.addr = -1;
      return { id: bp.id, verified: false, message: problem, reason: 'failed' };
    }
    let message: string | undefined;
    let verified = true;
    if (bp.mode === 'hardware') {
      const info = this.placeHardware(bp);
      verified = info?.state === 'active';
      message = info?.message;
    }
    return {
      id: bp.id, verified, message, reason: verified ? undefined : 'failed', line: bp.line, source: this.source(),
      instructionReference: hex(bp.addr),
    };
  }

  private placeHardware(bp: CodeBp): WatchpointInfo | undefined {
    const watches = this.ctx.watches;
    if (watches === null || bp.addr < 0) return undefined;
    const info = watches.add({ label: `line ${bp.line}`, addr: bp.addr, size: 1, access: 'x', mode: 'pinned' });
    bp.watchId = info.id;
    return info;
  }

  private syncSoftware(): void {
    this.ctx.machine?.setSoftwareBreakpoints(this.bps.filter((bp) => bp.mode === 'software' && bp.addr >= 0).map((bp) => bp.addr));
  }

  private source(): Source {
    return new Source(baseName(this.ctx.programPath), this.ctx.programPath);
  }
}

/** A `breakpoint` event with reason `changed`. */
export function breakpointChanged(bp: DebugProtocol.Breakpoint): DebugProtocol.BreakpointEvent {
  return new BreakpointEvent('changed', bp) as DebugProtocol.BreakpointEvent;
}
