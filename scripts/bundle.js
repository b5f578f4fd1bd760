/**
 * `npm run bundle`: the extension's bundles in dist/, with esbuild.
 * - dist/extension.js: the desktop entry (package.json `main`), for Node;
 * - dist/debugAdapter.js: the adapter as a process (stdio or --server), for Node;
 * - dist/webExtension.js: the browser entry (package.json `browser`), one file for a web worker;
 * - dist/timeline.js: the timeline webview's script.
 * The browser entry is checked as it is built: only `vscode` may stay outside the bundle, and no
 * Node built-in may be in it (esbuild for the browser already refuses to resolve one; the check
 * also catches one marked external). test/extension/webBundle.test.ts runs the same build and check.
 */
const esbuild = require('esbuild');
const { builtinModules } = require('node:module');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

const common = { bundle: true, sourcemap: true, logLevel: 'warning', absWorkingDir: ROOT };

const node = {
  ...common, entryPoints: ['src/adapter/debugAdapter.ts', 'src/extension.ts'], platform: 'node', target: 'node20', format: 'cjs',
  outdir: 'dist', entryNames: '[name]', external: ['vscode'],
};

/** The web worker entry: CommonJS (the host's loader gives it `require('vscode')`), one file. */
const web = {
  ...common, entryPoints: ['src/webExtension.ts'], platform: 'browser', target: 'es2022', format: 'cjs',
  outfile: 'dist/webExtension.js', external: ['vscode'], metafile: true,
  // Node modules that @vscode/debugadapter still requires, with browser stand-ins.
  alias: { events: './src/web/events.ts', url: './src/web/url.ts' },
};

const timeline = {
  ...common, entryPoints: ['media/timeline.ts'], platform: 'browser', target: 'es2022', format: 'iife', outfile: 'dist/timeline.js',
};

/**
 * What in a web build's metafile is not fit for a web worker: an import left outside the bundle
 * other than `vscode`, or a Node built-in. Empty when the bundle is fine.
 */
function webProblems(metafile) {
  const problems = [];
  for (const [file, input] of Object.entries(metafile.inputs)) {
    for (const imp of input.imports) {
      if (NODE_BUILTINS.has(imp.path)) problems.push(`${file} imports the Node built-in '${imp.path}'`);
      else if (imp.external && imp.path !== 'vscode') problems.push(`${file} leaves '${imp.path}' outside the bundle`);
    }
  }
  return problems;
}

/**
 * Build the web entry (or `options`, for a test) without writing it, and say what is wrong: the
 * errors esbuild gave, or webProblems. Resolves to { problems, text }.
 */
async function checkWeb(options = web) {
  try {
    const result = await esbuild.build({ ...options, write: false, logLevel: 'silent', sourcemap: false });
    const out = result.outputFiles.find((f) => f.path.endsWith('.js'));
    return { problems: webProblems(result.metafile), text: out === undefined ? '' : out.text, files: result.outputFiles.length };
  } catch (e) {
    return { problems: (e.errors ?? [{ text: e.message }]).map((m) => `${m.location ? `${m.location.file}:${m.location.line}: ` : ''}${m.text}`), text: '', files: 0 };
  }
}

async function main() {
  await esbuild.build(node);
  const result = await esbuild.build(web);
  const problems = webProblems(result.metafile);
  if (problems.length > 0) throw new Error(`dist/webExtension.js is not fit for a web worker:\n  ${problems.join('\n  ')}`);
  await esbuild.build(timeline);
}

module.exports = { node, web, timeline, webProblems, checkWeb };

if (require.main === module) {
  main().catch((e) => {
    console.error(`bundle: ${e.message}`);
    process.exit(1);
  });
}
