/**
 * Entry point of the extension-host tests (the `extensionTestsPath`), in the conventions of
 * @vscode/test-electron: VS Code loads this module in its extension host and calls run(). Here it
 * runs under code-server (see test/e2e/run.ts); the browser window does not close by itself, so
 * the results go to a file the runner waits for.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as mochaModule from 'mocha';

// mocha's CommonJS entry exports the class as a named member, which its typings do not declare.
const Mocha = (mochaModule as unknown as { Mocha: typeof import('mocha') }).Mocha;

export const RESULTS_FILE = join(__dirname, '..', '..', '..', '..', '.tools', 'e2e-results.json');

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  mocha.addFile(join(__dirname, 'extension.test.js'));
  const failures: { title: string; error: string }[] = [];
  let passes = 0;
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('pass', () => passes++);
    runner.on('fail', (test: { fullTitle(): string }, err: Error) => failures.push({ title: test.fullTitle(), error: err.stack ?? err.message }));
  });
  writeFileSync(RESULTS_FILE, JSON.stringify({ passes, failures }, null, 2));
  // Under @vscode/test-electron a rejected run() is how failures are reported.
  if (failures.length > 0) throw new Error(`${failures.length} extension-host test(s) failed`);
}
