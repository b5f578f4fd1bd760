/**
 * `npm run fuzz`: the fuzz campaigns with a larger budget than the mocha test, then the known
 * failures' repros.
 *
 *   node out/test/fuzz/run.js [--runs N] [--seed S] [--actions N] [--transport stdio|server|both]
 *                             [--concurrency N] [--all] [--verbose]
 *
 * --runs is the number of sessions per transport (default 60); --all sends even what
 * KNOWN_ADAPTER_FAILURES covers (to see those failures in the wild). Exits 1 on any violation, or
 * on a repro that no longer matches the list.
 */
import { fuzzServer, fuzzStdio, formatViolations, summary, type CampaignResult } from './fuzz';
import { KNOWN_ADAPTER_FAILURES } from './knownFailures';
import { checkRepros } from './repros';

function arg(name: string, fallback: string): string {
  // The last occurrence wins, so `npm run fuzz -- --runs 200` overrides the script's default.
  const i = process.argv.lastIndexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq === undefined ? fallback : eq.slice(name.length + 3);
}

async function main(): Promise<void> {
  const runs = Number(arg('runs', '60'));
  const seed = Number(arg('seed', String(Date.now() % 1_000_000)));
  const maxActions = Number(arg('actions', '40'));
  const transport = arg('transport', 'both');
  const concurrency = Number(arg('concurrency', '3'));
  const verbose = process.argv.includes('--verbose');
  const known = process.argv.includes('--all') ? [] : KNOWN_ADAPTER_FAILURES;
  const log = verbose ? (l: string) => console.log(l) : undefined;
  console.log(`fuzz: seed ${seed}, ${runs} sessions per transport, up to ${maxActions} actions each; known failures not sent: ${known.length === 0 ? 'none (--all)' : known.join(', ')}`);
  const results: CampaignResult[] = [];
  if (transport === 'both' || transport === 'stdio') results.push(await fuzzStdio({ seed, runs, maxActions, known, log }));
  if (transport === 'both' || transport === 'server') results.push(await fuzzServer({ seed, runs, maxActions, known, concurrency, log }));
  let failed = false;
  for (const r of results) {
    console.log(summary(r));
    if (r.violations.length > 0) {
      failed = true;
      console.log(formatViolations(r.violations, verbose ? 200 : 20));
    }
  }
  const total = results.reduce((t, r) => ({ m: t.m + r.messages, s: t.s + r.sessions, c: t.c + r.crashes, h: t.h + r.hangs, u: t.u + r.unanswered }), { m: 0, s: 0, c: 0, h: 0, u: 0 });
  console.log(`total: ${total.m} messages sent, ${total.s} sessions, ${total.c} crashes, ${total.h} hangs, ${total.u} requests unanswered (seed ${seed})`);

  console.log('\nknown failures (repros):');
  for (const r of await checkRepros()) {
    const status = r.error !== undefined ? `ERROR: ${r.error}` : r.failure === null ? (r.listed ? 'FIXED (remove it from KNOWN_ADAPTER_FAILURES)' : 'ok') : r.listed ? 'still fails (listed)' : 'FAILS (not listed)';
    if (r.error !== undefined || r.listed !== (r.failure !== null)) failed = true;
    console.log(`  ${r.id}: ${status}${r.failure !== null ? ` — ${r.failure}` : ''}`);
  }
  process.exitCode = failed ? 1 : 0;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 2;
});
