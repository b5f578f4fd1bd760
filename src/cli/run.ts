/**
 * `hwbp check` and `hwbp run`: the workload language and the simulated machine, headless.
 */
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { buildTimelineChunk } from '../adapter/timeline';
import { toChromeTrace } from '../adapter/traceExport';
import { WatchpointManager, type WatchAccess, type WatchMode, type WatchpointInfo } from '../adapter/watchpoints';
import type { CpuSnapshot } from '../hwbp';
import { checkProgram, formatDiagnostic, loadProgram, lostUpdateHint, overrideErrors, RuntimeFault, type Machine, type MachineOverrides, type StopEvent } from '../target';

export class UsageError extends Error {}

type Write = (line: string) => void;

export function readSource(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

/** `hwbp check FILE…`: diagnostics of every file; 1 if any has errors. */
export function runCheck(args: string[], out: Write, err: Write): number {
  if (args.length === 0) throw new UsageError('hwbp check: give one or more .hwsim files');
  let failed = false;
  for (const file of args) {
    const diagnostics = checkProgram(readSource(file), file);
    for (const d of diagnostics) err(formatDiagnostic(d));
    if (diagnostics.some((d) => d.severity === 'error')) failed = true;
    else out(`${file}: ok`);
  }
  return failed ? 1 : 0;
}

export interface WatchSpec {
  expr: string;
  access: WatchAccess;
  mode: WatchMode;
  /** FN::EXPR: a local of FN, watched in every call of FN until that call returns. */
  fn?: string;
}

/** [FN::]EXPR[:w|:rw|:r][:pinned|:flexible|:auto] */
export function parseWatchSpec(spec: string): WatchSpec {
  const parts = spec.split(':');
  let access: WatchAccess = 'w';
  let mode: WatchMode = 'auto';
  while (parts.length > 1) {
    const last = parts[parts.length - 1];
    if (last === 'w' || last === 'rw' || last === 'r') access = last;
    else if (last === 'pinned' || last === 'flexible' || last === 'auto') mode = last;
    else break;
    parts.pop();
  }
  const expr = parts.join(':').trim();
  if (expr === '') throw new UsageError(`--watch ${spec}: give an expression to watch, e.g. --watch counter:rw:pinned`);
  const local = /^([A-Za-z_]\w*)\s*::\s*(.*)$/.exec(expr);
  if (local !== null && local[2] === '') throw new UsageError(`--watch ${spec}: give a local of ${local[1]} after ::, e.g. --watch ${local[1]}::x`);
  if (local === null && expr.includes('::')) throw new UsageError(`--watch ${spec}: write FN::EXPR with a function or thread name before ::`);
  return local === null ? { expr, access, mode } : { expr: local[2], access, mode, fn: local[1] };
}

interface RunOptions {
  file: string;
  watches: WatchSpec[];
  json: boolean;
  maxSteps: number;
  /** Print at most this many hit lines (the table still counts them all). */
  maxHits: number;
  overrides: MachineOverrides;
  /** --trace: where to write the register timeline as a Chrome trace (Perfetto). */
  trace: string | null;
}

function parseRunArgs(args: string[]): RunOptions {
  const opts: RunOptions = { file: '', watches: [], json: false, maxSteps: 200_000_000, maxHits: Infinity, overrides: {}, trace: null };
  const numeric = (flag: string, v: string | undefined): number => {
    if (v === undefined || !/^\d+$/.test(v)) throw new UsageError(`${flag} needs a whole number`);
    return Number(v);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    switch (a) {
      case '--watch': {
        const v = args[++i];
        if (v === undefined) throw new UsageError('--watch needs [FN::]EXPR[:w|:rw|:r][:pinned|:flexible|:auto]');
        opts.watches.push(parseWatchSpec(v));
        break;
      }
      case '--json': opts.json = true; break;
      case '--max-steps': opts.maxSteps = numeric(a, args[++i]); break;
      case '--hits': opts.maxHits = numeric(a, args[++i]); break;
      case '--seed': opts.overrides.seed = numeric(a, args[++i]); break;
      case '--cpus': opts.overrides.cpus = numeric(a, args[++i]); break;
      case '--mux': opts.overrides.mux = numeric(a, args[++i]); break;
      case '--timeslice': opts.overrides.timeslice = numeric(a, args[++i]); break;
      case '--timeline-capacity': opts.overrides.timelineCapacity = numeric(a, args[++i]); break;
      case '--trace': {
        const v = args[++i];
        if (v === undefined || v === '' || v.startsWith('--')) throw new UsageError('--trace needs a file to write, e.g. --trace out.json');
        opts.trace = v;
        break;
      }
      case '--arch': {
        const v = args[++i];
        if (v !== 'x86_64' && v !== 'arm64') throw new UsageError('--arch takes x86_64 or arm64');
        opts.overrides.arch = v;
        break;
      }
      default:
        if (a.startsWith('--')) throw new UsageError(`hwbp run: unknown option ${a}`);
        if (opts.file !== '') throw new UsageError(`hwbp run: one program at a time (got ${opts.file} and ${a})`);
        opts.file = a;
    }
  }
  if (opts.file === '') throw new UsageError('hwbp run: give a .hwsim file');
  const bad = overrideErrors(opts.overrides);
  if (bad.length > 0) throw new UsageError(`hwbp run: --${bad[0].replace(/^timelineCapacity/, 'timeline-capacity')}`);
  if (opts.trace !== null && opts.overrides.timelineCapacity === 0) throw new UsageError('--trace needs the timeline: --timeline-capacity 0 turns it off');
  // Only --trace reads the register timeline here: without it, recording would be work nobody sees.
  if (opts.trace === null && opts.overrides.timelineCapacity === undefined) opts.overrides.timelineCapacity = 0;
  return opts;
}

const hex = (n: number) => '0x' + n.toString(16);

/** `hwbp run FILE [--watch SPEC]… [--json]`: run headless, report every watchpoint hit and the registers. */
export function runProgram(args: string[], out: Write, err: Write): number {
  const opts = parseRunArgs(args);
  const source = readSource(opts.file);
  // The trace file is opened (created, or emptied) before anything runs: a path that cannot be written fails now.
  const traceFd = opts.trace === null ? null : openTrace(opts.trace);
  try {
    return runLoaded(opts, source, traceFd, out, err);
  } finally {
    if (traceFd !== null) closeSync(traceFd);
  }
}

function openTrace(path: string): number {
  try {
    return openSync(path, 'w');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
      : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new UsageError(`--trace ${path}: cannot write the trace there (${why}); nothing was run`);
  }
}

function runLoaded(opts: RunOptions, source: string, traceFd: number | null, out: Write, err: Write): number {
  const { diagnostics, machine } = loadProgram(source, opts.file, opts.overrides);
  for (const d of diagnostics) err(formatDiagnostic(d));
  if (machine === null) return 1;
  const json = (o: object) => out(JSON.stringify(o));
  const cfg = machine.config;
  if (opts.json) json({ type: 'start', file: opts.file, machine: cfg });
  else out(`hwbp run ${opts.file} (${cfg.arch}, ${cfg.cpus} CPUs, timeslice ${cfg.timeslice}, mux ${cfg.mux}, seed ${cfg.seed})`);

  machine.on((e) => {
    if (e.kind === 'output') {
      const name = machine.thread(e.threadId).name;
      if (opts.json) json({ type: 'output', thread: name, text: e.text });
      else out(`${name}: ${e.text}`);
    } else if (e.kind === 'notice') {
      if (opts.json) json({ type: 'notice', text: e.text });
      else out(`note: ${e.text}`);
    }
  });
  for (const u of machine.users) {
    if (opts.json) json({ type: 'user', label: u.user.label, eventIds: u.eventIds, error: u.error });
    else if (u.error !== null) out(`other user: ${u.user.label} -> refused: ${u.error}`);
    else out(`other user: ${u.user.label} -> event${u.eventIds.length > 1 ? 's' : ''} #${u.eventIds.join(', #')}`);
  }

  const manager = new WatchpointManager(machine, (info, why) => {
    if (opts.json) json({ type: 'watchpoint-changed', why, watchpoint: info });
    else if (why === 'deleted') out(`watch #${info.id}: ${info.message} after ${info.hits} hit${info.hits === 1 ? '' : 's'}`);
    else out(`watch #${info.id} ${info.label} ${why}: ${info.message}`);
  });
  for (const w of opts.watches) {
    if (w.fn !== undefined) continue;
    let target;
    try {
      target = machine.evaluate(w.expr, null);
    } catch (e) {
      if (!(e instanceof RuntimeFault)) throw e;
      const name = /^unknown name '(\w+)'$/.exec(e.message)?.[1];
      const fns = name === undefined ? [] : machine.functionsWithLocal(name);
      if (fns.length > 0) {
        throw new UsageError(`--watch ${w.expr}: ${name} is not a global but a local of ${fns.join(', ')}, which lives only while a call runs; `
          + `use --watch ${fns[0]}::${w.expr} to watch it in every call of ${fns[0]} (each watchpoint is deleted when its call returns)`);
      }
      throw new UsageError(`--watch ${w.expr}: ${e.message}`);
    }
    if (target.addr === null || target.size === null) throw new UsageError(`--watch ${w.expr}: not a variable or element in memory (it is a ${target.type} value)`);
    let info: WatchpointInfo;
    try {
      info = manager.add({ label: w.expr, addr: target.addr, size: target.size, access: w.access, mode: w.mode });
    } catch (e) {
      throw new UsageError(`--watch ${w.expr}: ${(e as Error).message}`);
    }
    if (opts.json) json({ type: 'watch', watchpoint: info });
    else out(`watch #${info.id} ${w.expr} (${target.size} bytes at ${hex(target.addr)}, ${w.access}): ${info.message}`);
  }
  watchLocals(machine, manager, opts.watches.filter((w) => w.fn !== undefined), opts.json, out);

  // The registers at the last hit: each hit only marks a checkpoint (O(1)); the table is built once, at the end.
  let lastTime: number | null = null;
  let steps = 0;
  let hitStops = 0;
  let stop: StopEvent | null = null;
  while (steps < opts.maxSteps) {
    const budget = Math.min(1_000_000, opts.maxSteps - steps);
    stop = machine.run(budget);
    if (stop === null) {
      steps += budget;
      continue;
    }
    if (stop.reason !== 'data' && stop.reason !== 'exec') break;
    if (++hitStops <= opts.maxHits) reportHit(machine, manager, stop, opts.json, out);
    machine.kernel.checkpointRegisters();
    lastTime = stop.time;
    stop = null;
  }

  if (hitStops > opts.maxHits) {
    if (opts.json) json({ type: 'hits-not-shown', count: hitStops - opts.maxHits });
    else out(`… and ${hitStops - opts.maxHits} more hit${hitStops - opts.maxHits === 1 ? '' : 's'} not shown (--hits ${opts.maxHits})`);
  }
  let code = 0;
  if (stop === null) {
    code = 2;
    if (opts.json) json({ type: 'exit', reason: 'limit', steps: opts.maxSteps });
    else out(`stopped after ${opts.maxSteps} CPU steps (--max-steps); the program was still running`);
  } else if (stop.reason === 'exited') {
    if (opts.json) json({ type: 'exit', reason: 'exited', time: stop.time });
    else out(`exited: ${stop.message} after ${stop.time} cycles`);
  } else {
    code = 1;
    if (opts.json) json({ type: 'exit', reason: stop.reason, message: stop.message, time: stop.time });
    // A deadlock's message already starts with the word.
    else out(stop.message?.startsWith(`${stop.reason}:`) ? stop.message : `${stop.reason}: ${stop.message ?? ''}`);
  }
  const atLastHit = lastTime === null ? null : machine.kernel.registersAtCheckpoint();
  printRegisters(atLastHit ?? machine.kernel.snapshot().cpus, atLastHit === null ? 'at exit' : `at the last hit (t=${lastTime})`, opts.json, out);
  printWatchpoints(manager.list(), opts.json, out);
  if (traceFd !== null) writeTrace(machine, manager, opts.trace!, traceFd, opts.json, out, err);
  manager.dispose();
  return code;
}

function writeTrace(machine: Machine, manager: WatchpointManager, path: string, fd: number, asJson: boolean, out: Write, err: Write): void {
  const chunk = buildTimelineChunk({ machine, watches: manager });
  const trace = toChromeTrace(chunk);
  writeFileSync(fd, JSON.stringify(trace));
  const slices = trace.traceEvents.filter((e) => e.ph === 'X').length;
  const instants = trace.traceEvents.filter((e) => e.ph === 'i').length;
  const { intervals, marks } = chunk.dropped;
  if (asJson) out(JSON.stringify({ type: 'trace', file: path, slices, instants, capacity: chunk.capacity, dropped: chunk.dropped }));
  else out(`\ntrace: ${path} (${slices} register intervals, ${instants} hits and missed accesses; open it in ui.perfetto.dev)`);
  if (intervals + marks > 0) {
    err(`hwbp: the timeline kept the newest ${chunk.capacity} records and dropped ${intervals} intervals and ${marks} hits/misses before them; `
      + `the trace starts at t=${earliest(chunk.intervals.start, chunk.marks.time, chunk.open.start)} (raise --timeline-capacity to keep more)`);
  }
}

function earliest(...columns: number[][]): number {
  let t = Infinity;
  for (const col of columns) for (const v of col) if (v < t) t = v;
  return Number.isFinite(t) ? t : 0;
}

function reportHit(machine: Machine, manager: WatchpointManager, stop: StopEvent, asJson: boolean, out: Write): void {
  const th = stop.threadId === null ? '?' : machine.thread(stop.threadId).name;
  for (const h of stop.hits) {
    // Only the debugger's own registers: another user's breakpoint on the same bytes may match too.
    let wp: { id: number; label: string } | undefined;
    let regs = '';
    let first = true;
    for (const m of h.hit.matches) {
      if (!stop.eventIds.includes(m.eventId)) continue;
      regs = first ? m.registerName : `${regs}+${m.registerName}`;
      first = false;
      wp ??= manager.ownerBrief(m.eventId);
    }
    if (asJson) {
      out(JSON.stringify({
        type: 'hit', time: stop.time, watchpoint: wp?.id ?? null, label: wp?.label ?? null, thread: th, cpu: stop.cpu, registers: regs,
        status: h.hit.status, line: stop.location?.line ?? null, statement: stop.location?.text ?? null, access: h.kind,
        addr: h.hit.addr, size: h.hit.size, old: h.oldValue, new: h.newValue, sameAs: h.sameAs,
      }));
    } else {
      const change = (h.kind === 'write' ? `${h.oldValue} → ${h.newValue}` : `${h.kind} ${h.newValue}`) + lostUpdateHint(h);
      out(`[t=${stop.time}] watch #${wp?.id ?? '?'} ${wp?.label ?? ''}: thread ${th} cpu${stop.cpu} ${regs} line ${stop.location?.line ?? '?'} \`${stop.location?.text ?? ''}\`: ${change}`);
    }
  }
}

function printRegisters(cpus: CpuSnapshot[], when: string, asJson: boolean, out: Write): void {
  if (asJson) {
    out(JSON.stringify({ type: 'registers', when, cpus }));
    return;
  }
  out(`\nRegisters ${when}:`);
  for (const cpu of cpus) {
    out(`  cpu${cpu.cpu} [${cpu.runningName ?? 'idle'}]${cpu.control.dr7 !== undefined ? ` DR7=${hex(cpu.control.dr7)}` : ''}${cpu.rotating ? ' (flexible rotating)' : ''}`);
    for (const cls of cpu.classes) {
      for (const r of cls.registers) {
        const o = r.occupant;
        out(`    ${r.name.padEnd(5)} ${o === null ? 'free' : `#${o.eventId} ${o.owner}: ${o.type} ${hex(o.addr)}/${o.len} ${o.pinned ? 'pinned' : 'flexible'}`}`);
      }
    }
  }
}

function printWatchpoints(list: WatchpointInfo[], asJson: boolean, out: Write): void {
  if (asJson) {
    for (const w of list) out(JSON.stringify({ type: 'watchpoint', watchpoint: w }));
    return;
  }
  if (list.length === 0) return;
  out('\nWatchpoints:');
  const header = ['#', 'watch', 'access', 'mode', 'state', 'hits', 'enabled', 'running', 'ratio', 'estimate'];
  const rows = list.map((w) => [
    String(w.id), w.label, w.access, w.mode ?? w.requestedMode, w.state, String(w.hits), String(w.timeEnabled), String(w.timeRunning),
    w.timeEnabled > 0 ? (w.timeRunning / w.timeEnabled).toFixed(2) : '-', w.estimate === null ? '<not counted>' : w.estimate.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (cells: string[]) => '  ' + cells.map((c, i) => (i === 1 || i === 3 || i === 4 || i === 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  out(fmt(header));
  for (const r of rows) out(fmt(r));
  for (const w of list) if (w.state === 'rejected') out(`  #${w.id}: ${w.message}`);
}

/**
 * --watch FN::EXPR: a local lives only while its call runs, so each call of FN (already running, or
 * entered later, on any thread) gets its own watchpoint on EXPR in that frame, and the watchpoint
 * is deleted when the call returns (the manager reports it as 'deleted'), as GDB does.
 */
function watchLocals(machine: Machine, manager: WatchpointManager, specs: WatchSpec[], asJson: boolean, out: Write): void {
  for (const w of specs) {
    const problem = machine.localPlaceError(w.fn!, w.expr)
      ?? (w.access === 'r' && machine.config.arch === 'x86_64' ? 'x86 debug registers cannot trap on reads alone; use rw (read or write)' : null);
    if (problem !== null) throw new UsageError(`--watch ${w.fn}::${w.expr}: ${problem}`);
  }
  if (specs.length === 0) return;
  const arm = (w: WatchSpec, threadId: number, frameId: number) => {
    const frame = machine.findFrame(threadId, frameId)!;
    const label = `${w.fn}::${w.expr}`;
    try {
      const r = machine.evaluate(w.expr, threadId, frame.index, true);
      const info = manager.add({ label, addr: r.addr!, size: r.size!, access: w.access, mode: w.mode, scope: { threadId, frameId, fn: frame.fn } });
      if (asJson) out(JSON.stringify({ type: 'watch', thread: machine.thread(threadId).name, watchpoint: info }));
      else out(`watch #${info.id} ${label} (${r.size} bytes at ${hex(r.addr!)}, ${w.access}, thread ${machine.thread(threadId).name}): ${info.message}`);
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      if (asJson) out(JSON.stringify({ type: 'notice', text: `--watch ${label}: ${e.message}` }));
      else out(`note: --watch ${label}: ${e.message}`);
    }
  };
  machine.on((e) => {
    if (e.kind === 'call') for (const w of specs) if (w.fn === e.fn) arm(w, e.threadId, e.frameId);
  });
  for (const fn of new Set(specs.map((w) => w.fn!))) machine.watchCalls(fn, true);
  // Calls already running (a thread's body: main has started before anything runs).
  for (const th of machine.threads) {
    if (th.state === 'exited' || th.state === 'unstarted') continue;
    for (const f of th.frames) for (const w of specs) if (w.fn === f.fn.lowered.name) arm(w, th.id, f.id);
  }
}
