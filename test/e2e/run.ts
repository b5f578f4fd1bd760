/**
 * `npm run test:e2e`: the extension-host tests in a real VS Code. code-server (installed by
 * scripts/setup-code-server.sh) serves VS Code 1.96 for the browser; Debian's Chromium, driven by
 * playwright-core, opens it with this repository as the extension under development and
 * test/e2e/suite as the tests, which run in the real node extension host and write their results
 * to a file this runner waits for. Then the UI test (ui.ts) twice: on hwbp-debug.vsix, which
 * code-server runs in its Node extension host, and on a browser-only package (webPackage.ts),
 * which it can run only in the browser's web worker extension host.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runUiTest } from './ui';
import { makeWebOnlyVsix } from './webPackage';

const ROOT = join(__dirname, '..', '..', '..');
const TOOLS = join(ROOT, '.tools');
const CODE_SERVER = join(TOOLS, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const RESULTS = join(TOOLS, 'e2e-results.json');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function fail(message: string): never {
  console.error(`test:e2e: ${message}`);
  process.exit(1);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) fail(`timed out after ${ms / 1000}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function startCodeServer(extensionsDir: string, workspace: string): Promise<{ port: number; proc: ChildProcess; log: string[] }> {
  if (!existsSync(CODE_SERVER)) fail(`code-server is missing: run scripts/setup-code-server.sh (expected ${CODE_SERVER})`);
  const port = await freePort();
  const work = mkdtempSync(join(tmpdir(), 'hwbp-e2e-'));
  const log: string[] = [];
  const proc = spawn(process.execPath, [
    CODE_SERVER, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check',
    '--disable-workspace-trust', '--user-data-dir', join(work, 'user'), '--extensions-dir', extensionsDir, workspace,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (d) => log.push(String(d)));
  proc.stderr!.on('data', (d) => log.push(String(d)));
  await waitFor('code-server to answer', async () => {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      return r.ok ? true : undefined;
    } catch {
      return undefined;
    }
  }, 60_000);
  return { port, proc, log };
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync('/usr/bin/chromium')) fail('Debian\'s chromium is missing: run scripts/setup-code-server.sh');
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

export function makeWorkspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hwbp-ws-'));
  cpSync(join(ROOT, 'examples'), dir, { recursive: true });
  return dir;
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'extension.js'))) fail('dist/extension.js is missing: run npm run package first');
  const setup = spawnSync('bash', [join(ROOT, 'scripts', 'setup-code-server.sh')], { stdio: 'inherit' });
  if (setup.status !== 0) fail('scripts/setup-code-server.sh failed');
  mkdirSync(TOOLS, { recursive: true });
  rmSync(RESULTS, { force: true });
  const workspace = makeWorkspace();
  const server = await startCodeServer(mkdtempSync(join(tmpdir(), 'hwbp-ext-')), workspace);
  const browser = await launchBrowser();
  try {
    const remote = (p: string) => `vscode-remote://127.0.0.1:${server.port}${p}`;
    const payload = [['extensionDevelopmentPath', remote(ROOT)], ['extensionTestsPath', remote(join(ROOT, 'out', 'test', 'e2e', 'suite', 'index.js'))]];
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.port}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    const results = await waitFor('the extension-host tests', () => (existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, 'utf8')) as { passes: number; failures: { title: string; error: string }[] } : undefined), 240_000);
    for (const f of results.failures) console.error(`FAILED: ${f.title}\n${f.error}\n`);
    console.log(`extension host (code-server 4.96.4): ${results.passes} passed, ${results.failures.length} failed`);
    if (results.failures.length > 0) process.exitCode = 1;
  } finally {
    await browser.close();
    server.proc.kill();
  }
  if (!existsSync(join(ROOT, 'hwbp-debug.vsix'))) fail('hwbp-debug.vsix is missing: run npm run package first');
  const deps = { root: ROOT, codeServer: CODE_SERVER, makeWorkspace, startCodeServer, launchBrowser };
  await uiRun('UI on the packaged .vsix', () => runUiTest(deps, { vsix: join(ROOT, 'hwbp-debug.vsix'), screenshots: join(ROOT, 'docs') }), 'docs/');

  // The same scenario on a package whose manifest has only the browser entry: code-server can run
  // it only in the browser's web worker extension host. The page's workers tell that one ran.
  const webDir = join(TOOLS, 'web');
  mkdirSync(webDir, { recursive: true });
  const webVsix = makeWebOnlyVsix(ROOT, join(webDir, 'hwbp-debug-web.vsix'));
  await uiRun('UI on the browser-only .vsix (web worker extension host)',
    () => runUiTest(deps, { vsix: webVsix, screenshots: webDir, inspect: webWorkerLoaded }), '.tools/web/');
}

/** Run one UI scenario, print what passed and a count line; a failure sets the exit code. */
async function uiRun(title: string, body: () => Promise<string[]>, screenshots: string): Promise<void> {
  try {
    const passed = await body();
    for (const p of passed) console.log(`  ✔ ${p}`);
    console.log(`${title}: ${passed.length} passed, 0 failed (screenshots in ${screenshots})`);
  } catch (e) {
    console.error(`${title} FAILED: ${(e as Error).message} (screenshot: .tools/ui-failure.png)`);
    console.log(`${title}: 0 passed, 1 failed`);
    process.exitCode = 1;
  }
}

/**
 * Evidence that the web worker extension host ran the extension: VS Code starts that host as a
 * dedicated web worker of the page (in webWorkerExtensionHostIframe.html), and the worker that
 * loaded our browser bundle has fetched dist/webExtension.js (its resource timing entries say so).
 */
async function webWorkerLoaded(page: Page): Promise<string> {
  const fetched: string[] = [];
  for (const worker of page.workers()) {
    const names = await worker.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name)).catch(() => [] as string[]);
    fetched.push(...names.filter((n) => /hwbp-debug[^/]*%2Fdist%2F|hwbp-debug[^/]*\/dist\//.test(n)));
  }
  const bundle = fetched.map((n) => decodeURIComponent(n)).find((n) => /\/dist\/webExtension\.js/.test(n));
  if (bundle === undefined) throw new Error(`no web worker of the page loaded dist/webExtension.js (workers: ${page.workers().length}; extension files they fetched: ${fetched.join(', ') || 'none'})`);
  const host = page.frames().some((f) => /webWorkerExtensionHostIframe\.html/.test(f.url()));
  if (!host) throw new Error('the page has no web worker extension host frame');
  return `a web worker of the page (the web worker extension host) loaded ${bundle.replace(/^.*path=/, '').replace(/&.*$/, '')}`;
}

if (require.main === module) {
  main().catch((e: unknown) => fail(e instanceof Error ? e.stack ?? e.message : String(e)));
}
