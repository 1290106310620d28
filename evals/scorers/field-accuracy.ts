/**
 * Exact-match and per-field accuracy. Values are compared structurally (`deepEqual`): primitives with
 * `Object.is` semantics except that `0` and `-0` are equal, arrays element by element, plain objects key by key.
 * A field missing from `actual` (or an `actual` that is not an object) counts as wrong.
 */

export interface FieldResult {
  field: string;
  expected: unknown;
  actual: unknown;
  correct: boolean;
}

export interface FieldAccuracy {
  /** Fraction of `fields` on which `actual` equals `expected`, in [0, 1]; 1 when `fields` is empty. */
  accuracy: number;
  correct: number;
  total: number;
  fields: FieldResult[];
}

/** Structural equality over JSON-like values (primitives, arrays, plain objects). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(rb, k) && deepEqual(ra[k], rb[k]));
}

/** True when `actual` equals `expected` structurally (the whole value, every field). */
export function exactMatch(expected: unknown, actual: unknown): boolean {
  return deepEqual(expected, actual);
}

function fieldOf(value: unknown, field: string): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  return (value as Record<string, unknown>)[field];
}

/**
 * Compares `actual` with `expected` on each of `fields`. `actual` is `unknown` on purpose: model output may be
 * missing or ill-typed, and that scores 0 on the affected fields instead of throwing.
 */
export function fieldAccuracy<T extends object>(
  expected: T,
  actual: unknown,
  fields: readonly (keyof T & string)[],
): FieldAccuracy {
  const results = fields.map((field) => {
    const e = fieldOf(expected, field);
    const a = fieldOf(actual, field);
    return { field, expected: e, actual: a, correct: deepEqual(e, a) };
  });
  const correct = results.filter((r) => r.correct).length;
  return {
    accuracy: results.length === 0 ? 1 : correct / results.length,
    correct,
    total: results.length,
    fields: results,
  };
}
