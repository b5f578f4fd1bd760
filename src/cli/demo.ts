/**
 * `hwbp demo`: a guided tour of the simulated hw_breakpoint layer, printed as text. It shows what
 * the product is about before any workload or editor is involved: scarce registers, a debugger's
 * ptrace breakpoints, another perf user, an ENOSPC with its explanation, and flexible breakpoints
 * time-sharing the register kept for them.
 */
import { createKernel, debugRegOffset, HwbpError, type KernelSnapshot } from '../hwbp';

function hex(n: number): string {
  return '0x' + n.toString(16);
}

function occupancy(snap: KernelSnapshot): string {
  const lines: string[] = [];
  for (const cpu of snap.cpus) {
    const regs = cpu.classes[0].registers.map((r) => {
      if (r.occupant === null) return `${r.name}: free`;
      const o = r.occupant;
      return `${r.name}: #${o.eventId} ${o.type} ${hex(o.addr)}/${o.len} ${o.pinned ? 'pinned' : 'flexible'}`;
    });
    const running = cpu.runningName === null ? 'idle' : `${cpu.runningName} (pid ${cpu.runningPid})`;
    lines.push(`  cpu${cpu.cpu} [${running}] DR7=${hex(cpu.control.dr7 ?? 0)}${cpu.rotating ? ' rotating' : ''}`);
    lines.push(`    ${regs.join(' | ')}`);
  }
  return lines.join('\n');
}

export function runDemo(write: (line: string) => void = (l) => console.log(l)): void {
  const kernel = createKernel({ arch: 'x86_64', cpus: 2, muxInterval: 100 });
  const main = kernel.createTask('main');
  const worker = kernel.createTask('worker');
  write('hwbp-debug: the simulated hw_breakpoint layer (x86_64, 2 CPUs, DR0–DR3 each, mux interval 100)\n');

  write('1. A debugger watches `counter` (0x601000, 4 bytes, writes) in task main through ptrace:');
  kernel.pokeUser(main, debugRegOffset(0), 0x601000);
  kernel.pokeUser(main, debugRegOffset(7), 0x000d0001);
  write(`   POKEUSER DR0=0x601000, DR7=0xd0001 -> virtual DR7 now ${hex(kernel.peekUser(main, debugRegOffset(7)))}`);

  write('2. Another user pins a CPU-bound perf breakpoint on cpu1:');
  kernel.perfEventOpen({ type: 'rw', addr: 0x601100, len: 8 }, { pid: -1, cpu: 1 }, { owner: 'perf record' });
  write('   perf_event_open(rw 0x601100 len 8, pid -1, cpu 1) -> ok');

  write('3. It adds three flexible watchpoints on main: they join one register kept for time-sharing:');
  const flexible = [4, 5, 6].map((i) =>
    kernel.perfEventOpen({ type: 'w', addr: 0x601000 + 8 * i, len: 8, pinned: false }, { pid: main.pid, cpu: -1 }, { owner: `watch log[${i}]` }));
  write(`   opened #${flexible.map((e) => e.id).join(', #')} (flexible)`);

  write('4. Then two pinned ones; the second would take the register kept for the flexible ones on cpu1:');
  for (let i = 1; i <= 2; i++) {
    try {
      kernel.perfEventOpen({ type: 'w', addr: 0x601000 + 8 * i, len: 8 }, { pid: main.pid, cpu: -1 }, { owner: `watch log[${i}]` });
      write(`   watch log[${i}] (pinned) -> ok`);
    } catch (e) {
      if (!(e instanceof HwbpError)) throw e;
      write(`   watch log[${i}] (pinned) -> ${e.message}`);
    }
  }

  kernel.contextSwitch(0, main);
  kernel.contextSwitch(1, worker);
  write('\n   Registers with main on cpu0 and worker on cpu1:');
  write(occupancy(kernel.snapshot()));

  write('\n5. main writes log[5] and counter while the time-shared registers rotate:');
  for (let step = 0; step < 6; step++) {
    for (const ev of [kernel.access(0, 0x601028, 8, 'write'), kernel.access(0, 0x601000, 4, 'write')]) {
      if (ev === null) continue;
      const m = ev.matches.map((x) => `${x.registerName}${x.ptraceIndex === null ? '' : ` (ptrace DR${x.ptraceIndex})`} #${x.eventId}`).join(', ');
      write(`   t=${ev.time} cpu${ev.cpu}: write ${hex(ev.addr)} -> DR6=${hex(ev.status)} ${m}`);
    }
    kernel.tick(0, 100);
  }
  write(`   (writes to log[5] are missed while #${flexible[1].id} waits for its turn)`);

  write('\n6. Time accounting, as perf reports multiplexed counts:');
  write('   event  state      hits  enabled  running  estimate');
  for (const ev of flexible) {
    const c = ev.read();
    write(`   #${String(c.id).padEnd(5)} ${c.state.padEnd(10)} ${String(c.count).padStart(4)} ${String(c.timeEnabled).padStart(8)} ${String(c.timeRunning).padStart(8)}  ${c.estimate === null ? '<not counted>' : c.estimate.toFixed(1)}`);
  }
  write('\nNext: `hwbp run` on .hwsim workloads and the VS Code debugger (see README.md).');
}
