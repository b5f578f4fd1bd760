/**
 * Diagnostics of the .hwsim language: positions are 1-based lines and columns, as editors and
 * compilers print them (`file:line:col: error: message`).
 */

export interface Span {
  line: number;
  col: number;
  endLine: number;
  endCol: number;
}

export interface Diagnostic {
  file: string;
  severity: 'error' | 'warning';
  message: string;
  span: Span;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.span.line}:${d.span.col}: ${d.severity}: ${d.message}`;
}

export function spanFrom(a: Span, b: Span): Span {
  return { line: a.line, col: a.col, endLine: b.endLine, endCol: b.endCol };
}

/** Thrown only inside the front end to unwind to a recovery point; never escapes it. */
export class SyntaxAbort extends Error {}
