/**
 * The checker: resolves names, checks types, lays out memory (globals, stack frames, code
 * addresses), and lowers each function and thread body to micro-operations (IrOp). Calls inside
 * expressions are pulled out into their own micro-operations, so that a thread can be preempted,
 * stepped or stopped between any two of them. Every error is reported; lowering goes on past them.
 */
import type { Block, Expr, FnDecl, Program, Stmt, ThreadDecl, TypeNode, UserDecl } from './ast';
import { SyntaxAbort, type Diagnostic, type Span } from './diagnostics';
import {
  alignOf, I32, I64, intType, isHandle, isNumber, maxOf, minOf, MUTEX, sameType, sizeOf, TID, typeToString, U64,
  type AtomicKind, type GlobalInfo, type IntType, type IrOp, type IrOpBody, type LocalInfo, type LoweredFunction, type Place, type PtrType, type TExpr, type Type,
  type ValueType,
} from './types';
import { INSTRUCTION_SIZE } from './isa';
import { selectFunction } from './select';

export const DATA_BASE = 0x601000;
export const TEXT_BASE = 0x400000;
export const PAGE = 0x1000;
export const USER_SPACE_END = 0x7fff_0000_0000;
export const MAX_GLOBAL_BYTES = 1 << 22;
/** Stack slots: one per live thread (the declared ones and instances), 1 MiB apart. */
export const STACK_SLOTS = 8192;
export const STACK_SPACING = 0x10_0000;
/** Thread stacks sit below 0x7ffe00000000, one slot each. */
export const STACK_AREA_START = 0x7ffe_0000_0000 - STACK_SLOTS * STACK_SPACING;

export interface MachineConfig {
  arch: 'x86_64' | 'arm64';
  cpus: number;
  timeslice: number;
  mux: number;
  seed: number;
  /** Bytes of stack per thread. */
  stack: number;
}

export const MACHINE_DEFAULTS: MachineConfig = { arch: 'x86_64', cpus: 2, timeslice: 50, mux: 200, seed: 1, stack: 0x10000 };
const MACHINE_LIMITS: Record<string, [number, number]> = {
  cpus: [1, 64], timeslice: [1, 1_000_000], mux: [1, 1_000_000_000], seed: [0, 2 ** 32 - 1], stack: [0x1000, 0x100000],
};

export interface ThreadInfo {
  name: string;
  cpu: number | null;
  fn: LoweredFunction;
}

export interface OtherUser {
  kind: 'perf' | 'wide';
  pinned: boolean;
  type: 'r' | 'w' | 'rw' | 'x';
  addr: number;
  len: number;
  cpu: number | null;
  thread: string | null;
  label: string;
  span: Span;
}

export interface LoweredProgram {
  file: string;
  source: string;
  /** The syntax tree, kept so that the debugger's expressions can be checked in the program's terms. */
  ast: Program;
  machine: MachineConfig;
  globals: GlobalInfo[];
  /** Mapped pages of the data segment(s), merged: [start, end). */
  dataSegments: [number, number][];
  functions: Map<string, LoweredFunction>;
  threads: ThreadInfo[];
  users: OtherUser[];
  /** End of the text segment. */
  textEnd: number;
}

interface Scope {
  names: Map<string, LocalInfo>;
  parent: Scope | null;
}

type Jump = Extract<IrOp, { op: 'jump' }>;

interface LoopLabels {
  breaks: Jump[];
  continues: Jump[];
}

type Typed = TExpr | { k: 'untyped'; value: bigint; span: Span };

/** Built-in atomic operations, called like functions: name → kind and number of arguments. */
export const ATOMICS: ReadonlyMap<string, { kind: AtomicKind; arity: number }> = new Map([
  ['atomic_add', { kind: 'add', arity: 2 }], ['cas', { kind: 'cas', arity: 3 }], ['xchg', { kind: 'xchg', arity: 2 }],
]);

export function lower(prog: Program, source: string, diagnostics: Diagnostic[], overrides: Partial<MachineConfig> = {}): LoweredProgram {
  return new Lowerer(prog, source, diagnostics, overrides).run();
}

/**
 * Check a debugger expression against a loaded program, with `locals` in scope. Returns the typed
 * expression, and the place it names when it is a variable, an element or a dereference; null (with
 * diagnostics) when it is not valid. Calls are refused: evaluating must not run program code.
 */
export function lowerExpression(program: LoweredProgram, e: Expr, locals: LocalInfo[], diagnostics: Diagnostic[]): { expr: TExpr; place: Place | null } | null {
  const l = new Lowerer(program.ast, program.source, diagnostics);
  return l.expressionIn(program.globals, locals, e);
}

class Lowerer {
  private readonly globals = new Map<string, GlobalInfo>();
  private readonly fnDecls = new Map<string, FnDecl>();
  private readonly threadDecls = new Map<string, ThreadDecl>();
  private readonly lines: string[];
  machine: MachineConfig = { ...MACHINE_DEFAULTS };

  // Per function being lowered
  private code: IrOp[] = [];
  private fn!: LoweredFunction;
  private scope: Scope | null = null;
  private loops: LoopLabels[] = [];
  private stmtIndex = 0;
  private firstOfStatement = true;
  private pendingCalls: IrOp[] = [];
  private inShortCircuit = 0;
  private frameTop = 0;

  constructor(
    private readonly prog: Program, private readonly source: string, private readonly diagnostics: Diagnostic[],
    /** Launch-time settings that replace the program's own, applied before anything depends on them. */
    private readonly overrides: Partial<MachineConfig> = {},
  ) {
    this.lines = source.split('\n');
  }

  expressionIn(globals: GlobalInfo[], locals: LocalInfo[], e: Expr): { expr: TExpr; place: Place | null } | null {
    for (const g of globals) this.globals.set(g.name, g);
    for (const f of this.prog.fns) this.fnDecls.set(f.name, f);
    for (const t of this.prog.threads) this.threadDecls.set(t.name, t);
    this.scope = { names: new Map(locals.map((x) => [x.name, x])), parent: null };
    this.fn = { name: '<evaluate>', kind: 'fn', params: [], ret: null, locals: [], frameSize: 0, temps: 0, code: [], instrs: [], registers: 0, statements: [], span: e.span };
    this.evaluating = true;
    try {
      const isPlace = e.k === 'name' || e.k === 'index' || (e.k === 'unary' && e.op === '*');
      const place = isPlace ? this.place(e) : null;
      const expr = place !== null && place.type.k !== 'array' ? ({ k: 'load', type: place.type, place } as TExpr) : this.valueOf(this.expr(e), e.span);
      return { expr, place };
    } catch (err) {
      if (err instanceof SyntaxAbort) return null;
      throw err;
    }
  }

  private evaluating = false;

