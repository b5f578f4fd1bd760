/**
 * A package for the browser only: the same files as `npm run package` puts in hwbp-debug.vsix, with
 * a manifest that has `browser` and no `main`. Installed into code-server, such an extension can
 * only run in the browser's web worker extension host (with `main`, code-server's Node host would
 * take it). vsce makes it, as it makes the real package.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export function makeWebOnlyVsix(rootDir: string, out: string): string {
  const root = resolve(rootDir);
  const target = resolve(out);
  mkdirSync(dirname(target), { recursive: true });
  const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  const files = execFileSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: root, encoding: 'utf8' }).trim().split('\n');
  const stage = mkdtempSync(join(tmpdir(), 'hwbp-web-vsix-'));
  for (const f of [...files, '.vscodeignore']) {
    mkdirSync(dirname(join(stage, f)), { recursive: true });
    copyFileSync(join(root, f), join(stage, f));
  }
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main?: string; browser?: string; scripts?: unknown };
  if (manifest.browser === undefined) throw new Error('package.json has no browser entry');
  delete manifest.main;
  // vsce would run the prepublish script; the staged copy has nothing to build.
  delete manifest.scripts;
  writeFileSync(join(stage, 'package.json'), JSON.stringify(manifest, null, 2));
  execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', target], { cwd: stage, stdio: 'ignore' });
  return target;
}
