/**
 * The fuzz campaigns, shared by the mocha test (small fixed budget) and `npm run fuzz` (any budget):
 *  - stdio: each session its own adapter process (node out/src/adapter/debugAdapter.js);
 *  - server: one `--server=0` adapter process, sessions in groups that run concurrently, some of
 *    which close their socket without disconnect; after each group a canary session must be served
 *    whole, and the server must stay alive; sessions must not see each other's trace markers; once
 *    every client has gone the server must go idle.
 * Plans come from fast-check (fc.sample with a fixed seed), so a run is reproducible from its seed.
 */
import fc from 'fast-check';
import { AdapterServer, cpuShare, spawnStdioAdapter } from '../support/adapterProcess';
import { type FailureId, isKnown, KNOWN_ADAPTER_FAILURES } from './knownFailures';
import { sessionPlan, type SessionPlan } from './model';
import { runSession, type SessionResult, type Violation } from './session';

export interface CampaignOptions {
  seed: number;
  /** Number of sessions. */
  runs: number;
  /** Actions per session, at most. */
  maxActions: number;
  known?: readonly FailureId[];
  timeoutMs?: number;
  /** Server: sessions run at once. */
  concurrency?: number;
  log?: (line: string) => void;
}

export interface CampaignResult {
  transport: 'stdio' | 'server';
  seed: number;
  sessions: number;
  messages: number;
  crashes: number;
  hangs: number;
  unanswered: number;
  endedByGarbage: number;
  vanished: number;
  refusalsChecked: number;
  skipped: Partial<Record<FailureId, number>>;
  violations: (Violation & { plan: string })[];
  ms: number;
}

function empty(transport: 'stdio' | 'server', seed: number): CampaignResult {
  return { transport, seed, sessions: 0, messages: 0, crashes: 0, hangs: 0, unanswered: 0, endedByGarbage: 0, vanished: 0, refusalsChecked: 0, skipped: {}, violations: [], ms: 0 };
}

function add(c: CampaignResult, r: SessionResult, plan: SessionPlan, index: number): void {
  c.sessions++;
  c.messages += r.requests;
  if (r.crashed) c.crashes++;
  c.hangs += r.violations.filter((v) => v.property === 'answered' || (v.property === 'garbage-survived' && v.detail.includes('no response'))).length;
  c.unanswered += r.timeouts + r.ended;
  if (r.endedByGarbage) c.endedByGarbage++;
  if (r.vanished) c.vanished++;
  c.refusalsChecked += r.refusalsChecked;
  for (const [k, n] of Object.entries(r.skipped)) c.skipped[k as FailureId] = (c.skipped[k as FailureId] ?? 0) + (n ?? 0);
  for (const v of r.violations) c.violations.push({ ...v, plan: `seed ${c.seed}, ${c.transport} session #${index}: ${JSON.stringify(plan).slice(0, 4000)}` });
}

export function plans(seed: number, runs: number, maxActions: number, vanish: boolean): SessionPlan[] {
  return fc.sample(sessionPlan(maxActions, { vanish }), { seed, numRuns: runs });
}

export async function fuzzStdio(o: CampaignOptions): Promise<CampaignResult> {
  const known = o.known ?? KNOWN_ADAPTER_FAILURES;
  const c = empty('stdio', o.seed);
  const t0 = Date.now();
  for (const [i, plan] of plans(o.seed, o.runs, o.maxActions, false).entries()) {
    const wire = spawnStdioAdapter({ timeoutMs: o.timeoutMs ?? 5000 });
    try {
      const r = await runSession(wire, plan, { transport: 'stdio', known, timeoutMs: o.timeoutMs ?? 5000, label: `stdio#${i}` });
      add(c, r, plan, i);
      o.log?.(`stdio #${i}: ${plan.actions.length} actions, ${r.requests} messages, ${r.violations.length} violations`);
    } finally {
      await wire.dispose();
    }
  }
  c.ms = Date.now() - t0;
  return c;
}

/** A short, valid session that must be served whole: the server still works for newcomers. */
const CANARY: SessionPlan = {
  program: 'watch',
  trace: false,
  actions: [
    { kind: 'request', command: 'threads', args: {} },
    { kind: 'request', command: 'dataBreakpointInfo', args: { name: 'counter' } },
    { kind: 'request', command: 'setDataBreakpoints', args: { breakpoints: [{ dataId: { $: 'dataId', i: 0 } }] } },
    { kind: 'request', command: 'continue', args: { threadId: 1 } },
    { kind: 'wait', ms: 50 },
    { kind: 'request', command: 'stackTrace', args: { threadId: 1 } },
    { kind: 'request', command: 'hwbp.state', args: {} },
  ],
};

