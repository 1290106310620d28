import { normalizeCompanyName } from './company-names.js';
import { setF1 } from './set-f1.js';

/** One company and the direction a news item implies for it (the `news-desk` label shape). */
export interface CompanyDirection {
  name: string;
  direction: string;
}

export interface DirectionAccuracy {
  /**
   * Correct directions / matched companies, in [0, 1]. With no matched company the accuracy is 1 when both
   * sides list no company at all (nothing to get wrong) and 0 otherwise (no direction earned credit).
   */
  accuracy: number;
  correct: number;
  matched: number;
  perCompany: { name: string; expected: string; actual: string; correct: boolean }[];
}

/**
 * Direction accuracy over the companies both sides name (matched with `normalizeCompanyName`). Companies only one
 * side names are ignored here; they are what set F1 measures. When a side lists a company twice, its first
 * entry counts.
 */
export function directionAccuracy(
  expected: readonly CompanyDirection[],
  actual: readonly CompanyDirection[],
): DirectionAccuracy {
  const first = (list: readonly CompanyDirection[]) => {
    const byKey = new Map<string, CompanyDirection>();
    for (const c of list) {
      const key = normalizeCompanyName(c.name);
      if (key.length > 0 && !byKey.has(key)) byKey.set(key, c);
    }
    return byKey;
  };
  const e = first(expected);
  const a = first(actual);
  const { matched } = setF1(
    expected.map((c) => c.name),
    actual.map((c) => c.name),
  );
  const perCompany = matched.map(({ key, expected: name }) => {
    const exp = e.get(key)?.direction ?? '';
    const act = a.get(key)?.direction ?? '';
    return { name, expected: exp, actual: act, correct: exp === act };
  });
  const correct = perCompany.filter((c) => c.correct).length;
  const accuracy =
    perCompany.length === 0 ? (e.size === 0 && a.size === 0 ? 1 : 0) : correct / perCompany.length;
  return { accuracy, correct, matched: perCompany.length, perCompany };
}
