import * as assert from 'node:assert/strict';
import { HwbpError } from '../../src/hwbp';

/** The errno a call fails with, or 'ok'. Any other exception is a bug and propagates. */
export function errnoOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof HwbpError) return e.code;
    throw e;
  }
}

/** Asserts the call fails with `code` and that its message mentions every fragment given. */
export function assertErrno(fn: () => unknown, code: string, ...mentions: string[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof HwbpError, `expected HwbpError ${code}, got ${caught === undefined ? 'success' : String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const m of mentions) assert.ok(caught.message.includes(m), `message "${caught.message}" should mention "${m}"`);
}
