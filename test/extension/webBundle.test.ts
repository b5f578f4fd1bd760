/**
 * The browser entry bundles for a web worker: esbuild for the browser builds it into one file that
 * requires nothing but `vscode`, and the check that `npm run bundle` runs on it catches a Node
 * built-in, whether esbuild refuses it or it is marked external.
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

interface Check { problems: string[]; text: string; files: number }
interface Bundler {
  web: Record<string, unknown> & { external: string[] };
  checkWeb(options?: Record<string, unknown>): Promise<Check>;
}
// A CommonJS script of the build, not part of the compiled sources.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const bundler = require(join(ROOT, 'scripts', 'bundle.js')) as Bundler;

/** The web options with a one-line entry instead of src/webExtension.ts. */
function webWith(code: string, external = bundler.web.external): Record<string, unknown> {
  const { entryPoints: _entry, outfile: _out, ...rest } = bundler.web;
  return { ...rest, external, outfile: 'out.js', stdin: { contents: code, resolveDir: join(ROOT, 'src'), loader: 'ts', sourcefile: 'probe.ts' } };
}

describe('the web bundle', function () {
  this.timeout(30_000);

  it('builds for the browser into one file whose only require is vscode', async () => {
    const { problems, text, files } = await bundler.checkWeb();
    assert.deepEqual(problems, []);
    assert.equal(files, 1);
    assert.deepEqual([...new Set(text.match(/\brequire\(["'][^"']*["']\)/g))], ['require("vscode")']);
    assert.match(text, /workspace\.fs\.readFile/, 'the web entry reads through vscode.workspace.fs');
  });

  it('is what package.json names as the browser entry, and npm run bundle wrote it that way', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.equal(pkg.browser, './dist/webExtension.js');
    assert.equal(bundler.web.outfile, 'dist/webExtension.js');
    assert.equal(bundler.web.platform, 'browser');
    const built = readFileSync(join(ROOT, 'dist', 'webExtension.js'), 'utf8');
    assert.deepEqual([...new Set(built.match(/\brequire\(["'][^"']*["']\)/g))], ['require("vscode")']);
  });

  it('a Node built-in in the web entry fails the check', async () => {
    const refused = await bundler.checkWeb(webWith("import { readFileSync } from 'node:fs'; export const f = readFileSync;"));
    assert.equal(refused.problems.length, 1, refused.problems.join('\n'));
    assert.match(refused.problems[0], /node:fs/);
    const external = await bundler.checkWeb(webWith("import * as path from 'path'; export const p = path;", ['vscode', 'path']));
    assert.deepEqual(external.problems, ["src/probe.ts imports the Node built-in 'path'"]);
    const other = await bundler.checkWeb(webWith("import * as z from 'zod'; export const v = z;", ['vscode', 'zod']));
    assert.deepEqual(other.problems, ["src/probe.ts leaves 'zod' outside the bundle"]);
  });

  it('the adapter itself, without its Node entry, bundles for the browser', async () => {
    const { problems } = await bundler.checkWeb(webWith("export { HwbpDebugSession } from './adapter/session'; export * from './target';"));
    assert.deepEqual(problems, []);
  });
});
