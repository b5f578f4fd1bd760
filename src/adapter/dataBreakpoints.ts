/**
 * Data breakpoints (watchpoints): what can be watched (dataBreakpointInfo and its dataIds), the
 * session's list of data breakpoints (setDataBreakpoints), and what happens to them on their own:
 * a mode moved by the manager, or a local's frame that ended.
 */
import { OutputEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { RuntimeFault, type Machine } from '../target';
import { breakpointChanged } from './codeBreakpoints';
import { hex, needMachine, orNull, parseAddress, UserError, type SessionContext } from './common';
import { checkConditions } from './conditions';
import type { Args } from './validation';
import type { Variables } from './variables';
import type { WatchAccess, WatchpointInfo } from './watchpoints';

/**
 * What a dataId stands for. A global or an address can be persisted; a frame's local cannot: it
 * names the frame (by identity, in this run of the machine) and its watchpoint ends with it.
 */
export interface DataTarget {
  k: 'global' | 'addr' | 'frame';
  expr: string;
  addr: number;
  size: number;
  scope?: { run: string; threadId: number; frameId: number; fn: string };
}

export interface DataBp {
  id: number;
  key: string;
  target: DataTarget;
  access: WatchAccess;
  watchId: number | null;
  condition: string | null;
  hitCondition: string | null;
  hits: number;
  verified: boolean;
  message: string;
}

interface DataRequest {
  target: DataTarget | string;
  access: WatchAccess | 'invalid';
  condition: string | null;
  hitCondition: string | null;
  id?: number;
  accessType?: string;
}

export class DataBreakpoints {
  private bps: DataBp[] = [];
  /** How frames that took data breakpoints with them ended ("first() returned (line 9)"), by run:frameId. */
  private readonly endedFrames = new Map<string, string>();

  constructor(private readonly ctx: SessionContext, private readonly vars: Variables) {}

  all(): readonly DataBp[] {
    return this.bps;
  }

  find(id: unknown): DataBp | undefined {
    return this.bps.find((b) => b.id === id);
  }

  /** Data breakpoints whose watchpoint is one of these. */
  withWatch(watchIds: ReadonlySet<number>): DataBp[] {
    return this.bps.filter((bp) => bp.watchId !== null && watchIds.has(bp.watchId));
  }

  /** Whether a verified data breakpoint covers bytes of [addr, addr + size). */
  isWatched(addr: number, size: number): boolean {
    return this.bps.some((bp) => bp.verified && bp.target.addr < addr + size && bp.target.addr + bp.target.size > addr);
  }

  info(args: Args<'dataBreakpointInfo'>): DebugProtocol.DataBreakpointInfoResponse['body'] {
    const m = needMachine(this.ctx);
    const accessTypes: DebugProtocol.DataBreakpointAccessType[] = m.config.arch === 'arm64' ? ['write', 'read', 'readWrite'] : ['write', 'readWrite'];
    let target: DataTarget;
    try {
      target = this.resolve(m, args);
    } catch (e) {
      if (e instanceof UserError || e instanceof RuntimeFault) return { dataId: null, description: e.message };
      throw e;
    }
    return {
      dataId: encodeDataId(target),
      description: `${target.expr} (${target.size} byte${target.size === 1 ? '' : 's'} at ${hex(target.addr)}${target.scope === undefined ? '' : `, until ${target.scope.fn}() returns`})`,
      accessTypes,
      canPersist: target.k !== 'frame',
    };
  }

  set(args: Args<'setDataBreakpoints'>): DebugProtocol.Breakpoint[] {
    needMachine(this.ctx);
    const requests: DataRequest[] = (args.breakpoints ?? []).map((b) => {
      let target: DataTarget | string;
      try {
        target = this.reresolve(decodeDataId(b.dataId));
      } catch (e) {
        target = (e as Error).message;
      }
      return { target, access: accessOf(b.accessType), accessType: b.accessType, condition: orNull(b.condition), hitCondition: orNull(b.hitCondition) };
    });
    const watches = this.ctx.watches;
    const apply = () => this.apply(requests);
    const breakpoints = watches === null ? apply() : watches.batch(apply);
    // Upgrades at the end of the batch may have changed some: answer with their final state.
    for (const [i, b] of breakpoints.entries()) {
      const bp = this.bps.find((d) => d.id === b.id);
      if (bp !== undefined) {
        this.refresh(bp);
        breakpoints[i] = dapData(bp);
      }
    }
    return breakpoints;
  }

  /** The machine is gone (end, restart): no breakpoint holds a register any more. */
  detach(): void {
    for (const bp of this.bps) bp.watchId = null;
  }

  /** Place every data breakpoint again on a new machine (restart). */
  reapply(): void {
    // A local's frame did not survive the restart: its breakpoint ends, as when the frame returns.
    for (const bp of this.bps.filter((b) => b.target.scope !== undefined)) this.ended(bp, `Watchpoint on ${bp.target.expr} deleted: the program restarted`);
    const data = this.bps;
    this.bps = [];
    this.apply(data.map((bp) => ({ target: bp.target, access: bp.access, condition: bp.condition, hitCondition: bp.hitCondition, id: bp.id })));
  }

  /** The watchpoint manager changed a watchpoint on its own (upgrade, downgrade, its frame ended): tell the client. */
  watchChanged(info: WatchpointInfo, why?: string): void {
    if (why === 'deleted') {
      const prefix = `Watchpoint on ${info.label} deleted: `;
      const how = info.message.startsWith(prefix) ? info.message.slice(prefix.length) : info.message;
      for (const bp of this.bps.filter((b) => b.watchId === info.id)) {
        const s = bp.target.scope;
        if (s !== undefined) this.endedFrames.set(`${s.run}:${s.frameId}`, how);
        this.ended(bp, `Watchpoint on ${bp.target.expr} deleted: ${how}`);
      }
      return;
    }
    for (const bp of this.bps) {
      if (bp.watchId !== info.id) continue;
      this.refresh(bp);
      this.ctx.send(breakpointChanged(dapData(bp)));
    }
  }

  private resolve(m: Machine, args: Args<'dataBreakpointInfo'>): DataTarget {
    const bytes = args.bytes;
    if (bytes !== undefined && (!Number.isInteger(bytes) || bytes < 1 || bytes > 64)) {
      throw new UserError(`${bytes} bytes: a data breakpoint covers 1 to 64 bytes`);
    }
    if (args.asAddress) {
      const addr = parseAddress(args.name);
      if (m.memory.find(addr, bytes ?? 1) === null) throw new UserError(`no memory is mapped at ${hex(addr)}${bytes ? ` + ${bytes}` : ''}`);
      return { k: 'addr', expr: hex(addr), addr, size: bytes ?? 1 };
    }
    let expr = args.name;
    let threadId: number | null = null;
    let frame = 0;
    if (args.variablesReference !== undefined && args.variablesReference !== 0) {
      const ref = this.vars.ref(args.variablesReference);
      if (ref === undefined) throw new UserError(`variablesReference ${args.variablesReference} is not valid any more`);
      if (ref.kind === 'registers' || ref.kind === 'dr7') throw new UserError('a debug register cannot be watched');
      expr = ref.kind === 'array' ? `${ref.expr}${args.name}` : args.name;
      threadId = ref.kind === 'globals' ? null : ref.threadId;
      frame = ref.frame;
    } else if (args.frameId !== undefined) {
      const f = this.vars.frameOf(args.frameId);
      threadId = f.threadId;
      frame = f.frame;
    }
    const r = m.evaluate(expr, threadId, frame);
    if (r.addr === null || r.size === null) throw new UserError(`${expr} is a value, not a place in memory: nothing to watch`);
    const size = bytes ?? r.size;
    if (size > 64) throw new UserError(`${expr} is ${size} bytes; a data breakpoint covers at most 64 (watch an element or pass bytes)`);
    // Stack memory belongs to a frame, and its breakpoint ends with it.
    const f = r.frame;
    if (f !== null) return { k: 'frame', expr, addr: r.addr, size, scope: { run: m.runId, threadId: f.threadId, frameId: f.frameId, fn: f.fn } };
    // Persistable when the expression means the same without a frame (a global, or an element of one).
    let global: boolean;
    try {
      global = m.evaluate(expr, null).addr === r.addr;
    } catch {
      global = false; // it names a local (a pointer, say): what it points at outlives the frame
    }
    return { k: global ? 'global' : 'addr', expr, addr: r.addr, size };
  }

  /** A persisted global is looked up again by name: the program may have changed since. A local's frame must still be there. */
  private reresolve(t: DataTarget): DataTarget {
    const s = t.scope;
    if (s !== undefined) {
      const m = needMachine(this.ctx);
      if (s.run === m.runId && m.findFrame(s.threadId, s.frameId) !== null) return t;
      const how = this.endedFrames.get(`${s.run}:${s.frameId}`) ?? (s.run === m.runId ? `${s.fn}() has returned` : `it was in an earlier run of the program`);
      throw new UserError(`${t.expr} was a local of ${s.fn}() in a frame that no longer exists (${how}); set the data breakpoint again from a live frame`);
    }
    if (t.k !== 'global') return t;
    const r = needMachine(this.ctx).evaluate(t.expr, null);
    if (r.addr === null || r.size === null) throw new UserError(`${t.expr} is no longer a variable`);
    return { ...t, addr: r.addr, size: t.size === r.size ? r.size : t.size };
  }

  /** Replace all data breakpoints; unchanged ones keep their id, registers and hit count. */
  private apply(requests: DataRequest[]): DebugProtocol.Breakpoint[] {
    const old = this.bps;
    const next: DataBp[] = [];
    const results: DebugProtocol.Breakpoint[] = [];
    for (const r of requests) {
      if (typeof r.target === 'string') {
        results.push({ id: this.ctx.nextBreakpointId(), verified: false, message: r.target, reason: 'failed' });
        continue;
      }
      if (r.access === 'invalid') {
        results.push({ id: this.ctx.nextBreakpointId(), verified: false, message: `access type '${r.accessType}': use write, read or readWrite`, reason: 'failed' });
        continue;
      }
      const access = r.access;
      const key = `${r.target.addr}:${r.target.size}:${access}${r.target.scope === undefined ? '' : `@${r.target.scope.frameId}`}`;
      const problem = checkConditions(this.ctx.machine, r.condition, r.hitCondition)
        ?? (access === 'r' && this.ctx.machine!.config.arch === 'x86_64' ? 'x86 debug registers cannot trap on reads alone; use Break on Value Access (readWrite)' : null);
      if (problem !== null) {
        results.push({ id: r.id ?? this.ctx.nextBreakpointId(), verified: false, message: problem, reason: 'failed' });
        continue;
      }
      const reuse = old.find((b) => b.key === key && !next.includes(b));
      const bp: DataBp = reuse ?? {
        id: r.id ?? this.ctx.nextBreakpointId(), key, target: r.target, access, watchId: null, condition: null, hitCondition: null, hits: 0, verified: false, message: '',
      };
      // A changed condition or hit condition counts its hits afresh.
      if (bp.condition !== r.condition || bp.hitCondition !== r.hitCondition) bp.hits = 0;
      bp.condition = r.condition;
      bp.hitCondition = r.hitCondition;
      if (reuse === undefined) {
        // Identical ranges share registers, as GDB does: attach to a watchpoint already covering it.
        const shared = next.find((b) => b.key === key && b.watchId !== null);
        if (shared !== undefined) bp.watchId = shared.watchId;
        else this.place(bp);
      }
      this.refresh(bp);
      next.push(bp);
      results.push(dapData(bp));
    }
    // Release watchpoints nobody uses any more.
    const used = new Set(next.map((b) => b.watchId));
    const unused = new Set(old.map((b) => b.watchId).filter((id): id is number => id !== null && !used.has(id)));
    this.bps = next;
    for (const id of unused) this.ctx.watches?.remove(id);
    return results;
  }

  private place(bp: DataBp): void {
    const watches = this.ctx.watches;
    if (watches === null) return;
    const s = bp.target.scope;
    const scope = s === undefined ? undefined : { threadId: s.threadId, frameId: s.frameId, fn: s.fn };
    const info = watches.add({ label: bp.target.expr, addr: bp.target.addr, size: bp.target.size, access: bp.access, mode: this.ctx.watchpointMode, scope });
    bp.watchId = info.id;
  }

  private refresh(bp: DataBp): void {
    const info = bp.watchId === null ? undefined : this.ctx.watches?.find(bp.watchId);
    bp.verified = info?.state === 'active';
    bp.message = info?.message ?? 'not set';
  }

  /**
   * A data breakpoint whose frame ended: it leaves the session's list (a re-sent dataId comes back
   * unverified, never re-armed on whatever lives at that address now), stays in the Breakpoints
   * view unverified with the reason, and the debug console says it, as GDB does.
   */
  private ended(bp: DataBp, message: string): void {
    this.bps = this.bps.filter((b) => b !== bp);
    bp.watchId = null;
    bp.verified = false;
    bp.message = message;
    this.ctx.send(breakpointChanged(dapData(bp)));
    this.ctx.send(new OutputEvent(`${message}\n`, 'console'));
  }
}

function dapData(bp: DataBp): DebugProtocol.Breakpoint {
  return { id: bp.id, verified: bp.verified, message: bp.message, reason: bp.verified ? undefined : 'failed' };
}

function accessOf(t: string | undefined): WatchAccess | 'invalid' {
  if (t === undefined || t === 'write') return 'w';
  if (t === 'readWrite') return 'rw';
  if (t === 'read') return 'r';
  return 'invalid';
}

const DATA_ID_PREFIX = 'hwbp:';

function encodeDataId(t: DataTarget): string {
  return DATA_ID_PREFIX + JSON.stringify({ k: t.k, expr: t.expr, addr: t.addr, size: t.size, scope: t.scope });
}

function decodeDataId(id: string): DataTarget {
  if (typeof id !== 'string' || !id.startsWith(DATA_ID_PREFIX)) throw new UserError(`unknown dataId '${String(id)}'`);
  let v: unknown;
  try {
    v = JSON.parse(id.slice(DATA_ID_PREFIX.length));
  } catch {
    throw new UserError(`malformed dataId '${id}'`);
  }
  const t = v as DataTarget;
  if (typeof t !== 'object' || t === null || !['global', 'addr', 'frame'].includes(t.k) || typeof t.expr !== 'string'
    || !Number.isSafeInteger(t.addr) || !Number.isInteger(t.size) || t.size < 1 || t.size > 64) {
    throw new UserError(`malformed dataId '${id}'`);
  }
  // A local's dataId names its frame; without one it could only be armed on whatever is at that address now.
  const s = t.scope;
  if ((t.k === 'frame') !== (s !== undefined) || (s !== undefined && (typeof s !== 'object' || s === null || typeof s.run !== 'string'
    || !Number.isSafeInteger(s.threadId) || !Number.isSafeInteger(s.frameId) || typeof s.fn !== 'string'))) {
    throw new UserError(`malformed dataId '${id}': a local's dataId names its frame`);
  }
  return t;
}
