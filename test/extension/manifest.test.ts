/** The extension's manifest agrees with the code, and the package holds what an install needs. */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAUNCH_ATTRIBUTES } from '../../src/adapter/session';

const ROOT = join(__dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const extensionSource = readFileSync(join(ROOT, 'src', 'extensionCore.ts'), 'utf8') + readFileSync(join(ROOT, 'src', 'views', 'registersView.ts'), 'utf8');

describe('extension manifest', () => {
  const debuggerContribution = pkg.contributes.debuggers[0];

  it('documents every launch attribute the adapter reads, and no other', () => {
    const props = debuggerContribution.configurationAttributes.launch.properties;
    assert.deepEqual(Object.keys(props).sort(), [...LAUNCH_ATTRIBUTES].sort());
    for (const [name, p] of Object.entries(props)) assert.ok((p as { description?: string }).description, `${name} has a description`);
    assert.deepEqual(debuggerContribution.configurationAttributes.launch.required, ['program']);
  });

  it('declares the debugger, the language, its grammar and breakpoints', () => {
    assert.equal(debuggerContribution.type, 'hwbp');
    assert.deepEqual(debuggerContribution.languages, ['hwsim']);
    assert.deepEqual(pkg.contributes.breakpoints, [{ language: 'hwsim' }]);
    assert.equal(pkg.contributes.languages[0].id, 'hwsim');
    assert.ok(existsSync(join(ROOT, pkg.contributes.languages[0].configuration)));
    assert.ok(existsSync(join(ROOT, pkg.contributes.grammars[0].path)));
    assert.ok(pkg.activationEvents.includes('onDebugResolve:hwbp') && pkg.activationEvents.includes('onLanguage:hwsim'));
    assert.equal(pkg.main, './dist/extension.js');
    assert.equal(pkg.browser, './dist/webExtension.js');
  });

  it('every command in a menu is declared and registered, and the view exists', () => {
    const declared = new Set(pkg.contributes.commands.map((c: { command: string }) => c.command));
    const inMenus = Object.values(pkg.contributes.menus).flat().map((m) => (m as { command: string }).command);
    for (const c of inMenus) assert.ok(declared.has(c), `${c} is declared`);
    for (const c of declared) assert.ok(extensionSource.includes(`'${c}'`) || extensionSource.includes(`\`\${VIEW_ID}.${String(c).split('.').pop()}\``), `${String(c)} is registered`);
    assert.deepEqual(pkg.contributes.views.debug.map((v: { id: string }) => v.id), ['hwbp.registers']);
    assert.ok(extensionSource.includes("export const VIEW_ID = 'hwbp.registers'"));
  });

  it('puts Show Timeline (with an icon) and Export Trace in the Debug Registers view\'s title bar', () => {
    const command = (id: string) => pkg.contributes.commands.find((c: { command: string }) => c.command === id);
    assert.equal(command('hwbp.timeline.show').title, 'Show Timeline');
    assert.equal(command('hwbp.timeline.show').category, 'Debug Registers');
    assert.match(command('hwbp.timeline.show').icon, /^\$\([a-z-]+\)$/);
    assert.equal(command('hwbp.exportTrace').title, 'Export Trace…');
    const title = pkg.contributes.menus['view/title'] as { command: string; when: string; group: string }[];
    const show = title.find((m) => m.command === 'hwbp.timeline.show')!;
    assert.equal(show.when, 'view == hwbp.registers');
    assert.match(show.group, /^navigation/, 'an icon button, not in the … menu');
    assert.ok(title.some((m) => m.command === 'hwbp.exportTrace' && m.when === 'view == hwbp.registers'));
    // The webview script is bundled for the browser next to the extension.
    assert.equal(pkg.scripts.bundle, 'node scripts/bundle.js');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { timeline } = require(join(ROOT, 'scripts', 'bundle.js')) as { timeline: { entryPoints: string[]; platform: string; outfile: string } };
    assert.deepEqual([timeline.entryPoints, timeline.platform, timeline.outfile], [['media/timeline.ts'], 'browser', 'dist/timeline.js']);
  });

  it('packages only what an installed extension needs', function () {
    this.timeout(60_000);
    const vsce = join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
    const files = execFileSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: ROOT, encoding: 'utf8' })
      .trim().split('\n').sort();
    assert.deepEqual(files.filter((f) => f.startsWith('dist/')), ['dist/debugAdapter.js', 'dist/extension.js', 'dist/timeline.js', 'dist/webExtension.js']);
    assert.ok(files.includes('syntaxes/hwsim.tmLanguage.json') && files.includes('language-configuration.json') && files.includes('examples/race.hwsim'));
    assert.deepEqual(files.filter((f) => /^(src|test|bench|out|node_modules)\/|\.map$|\.ts$/.test(f)), [], 'no sources, tests or maps');
  });
});