  private error(message: string, span: Span): void {
    this.diagnostics.push({ file: this.prog.file, severity: 'error', message, span });
  }

  /** Report and abandon the current statement. */
  private abort(message: string, span: Span): never {
    this.error(message, span);
    throw new SyntaxAbort(message);
  }

  run(): LoweredProgram {
    this.machineConfig();
    for (const [key, value] of Object.entries(this.overrides)) {
      if (value !== undefined) (this.machine as unknown as Record<string, unknown>)[key] = value;
    }
    for (const f of this.prog.fns) {
      if (ATOMICS.has(f.name)) this.error(`'${f.name}' is a built-in atomic operation; choose another name`, f.nameSpan);
      else if (this.fnDecls.has(f.name)) this.error(`function '${f.name}' is defined twice`, f.nameSpan);
      else this.fnDecls.set(f.name, f);
    }
    for (const t of this.prog.threads) {
      if (this.threadDecls.has(t.name)) this.error(`thread '${t.name}' is defined twice`, t.nameSpan);
      else if (this.fnDecls.has(t.name)) this.error(`'${t.name}' is both a function and a thread`, t.nameSpan);
      else this.threadDecls.set(t.name, t);
      if (t.name === 'main' && t.params.length > 0) this.error('thread main starts the program; it takes no parameters', t.params[0].span);
      if (t.cpu !== null && t.cpu >= this.machine.cpus) {
        this.error(`thread '${t.name}' is pinned to cpu ${t.cpu}, but the machine has cpu0–cpu${this.machine.cpus - 1}`, t.cpuSpan!);
      }
    }
    if (this.prog.threads.length > 64) this.error(`${this.prog.threads.length} threads: at most 64 are supported`, this.prog.threads[64].nameSpan);
    if (!this.threadDecls.has('main') && !this.prog.brokenThreads.includes('main')) {
      this.error("the program needs a 'thread main { … }': it is where execution starts", { line: 1, col: 1, endLine: 1, endCol: 1 });
    }
    const dataSegments = this.layoutGlobals();
    const functions = new Map<string, LoweredFunction>();
    const threads: ThreadInfo[] = [];
    // Threads and functions get code addresses in declaration order.
    const decls = [...this.prog.threads.map((d) => ({ d, thread: true })), ...this.prog.fns.map((d) => ({ d, thread: false }))]
      .sort((a, b) => a.d.span.line - b.d.span.line || a.d.span.col - b.d.span.col);
    for (const { d, thread } of decls) {
      const lowered = thread ? this.lowerBody(d as ThreadDecl, 'thread') : this.lowerBody(d as FnDecl, 'fn');
      if (thread) threads.push({ name: d.name, cpu: (d as ThreadDecl).cpu, fn: lowered });
      else functions.set(d.name, lowered);
    }
    const users = this.prog.users.map((u) => this.otherUser(u)).filter((u): u is OtherUser => u !== null);
    // Machine code, laid out in the same order: every instruction at its own address.
    let textEnd = TEXT_BASE;
    for (const { d, thread } of decls) {
      const lowered = thread ? threads.find((t) => t.fn.name === d.name && t.fn.span === d.span)?.fn : functions.get(d.name);
      if (lowered === undefined || lowered.span !== d.span) continue; // a duplicate, reported already
      textEnd = placeCode(lowered, textEnd);
    }
    return {
      file: this.prog.file, source: this.source, ast: this.prog, machine: this.machine, globals: [...this.globals.values()], dataSegments,
      functions, threads, users, textEnd,
    };
  }

  private machineConfig(): void {
    const m = this.prog.machine;
    if (m === null) return;
    if (m.arch !== null) {
      if (m.arch === 'x86_64' || m.arch === 'arm64') this.machine.arch = m.arch;
      else this.error(`unknown architecture '${m.arch}': use x86_64 or arm64`, m.archSpan!);
    }
    for (const s of m.settings) {
      const limits = MACHINE_LIMITS[s.key];
      if (limits === undefined) {
        this.error(`unknown machine setting '${s.key}' (known: ${Object.keys(MACHINE_LIMITS).join(', ')})`, s.span);
        continue;
      }
      if (s.value < BigInt(limits[0]) || s.value > BigInt(limits[1])) {
        this.error(`${s.key}=${s.value} is out of range (${limits[0]} to ${limits[1]})`, s.span);
        continue;
      }
      (this.machine as unknown as Record<string, number>)[s.key] = Number(s.value);
    }
  }

  // ---- types and globals

  private resolveType(t: TypeNode): Type {
    if (t.k === 'scalar') return intType(t.name);
    if (t.k === 'ptr') {
      const to = this.resolveType(t.to);
      return { k: 'ptr', to };
    }
    const elem = this.resolveType(t.elem);
    if (elem.k === 'array') this.error('arrays of arrays are not supported', t.span);
    return { k: 'array', elem, count: t.count };
  }

  private layoutGlobals(): [number, number][] {
    const placed: { start: number; end: number; name: string }[] = [];
    const pending: { g: GlobalInfo; fixed: boolean }[] = [];
    for (const decl of this.prog.globals) {
      if (this.globals.has(decl.name)) {
        this.error(`global '${decl.name}' is defined twice`, decl.nameSpan);
        continue;
      }
      const type = this.resolveType(decl.type);
      const size = sizeOf(type);
      if (size > MAX_GLOBAL_BYTES) {
        this.error(`'${decl.name}' takes ${size} bytes; globals are limited to ${MAX_GLOBAL_BYTES} bytes each`, decl.span);
        continue;
      }
      const g: GlobalInfo = { name: decl.name, type, addr: 0, size, init: null, span: decl.span };
      if (decl.addr !== null) {
        if (decl.addr < BigInt(PAGE) || decl.addr + BigInt(size) > BigInt(USER_SPACE_END)) {
          this.error(`address 0x${decl.addr.toString(16)} of '${decl.name}' is outside the user data area (0x1000 to 0x${USER_SPACE_END.toString(16)})`, decl.span);
          continue;
        }
        const end = decl.addr + BigInt(size);
        if (decl.addr < BigInt(DATA_BASE) && end > BigInt(TEXT_BASE)) {
          this.error(`'${decl.name}' at 0x${decl.addr.toString(16)} would overlap the text segment (0x${TEXT_BASE.toString(16)}–0x${DATA_BASE.toString(16)})`, decl.span);
          continue;
        }
        if (end > BigInt(STACK_AREA_START)) {
          this.error(`'${decl.name}' at 0x${decl.addr.toString(16)} would overlap the thread stacks (from 0x${STACK_AREA_START.toString(16)})`, decl.span);
          continue;
        }
        g.addr = Number(decl.addr);
        const clash = placed.find((p) => g.addr < p.end && g.addr + size > p.start);
        if (clash) {
          this.error(`'${decl.name}' at 0x${g.addr.toString(16)} overlaps '${clash.name}'`, decl.span);
          continue;
        }
        placed.push({ start: g.addr, end: g.addr + size, name: g.name });
      }
      g.init = this.globalInit(decl.init, type, decl.name);
      pending.push({ g, fixed: decl.addr !== null });
      this.globals.set(g.name, g);
    }
    // Globals without an address go into the data segment in order, aligned, around the fixed ones.
    let cursor = DATA_BASE;
    for (const { g, fixed } of pending) {
      if (fixed) continue;
      const align = alignOf(g.type);
      for (;;) {
        cursor = Math.ceil(cursor / align) * align;
        const clash = placed.find((p) => cursor < p.end && cursor + g.size > p.start);
        if (clash === undefined) break;
        cursor = clash.end;
      }
      g.addr = cursor;
      placed.push({ start: cursor, end: cursor + g.size, name: g.name });
      cursor += g.size;
    }
    // Map every page a global touches, plus the first data page, merging neighbours.
    const pages = new Set<number>([DATA_BASE]);
    for (const p of placed) for (let a = Math.floor(p.start / PAGE) * PAGE; a < p.end; a += PAGE) pages.add(a);
    const segments: [number, number][] = [];
    for (const page of [...pages].sort((a, b) => a - b)) {
      const last = segments[segments.length - 1];
      if (last !== undefined && last[1] === page) last[1] += PAGE;
      else segments.push([page, page + PAGE]);
    }
    return segments;
  }

