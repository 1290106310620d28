import { normalizeCompanyName } from './company-names.js';

/**
 * Set precision / recall / F1 over names, matched after `normalize` (by default `normalizeCompanyName`).
 * Duplicates (after normalisation) on either side count once; empty names are ignored.
 *
 * Defined values for empty sets:
 *  - both empty → precision 1, recall 1, F1 1 (nothing to find, nothing invented);
 *  - expected empty, actual not → precision 0, recall 1, F1 0;
 *  - actual empty, expected not → precision 1, recall 0, F1 0.
 */

export interface MatchedName {
  /** The normalised key both sides share. */
  key: string;
  /** The first expected name with that key, as written. */
  expected: string;
  /** The first actual name with that key, as written. */
  actual: string;
}

export interface SetF1 {
  precision: number;
  recall: number;
  f1: number;
  matched: MatchedName[];
  /** Expected names with no counterpart in `actual`. */
  missed: string[];
  /** Actual names with no counterpart in `expected`. */
  extra: string[];
}

function keyed(names: readonly string[], normalize: (name: string) => string): Map<string, string> {
  const byKey = new Map<string, string>();
  for (const name of names) {
    const key = normalize(name);
    if (key.length > 0 && !byKey.has(key)) byKey.set(key, name);
  }
  return byKey;
}

export function setF1(
  expected: readonly string[],
  actual: readonly string[],
  normalize: (name: string) => string = normalizeCompanyName,
): SetF1 {
  const e = keyed(expected, normalize);
  const a = keyed(actual, normalize);
  const matched: MatchedName[] = [];
  const missed: string[] = [];
  for (const [key, name] of e) {
    const other = a.get(key);
    if (other === undefined) missed.push(name);
    else matched.push({ key, expected: name, actual: other });
  }
  const extra = [...a].filter(([key]) => !e.has(key)).map(([, name]) => name);
  const precision = a.size === 0 ? 1 : matched.length / a.size;
  const recall = e.size === 0 ? 1 : matched.length / e.size;
  const f1 =
    e.size === 0 && a.size === 0
      ? 1
      : precision + recall === 0 || matched.length === 0
        ? 0
        : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, matched, missed, extra };
}
