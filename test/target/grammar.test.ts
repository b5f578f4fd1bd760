/**
 * The TextMate grammar, tokenised by VS Code's own engine (vscode-textmate with the oniguruma
 * regex library), on the race example.
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as oniguruma from 'vscode-oniguruma';
import * as vsctm from 'vscode-textmate';

let grammar: vsctm.IGrammar;

async function loadGrammar(): Promise<vsctm.IGrammar> {
  const wasm = readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope: string) =>
      scope === 'source.hwsim' ? vsctm.parseRawGrammar(readFileSync('syntaxes/hwsim.tmLanguage.json', 'utf8'), 'hwsim.tmLanguage.json') : null,
  });
  const g = await registry.loadGrammar('source.hwsim');
  assert.ok(g);
  return g;
}

/** Every token of a text as [text, innermost scope]. */
function tokens(text: string): [string, string][] {
  let stack = vsctm.INITIAL;
  const out: [string, string][] = [];
  for (const line of text.split('\n')) {
    const r = grammar.tokenizeLine(line, stack);
    for (const t of r.tokens) out.push([line.slice(t.startIndex, t.endIndex), t.scopes[t.scopes.length - 1]]);
    stack = r.ruleStack;
  }
  return out;
}

function scopeOf(text: string, word: string): string {
  const hit = tokens(text).find(([t]) => t === word);
  assert.ok(hit, `no token '${word}'`);
  return hit[1];
}

describe('TextMate grammar (vscode-textmate)', () => {
  before(async () => {
    grammar = await loadGrammar();
  });

  const race = readFileSync('examples/race.hwsim', 'utf8');

  it('scopes keywords', () => {
    assert.equal(scopeOf(race, 'while'), 'keyword.control.hwsim');
    assert.equal(scopeOf(race, 'spawn'), 'keyword.control.thread.hwsim');
    assert.equal(scopeOf(race, 'machine'), 'keyword.other.machine.hwsim');
    assert.equal(scopeOf(race, 'perf'), 'keyword.other.debugreg.hwsim');
    assert.equal(scopeOf(race, 'print'), 'keyword.other.hwsim');
  });

  it('scopes types, declarations and calls', () => {
    assert.equal(scopeOf(race, 'u32'), 'storage.type.hwsim');
    assert.equal(scopeOf(race, 'u64'), 'storage.type.hwsim');
    assert.equal(scopeOf(race, 'bump'), 'entity.name.function.hwsim');
    assert.equal(scopeOf(race, 'x86_64'), 'support.constant.arch.hwsim');
    assert.equal(tokens('  bump(1000)').find(([t]) => t === 'bump')?.[1], 'entity.name.function.call.hwsim');
  });

  it('scopes the concurrency forms: lock, unlock, spawn NAME(args), join EXPR, tid, mutex and the atomics', () => {
    const src = [
      'global m: mutex', 'global ids: tid[1000]', 'thread worker(n: u32) {', '  atomic_add(&safe, 1)', '  var old: u32 = cas(&safe, 5, 6)',
      '  var prev: u32 = xchg(&safe, 0)', '  lock m', '  unlock m', '  ids[i] = spawn worker(10)', '  join ids[i]', '}',
    ].join('\n');
    assert.equal(scopeOf(src, 'mutex'), 'storage.type.hwsim');
    assert.equal(scopeOf(src, 'tid'), 'storage.type.hwsim');
    assert.equal(scopeOf(src, 'lock'), 'keyword.control.thread.hwsim');
    assert.equal(scopeOf(src, 'unlock'), 'keyword.control.thread.hwsim');
    assert.equal(scopeOf(src, 'join'), 'keyword.control.thread.hwsim');
    for (const f of ['atomic_add', 'cas', 'xchg']) assert.equal(scopeOf(src, f), 'support.function.builtin.atomic.hwsim', f);
    const spawn = tokens('  ids[i] = spawn worker(10)');
    assert.deepEqual(spawn.filter(([t]) => t === 'spawn' || t === 'worker').map(([, s]) => s), ['keyword.control.thread.hwsim', 'entity.name.function.thread.hwsim']);
    // Only the atomics are built-ins: a name that merely contains one is an ordinary call or name.
    assert.equal(tokens('  cascade(1)').find(([t]) => t === 'cascade')?.[1], 'entity.name.function.call.hwsim');
    assert.notEqual(tokens('  locked = 1').find(([t]) => t.trim() === 'locked')?.[1], 'keyword.control.thread.hwsim');
  });

  it('scopes numbers, strings and comments', () => {
    assert.equal(scopeOf(race, '0x601100'), 'constant.numeric.hex.hwsim');
    assert.equal(scopeOf(race, '1000'), 'constant.numeric.decimal.hwsim');
    assert.equal(scopeOf(race, '"counter = "'.slice(1, -1)), 'string.quoted.double.hwsim');
    assert.equal(tokens('print "a\\n"').find(([t]) => t === '\\n')?.[1], 'constant.character.escape.hwsim');
    assert.equal(tokens(race)[0][1], 'comment.line.double-slash.hwsim');
    assert.equal(tokens('/* block\n still */ global').slice(0, 2).every(([, s]) => s === 'comment.block.hwsim'), true);
  });
});