  private globalInit(init: Expr[] | null, type: Type, name: string): bigint[] | null {
    if (init === null) return null;
    const elemType = type.k === 'array' ? type.elem : type;
    if (elemType.k === 'array') return null;
    if (type.k !== 'array' && init.length !== 1) {
      this.error(`'${name}' is not an array; give one value`, init[0].span);
      return null;
    }
    if (type.k === 'array' && init.length > type.count) {
      this.error(`'${name}' has ${type.count} elements but ${init.length} initial values`, init[type.count].span);
      return null;
    }
    if (isHandle(elemType)) {
      this.error(elemType.name === 'mutex' ? `'${name}' is a mutex: it starts free and takes no initial value` : `'${name}' is a tid: it starts as 0 (no thread) and takes no initial value`, init[0].span);
      return null;
    }
    const values: bigint[] = [];
    for (const e of init) {
      const v = this.constantValue(e);
      if (v === null) {
        this.error(`the initial value of '${name}' must be a constant`, e.span);
        return null;
      }
      if (elemType.k === 'int' && (v < minOf(elemType) || v > maxOf(elemType))) {
        this.error(`${v} does not fit in ${elemType.name}`, e.span);
        return null;
      }
      if (elemType.k === 'ptr' && (v < 0n || v >= 1n << 64n)) {
        this.error(`${v} is not an address`, e.span);
        return null;
      }
      values.push(v);
    }
    return values;
  }

  /** Integer constant expressions (literals and operators on them), or null. */
  private constantValue(e: Expr): bigint | null {
    if (e.k === 'num') return e.value;
    if (e.k === 'unary' && (e.op === '-' || e.op === '~')) {
      const v = this.constantValue(e.e);
      return v === null ? null : e.op === '-' ? -v : ~v;
    }
    if (e.k === 'binary') {
      const l = this.constantValue(e.l);
      const r = this.constantValue(e.r);
      if (l === null || r === null) return null;
      return foldConstant(e.op, l, r);
    }
    return null;
  }

  private otherUser(u: UserDecl): OtherUser | null {
    let addr: number;
    if (typeof u.addr === 'string') {
      const g = this.globals.get(u.addr);
      if (g === undefined) {
        this.error(`unknown global '${u.addr}'`, u.addrSpan);
        return null;
      }
      addr = g.addr;
    } else {
      addr = Number(u.addr);
    }
    if (u.cpu !== null && u.cpu >= this.machine.cpus) {
      this.error(`cpu ${u.cpu} does not exist (the machine has cpu0–cpu${this.machine.cpus - 1})`, u.targetSpan!);
      return null;
    }
    if (u.thread !== null && !this.threadDecls.has(u.thread)) {
      this.error(`unknown thread '${u.thread}'`, u.targetSpan!);
      return null;
    }
    const text = this.source.split('\n')[u.span.line - 1]?.trim() ?? u.kind;
    return {
      kind: u.kind, pinned: u.pinned, type: u.type as OtherUser['type'], addr, len: u.len, cpu: u.cpu, thread: u.thread,
      label: `${text} (line ${u.span.line})`, span: u.span,
    };
  }

  // ---- functions and threads

  private lowerBody(decl: FnDecl | ThreadDecl, kind: 'fn' | 'thread'): LoweredFunction {
    this.code = [];
    this.scope = { names: new Map(), parent: null };
    this.loops = [];
    this.stmtIndex = -1;
    this.frameTop = 0;
    const params: LoweredFunction['params'] = [];
    let ret: ValueType | null = null;
    this.fn = { name: decl.name, kind, params, ret, locals: [], frameSize: 0, temps: 0, code: this.code, instrs: [], registers: 0, statements: [], span: decl.span };
    for (const p of decl.params) {
      const type = this.resolveType(p.type);
      if (type.k === 'array') {
        this.error(`parameter '${p.name}' cannot be an array; pass a pointer (*${typeToString(type.elem)})`, p.span);
        continue;
      }
      if (type.k === 'int' && type.name === 'mutex') {
        this.error(`parameter '${p.name}' cannot be a mutex; pass a pointer (*mutex)`, p.span);
        continue;
      }
      const local = this.declareLocal(p.name, type, p.span, true);
      if (local !== null) params.push({ name: p.name, type, offset: local.offset });
    }
    if (kind === 'fn') {
      const f = decl as FnDecl;
      if (f.ret !== null) {
        const r = this.resolveType(f.ret);
        if (r.k === 'array') this.error('a function cannot return an array', f.ret.span);
        else if (r.k === 'int' && r.name === 'mutex') this.error('a function cannot return a mutex; return a pointer (*mutex)', f.ret.span);
        else ret = r;
      }
      this.fn.ret = ret;
    }
    this.block(decl.body);
    // Falling off the end returns (a thread ends); give that its own statement at the closing brace.
    const end = decl.body.span;
    this.beginStatement({ line: end.endLine, col: end.endCol - 1, endLine: end.endLine, endCol: end.endCol });
    this.emit({ op: 'return', value: ret === null ? null : constOf(ret, 0n) });
    // Locals of the body's outermost block stay visible at the closing brace, where the function returns.
    for (const l of this.fn.locals) if (l.scopeEnd < 0 || l.scopeEnd === this.fn.statements.length - 1) l.scopeEnd = this.fn.statements.length;
    this.fn.frameSize = Math.ceil(this.frameTop / 16) * 16;
    if (this.fn.frameSize + 16 > this.machine.stack) {
      this.error(`the locals of '${decl.name}' take ${this.fn.frameSize} bytes, more than a thread's stack (${this.machine.stack} bytes; raise stack= on the machine line)`, decl.nameSpan);
    }
    return this.fn;
  }