export async function fuzzServer(o: CampaignOptions): Promise<CampaignResult> {
  const known = o.known ?? KNOWN_ADAPTER_FAILURES;
  const timeoutMs = o.timeoutMs ?? 5000;
  const concurrency = o.concurrency ?? 3;
  const c = empty('server', o.seed);
  const t0 = Date.now();
  const all = plans(o.seed, o.runs, o.maxActions, true).map((p) => {
    // While a known failure makes trace or vanishing harmful to the others, leave it out.
    const plan = { ...p };
    if (isKnown('server-trace-cross-talk', known)) plan.trace = false;
    return plan;
  });
  const server = await AdapterServer.start();
  const serverViolation = (property: string, detail: string) => c.violations.push({ session: 'server', step: -1, action: '', property, detail, plan: `seed ${o.seed}` });
  try {
    for (let g = 0; g < all.length; g += concurrency) {
      const group = all.slice(g, g + concurrency);
      const markers = group.map((_p, k) => `zzfuzzmarker${g + k}x`);
      const wires = await Promise.all(group.map(() => server.connect({ timeoutMs })));
      const results = await Promise.all(group.map((plan, k) => runSession(wires[k], plan, {
        transport: 'server', known, timeoutMs, label: `server#${g + k}`, marker: markers[k],
        stopBeforeVanishing: isKnown('server-vanished-client-runs-on', known),
      })));
      results.forEach((r, k) => add(c, r, group[k], g + k));
      // No session may see another's trace (its marker in an output event).
      wires.forEach((w, k) => {
        const text = w.events.filter((e) => e.event === 'output').map((e) => String((e.body as { output?: unknown })?.output ?? '')).join('');
        markers.forEach((m, j) => {
          if (j !== k && text.includes(m)) {
            c.violations.push({ session: `server#${g + k}`, step: -1, action: '', property: 'no-cross-talk', detail: `its debug console shows the trace of session server#${g + j} (${m})`, plan: `seed ${o.seed}, group from #${g}` });
          }
        });
      });
      for (const w of wires) await w.dispose();
      if (!server.alive) {
        serverViolation('server-alive', `the server exited (${JSON.stringify(server.exit)}) during sessions #${g}–#${g + group.length - 1}; stderr: ${server.stderr.slice(-500)}`);
        break;
      }
      const canary = await server.connect({ timeoutMs });
      const cr = await runSession(canary, CANARY, { transport: 'server', known, timeoutMs, label: `canary after #${g}` });
      await canary.dispose();
      for (const v of cr.violations) c.violations.push({ ...v, property: `others-unaffected/${v.property}`, plan: `seed ${o.seed}, canary after group from #${g}` });
      c.messages += cr.requests;
      o.log?.(`server #${g}–#${g + group.length - 1}: ${results.map((r) => r.violations.length).join('/')} violations, rss ${server.rssKiB()} KiB`);
    }
    if (server.alive) {
      // Every client has gone: nothing may be left running.
      await new Promise((r) => setTimeout(r, 300));
      const share = await cpuShare(server.pid, 1000);
      if (share > 0.25) serverViolation('idle-without-clients', `the server uses ${(share * 100).toFixed(0)}% of a core with no client connected`);
    }
  } finally {
    await server.stop();
  }
  c.ms = Date.now() - t0;
  return c;
}

export function summary(c: CampaignResult): string {
  const skipped = Object.entries(c.skipped).map(([k, n]) => `${k} ×${n}`).join(', ');
  return [
    `${c.transport}: seed ${c.seed}, ${c.sessions} sessions, ${c.messages} messages sent, ${c.crashes} crashes, ${c.hangs} hangs, ${c.unanswered} requests unanswered,`,
    `  ${c.refusalsChecked} refusals checked against hwbp.state, ${c.endedByGarbage} ended cleanly by garbage, ${c.vanished} vanished clients, ${c.violations.length} violations, ${(c.ms / 1000).toFixed(1)} s`,
    `  not sent (covered by KNOWN_ADAPTER_FAILURES): ${skipped === '' ? 'nothing' : skipped}`,
  ].join('\n');
}

export function formatViolations(vs: readonly (Violation & { plan?: string })[], max = 20): string {
  const lines = vs.slice(0, max).map((v) => `- [${v.property}] ${v.session} step ${v.step}: ${v.detail}\n    action: ${v.action}${v.plan !== undefined ? `\n    plan: ${v.plan.slice(0, 1500)}` : ''}`);
  if (vs.length > max) lines.push(`… and ${vs.length - max} more`);
  return lines.join('\n');
}
