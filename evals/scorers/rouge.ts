/**
 * ROUGE-L: longest-common-subsequence overlap between a reference and a candidate text, over lower-cased word
 * tokens (`tokenize`: runs of letters and digits; apostrophes inside words are dropped, so "company's" →
 * "companys"; everything else separates tokens).
 *
 *   P = LCS / |candidate|,  R = LCS / |reference|,  F_β = (1 + β²)·P·R / (R + β²·P)   (β = 1 by default: F1)
 *
 * Empty inputs: both empty → P = R = F = 1; exactly one empty → 0.
 */

export interface RougeL {
  precision: number;
  recall: number;
  f: number;
  lcs: number;
}

export function tokenize(text: string): string[] {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      .replace(/(\p{L})['’](\p{L})/gu, '$1$2')
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

/** Length of the longest common subsequence of two token lists (O(|a|·|b|) time, O(|b|) memory). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  let curr = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      curr[j] = a[i - 1] === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, curr[j - 1]!);
    }
    [prev, curr] = [curr, prev];
  }
  return prev[b.length]!;
}

export function rougeL(reference: string, candidate: string, beta = 1): RougeL {
  const ref = tokenize(reference);
  const cand = tokenize(candidate);
  if (ref.length === 0 && cand.length === 0) return { precision: 1, recall: 1, f: 1, lcs: 0 };
  if (ref.length === 0 || cand.length === 0) return { precision: 0, recall: 0, f: 0, lcs: 0 };
  const lcs = lcsLength(ref, cand);
  const precision = lcs / cand.length;
  const recall = lcs / ref.length;
  const b2 = beta * beta;
  const f = lcs === 0 ? 0 : ((1 + b2) * precision * recall) / (recall + b2 * precision);
  return { precision, recall, f, lcs };
}