  private declareLocal(name: string, type: Type, span: Span, isParam: boolean): LocalInfo | null {
    for (let s = this.scope; s !== null; s = s.parent) {
      if (s.names.has(name)) {
        this.error(`'${name}' is already declared in this function`, span);
        return null;
      }
    }
    const align = alignOf(type);
    const offset = Math.ceil(this.frameTop / align) * align;
    this.frameTop = offset + sizeOf(type);
    const local: LocalInfo = { name, type, offset, scopeStart: Math.max(0, this.stmtIndex), scopeEnd: -1, isParam };
    this.scope!.names.set(name, local);
    this.fn.locals.push(local);
    return local;
  }

  private beginStatement(span: Span): void {
    this.stmtIndex = this.fn.statements.length;
    const text = this.lines[span.line - 1]?.trim() ?? '';
    // Its code address is its first instruction's, known once instructions are selected (placeCode).
    this.fn.statements.push({ index: this.stmtIndex, span, codeAddr: -1, text, fn: this.fn.name });
    this.firstOfStatement = true;
    this.pendingCalls = [];
  }

  private emit(op: IrOpBody): IrOp {
    // Calls pulled out of this statement's expressions run first, in order.
    const calls = this.pendingCalls;
    this.pendingCalls = [];
    for (const c of calls) this.push(c);
    return this.push(op as IrOp);
  }

  /** Push an op that starts a statement again (a loop head revisited each iteration). */
  private pushBoundary(op: IrOp): IrOp {
    this.firstOfStatement = true;
    return this.push(op);
  }

  private push(op: IrOp): IrOp {
    op.stmt = this.stmtIndex;
    op.first = this.firstOfStatement;
    this.firstOfStatement = false;
    this.code.push(op);
    return op;
  }

  private block(b: Block): void {
    const saved = this.scope;
    this.scope = { names: new Map(), parent: saved };
    for (const s of b.stmts) {
      try {
        this.statement(s);
      } catch (e) {
        if (!(e instanceof SyntaxAbort)) throw e;
        // Keep the statement's place in the code so addresses and steps stay consistent.
        if (this.firstOfStatement) this.emit({ op: 'nop' });
      }
    }
    const end = this.fn.statements.length;
    for (const l of this.scope.names.values()) l.scopeEnd = end;
    this.scope = saved;
  }

