/**
 * The adapter binary as a separate process, for black-box tests: where it is, how to start it over
 * stdio or as a `--server`, and what the operating system says about it (/proc: resident memory,
 * CPU time).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DapWire, type WireOptions } from './dapWire';

export const ROOT = join(__dirname, '..', '..', '..');
/** The compiled adapter (npm run build). */
export const ADAPTER = join(ROOT, 'out', 'src', 'adapter', 'debugAdapter.js');
/** The esbuild bundle (npm run bundle). */
export const BUNDLE = join(ROOT, 'dist', 'debugAdapter.js');

export const FIXTURES = {
  watch: join(ROOT, 'test', 'fixtures', 'watch.hwsim'),
  frames: join(ROOT, 'test', 'fixtures', 'frames.hwsim'),
  loop: join(ROOT, 'test', 'fixtures', 'loop.hwsim'),
  race: join(ROOT, 'examples', 'race.hwsim'),
  contention: join(ROOT, 'examples', 'contention.hwsim'),
  arm64: join(ROOT, 'examples', 'arm64-read.hwsim'),
} as const;

/**
 * Node options for every adapter child: a modest heap, so that a request that makes the adapter
 * allocate without bound fails in about a second (and shows up as a crash) instead of eating the
 * machine's memory. The adapter needs far less than this for any of our programs.
 */
export const CHILD_NODE_ARGS = ['--max-old-space-size=256'];

export function adapterScript(): string {
  if (existsSync(ADAPTER)) return ADAPTER;
  if (existsSync(BUNDLE)) return BUNDLE;
  throw new Error(`no adapter binary: run npm run build (looked for ${ADAPTER} and ${BUNDLE})`);
}

export function spawnStdioAdapter(options: WireOptions = {}): DapWire {
  return DapWire.spawnStdio(adapterScript(), [], { ...options, nodeArgs: CHILD_NODE_ARGS });
}

/** A `--server=0` adapter process: its port (from the line it prints), its pid, and its stderr. */
export class AdapterServer {
  stderr = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  private constructor(readonly child: ChildProcess, readonly port: number) {}

  static start(nodeArgs: string[] = CHILD_NODE_ARGS, timeoutMs = 10_000): Promise<AdapterServer> {
    const child = spawn(process.execPath, [...nodeArgs, adapterScript(), '--server=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    return new Promise((resolve, reject) => {
      let text = '';
      let server: AdapterServer | null = null;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the adapter server did not say where it listens within ${timeoutMs} ms: ${text}`));
      }, timeoutMs);
      child.stderr!.on('data', (d: Buffer) => {
        text += d.toString('utf8');
        if (server !== null) {
          if (server.stderr.length < 1 << 16) server.stderr += d.toString('utf8');
          return;
        }
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(text);
        if (m !== null) {
          clearTimeout(timer);
          server = new AdapterServer(child, Number(m[1]));
          server.stderr = text;
          resolve(server);
        }
      });
      child.on('exit', (code, signal) => {
        if (server !== null) server.exit = { code, signal };
        else {
          clearTimeout(timer);
          reject(new Error(`the adapter server exited (${code ?? signal}) before listening: ${text}`));
        }
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.exit === null;
  }

  connect(options: WireOptions = {}): Promise<DapWire> {
    return DapWire.connect(this.port, options);
  }

  /** Resident set size in KiB (VmRSS in /proc/PID/status). */
  rssKiB(): number {
    return procRssKiB(this.pid);
  }

  /** User + system CPU time in clock ticks (/proc/PID/stat). */
  cpuTicks(): number {
    return procCpuTicks(this.pid);
  }

  async stop(): Promise<void> {
    if (this.exit !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(t);
  }
}

export function procRssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

export function procCpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) in parentheses; utime and stime are fields 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

/** Clock ticks per second for /proc CPU times (USER_HZ: 100 on Linux). */
export const TICKS_PER_SECOND = 100;

/**
 * The CPU share (0–1 per core) a process uses over the next `ms` milliseconds, from /proc.
 */
export async function cpuShare(pid: number, ms: number): Promise<number> {
  const t0 = procCpuTicks(pid);
  const w0 = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  const t1 = procCpuTicks(pid);
  return (t1 - t0) / TICKS_PER_SECOND / ((Date.now() - w0) / 1000);
}
