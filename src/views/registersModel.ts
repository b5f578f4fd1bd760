/**
 * The Debug Registers view as plain data: a tree of nodes built from a session's state, and the
 * text of the status bar item and badge. No VS Code here, so it is tested on its own; the extension
 * turns nodes into TreeItems.
 */
import type { CpuView, SessionState, WatchpointView } from './state';

export interface ViewNode {
  id: string;
  label: string;
  description?: string;
  /** Markdown. */
  tooltip?: string;
  /** A codicon name. */
  icon?: string;
  /** For menus: 'watchpoint.pinned', 'watchpoint.flexible', 'watchpoint.rejected', … */
  contextValue?: string;
  /** The DAP breakpoint id, for the watchpoint commands. */
  breakpointId?: number;
  children?: ViewNode[];
  expanded?: boolean;
}

const hex = (n: number) => '0x' + n.toString(16);

/** The CPU whose registers matter most: where the focused (stopped) thread runs, else cpu0. */
export function focusedCpu(state: SessionState): number {
  const t = state.threads.find((x) => x.id === state.stoppedThreadId);
  return t?.cpu ?? 0;
}

export function registerUse(cpu: CpuView): { used: number; total: number } {
  let used = 0;
  let total = 0;
  for (const c of cpu.classes) {
    total += c.slots;
    used += c.registers.filter((r) => r.occupant !== null).length;
  }
  return { used, total };
}

/**
 * Registers the kernel holds on a CPU in its worst situation (pinned breakpoints, plus the one kept
 * for time-sharing): reserved even while the thread that owns them is off the CPU and they are not
 * installed. A new pinned watchpoint fits only in what is left.
 */
export function reservedOn(state: SessionState, cpu: number): number {
  let reserved = 0;
  for (const cls of state.kernel?.constraints ?? []) reserved += cls.cpus.find((r) => r.cpu === cpu)?.worst_case ?? 0;
  return reserved;
}

/**
 * Status bar text and badge for the focused CPU: "DR 3/4" (installed of total), with the reserved
 * count when more are held than installed ("DR 0/4 · 4 reserved"), and the registers still free for
 * a new pinned watchpoint (never counting reserved ones as free).
 */
export function statusOf(state: SessionState | null): { text: string; tooltip: string; free: number } | null {
  if (state === null || state.kernel === null) return null;
  const cpu = state.kernel.cpus[focusedCpu(state)];
  if (cpu === undefined) return null;
  const { used, total } = registerUse(cpu);
  const reserved = reservedOn(state, cpu.cpu);
  const free = Math.max(0, total - Math.max(used, reserved));
  const prefix = state.kernel.arch === 'x86_64' ? 'DR' : 'BP/WP';
  const text = reserved > used ? `${prefix} ${used}/${total} · ${reserved} reserved` : `${prefix} ${used}/${total}`;
  const held = reserved > used ? `; ${reserved} reserved (held for pinned breakpoints and time-sharing, installed when their thread runs here)` : '';
  return { text, tooltip: `cpu${cpu.cpu}: ${used} of ${total} debug registers installed${held}; ${free} free`, free };
}

export function buildTree(state: SessionState | null): ViewNode[] {
  if (state === null || state.kernel === null) return [];
  const k = state.kernel;
  const focus = focusedCpu(state);
  const cpus = k.cpus.map((cpu) => cpuNode(cpu, state, cpu.cpu === focus));
  return [...cpus, watchpointsNode(state), constraintsNode(state)];
}