  private statement(s: Stmt): void {
    if (s.k !== 'if' && s.k !== 'while' && s.k !== 'for' && s.k !== 'repeat') this.beginStatement(s.span);
    switch (s.k) {
      case 'var': {
        const type = this.resolveType(s.type);
        const local = this.declareLocal(s.name, type, s.nameSpan, false);
        if (local === null) return void this.emit({ op: 'nop' });
        local.scopeStart = this.stmtIndex;
        const place: Place = { k: 'local', offset: local.offset, type, name: s.name };
        if (type.k === 'array') {
          if (s.init !== null) this.abort('a local array cannot have an initial value; assign its elements', s.init.span);
          return void this.emit({ op: 'nop' });
        }
        // Locals start at zero unless initialised (a deterministic choice; C leaves them undefined).
        const value = s.init === null ? constOf(type, 0n) : this.coerce(this.expr(s.init), type, s.init.span);
        this.emit({ op: 'assign', place, value });
        return;
      }
      case 'assign': {
        const place = this.place(s.target);
        if (place.type.k === 'array') this.abort(`cannot assign a whole array (${typeToString(place.type)}); assign its elements`, s.target.span);
        if (place.type.k === 'int' && place.type.name === 'mutex') this.abort('a mutex cannot be assigned: it changes only with lock and unlock', s.target.span);
        const value = this.coerce(this.expr(s.value), place.type, s.value.span);
        this.emit({ op: 'assign', place, value });
        return;
      }
      case 'expr': {
        const e = s.e;
        if (e.k !== 'call') this.abort('this expression does nothing on its own', e.span);
        if (ATOMICS.has(e.callee) && !this.fnDecls.has(e.callee)) {
          this.emit(this.atomic(e, null));
          return;
        }
        const args = this.callArgs(e);
        this.emit({ op: 'call', fn: e.callee, args, dest: null });
        return;
      }
      case 'if': {
        this.beginStatement(s.cond.span);
        const cond = this.condition(s.cond);
        const branch = this.emit({ op: 'branch', cond, ifFalse: -1 }) as Extract<IrOp, { op: 'branch' }>;
        this.block(s.then);
        if (s.else === null) {
          branch.ifFalse = this.code.length;
        } else {
          const skip = this.push({ op: 'jump', target: -1 } as IrOp) as Jump;
          branch.ifFalse = this.code.length;
          this.block(s.else);
          skip.target = this.code.length;
        }
        return;
      }
      case 'while': {
        this.beginStatement(s.cond.span);
        const head = this.code.length;
        const cond = this.condition(s.cond);
        const branch = this.emit({ op: 'branch', cond, ifFalse: -1 }) as Extract<IrOp, { op: 'branch' }>;
        const loop = this.loopBody(s.body, () => {
          this.push({ op: 'jump', target: head } as IrOp);
          return head;
        });
        branch.ifFalse = this.code.length;
        for (const j of loop.breaks) j.target = this.code.length;
        return;
      }
      case 'repeat': {
        this.beginStatement(s.count.span);
        const counter = this.fn.temps++;
        let countExpr = this.recovering(() => this.valueOf(this.expr(s.count), s.count.span));
        if (!isNumber(countExpr.type)) {
          this.error('repeat needs an integer count', s.count.span);
          countExpr = constOf(I32, 0n);
        }
        const ct = promote(countExpr.type as IntType);
        const count = this.coerce(countExpr, ct, s.count.span);
        this.emit({ op: 'settemp', temp: counter, value: count });
        const head = this.code.length;
        const left: TExpr = { k: 'temp', type: ct, index: counter };
        const headStmt = this.stmtIndex;
        const branch = this.push({ op: 'branch', cond: binary('>', I32, ct, left, constOf(ct, 0n)), ifFalse: -1 } as IrOp) as Extract<IrOp, { op: 'branch' }>;
        const loop = this.loopBody(s.body, () => {
          // Each further pass through the repeat line is a statement boundary, once per iteration.
          const decrement = this.code.length;
          this.pushBoundary({ op: 'settemp', temp: counter, value: binary('-', ct, ct, left, constOf(ct, 1n)) } as IrOp).stmt = headStmt;
          this.push({ op: 'jump', target: head } as IrOp).stmt = headStmt;
          return decrement;
        });
        branch.ifFalse = this.code.length;
        for (const j of loop.breaks) j.target = this.code.length;
        return;
      }
      case 'for': {
        this.beginStatement(spanOf(s.span, s.to.span));
        const saved = this.scope;
        this.scope = { names: new Map(), parent: saved };
        try {
          const fromTyped = this.recovering(() => this.expr(s.from));
          const toTyped = this.recovering(() => this.expr(s.to));
          let type: Type = s.type !== null ? this.resolveType(s.type) : typedOr(toTyped, typedOr(fromTyped, I32));
          if (!isNumber(type)) {
            this.error('a for loop variable must be an integer', s.nameSpan);
            type = I32;
          }
          const it = type;
          const local = this.declareLocal(s.name, it, s.nameSpan, false);
          if (local === null) throw new SyntaxAbort('redeclared');
          local.scopeStart = this.stmtIndex;
          const place: Place = { k: 'local', offset: local.offset, type: it, name: s.name };
          const endTemp = this.fn.temps++;
          const from = this.recovering(() => this.coerce(fromTyped, it, s.from.span));
          const to = this.recovering(() => this.coerce(toTyped, it, s.to.span));
          this.emit({ op: 'assign', place, value: from });
          this.push({ op: 'settemp', temp: endTemp, value: to } as IrOp);
          const head = this.code.length;
          const headStmt = this.stmtIndex;
          const current: TExpr = { k: 'load', type: it, place };
          const branch = this.push({ op: 'branch', cond: binary('<', I32, it, current, { k: 'temp', type: it, index: endTemp }), ifFalse: -1 } as IrOp) as Extract<IrOp, { op: 'branch' }>;
          const loop = this.loopBody(s.body, () => {
            // Each further pass through the for line is a statement boundary (where a debugger shows the loop).
            const increment = this.code.length;
            const inc = this.pushBoundary({ op: 'assign', place, value: binary('+', it, it, current, constOf(it, 1n)) } as IrOp);
            inc.stmt = headStmt;
            this.push({ op: 'jump', target: head } as IrOp).stmt = headStmt;
            return increment;
          });
          branch.ifFalse = this.code.length;
          for (const j of loop.breaks) j.target = this.code.length;
          local.scopeEnd = this.fn.statements.length;
        } finally {
          this.scope = saved;
        }
        return;
      }
      case 'return': {
        if (this.fn.kind === 'thread' && s.e !== null) this.abort('a thread has no return value; use return alone', s.e.span);
        const ret = this.fn.ret;
        if (s.e === null) {
          if (ret !== null) this.abort(`'${this.fn.name}' must return a ${typeToString(ret)}`, s.span);
          this.emit({ op: 'return', value: null });
        } else {
          if (ret === null) this.abort(`'${this.fn.name}' returns nothing; declare a return type (fn ${this.fn.name}(…): T)`, s.e.span);
          this.emit({ op: 'return', value: this.coerce(this.expr(s.e), ret, s.e.span) });
        }
        return;
      }
      case 'break':
      case 'continue': {
        const loop = this.loops[this.loops.length - 1];
        if (loop === undefined) this.abort(`'${s.k}' outside a loop`, s.span);
        const jump = this.emit({ op: 'jump', target: -1 }) as Jump;
        (s.k === 'break' ? loop.breaks : loop.continues).push(jump);
        return;
      }
      case 'yield':
        this.emit({ op: 'yield' });
        return;
      case 'spawn':
        this.emit(this.spawn(s, null));
        return;
      case 'join':
        this.join(s.target);
        return;
      case 'lock':
      case 'unlock': {
        if (s.target.k === 'unary' && s.target.op === '&') this.abort(`${s.k} takes the mutex itself (${s.k} m), not its address`, s.target.span);
        const place = this.place(s.target);
        if (!(place.type.k === 'int' && place.type.name === 'mutex')) {
          const hint = place.type.k === 'ptr' && place.type.to.k === 'int' && place.type.to.name === 'mutex' ? ` (through the pointer: ${s.k} *…)` : '';
          this.abort(`${s.k} needs a mutex, not a ${typeToString(place.type)}${hint}`, s.target.span);
        }
        this.emit({ op: s.k, ptr: { k: 'addr', type: { k: 'ptr', to: MUTEX }, place } });
        return;
      }
      case 'sleep': {
        const value = this.coerce(this.expr(s.e), I64, s.e.span);
        this.emit({ op: 'sleep', value });
        return;
      }
      case 'print': {
        const parts = s.args.map((a) => (a.k === 'str' ? a.value : this.valueOf(this.expr(a), a.span)));
        this.emit({ op: 'print', parts });
        return;
      }
    }
  }

  /** The declared thread a spawn or join names (abandons the statement, with a message, if there is none). */
  private threadDecl(name: string, span: Span, what: 'spawned' | 'joined'): ThreadDecl {
    const decl = this.threadDecls.get(name);
    if (decl === undefined) {
      if (this.prog.brokenThreads.includes(name)) throw new SyntaxAbort('broken thread');
      this.abort(this.fnDecls.has(name) ? `'${name}' is a function, not a thread; call it with ${name}(…)` : `unknown thread '${name}'`, span);
    }
    if (name === 'main') this.abort(`thread main starts the program; it cannot be ${what}`, span);
    return decl;
  }

  /** `spawn NAME` (args null) or `spawn NAME(args)`, whose tid goes to temp `dest`. */
  private spawn(s: { thread: string; threadSpan: Span; args: Expr[] | null; span: Span }, dest: number | null): Extract<IrOpBody, { op: 'spawn' }> {
    if (this.evaluating) this.abort('the debugger does not start threads when evaluating', s.span);
    const decl = this.threadDecl(s.thread, s.threadSpan, 'spawned');
    const n = decl.params.length;
    if (s.args === null) {
      if (n > 0) this.abort(`thread '${s.thread}' takes ${n} argument${n === 1 ? '' : 's'}: spawn ${s.thread}(…) starts an instance with them`, s.span);
      return { op: 'spawn', thread: s.thread, instance: false, args: [], dest: null };
    }
    if (n !== s.args.length) this.abort(`thread '${s.thread}' takes ${n} argument${n === 1 ? '' : 's'}, not ${s.args.length}`, s.span);
    const args = s.args.map((a, i) => {
      const type = this.resolveType(decl.params[i].type);
      if (type.k === 'array' || (type.k === 'int' && type.name === 'mutex')) this.abort('bad parameter type', a.span);
      return this.coerce(this.expr(a), type, a.span);
    });
    return { op: 'spawn', thread: s.thread, instance: true, args, dest };
  }

