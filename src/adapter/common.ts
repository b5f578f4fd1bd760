/**
 * What every part of the session shares: the context a part is given (the program being debugged
 * and a way to send events), the error a user should see, and number/address formatting.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Machine } from '../target';
import type { WatchMode, WatchpointManager } from './watchpoints';

/** An error caused by what the client asked; its message is shown to the user as it is. */
export class UserError extends Error {}

/**
 * The session as its parts see it. Each part (breakpoints, run loop, inspection) gets this object
 * and nothing else of the session: the program being debugged, if any, and a way to talk to the client.
 */
export interface SessionContext {
  /** The machine of the launched program; null before launch and after the end. */
  readonly machine: Machine | null;
  /** The watchpoint manager of that machine. */
  readonly watches: WatchpointManager | null;
  /** The launched program's file, resolved; '' before launch. */
  readonly programPath: string;
  /** A path the client sent, in the form programPath has (resolved the way the session's file access does). */
  resolvePath(path: string): string;
  /** The launch's watchpointMode (auto unless said). */
  readonly watchpointMode: WatchMode;
  /** True while the program runs. */
  readonly running: boolean;
  /** A breakpoint id, unique across every kind (breakpoint events need that). */
  nextBreakpointId(): number;
  /** Send an event to the client. */
  send(event: DebugProtocol.Event): void;
  /** Send the hwbp.state event. */
  sendState(): void;
}

/** The machine, or a UserError if no program is running. */
export function needMachine(ctx: SessionContext): Machine {
  if (ctx.machine === null) throw new UserError('no program is running (launch one first)');
  return ctx.machine;
}

/** The machine of a stopped program, or a UserError. */
export function needStopped(ctx: SessionContext): Machine {
  const m = needMachine(ctx);
  if (ctx.running) throw new UserError('the program is running; pause it first');
  return m;
}

/** An empty or blank condition means none, as clients send it. */
export function orNull(text: string | undefined): string | null {
  return text === undefined || text.trim() === '' ? null : text;
}

export function hex(n: number): string {
  return '0x' + n.toString(16);
}

export function parseAddress(text: string): number {
  const t = String(text).trim();
  const n = /^0x[0-9a-f]+$/i.test(t) ? Number.parseInt(t.slice(2), 16) : /^\d+$/.test(t) ? Number(t) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw new UserError(`'${text}' is not an address (decimal, or hex with 0x)`);
  return n;
}
