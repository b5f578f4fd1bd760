/**
 * Tokens of the .hwsim language. Newlines end statements, so every token records whether a
 * newline came before it.
 */
import type { Diagnostic, Span } from './diagnostics';

export type TokenKind = 'ident' | 'number' | 'string' | 'punct' | 'eof';

export interface Token {
  kind: TokenKind;
  text: string;
  /** Numbers: the value; strings: the unescaped text. */
  value?: bigint | string;
  span: Span;
  newlineBefore: boolean;
}

/**
 * Reserved words. `on`, `len`, `cpu`, `pinned` and `flexible` mean something only in their places
 * (a thread header, a perf line), so they stay free for names: a variable may be called len or cpu.
 */
export const KEYWORDS = new Set([
  'machine', 'global', 'fn', 'thread', 'var', 'if', 'else', 'while', 'for', 'in', 'repeat', 'return',
  'break', 'continue', 'spawn', 'join', 'yield', 'sleep', 'print', 'perf', 'wide', 'as',
  'lock', 'unlock',
]);

// Longest first, so that "<<=" style prefixes win.
const PUNCT = ['..', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '->',
  '+', '-', '*', '/', '%', '&', '|', '^', '~', '!', '<', '>', '=', '(', ')', '{', '}', '[', ']', ',', ':', ';', '@', '.'];

export function lex(source: string, file: string, diagnostics: Diagnostic[]): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let col = 1;
  let newlineBefore = true;
  const error = (message: string, l: number, c: number, len = 1) =>
    diagnostics.push({ file, severity: 'error', message, span: { line: l, col: c, endLine: l, endCol: c + len } });

  const advance = (n: number) => {
    for (let k = 0; k < n; k++) {
      if (source[i] === '\n') { line++; col = 1; } else col++;
      i++;
    }
  };

  while (i < source.length) {
    const ch = source[i];
    if (ch === '\n') { advance(1); newlineBefore = true; continue; }
    if (ch === ' ' || ch === '\t' || ch === '\r') { advance(1); continue; }
    if (ch === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') advance(1);
      continue;
    }
    if (ch === '/' && source[i + 1] === '*') {
      const l = line, c = col;
      advance(2);
      while (i < source.length && !(source[i] === '*' && source[i + 1] === '/')) advance(1);
      if (i >= source.length) error('unterminated comment', l, c, 2);
      else advance(2);
      continue;
    }
    const startLine = line, startCol = col;
    const push = (kind: TokenKind, text: string, value?: bigint | string) => {
      tokens.push({ kind, text, value, span: { line: startLine, col: startCol, endLine: line, endCol: col }, newlineBefore });
      newlineBefore = false;
    };
    if (/[A-Za-z_]/.test(ch)) {
      let j = i;
      while (j < source.length && /[A-Za-z0-9_]/.test(source[j])) j++;
      const text = source.slice(i, j);
      advance(j - i);
      push('ident', text);
      continue;
    }
    if (/[0-9]/.test(ch)) {
      const m = /^(0x[0-9a-fA-F_]+|0b[01_]+|[0-9][0-9_]*)/.exec(source.slice(i, i + 80))!;
      const text = m[0];
      let j = i + text.length;
      // A number running into letters (12abc, 0x1g) is one bad token, not two good ones.
      while (j < source.length && /[A-Za-z0-9_]/.test(source[j])) j++;
      const whole = source.slice(i, j);
      advance(j - i);
      if (whole !== text) {
        error(`malformed number '${whole}'`, startLine, startCol, whole.length);
        push('number', whole); // no value: the parser drops whatever uses it, quietly
        continue;
      }
      const digits = text.replace(/_/g, '');
      if (digits === '0x' || digits === '0b') {
        error(`malformed number '${whole}': no digits after ${digits}`, startLine, startCol, whole.length);
        push('number', whole);
        continue;
      }
      push('number', text, BigInt(digits));
      continue;
    }
    if (ch === '"') {
      let j = i + 1;
      let value = '';
      let ok = false;
      while (j < source.length && source[j] !== '\n') {
        if (source[j] === '"') { ok = true; break; }
        if (source[j] === '\\') {
          const e = source[j + 1];
          const map: Record<string, string> = { n: '\n', t: '\t', '"': '"', '\\': '\\', '0': '\0' };
          if (e !== undefined && map[e] !== undefined) value += map[e];
          else error(`unknown escape '\\${e ?? ''}' in string`, line, col + (j - i), 2);
          j += 2;
          continue;
        }
        value += source[j];
        j++;
      }
      const start = i;
      if (!ok) error('unterminated string', startLine, startCol, j - i);
      advance((ok ? j + 1 : j) - i);
      push('string', source.slice(start, i), value);
      continue;
    }
    const p = PUNCT.find((q) => source.startsWith(q, i));
    if (p !== undefined) {
      advance(p.length);
      push('punct', p);
      continue;
    }
    error(`unexpected character '${ch}'`, startLine, startCol);
    advance(1);
  }
  tokens.push({ kind: 'eof', text: 'end of file', span: { line, col, endLine: line, endCol: col }, newlineBefore: true });
  return tokens;
}