  /** `join NAME` of a declared thread, or `join EXPR` of a tid. */
  private join(target: Expr): void {
    // A bare name is a declared thread, unless a tid variable of that name is in scope (it is what the program means).
    if (target.k === 'name' && !this.isTidVariable(target.name) && (this.threadDecls.has(target.name) || !this.isVariable(target.name))) {
      const decl = this.threadDecl(target.name, target.span, 'joined');
      if (decl.params.length > 0) this.abort(`thread '${target.name}' has parameters, so it runs only as instances: join an instance's tid (t = spawn ${target.name}(…), then join t)`, target.span);
      if (target.name === this.fn.name && this.fn.kind === 'thread') this.abort('a thread cannot join itself', target.span);
      this.emit({ op: 'join', thread: target.name });
      return;
    }
    const t = this.expr(target);
    if (t.k === 'untyped' || !(t.type.k === 'int' && t.type.name === 'tid')) {
      this.abort(`join needs a thread name or a tid, not ${t.k === 'untyped' ? 'a number' : `a ${typeToString(t.type)}`}`, target.span);
    }
    this.emit({ op: 'jointid', tid: t });
  }

  private isTidVariable(name: string): boolean {
    if (!this.isVariable(name)) return false;
    const t = this.place({ k: 'name', name, span: { line: 0, col: 0, endLine: 0, endCol: 0 } }).type;
    return t.k === 'int' && t.name === 'tid';
  }

  private isVariable(name: string): boolean {
    for (let s = this.scope; s !== null; s = s.parent) if (s.names.has(name)) return true;
    return this.globals.has(name);
  }

  /** A call of a built-in atomic operation; its old value goes to temp `dest`. */
  private atomic(e: Extract<Expr, { k: 'call' }>, dest: number | null): Extract<IrOpBody, { op: 'atomic' }> {
    const { kind, arity } = ATOMICS.get(e.callee)!;
    if (this.evaluating) this.abort('the debugger does not run atomic operations when evaluating', e.span);
    if (e.args.length !== arity) this.abort(`${e.callee} takes ${arity} arguments (${arity === 3 ? 'a pointer, the expected value and the new one' : 'a pointer and a value'}), not ${e.args.length}`, e.span);
    const p = this.expr(e.args[0]);
    if (p.k === 'untyped' || p.type.k !== 'ptr' || !isNumber(p.type.to)) {
      this.abort(`${e.callee} needs a pointer to an integer first (such as &x), not ${p.k === 'untyped' ? 'a number' : `a ${typeToString(p.type)}`}`, e.args[0].span);
    }
    const type = (p.type as PtrType).to as IntType;
    const operands = e.args.slice(1).map((a) => this.coerce(this.expr(a), type, a.span));
    return { op: 'atomic', kind, ptr: p, operands, type, dest };
  }

  /** Lower a loop body; `tail` emits the back edge and returns where `continue` goes. Breaks are the caller's to patch. */
  private loopBody(body: Block, tail: () => number): LoopLabels {
    const loop: LoopLabels = { breaks: [], continues: [] };
    this.loops.push(loop);
    this.block(body);
    this.loops.pop();
    const continueAt = tail();
    for (const j of loop.continues) j.target = continueAt;
    return loop;
  }

  // ---- expressions

  private condition(e: Expr): TExpr {
    return this.recovering(() => this.valueOf(this.expr(e), e.span));
  }

  /** Check an expression; if it is wrong (already reported), go on with 0 so the rest is still checked. */
  private recovering<T extends Typed>(check: () => T): T | TExpr {
    try {
      return check();
    } catch (err) {
      if (!(err instanceof SyntaxAbort)) throw err;
      this.pendingCalls = [];
      return constOf(I32, 0n);
    }
  }

  /** A value of its own type (an untyped constant becomes i32, i64 or u64 by size). */
  private valueOf(t: Typed, span: Span): TExpr {
    if (t.k !== 'untyped') return t;
    const type = t.value >= minOf(I32) && t.value <= maxOf(I32) ? I32 : t.value >= minOf(I64) && t.value <= maxOf(I64) ? I64 : U64;
    return this.coerce(t, type, span);
  }

  coerce(t: Typed, to: ValueType, span: Span): TExpr {
    if (isHandle(to) && !(t.k !== 'untyped' && sameType(t.type, to))) {
      if (to.name === 'mutex') return this.abort('a mutex cannot be set: it changes only with lock and unlock', span);
      if (t.k === 'untyped' && t.value === 0n) return constOf(to, 0n);
      return this.abort(`cannot use ${t.k === 'untyped' ? `the number ${t.value}` : `a ${typeToString(t.type)}`} as a tid${t.k === 'untyped' || t.type.k === 'ptr' ? '' : ' (cast it: … as tid)'}`, span);
    }
    if (t.k !== 'untyped' && isHandle(t.type) && !sameType(t.type, to)) {
      return this.abort(`a tid is not a number: cannot use it as a ${typeToString(to)}${to.k === 'int' ? ` (cast it: … as ${to.name})` : ''}`, span);
    }
    if (t.k === 'untyped') {
      if (to.k === 'ptr') {
        if (t.value === 0n) return constOf(to, 0n);
        return this.abort(`cannot use the number ${t.value} as a pointer; cast it (… as ${typeToString(to)})`, span);
      }
      if (t.value < minOf(to) || t.value > maxOf(to)) {
        return this.abort(`${t.value} does not fit in ${to.name}${t.value < 0n && !to.signed ? ` (write (${t.value} as ${to.name}) to wrap it)` : ''}`, span);
      }
      return constOf(to, t.value);
    }
    if (sameType(t.type, to)) return t;
    if (t.type.k === 'int' && to.k === 'int') return { k: 'convert', type: to, e: t };
    if (t.type.k === 'ptr' && to.k === 'ptr') {
      return this.abort(`cannot use a ${typeToString(t.type)} as a ${typeToString(to)}; cast it (… as ${typeToString(to)})`, span);
    }
    return this.abort(`cannot use a ${typeToString(t.type)} where a ${typeToString(to)} is expected; cast it (… as ${typeToString(to)})`, span);
  }

