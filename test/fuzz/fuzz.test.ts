/**
 * The hardened adapter, black-box: fuzzed DAP sessions against the adapter binary over real stdio
 * and over --server (a small fixed budget and seed, so CI is deterministic; `npm run fuzz` runs a
 * larger one), and a repro per known failure. What each session asserts is in session.ts; the
 * failures today's adapter still has are in knownFailures.ts (KNOWN_ADAPTER_FAILURES): while an id
 * is listed the fuzz does not send what it covers and its repro must still fail; remove the id
 * when the fix lands.
 */
import * as assert from 'node:assert/strict';
import { fuzzServer, fuzzStdio, formatViolations, summary } from './fuzz';
import { FAILURE_IDS, KNOWN_ADAPTER_FAILURES, KNOWN_FAILURES } from './knownFailures';
import { checkRepros, type ReproResult } from './repros';

/** Fixed seeds and budgets: about 5 s each on a 2-core machine, plus about 15 s of repros. */
const STDIO = { seed: 20_240_601, runs: 12, maxActions: 25 };
const SERVER = { seed: 20_240_602, runs: 18, maxActions: 25, concurrency: 3 };

describe('fuzz: the adapter binary survives whatever a client sends', function () {
  this.timeout(120_000);

  it('over stdio: every request answered in time, no exit before disconnect, no junk, refusals change nothing', async () => {
    const r = await fuzzStdio(STDIO);
    assert.equal(r.sessions, STDIO.runs);
    assert.ok(r.refusalsChecked > 0, 'some requests were refused and checked against hwbp.state');
    assert.equal(r.violations.length, 0, `${summary(r)}\n${formatViolations(r.violations)}`);
  });

  it('over --server: concurrent sessions, garbage and vanishing clients do not disturb the others; the server ends idle', async () => {
    const r = await fuzzServer(SERVER);
    assert.equal(r.sessions, SERVER.runs);
    assert.ok(r.vanished > 0, 'some clients vanished without disconnect');
    assert.equal(r.violations.length, 0, `${summary(r)}\n${formatViolations(r.violations)}`);
  });
});

describe('fuzz: known adapter failures (KNOWN_ADAPTER_FAILURES)', function () {
  this.timeout(120_000);
  let results: ReproResult[] = [];

  before(async () => {
    results = await checkRepros();
  });

  it('lists only ids that exist, once each', () => {
    for (const id of KNOWN_ADAPTER_FAILURES) assert.ok(FAILURE_IDS.includes(id), id);
    assert.equal(new Set(KNOWN_ADAPTER_FAILURES).size, KNOWN_ADAPTER_FAILURES.length);
  });

  for (const id of FAILURE_IDS) {
    const listed = KNOWN_ADAPTER_FAILURES.includes(id);
    it(`${id}: ${listed ? 'still fails (listed as known)' : 'behaves'}`, () => {
      const r = results.find((x) => x.id === id);
      assert.ok(r !== undefined, `no repro result for ${id}`);
      assert.equal(r.error, undefined, r.error);
      if (listed) {
        assert.notEqual(r.failure, null, `${id} is fixed: remove it from KNOWN_ADAPTER_FAILURES (test/fuzz/knownFailures.ts)`);
      } else {
        assert.equal(r.failure, null, `${id} fails: ${KNOWN_FAILURES[id].summary}\nfound: ${r.failure}`);
      }
    });
  }
});
