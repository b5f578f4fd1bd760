/** Syntax tree of a .hwsim program, as the parser produces it (untyped). */
import type { Span } from './diagnostics';

/** `tid` (a thread id) and `mutex` (a lock word) are 4-byte words the checker keeps apart from numbers. */
export type ScalarName = 'u8' | 'u16' | 'u32' | 'u64' | 'i8' | 'i16' | 'i32' | 'i64' | 'tid' | 'mutex';

export type TypeNode =
  | { k: 'scalar'; name: ScalarName; span: Span }
  | { k: 'ptr'; to: TypeNode; span: Span }
  | { k: 'array'; elem: TypeNode; count: number; span: Span };

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '<<' | '>>' | '&' | '|' | '^' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';
export type UnaryOp = '-' | '!' | '~' | '&' | '*';

export type Expr =
  | { k: 'num'; value: bigint; span: Span }
  | { k: 'name'; name: string; span: Span }
  | { k: 'unary'; op: UnaryOp; e: Expr; span: Span }
  | { k: 'binary'; op: BinaryOp; l: Expr; r: Expr; span: Span }
  | { k: 'index'; e: Expr; index: Expr; span: Span }
  | { k: 'call'; callee: string; calleeSpan: Span; args: Expr[]; span: Span }
  | { k: 'cast'; e: Expr; type: TypeNode; span: Span }
  /** `spawn NAME(args)`: starts a new instance of a thread and gives its tid. */
  | { k: 'spawn'; thread: string; threadSpan: Span; args: Expr[]; span: Span };

export interface Block {
  stmts: Stmt[];
  span: Span;
}

export type Stmt =
  | { k: 'var'; name: string; nameSpan: Span; type: TypeNode; init: Expr | null; span: Span }
  | { k: 'assign'; target: Expr; value: Expr; span: Span }
  | { k: 'expr'; e: Expr; span: Span }
  | { k: 'if'; cond: Expr; then: Block; else: Block | null; span: Span }
  | { k: 'while'; cond: Expr; body: Block; span: Span }
  | { k: 'for'; name: string; nameSpan: Span; type: TypeNode | null; from: Expr; to: Expr; body: Block; span: Span }
  | { k: 'repeat'; count: Expr; body: Block; span: Span }
  | { k: 'return'; e: Expr | null; span: Span }
  | { k: 'break' | 'continue' | 'yield'; span: Span }
  /** `spawn NAME` (args null: the declared thread, once) or `spawn NAME(args)` (a new instance). */
  | { k: 'spawn'; thread: string; threadSpan: Span; args: Expr[] | null; span: Span }
  /** `join NAME` (a declared thread) or `join EXPR` (a tid): which one is the checker's to tell. */
  | { k: 'join'; target: Expr; span: Span }
  /** `lock PLACE` / `unlock PLACE`: the place is a mutex. */
  | { k: 'lock' | 'unlock'; target: Expr; span: Span }
  | { k: 'sleep'; e: Expr; span: Span }
  | { k: 'print'; args: (Expr | { k: 'str'; value: string; span: Span })[]; span: Span };

export interface MachineDecl {
  arch: string | null;
  archSpan: Span | null;
  settings: { key: string; value: bigint; span: Span }[];
  span: Span;
}

export interface GlobalDecl {
  name: string;
  nameSpan: Span;
  type: TypeNode;
  addr: bigint | null;
  init: Expr[] | null;
  span: Span;
}

export interface FnDecl {
  name: string;
  nameSpan: Span;
  params: { name: string; type: TypeNode; span: Span }[];
  ret: TypeNode | null;
  body: Block;
  span: Span;
}

export interface ThreadDecl {
  name: string;
  nameSpan: Span;
  /** Parameters (a thread with parameters runs only as instances: `spawn NAME(args)`). */
  params: { name: string; type: TypeNode; span: Span }[];
  cpu: number | null;
  cpuSpan: Span | null;
  body: Block;
  span: Span;
}

/** Another user of the debug registers: `perf [pinned|flexible] TYPE ADDR len N (cpu N | thread NAME)` or `wide …`. */
export interface UserDecl {
  kind: 'perf' | 'wide';
  pinned: boolean;
  type: string;
  typeSpan: Span;
  /** A number, or a global's name. */
  addr: bigint | string;
  addrSpan: Span;
  len: number;
  cpu: number | null;
  thread: string | null;
  targetSpan: Span | null;
  span: Span;
}

export interface Program {
  file: string;
  machine: MachineDecl | null;
  globals: GlobalDecl[];
  fns: FnDecl[];
  threads: ThreadDecl[];
  users: UserDecl[];
  /** Threads whose declaration had a syntax error (already reported). */
  brokenThreads: string[];
}