  expr(e: Expr): Typed {
    switch (e.k) {
      case 'num':
        return { k: 'untyped', value: e.value, span: e.span };
      case 'name':
      case 'index':
        return this.load(this.place(e), e.span);
      case 'call': {
        if (this.evaluating) this.abort('the debugger does not call functions when evaluating; evaluate their arguments instead', e.span);
        if (this.inShortCircuit > 0) this.abort('a call on the right of && or || is not supported; assign the call to a variable first', e.span);
        if (ATOMICS.has(e.callee) && !this.fnDecls.has(e.callee)) {
          const op = this.atomic(e, this.fn.temps);
          this.fn.temps++;
          this.pendingCalls.push({ ...op, stmt: 0, first: false } as IrOp);
          return { k: 'temp', type: op.type, index: op.dest! };
        }
        const fn = this.fnDecls.get(e.callee);
        if (fn === undefined) this.abort(this.threadDecls.has(e.callee) ? `'${e.callee}' is a thread; start it with spawn` : `unknown function '${e.callee}'`, e.calleeSpan);
        if (fn.ret === null) this.abort(`'${e.callee}' returns nothing, so it has no value here`, e.span);
        const retType = this.resolveType(fn.ret);
        if (retType.k === 'array') this.abort('bad return type', e.span);
        const args = this.callArgs(e);
        const dest = this.fn.temps++;
        this.pendingCalls.push({ op: 'call', fn: e.callee, args, dest, stmt: 0, first: false });
        return { k: 'temp', type: retType, index: dest };
      }
      case 'spawn': {
        if (this.inShortCircuit > 0) this.abort('a spawn on the right of && or || is not supported; assign it to a variable first', e.span);
        const op = this.spawn(e, this.fn.temps);
        this.fn.temps++;
        this.pendingCalls.push({ ...op, stmt: 0, first: false } as IrOp);
        return { k: 'temp', type: TID, index: op.dest! };
      }
      case 'cast': {
        const to = this.resolveType(e.type);
        if (to.k === 'array') this.abort('cannot cast to an array type', e.type.span);
        if (to.k === 'int' && to.name === 'mutex') this.abort('cannot cast to a mutex', e.type.span);
        const inner = this.expr(e.e);
        if (inner.k !== 'untyped' && isHandle(to) !== isHandle(inner.type) && (inner.type.k === 'ptr' || to.k === 'ptr')) {
          this.abort(`cannot cast a ${typeToString(inner.type)} to a ${typeToString(to)}`, e.span);
        }
        if (inner.k === 'untyped') {
          if (to.k === 'int') return constOf(to, wrap(inner.value, to));
          return constOf(to, BigInt.asUintN(64, inner.value));
        }
        if (sameType(inner.type, to)) return inner;
        return { k: 'convert', type: to, e: inner };
      }
      case 'unary':
        return this.unary(e);
      case 'binary':
        return this.binary(e);
    }
  }

  private callArgs(e: Extract<Expr, { k: 'call' }>): TExpr[] {
    const fn = this.fnDecls.get(e.callee);
    if (fn === undefined) this.abort(this.threadDecls.has(e.callee) ? `'${e.callee}' is a thread; start it with spawn` : `unknown function '${e.callee}'`, e.calleeSpan);
    if (fn.params.length !== e.args.length) {
      this.abort(`'${e.callee}' takes ${fn.params.length} argument${fn.params.length === 1 ? '' : 's'}, not ${e.args.length}`, e.span);
    }
    return e.args.map((a, i) => {
      const type = this.resolveType(fn.params[i].type);
      if (type.k === 'array') this.abort('bad parameter type', a.span);
      return this.coerce(this.expr(a), type, a.span);
    });
  }

  private unary(e: Extract<Expr, { k: 'unary' }>): Typed {
    if (e.op === '&') {
      const place = this.place(e.e);
      const to = place.type.k === 'array' ? place.type.elem : place.type;
      return { k: 'addr', type: { k: 'ptr', to }, place };
    }
    if (e.op === '*') return this.load(this.place(e), e.span);
    const inner = this.expr(e.e);
    if (inner.k === 'untyped') {
      if (e.op === '-') return { k: 'untyped', value: -inner.value, span: e.span };
      if (e.op === '~') return { k: 'untyped', value: ~inner.value, span: e.span };
      return constOf(I32, inner.value === 0n ? 1n : 0n);
    }
    if (e.op === '!') return { k: 'unary', op: '!', type: I32, e: inner };
    if (!isNumber(inner.type)) this.abort(`'${e.op}' needs an integer, not a ${typeToString(inner.type)}`, e.span);
    const type = promote(inner.type);
    return { k: 'unary', op: e.op, type, e: this.coerce(inner, type, e.span) };
  }

  private binary(e: Extract<Expr, { k: 'binary' }>): Typed {
    if (e.op === '&&' || e.op === '||') {
      const l = this.valueOf(this.expr(e.l), e.l.span);
      this.inShortCircuit++;
      try {
        const r = this.valueOf(this.expr(e.r), e.r.span);
        return { k: 'logic', op: e.op, type: I32, l, r };
      } finally {
        this.inShortCircuit--;
      }
    }
    const l = this.expr(e.l);
    const r = this.expr(e.r);
    if (l.k === 'untyped' && r.k === 'untyped') {
      if (['==', '!=', '<', '<=', '>', '>='].includes(e.op)) return constOf(I32, foldConstant(e.op, l.value, r.value) ?? 0n);
      const v = foldConstant(e.op, l.value, r.value);
      if (v === null) this.abort(e.op === '/' || e.op === '%' ? 'division by zero' : `cannot compute ${e.op} on these constants`, e.span);
      return { k: 'untyped', value: v, span: e.span };
    }
    const lt = l.k === 'untyped' ? null : l.type;
    const rt = r.k === 'untyped' ? null : r.type;
    const compare = ['==', '!=', '<', '<=', '>', '>='].includes(e.op);
    if ((lt !== null && isHandle(lt)) || (rt !== null && isHandle(rt))) {
      // A tid compares for equality with a tid, or with 0 (no thread); nothing else is defined on it.
      if (e.op !== '==' && e.op !== '!=') this.abort(`'${e.op}' is not defined on a tid (a thread id is not a number)`, e.span);
      return binary(e.op, I32, TID, this.coerce(l, TID, e.l.span), this.coerce(r, TID, e.r.span));
    }
    // Pointers: p + n, n + p, p - n, p - q, and comparisons.
    if (lt?.k === 'ptr' || rt?.k === 'ptr') {
      if (compare) {
        const pt = (lt?.k === 'ptr' ? lt : rt) as PtrType;
        return binary(e.op, I32, pt, this.coerce(l, pt, e.l.span), this.coerce(r, pt, e.r.span));
      }
      if (lt?.k === 'ptr' && rt?.k === 'ptr' && e.op === '-') {
        if (!sameType(lt, rt)) this.abort(`cannot subtract a ${typeToString(rt)} from a ${typeToString(lt)}`, e.span);
        return { k: 'ptrdiff', type: I64, l: l as TExpr, r: r as TExpr, scale: sizeOf(lt.to) };
      }
      const ptrOnLeft = lt?.k === 'ptr';
      const ptr = (ptrOnLeft ? l : r) as TExpr & { type: PtrType };
      const idx = ptrOnLeft ? r : l;
      if ((e.op !== '+' && e.op !== '-') || (!ptrOnLeft && e.op === '-')) this.abort(`'${e.op}' is not defined on pointers`, e.span);
      const idxType = idx.k === 'untyped' ? I64 : idx.type;
      if (!isNumber(idxType)) this.abort('pointer arithmetic needs an integer offset', e.span);
      return { k: 'ptradd', type: ptr.type, p: ptr, i: this.valueOf(idx, e.span), scale: sizeOf(ptr.type.to), negate: e.op === '-' };
    }
    const type = lt === null ? promote(rt as IntType) : rt === null ? promote(lt as IntType) : usual(lt as IntType, rt as IntType);
    if (e.op === '<<' || e.op === '>>') {
      // Shifts take the left operand's (promoted) type; the count is taken modulo the width.
      const lType = lt === null ? (this.valueOf(l, e.l.span).type as IntType) : promote(lt as IntType);
      return binary(e.op, lType, lType, this.coerce(l, lType, e.l.span), this.coerce(r.k === 'untyped' ? r : r, lType, e.r.span));
    }
    const cl = this.coerce(l, type, e.l.span);
    const cr = this.coerce(r, type, e.r.span);
    if ((e.op === '/' || e.op === '%') && cr.k === 'const' && cr.value === 0n) this.abort('division by zero', e.r.span);
    return binary(e.op, compare ? I32 : type, type, cl, cr);
  }

