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

  it('scopes numbers, strings and comments', () => {
    assert.equal(scopeOf(race, '0x601100'), 'constant.numeric.hex.hwsim');
    assert.equal(scopeOf(race, '1000'), 'constant.numeric.decimal.hwsim');
    assert.equal(scopeOf(race, '"counter = "'.slice(1, -1)), 'string.quoted.double.hwsim');
    assert.equal(tokens('print "a\\n"').find(([t]) => t === '\\n')?.[1], 'constant.character.escape.hwsim');
    assert.equal(tokens(race)[0][1], 'comment.line.double-slash.hwsim');
    assert.equal(tokens('/* block\n still */ global').slice(0, 2).every(([, s]) => s === 'comment.block.hwsim'), true);
  });
});