function cpuNode(cpu: CpuView, state: SessionState, focused: boolean): ViewNode {
  const { used, total } = registerUse(cpu);
  const running = cpu.runningName === null ? 'idle' : `${cpu.runningName} (pid ${cpu.runningPid})`;
  const children: ViewNode[] = [];
  for (const cls of cpu.classes) {
    for (const r of cls.registers) {
      const o = r.occupant;
      const wp = o === null ? undefined : state.watchpoints.find((w) => w.watchpoint?.eventIds.includes(o.eventId));
      children.push({
        id: `cpu${cpu.cpu}/${r.name}`,
        label: r.name,
        description: o === null ? 'free' : `${wp?.label ?? o.owner} · ${o.type} ${hex(o.addr)}/${o.len} · ${o.pinned ? 'pinned' : 'flexible'}`,
        tooltip: o === null
          ? `**${r.name}** on cpu${cpu.cpu} is free`
          : [
            `**${r.name}** on cpu${cpu.cpu} = \`${hex(r.value)}\``,
            `- held by #${o.eventId} ${o.owner}${o.pid === null ? ' (CPU-bound)' : ` (pid ${o.pid})`}`,
            `- ${o.type} ${o.len} byte${o.len === 1 ? '' : 's'} at \`${hex(o.addr)}\`, ${o.pinned ? 'pinned' : 'flexible (time-shared)'}`,
            `- control bits \`${hex(r.control)}\``,
          ].join('\n'),
        icon: o === null ? 'circle-large-outline' : o.pinned ? 'pinned' : 'sync',
        contextValue: o === null ? 'register.free' : 'register.used',
        breakpointId: wp?.breakpointId,
      });
    }
  }
  const c = cpu.control;
  if (c.dr7 !== undefined) {
    children.push({
      id: `cpu${cpu.cpu}/DR7`,
      label: 'DR7',
      description: hex(c.dr7),
      tooltip: 'Debug control: per slot the global/local enable bits, R/W (what it traps) and LEN',
      icon: 'settings',
      children: (c.dr7Decoded ?? []).map((d) => ({
        id: `cpu${cpu.cpu}/DR7/${d.slot}`,
        label: `slot ${d.slot}`,
        description: `${d.global || d.local ? 'enabled' : 'off'}${d.global ? ' G' : ''}${d.local ? ' L' : ''} · ${d.rw} · len ${d.len}`,
      })),
    });
    children.push({
      id: `cpu${cpu.cpu}/DR6`,
      label: 'DR6',
      description: `${hex(c.dr6 ?? 0)}${c.statusHits.length > 0 ? ` · hit: ${c.statusHits.join(', ')}` : ''}`,
      tooltip: 'Debug status: B0–B3 name the registers that matched the last debug exception',
      icon: 'pulse',
    });
  } else if (c.arm64Decoded !== undefined) {
    for (const d of c.arm64Decoded) {
      children.push({ id: `cpu${cpu.cpu}/${d.name}`, label: d.name, description: `${d.enabled ? 'enabled' : 'off'} · ${d.type} · bytes ${d.bytes.join(',')}` });
    }
  }
  return {
    id: `cpu${cpu.cpu}`,
    label: `cpu${cpu.cpu}`,
    description: `${running} · ${used}/${total} used${cpu.rotating ? ' · rotating' : ''}`,
    tooltip: `**cpu${cpu.cpu}** runs ${running}; ${used} of ${total} debug registers in use${cpu.rotating ? '; flexible breakpoints are rotating' : ''}`,
    icon: 'chip',
    expanded: focused,
    children,
  };
}

function watchpointState(w: WatchpointView, state: SessionState): { text: string; icon: string; context: string } {
  const info = w.watchpoint;
  // Menus offer "make pinned" only where it can succeed in some state (the cover fits the registers).
  const pinnable = info === null || info.canPin ? '.pinnable' : '';
  if (info === null || info.state === 'rejected') {
    return { text: `rejected: ${info?.summary ?? w.message}`, icon: 'error', context: `watchpoint.rejected${pinnable}` };
  }
  const installed = state.kernel?.events.some((e) => info.eventIds.includes(e.id) && e.installedOn !== null) ?? false;
  if (info.mode === 'flexible') {
    return { text: installed ? 'active (time-shared)' : 'waiting (time-shared)', icon: installed ? 'sync' : 'watch', context: `watchpoint.flexible${pinnable}` };
  }
  return { text: installed ? 'active' : 'armed (its thread is not on a CPU)', icon: 'pinned', context: 'watchpoint.pinned' };
}

/**
 * A time-shared watchpoint's estimate with its error bound: "≈ 20,116 accesses (running 25% of the
 * time; ±3% if the accesses are spread evenly over time)". The caught hits are a sample of the
 * accesses with probability `ratio`, so the estimate's relative standard error is about
 * sqrt((1 − ratio) / hits); the bound shown is two of them.
 */