  private load(place: Place, span: Span): TExpr {
    if (place.type.k === 'int' && place.type.name === 'mutex') {
      const name = place.k === 'global' || place.k === 'local' ? `'${place.name}' is a mutex` : 'a mutex';
      return this.abort(`${name}, not a value: use lock and unlock on it (or & for its address)`, span);
    }
    if (place.type.k === 'array') {
      // An array used as a value is the address of its first element, as in C.
      return { k: 'addr', type: { k: 'ptr', to: place.type.elem }, place };
    }
    return { k: 'load', type: place.type, place };
  }

  place(e: Expr): Place {
    if (e.k === 'name') {
      for (let s = this.scope; s !== null; s = s.parent) {
        const local = s.names.get(e.name);
        if (local !== undefined) return { k: 'local', offset: local.offset, type: local.type, name: e.name };
      }
      const g = this.globals.get(e.name);
      if (g !== undefined) return { k: 'global', addr: g.addr, type: g.type, name: g.name };
      if (this.fnDecls.has(e.name)) this.abort(`'${e.name}' is a function; call it with ${e.name}(…)`, e.span);
      if (this.threadDecls.has(e.name)) this.abort(`'${e.name}' is a thread, not a variable`, e.span);
      return this.abort(`unknown name '${e.name}'`, e.span);
    }
    if (e.k === 'index') {
      // The index keeps its own width: most are 32-bit and stay cheap numbers at run time.
      const index = this.valueOf(this.expr(e.index), e.index.span);
      if (!isNumber(index.type)) this.abort('an index must be an integer', e.index.span);
      const base = this.expr(e.e);
      if (base.k === 'addr' && base.place.type.k === 'array') {
        return { k: 'elem', base: base.place, index, type: base.place.type.elem };
      }
      if (base.k !== 'untyped' && base.type.k === 'ptr') return { k: 'elem', base, index, type: base.type.to };
      return this.abort('only arrays and pointers can be indexed', e.e.span);
    }
    if (e.k === 'unary' && e.op === '*') {
      const p = this.expr(e.e);
      if (p.k === 'untyped' || p.type.k !== 'ptr') this.abort(`only a pointer can be dereferenced${p.k === 'untyped' ? '' : `, not a ${typeToString(p.type)}`}`, e.span);
      return { k: 'deref', ptr: p, type: (p.type as PtrType).to };
    }
    return this.abort('this expression is not a place in memory (a variable, a[i] or *p)', e.span);
  }
}

// ---- helpers

function spanOf(a: Span, b: Span): Span {
  return { line: a.line, col: a.col, endLine: b.endLine, endCol: b.endCol };
}

/**
 * Select a function's instructions at `addr` and give each statement the address of its first
 * instruction (where a line breakpoint goes). Returns where the next function starts.
 */
function placeCode(fn: LoweredFunction, addr: number): number {
  const { code, registers } = selectFunction(fn, addr);
  fn.instrs = code;
  fn.registers = registers;
  const end = addr + code.length * INSTRUCTION_SIZE;
  for (const i of code) {
    const s = fn.statements[i.stmt];
    if (s !== undefined && s.codeAddr < 0 && i.first) s.codeAddr = i.addr;
  }
  for (const i of code) {
    const s = fn.statements[i.stmt];
    if (s !== undefined && s.codeAddr < 0) s.codeAddr = i.addr;
  }
  // A statement with no code of its own (none today) would stand at the next one's address.
  for (let k = fn.statements.length - 1; k >= 0; k--) {
    if (fn.statements[k].codeAddr < 0) fn.statements[k].codeAddr = k + 1 < fn.statements.length ? fn.statements[k + 1].codeAddr : end - INSTRUCTION_SIZE;
  }
  return end;
}

export function constOf(type: ValueType, value: bigint): TExpr {
  return { k: 'const', type, value };
}

function binary(op: string, type: ValueType, operand: ValueType, l: TExpr, r: TExpr): TExpr {
  return { k: 'binary', op, type, operand, l, r };
}

function typedOr(t: Typed, fallback: Type): Type {
  return t.k === 'untyped' ? fallback : t.type;
}

export function promote(t: IntType): IntType {
  return t.size < 4 ? I32 : t;
}

/** C's usual arithmetic conversions, on the promoted types. */
export function usual(a: IntType, b: IntType): IntType {
  const pa = promote(a);
  const pb = promote(b);
  if (pa.size === 8 || pb.size === 8) return (pa.size === 8 && !pa.signed) || (pb.size === 8 && !pb.signed) ? U64 : I64;
  return pa.signed && pb.signed ? I32 : intType('u32');
}

export function wrap(v: bigint, t: IntType): bigint {
  return t.signed ? BigInt.asIntN(t.size * 8, v) : BigInt.asUintN(t.size * 8, v);
}

function foldConstant(op: string, l: bigint, r: bigint): bigint | null {
  switch (op) {
    case '+': return l + r;
    case '-': return l - r;
    case '*': return l * r;
    case '/': return r === 0n ? null : l / r;
    case '%': return r === 0n ? null : l % r;
    case '<<': return r < 0n || r > 64n ? null : l << r;
    case '>>': return r < 0n || r > 64n ? null : l >> r;
    case '&': return l & r;
    case '|': return l | r;
    case '^': return l ^ r;
    case '==': return l === r ? 1n : 0n;
    case '!=': return l !== r ? 1n : 0n;
    case '<': return l < r ? 1n : 0n;
    case '<=': return l <= r ? 1n : 0n;
    case '>': return l > r ? 1n : 0n;
    case '>=': return l >= r ? 1n : 0n;
    default: return null;
  }
}

