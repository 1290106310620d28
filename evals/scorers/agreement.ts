/**
 * Agreement between two raters (an LLM judge and human labels) over the same items.
 * Every statistic is `null` when it is undefined for the data (fewer than 2 items, or zero variance for a
 * correlation), never NaN.
 */

function check(a: readonly unknown[], b: readonly unknown[]): void {
  if (a.length !== b.length) {
    throw new RangeError(
      `rater arrays differ in length (${a.length} vs ${b.length}): they must score the same items`,
    );
  }
}

/** Pearson product-moment correlation. */
export function pearson(x: readonly number[], y: readonly number[]): number | null {
  check(x, y);
  const n = x.length;
  if (n < 2) return null;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** 1-based ranks; tied values share the average of the ranks they span ("fractional ranking"). */
export function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const out = new Array<number>(values.length);
  let k = 0;
  while (k < order.length) {
    let end = k;
    while (end + 1 < order.length && order[end + 1]!.v === order[k]!.v) end++;
    const rank = (k + 1 + end + 1) / 2;
    for (let m = k; m <= end; m++) out[order[m]!.i] = rank;
    k = end + 1;
  }
  return out;
}

/** Spearman rank correlation: Pearson over fractional ranks (handles ties). */
export function spearman(x: readonly number[], y: readonly number[]): number | null {
  check(x, y);
  return pearson(ranks(x), ranks(y));
}

/**
 * Cohen's kappa for two raters assigning categorical labels: κ = (p_o − p_e) / (1 − p_e), with p_o the observed
 * agreement and p_e = Σ_k p_a(k)·p_b(k) the agreement expected by chance. When p_e = 1 (both raters used one and
 * the same label throughout) the raters agree perfectly and κ is taken as 1. `null` for no items.
 */
export function cohenKappa<L>(a: readonly L[], b: readonly L[]): number | null {
  check(a, b);
  const n = a.length;
  if (n === 0) return null;
  const countA = new Map<L, number>();
  const countB = new Map<L, number>();
  let agree = 0;
  for (let i = 0; i < n; i++) {
    countA.set(a[i]!, (countA.get(a[i]!) ?? 0) + 1);
    countB.set(b[i]!, (countB.get(b[i]!) ?? 0) + 1);
    if (a[i] === b[i]) agree++;
  }
  const po = agree / n;
  let pe = 0;
  for (const [label, ca] of countA) pe += (ca / n) * ((countB.get(label) ?? 0) / n);
  if (pe >= 1) return 1;
  return (po - pe) / (1 - pe);
}

/**
 * Quadratic-weighted kappa for ordinal ratings on the integer scale [min, max] (e.g. 1–5):
 * κ_w = 1 − Σ w_ij·O_ij / Σ w_ij·E_ij, with w_ij = (i − j)² / (K − 1)², O the observed contingency table and
 * E_ij = row_i·col_j / n. Ratings are rounded to the nearest integer and clamped to the scale. κ_w is 1 when the
 * expected disagreement is 0 (both raters constant on the same value); `null` for no items.
 */
export function quadraticWeightedKappa(
  a: readonly number[],
  b: readonly number[],
  min = 1,
  max = 5,
): number | null {
  check(a, b);
  const n = a.length;
  if (n === 0) return null;
  const k = max - min + 1;
  if (k < 2) return 1;
  const idx = (v: number) => Math.min(k - 1, Math.max(0, Math.round(v) - min));
  const observed = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const rows = new Array<number>(k).fill(0);
  const cols = new Array<number>(k).fill(0);
  for (let m = 0; m < n; m++) {
    const i = idx(a[m]!);
    const j = idx(b[m]!);
    observed[i]![j]!++;
    rows[i]!++;
    cols[j]!++;
  }
  let num = 0;
  let den = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const w = ((i - j) * (i - j)) / ((k - 1) * (k - 1));
      num += w * observed[i]![j]!;
      den += (w * rows[i]! * cols[j]!) / n;
    }
  }
  return den === 0 ? 1 : 1 - num / den;
}

export interface JudgeAgreement {
  n: number;
  pearson: number | null;
  spearman: number | null;
  /** Cohen's kappa on pass/fail (score ≥ threshold) between judge and human. */
  kappa: number | null;
  /** Fraction of items where judge and human agree on pass/fail. */
  passAgreement: number | null;
  threshold: number;
  /** Quadratic-weighted kappa, when `options.scale` was given (both raters on that integer scale). */
  quadraticKappa: number | null;
}

/**
 * How well an LLM judge agrees with human labels on the same items. Both arrays must be on the same scale
 * (e.g. both normalised to [0, 1], or both raw 1–5); `threshold` splits pass (≥) from fail, default 0.5.
 * Pass `scale: { min: 1, max: 5 }` with integer ratings to also get the quadratic-weighted kappa.
 */
export function judgeAgreement(
  judgeScores: readonly number[],
  humanScores: readonly number[],
  options: { threshold?: number; scale?: { min: number; max: number } } = {},
): JudgeAgreement {
  check(judgeScores, humanScores);
  const threshold = options.threshold ?? 0.5;
  const passJ = judgeScores.map((s) => s >= threshold);
  const passH = humanScores.map((s) => s >= threshold);
  const n = judgeScores.length;
  const same = passJ.filter((p, i) => p === passH[i]).length;
  return {
    n,
    pearson: pearson(judgeScores, humanScores),
    spearman: spearman(judgeScores, humanScores),
    kappa: cohenKappa(passJ, passH),
    passAgreement: n === 0 ? null : same / n,
    threshold,
    quadraticKappa: options.scale
      ? quadraticWeightedKappa(judgeScores, humanScores, options.scale.min, options.scale.max)
      : null,
  };
}