export function estimateLine(hits: number, estimate: number | null, ratio: number): string {
  const running = `running ${(ratio * 100).toFixed(0)}% of the time`;
  if (estimate === null || hits === 0) return `≈ ? accesses (${running}; none caught yet, so no estimate)`;
  const bound = 200 * Math.sqrt((1 - ratio) / hits);
  return `≈ ${Math.round(estimate).toLocaleString('en-US')} accesses (${running}; ±${bound < 10 ? bound.toFixed(1) : bound.toFixed(0)}% if the accesses are spread evenly over time)`;
}

function watchpointsNode(state: SessionState): ViewNode {
  const children = state.watchpoints.map((w): ViewNode => {
    const info = w.watchpoint;
    const s = watchpointState(w, state);
    const ratio = info !== null && info.timeEnabled > 0 ? info.timeRunning / info.timeEnabled : null;
    const parts = [info?.mode ?? w.watchpoint?.requestedMode ?? '', s.text];
    if (info !== null && info.state === 'active') {
      parts.push(`${info.hits} hit${info.hits === 1 ? '' : 's'}`);
      if (ratio !== null && ratio < 1) parts.push(`running ${(ratio * 100).toFixed(0)}%`, `≈${info.estimate === null ? '?' : info.estimate.toFixed(0)} estimated`);
    }
    const estimate = info !== null && info.state === 'active' && ratio !== null && ratio < 1 ? estimateLine(info.hits, info.estimate, ratio) : '';
    return {
      id: `watch/${w.breakpointId}`,
      label: w.kind === 'hardware' ? `${w.label} (hardware breakpoint)` : w.label,
      description: parts.filter((p) => p !== '').join(' · '),
      tooltip: [
        `**${w.label}** (${w.access}${info === null ? '' : `, ${info.size} byte${info.size === 1 ? '' : 's'} at \`${hex(info.addr)}\``})`,
        info?.message ?? w.message,
        w.condition === null ? '' : `condition: \`${w.condition}\``,
        w.hitCondition === null ? '' : `hit condition: \`${w.hitCondition}\``,
        estimate,
        info === null ? '' : `enabled ${info.timeEnabled}, running ${info.timeRunning}; ${info.registersPerThread} register(s) per thread`,
      ].filter((l) => l !== '').join('\n\n'),
      icon: s.icon,
      contextValue: s.context,
      breakpointId: w.breakpointId,
    };
  });
  return {
    id: 'watchpoints',
    label: 'Watchpoints',
    description: children.length === 0 ? 'none (set one from the Variables view)' : `${children.length}`,
    icon: 'eye',
    expanded: true,
    children,
  };
}

function constraintsNode(state: SessionState): ViewNode {
  const k = state.kernel!;
  const children = k.constraints.flatMap((cls) => cls.cpus.map((row): ViewNode => ({
    id: `constraints/${cls.name}/${row.cpu}`,
    label: `${k.constraints.length > 1 ? `${cls.name} ` : ''}cpu${row.cpu}`,
    description: `nr_cpu_bp_pinned ${row.nr_cpu_bp_pinned} · nr_bp_flexible ${row.nr_bp_flexible} · task_bp_pinned [${row.task_bp_pinned.join(',')}] · worst ${row.worst_case}/${cls.slots}`,
    tooltip: [
      `**cpu${row.cpu}** (${cls.name} registers: ${cls.slots})`,
      `- nr_cpu_bp_pinned: ${row.nr_cpu_bp_pinned} (pinned breakpoints bound to this CPU)`,
      `- nr_bp_flexible: ${row.nr_bp_flexible} (flexible breakpoints bound to this CPU)`,
      `- task_bp_pinned: [${row.task_bp_pinned.join(', ')}] (tasks using 1, 2, … pinned registers here)`,
      `- task_bp_demand: [${row.task_bp_demand.join(', ')}] (counting a register kept for a task's flexible ones)`,
      `- worst case: ${row.worst_case} of ${cls.slots}`,
    ].join('\n'),
    icon: row.worst_case >= cls.slots ? 'warning' : 'table',
  })));
  return { id: 'constraints', label: 'Constraint table', description: 'the kernel\'s slot accounting', icon: 'table', children };
}
