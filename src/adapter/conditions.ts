/**
 * Breakpoint conditions and hit conditions, shared by every kind of breakpoint. A condition is an
 * expression in the workload language, evaluated after the trap; a hit condition counts hits.
 */
import type { Machine } from '../target';

/** N (the Nth hit), ==N, >N, >=N, <N, <=N, %N (every Nth). */
const HIT_CONDITION = /^\s*(==|>=|<=|>|<|%)?\s*(\d+)\s*$/;

export function hitConditionHolds(cond: string, hits: number): boolean {
  const m = HIT_CONDITION.exec(cond);
  if (m === null) return true;
  const n = Number(m[2]);
  switch (m[1]) {
    case '>': return hits > n;
    case '>=': return hits >= n;
    case '<': return hits < n;
    case '<=': return hits <= n;
    case '%': return n > 0 && hits % n === 0;
    default: return hits === n;
  }
}

/** Conditions must at least parse; null if fine, else the reason. */
export function checkConditions(machine: Machine | null, condition: string | null, hitCondition: string | null): string | null {
  if (hitCondition !== null && !HIT_CONDITION.test(hitCondition)) {
    return `hit condition '${hitCondition}': use N, ==N, >N, >=N, <N, <=N or %N`;
  }
  if (condition !== null && machine !== null) {
    const problem = machine.checkExpression(condition);
    if (problem !== null) return `condition '${condition}': ${problem}`;
  }
  return null;
}
