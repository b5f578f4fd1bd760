/**
 * Recursive-descent parser for .hwsim. It reports every syntax error it can find: after an error it
 * skips to the next statement (next line) or the next top-level declaration and carries on.
 */
import type { BinaryOp, Block, Expr, FnDecl, GlobalDecl, MachineDecl, Program, ScalarName, Stmt, ThreadDecl, TypeNode, UserDecl } from './ast';
import { spanFrom, SyntaxAbort, type Diagnostic, type Span } from './diagnostics';
import { KEYWORDS, lex, type Token } from './lexer';

export const SCALARS: ReadonlySet<string> = new Set(['u8', 'u16', 'u32', 'u64', 'i8', 'i16', 'i32', 'i64', 'tid', 'mutex']);
const TOP_LEVEL = new Set(['machine', 'global', 'fn', 'thread', 'perf', 'wide']);
/** Most operators (and parentheses) in one statement or declaration. */
export const MAX_OPERATORS = 256;

/** Binary operators by precedence, loosest first (C's order). */
const LEVELS: BinaryOp[][] = [
  ['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '<=', '>', '>='], ['<<', '>>'], ['+', '-'], ['*', '/', '%'],
];

export function parse(source: string, file: string, diagnostics: Diagnostic[]): Program {
  const before = diagnostics.length;
  const tokens = lex(source, file, diagnostics);
  const badLines = new Set(diagnostics.slice(before).map((d) => d.span.line));
  return new Parser(tokens, file, diagnostics, badLines).program();
}

/** Parse a lone expression (the debugger's evaluate); errors go to `diagnostics`. */
export function parseExpression(source: string, diagnostics: Diagnostic[]): Expr | null {
  const p = new Parser(lex(source, '<expression>', diagnostics), '<expression>', diagnostics);
  return p.lonelyExpression();
}

class Parser {
  private pos = 0;
  /** Inside parentheses or brackets a newline does not end the expression. */
  private nesting = 0;

  constructor(
    private readonly tokens: Token[], private readonly file: string, private readonly diagnostics: Diagnostic[],
    /** Lines with a lexical error already reported: a syntax error there would only repeat it. */
    private readonly badLines: ReadonlySet<number> = new Set(),
  ) {}

  // ---- token helpers

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)];
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private is(text: string): boolean {
    const t = this.peek();
    return (t.kind === 'punct' || t.kind === 'ident') && t.text === text;
  }

  private accept(text: string): Token | null {
    return this.is(text) ? this.next() : null;
  }

  private error(message: string, span: Span): never {
    if (!this.badLines.has(span.line)) this.diagnostics.push({ file: this.file, severity: 'error', message, span });
    throw new SyntaxAbort(message);
  }

  private describe(t: Token): string {
    if (t.kind === 'eof') return 'end of file';
    if (t.newlineBefore && this.pos > 0) return `'${t.text}' on a new line`;
    return `'${t.text}'`;
  }

  private expect(text: string, what?: string): Token {
    if (this.is(text)) return this.next();
    return this.error(`expected ${what ?? `'${text}'`}, found ${this.describe(this.peek())}`, this.peek().span);
  }

  private ident(what: string): Token {
    const t = this.peek();
    if (t.kind === 'ident' && !KEYWORDS.has(t.text)) return this.next();
    if (t.kind === 'ident') return this.error(`expected ${what}, found keyword '${t.text}'`, t.span);
    return this.error(`expected ${what}, found ${this.describe(t)}`, t.span);
  }

  private number(what: string): Token {
    const t = this.peek();
    if (t.kind === 'number') return this.checked(this.next());
    return this.error(`expected ${what}, found ${this.describe(t)}`, t.span);
  }

  /** A malformed number (already reported by the lexer) abandons what uses it, without a second message. */
  private checked(t: Token): Token {
    if (t.kind === 'number' && t.value === undefined) throw new SyntaxAbort('malformed number');
    return t;
  }

  /** The statement must end here: a newline, ';', '}' or the end of the file. */
  private endOfStatement(): void {
    if (this.accept(';')) return;
    const t = this.peek();
    if (t.newlineBefore || t.kind === 'eof' || this.is('}')) return;
    this.error(`expected the end of the statement, found ${this.describe(t)}`, t.span);
  }

  private smallInt(t: Token, what: string, max: number): number {
    const v = t.value as bigint;
    if (v > BigInt(max)) this.error(`${what} ${v} is too large (at most ${max})`, t.span);
    return Number(v);
  }

  // ---- top level

  program(): Program {
    const prog: Program = { file: this.file, machine: null, globals: [], fns: [], threads: [], users: [], brokenThreads: [] };
    while (this.peek().kind !== 'eof') {
      const t = this.peek();
      const start = this.pos;
      this.operators = 0;
      try {
        if (t.kind !== 'ident' || !TOP_LEVEL.has(t.text)) {
          this.error(`expected a declaration (machine, global, fn, thread, perf or wide), found ${this.describe(t)}`, t.span);
        }
        switch (t.text) {
          case 'machine': {
            const m = this.machineDecl();
            if (prog.machine !== null) this.diagnostics.push({ file: this.file, severity: 'error', message: 'only one machine line is allowed', span: m.span });
            else prog.machine = m;
            break;
          }
          case 'global': prog.globals.push(this.globalDecl()); break;
          case 'fn': prog.fns.push(this.fnDecl()); break;
          case 'thread': prog.threads.push(this.threadDecl()); break;
          default: prog.users.push(this.userDecl()); break;
        }
      } catch (e) {
        if (!(e instanceof SyntaxAbort)) throw e;
        // Remember a thread whose declaration broke, so that nobody is told it does not exist.
        if (t.text === 'thread' && this.tokens[this.tokens.indexOf(t) + 1]?.kind === 'ident') prog.brokenThreads.push(this.tokens[this.tokens.indexOf(t) + 1].text);
        this.skipToDeclaration(start);
      }
    }
    return prog;
  }

  /** Recover at the top level: skip to the next declaration keyword at the start of a line (not consuming it). */
  private skipToDeclaration(start: number): void {
    this.nesting = 0;
    if (this.pos === start) this.next();
    while (this.peek().kind !== 'eof') {
      const t = this.peek();
      if (t.newlineBefore && t.kind === 'ident' && TOP_LEVEL.has(t.text) && t.span.col === 1) return;
      this.next();
    }
  }

  private machineDecl(): MachineDecl {
    const start = this.next();
    let arch: string | null = null;
    let archSpan: Span | null = null;
    const t = this.peek();
    if (t.kind === 'ident' && !t.newlineBefore && !this.isSettingStart()) {
      this.next();
      arch = t.text;
      archSpan = t.span;
    }
    const settings: MachineDecl['settings'] = [];
    while (this.peek().kind === 'ident' && !this.peek().newlineBefore) {
      const key = this.next();
      this.expect('=');
      const value = this.number(`a number for ${key.text}`);
      settings.push({ key: key.text, value: value.value as bigint, span: spanFrom(key.span, value.span) });
    }
    this.endOfStatement();
    return { arch, archSpan, settings, span: spanFrom(start.span, this.tokens[this.pos - 1].span) };
  }

  private isSettingStart(): boolean {
    return this.peek(1).kind === 'punct' && this.peek(1).text === '=';
  }

  private globalDecl(): GlobalDecl {
    const start = this.next();
    const name = this.ident('a global variable name');
    this.expect(':', "':' and a type");
    const type = this.type();
    let addr: bigint | null = null;
    if (this.accept('@')) addr = this.number('an address after @').value as bigint;
    let init: Expr[] | null = null;
    if (this.accept('=')) {
      if (this.accept('{')) {
        this.nesting++;
        init = [];
        if (!this.is('}')) {
          do init.push(this.expression()); while (this.accept(','));
        }
        this.expect('}', "'}' closing the initialiser");
        this.nesting--;
      } else {
        init = [this.expression()];
      }
    }
    this.endOfStatement();
    return { name: name.text, nameSpan: name.span, type, addr, init, span: spanFrom(start.span, this.tokens[this.pos - 1].span) };
  }

  private type(): TypeNode {
    const t = this.peek();
    let base: TypeNode;
    if (this.accept('*')) {
      const to = this.type();
      base = { k: 'ptr', to, span: spanFrom(t.span, to.span) };
      return base;
    }
    if (t.kind === 'ident' && SCALARS.has(t.text)) {
      this.next();
      base = { k: 'scalar', name: t.text as ScalarName, span: t.span };
    } else {
      return this.error(`expected a type (u8, u16, u32, u64, i8, i16, i32, i64, tid, mutex, or *T), found ${this.describe(t)}`, t.span);
    }
    if (this.is('[') && !this.peek().newlineBefore) {
      this.next();
      const n = this.number('an array length');
      const count = this.smallInt(n, 'array length', 1 << 24);
      if (count === 0) this.error('an array needs at least one element', n.span);
      const close = this.expect(']');
      base = { k: 'array', elem: base, count, span: spanFrom(t.span, close.span) };
    }
    return base;
  }

  private fnDecl(): FnDecl {
    const start = this.next();
    const name = this.ident('a function name');
    const params = this.params();
    let ret: TypeNode | null = null;
    if (this.accept(':') || this.accept('->')) ret = this.type();
    const body = this.block();
    return { name: name.text, nameSpan: name.span, params, ret, body, span: spanFrom(start.span, body.span) };
  }

  /** `(NAME: T, …)` */
  private params(): FnDecl['params'] {
    this.expect('(');
    this.nesting++;
    const params: FnDecl['params'] = [];
    if (!this.is(')')) {
      do {
        const p = this.ident('a parameter name');
        this.expect(':', "':' and the parameter's type");
        const type = this.type();
        params.push({ name: p.text, type, span: spanFrom(p.span, type.span) });
      } while (this.accept(','));
    }
    this.expect(')');
    this.nesting--;
    return params;
  }

  private threadDecl(): ThreadDecl {
    const start = this.next();
    const name = this.ident('a thread name');
    const params = this.is('(') && !this.peek().newlineBefore ? this.params() : [];
    let cpu: number | null = null;
    let cpuSpan: Span | null = null;
    if (this.accept('on')) {
      const n = this.number('a CPU number after on');
      cpu = this.smallInt(n, 'CPU', 1023);
      cpuSpan = n.span;
    }
    const body = this.block();
    return { name: name.text, nameSpan: name.span, params, cpu, cpuSpan, body, span: spanFrom(start.span, body.span) };
  }

  private userDecl(): UserDecl {
    const start = this.next();
    const kind = start.text as 'perf' | 'wide';
    let pinned = true;
    if (this.accept('flexible')) pinned = false;
    else this.accept('pinned');
    const type = this.peek();
    if (type.kind !== 'ident' || !['r', 'w', 'rw', 'x'].includes(type.text)) {
      this.error(`expected an access type (r, w, rw or x), found ${this.describe(type)}`, type.span);
    }
    this.next();
    const a = this.peek();
    let addr: bigint | string;
    if (a.kind === 'number') addr = this.checked(this.next()).value as bigint;
    else addr = this.ident('an address or a global name').text;
    this.expect('len', "'len' and a length");
    const lenTok = this.number('a length in bytes');
    const len = this.smallInt(lenTok, 'length', 64);
    let cpu: number | null = null;
    let thread: string | null = null;
    let targetSpan: Span | null = null;
    const sameLine = (word: string) => this.is(word) && !this.peek().newlineBefore ? this.next() : null;
    if (kind === 'perf') {
      if (sameLine('cpu')) {
        const n = this.number('a CPU number');
        cpu = this.smallInt(n, 'CPU', 1023);
        targetSpan = n.span;
      } else if (sameLine('thread')) {
        const n = this.ident('a thread name');
        thread = n.text;
        targetSpan = n.span;
      } else {
        this.error(`a perf breakpoint needs a target: 'cpu N' or 'thread NAME' (use 'wide' for every CPU), found ${this.describe(this.peek())}`, this.peek().span);
      }
    }
    this.endOfStatement();
    return {
      kind, pinned, type: type.text, typeSpan: type.span, addr, addrSpan: a.span, len, cpu, thread, targetSpan,
      span: spanFrom(start.span, this.tokens[this.pos - 1].span),
    };
  }

  // ---- statements

  private block(): Block {
    const open = this.expect('{', "'{' to start a block");
    const stmts: Stmt[] = [];
    const saved = this.nesting;
    this.nesting = 0;
    while (!this.is('}')) {
      if (this.peek().kind === 'eof') {
        this.nesting = saved;
        this.error(`expected '}' to close the block opened at line ${open.span.line}, found end of file`, this.peek().span);
      }
      const start = this.pos;
      try {
        stmts.push(this.statement());
      } catch (e) {
        if (!(e instanceof SyntaxAbort)) throw e;
        this.skipStatement(start);
      }
    }
    const close = this.next();
    this.nesting = saved;
    return { stmts, span: spanFrom(open.span, close.span) };
  }

  /**
   * Recover inside a block: skip to the next line or to the block's closing brace, which stays for
   * the block to consume. Something is always consumed, so recovery cannot loop.
   */
  private skipStatement(start: number): void {
    this.nesting = 0;
    if (this.pos === start && !this.is('}')) this.next();
    let depth = 0;
    while (this.peek().kind !== 'eof') {
      const t = this.peek();
      if (depth === 0 && (this.is('}') || (t.newlineBefore && this.pos > start))) return;
      if (this.is('{')) depth++;
      if (this.is('}')) depth--;
      this.next();
    }
  }

  private statement(): Stmt {
    this.operators = 0;
    const t = this.peek();
    if (t.kind === 'ident') {
      switch (t.text) {
        case 'var': {
          this.next();
          const name = this.ident('a variable name');
          this.expect(':', "':' and a type");
          const type = this.type();
          const init = this.accept('=') ? this.expression() : null;
          this.endOfStatement();
          return { k: 'var', name: name.text, nameSpan: name.span, type, init, span: spanFrom(t.span, this.prevSpan()) };
        }
        case 'if': return this.ifStatement();
        case 'while': {
          this.next();
          const cond = this.expression();
          const body = this.block();
          return { k: 'while', cond, body, span: spanFrom(t.span, body.span) };
        }
        case 'for': {
          this.next();
          const name = this.ident('a loop variable');
          const type = this.accept(':') ? this.type() : null;
          this.expect('in', "'in' and a range (for i in 0..n)");
          const from = this.expression();
          this.expect('..', "'..' between the range's bounds");
          const to = this.expression();
          const body = this.block();
          return { k: 'for', name: name.text, nameSpan: name.span, type, from, to, body, span: spanFrom(t.span, body.span) };
        }
        case 'repeat': {
          this.next();
          const count = this.expression();
          const body = this.block();
          return { k: 'repeat', count, body, span: spanFrom(t.span, body.span) };
        }
        case 'return': {
          this.next();
          const e = this.peek().newlineBefore || this.is('}') || this.is(';') ? null : this.expression();
          this.endOfStatement();
          return { k: 'return', e, span: spanFrom(t.span, this.prevSpan()) };
        }
        case 'break': case 'continue': case 'yield':
          this.next();
          this.endOfStatement();
          return { k: t.text, span: t.span };
        case 'spawn': {
          const e = this.spawnExpr();
          this.endOfStatement();
          return { k: 'spawn', thread: e.thread, threadSpan: e.threadSpan, args: e.parens ? e.args : null, span: e.span };
        }
        case 'join': case 'lock': case 'unlock': {
          this.next();
          if (this.peek().newlineBefore || this.peek().kind === 'eof' || this.is('}') || this.is(';')) {
            this.error(t.text === 'join' ? `expected a thread name or a tid after join, found ${this.describe(this.peek())}` : `expected a mutex after ${t.text}, found ${this.describe(this.peek())}`, this.peek().span);
          }
          const target = this.expression();
          this.endOfStatement();
          return { k: t.text, target, span: spanFrom(t.span, target.span) };
        }
        case 'sleep': {
          this.next();
          const e = this.expression();
          this.endOfStatement();
          return { k: 'sleep', e, span: spanFrom(t.span, e.span) };
        }
        case 'print': {
          this.next();
          const args: Extract<Stmt, { k: 'print' }>['args'] = [];
          if (!this.peek().newlineBefore && !this.is('}')) {
            do {
              const a = this.peek();
              if (a.kind === 'string') {
                this.next();
                args.push({ k: 'str', value: a.value as string, span: a.span });
              } else {
                args.push(this.expression());
              }
            } while (this.accept(','));
          }
          this.endOfStatement();
          return { k: 'print', args, span: spanFrom(t.span, this.prevSpan()) };
        }
        case 'else':
          this.error("'else' without a matching 'if'", t.span);
          break;
        default:
          if (TOP_LEVEL.has(t.text)) this.error(`'${t.text}' declarations belong at the top level, not inside a block`, t.span);
      }
    }
    const e = this.expression();
    if (this.accept('=')) {
      if (e.k !== 'name' && e.k !== 'index' && !(e.k === 'unary' && e.op === '*')) {
        this.error('the left side of = must be a variable, an element a[i] or a dereference *p', e.span);
      }
      const value = this.expression();
      this.endOfStatement();
      return { k: 'assign', target: e, value, span: spanFrom(e.span, value.span) };
    }
    if (e.k !== 'call') this.error('this expression does nothing on its own; did you mean an assignment (=) or a call?', e.span);
    this.endOfStatement();
    return { k: 'expr', e, span: e.span };
  }

  private ifStatement(): Stmt {
    const start = this.next();
    const cond = this.expression();
    const then = this.block();
    let elseBlock: Block | null = null;
    if (this.accept('else')) {
      if (this.is('if')) {
        const nested = this.ifStatement();
        elseBlock = { stmts: [nested], span: nested.span };
      } else {
        elseBlock = this.block();
      }
    }
    return { k: 'if', cond, then, else: elseBlock, span: spanFrom(start.span, (elseBlock ?? then).span) };
  }

  private prevSpan(): Span {
    return this.tokens[Math.max(0, this.pos - 1)].span;
  }

  // ---- expressions

  lonelyExpression(): Expr | null {
    this.operators = 0;
    try {
      const e = this.expression();
      if (this.peek().kind !== 'eof') this.error(`unexpected ${this.describe(this.peek())} after the expression`, this.peek().span);
      return e;
    } catch (e) {
      if (e instanceof SyntaxAbort) return null;
      throw e;
    }
  }

  expression(level = 0): Expr {
    if (level === LEVELS.length) return this.castExpr();
    let left = this.expression(level + 1);
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'punct' || !(LEVELS[level] as string[]).includes(t.text)) return left;
      // A newline ends the statement, unless we are inside parentheses.
      if (t.newlineBefore && this.nesting === 0) return left;
      this.next();
      this.grow(t);
      const right = this.expression(level + 1);
      left = { k: 'binary', op: t.text as BinaryOp, l: left, r: right, span: spanFrom(left.span, right.span) };
    }
  }

  private castExpr(): Expr {
    let e = this.unary();
    while (this.is('as') && (!this.peek().newlineBefore || this.nesting > 0)) {
      this.next();
      const type = this.type();
      e = { k: 'cast', e, type, span: spanFrom(e.span, type.span) };
    }
    return e;
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.kind === 'punct' && ['-', '!', '~', '&', '*'].includes(t.text)) {
      this.next();
      this.grow(t);
      const e = this.unary();
      return { k: 'unary', op: t.text as '-', e, span: spanFrom(t.span, e.span) };
    }
    return this.postfix();
  }

  /** Operators in the current statement; trees beyond this would exhaust the checker's and compiler's stacks. */
  private operators = 0;

  private grow(t: Token): void {
    if (++this.operators > MAX_OPERATORS) this.error(`this statement has more than ${MAX_OPERATORS} operators; split it`, t.span);
  }

  private postfix(): Expr {
    let e = this.primary();
    for (;;) {
      const t = this.peek();
      if (t.newlineBefore && this.nesting === 0) return e;
      if (this.is('[')) {
        this.next();
        this.nesting++;
        const index = this.expression();
        const close = this.expect(']');
        this.nesting--;
        e = { k: 'index', e, index, span: spanFrom(e.span, close.span) };
      } else if (this.is('(')) {
        if (e.k !== 'name') this.error('only a function name can be called', e.span);
        this.next();
        this.nesting++;
        const args: Expr[] = [];
        if (!this.is(')')) {
          do args.push(this.expression()); while (this.accept(','));
        }
        const close = this.expect(')');
        this.nesting--;
        e = { k: 'call', callee: e.name, calleeSpan: e.span, args, span: spanFrom(e.span, close.span) };
      } else {
        return e;
      }
    }
  }

  /** `spawn NAME` or `spawn NAME(args)`; `parens` tells the two apart. */
  private spawnExpr(): { k: 'spawn'; thread: string; threadSpan: Span; args: Expr[]; parens: boolean; span: Span } {
    const start = this.next();
    const name = this.ident('a thread name');
    const args: Expr[] = [];
    let end = name.span;
    let parens = false;
    if (this.is('(') && !this.peek().newlineBefore) {
      parens = true;
      this.next();
      this.nesting++;
      if (!this.is(')')) {
        do args.push(this.expression()); while (this.accept(','));
      }
      end = this.expect(')').span;
      this.nesting--;
    }
    return { k: 'spawn', thread: name.text, threadSpan: name.span, args, parens, span: spanFrom(start.span, end) };
  }

  private primary(): Expr {
    const t = this.peek();
    if (t.kind === 'ident' && t.text === 'spawn') {
      const e = this.spawnExpr();
      if (!e.parens) this.error(`spawn ${e.thread} has no value: spawn ${e.thread}(…) starts a new instance and gives its tid`, e.span);
      return { k: 'spawn', thread: e.thread, threadSpan: e.threadSpan, args: e.args, span: e.span };
    }
    if (t.kind === 'number') {
      this.checked(this.next());
      return { k: 'num', value: t.value as bigint, span: t.span };
    }
    if (t.kind === 'ident' && !KEYWORDS.has(t.text)) {
      this.next();
      return { k: 'name', name: t.text, span: t.span };
    }
    if (this.is('(')) {
      this.next();
      this.grow(t);
      this.nesting++;
      const e = this.expression();
      this.expect(')');
      this.nesting--;
      return e;
    }
    if (t.kind === 'string') return this.error('a string can only appear in print', t.span);
    return this.error(`expected an expression, found ${this.describe(t)}`, t.span);
  }
}
