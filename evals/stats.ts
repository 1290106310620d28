import { BatonError } from '../src/core/errors.js';
import { seededRandom } from '../src/core/random.js';

/**
 * Statistics for eval reports. Everything here is deterministic: randomness comes only from `mulberry32(seed)`.
 *
 * - `percentile`: linear interpolation between closest ranks by default (the "R-7" / NumPy default method:
 *   h = (n − 1)·p/100, value = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]) over the sorted sample), or nearest-rank
 *   (the smallest value with at least p% of the sample at or below it: x[⌈p/100·n⌉], 1-based, p = 0 → min).
 * - `bootstrapMeanCI`: percentile bootstrap — resample the cases with replacement B times, take the mean of each
 *   resample, and report the (1 − c)/2 and (1 + c)/2 percentiles (linear method) of those B means.
 * - `pairedComparison`: the same over per-case differences a[i] − b[i] of two patterns on the same cases (cases
 *   are resampled as pairs, which removes case difficulty from the comparison). The verdict says how A compares
 *   with B: `better` when the whole CI of the difference lies on A's good side, `worse` when it lies on A's bad
 *   side, `no significant difference` when the CI includes 0.
 * - `signTest`, `wilcoxonSignedRank`: two-sided p-values over paired differences, as a check on the bootstrap.
 */

export class StatsInputError extends BatonError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('STATS_INVALID_INPUT', message, details);
  }
}

function nonEmpty(xs: readonly number[], what: string): void {
  if (xs.length === 0) throw new StatsInputError(`${what} needs at least one value`);
}

/** A seeded PRNG (mulberry32): returns a function yielding uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  return seededRandom(seed);
}

export function mean(xs: readonly number[]): number {
  nonEmpty(xs, 'mean');
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

export type PercentileMethod = 'linear' | 'nearest-rank';

/** The p-th percentile (p in [0, 100]) of `xs`; see the module comment for the two methods. */
export function percentile(xs: readonly number[], p: number, method: PercentileMethod = 'linear'): number {
  nonEmpty(xs, 'percentile');
  if (!(p >= 0 && p <= 100)) throw new StatsInputError(`percentile p must be in [0, 100], got ${p}`, { p });
  const s = [...xs].sort((x, y) => x - y);
  return sortedPercentile(s, p, method);
}

function sortedPercentile(s: readonly number[], p: number, method: PercentileMethod): number {
  const n = s.length;
  if (method === 'nearest-rank') {
    const rank = Math.max(1, Math.ceil((p / 100) * n));
    return s[rank - 1]!;
  }
  const h = ((n - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

export interface BootstrapOptions {
  /** Number of resamples; default 2000. */
  B?: number;
  /** PRNG seed; default 1. */
  seed?: number;
  /** Confidence level; default 0.95. */
  confidence?: number;
}

export interface ConfidenceInterval {
  n: number;
  mean: number;
  lower: number;
  upper: number;
  confidence: number;
  B: number;
  seed: number;
}

function resolve(options: BootstrapOptions): Required<BootstrapOptions> {
  const B = options.B ?? 2000;
  const seed = options.seed ?? 1;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(B) || B < 1)
    throw new StatsInputError(`B must be a positive integer, got ${B}`, { B });
  if (!(confidence > 0 && confidence < 1)) {
    throw new StatsInputError(`confidence must be in (0, 1), got ${confidence}`, { confidence });
  }
  return { B, seed, confidence };
}

/** Means of B resamples (with replacement) of `xs`, sorted ascending. */
function bootstrapMeans(xs: readonly number[], B: number, seed: number): number[] {
  const rng = mulberry32(seed);
  const n = xs.length;
  const means = new Array<number>(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += xs[Math.floor(rng() * n)]!;
    means[b] = s / n;
  }
  return means.sort((x, y) => x - y);
}

/** Percentile-bootstrap confidence interval of the mean of `xs`. */
export function bootstrapMeanCI(xs: readonly number[], options: BootstrapOptions = {}): ConfidenceInterval {
  nonEmpty(xs, 'bootstrapMeanCI');
  const { B, seed, confidence } = resolve(options);
  const means = bootstrapMeans(xs, B, seed);
  const alpha = (1 - confidence) / 2;
  return {
    n: xs.length,
    mean: mean(xs),
    lower: sortedPercentile(means, alpha * 100, 'linear'),
    upper: sortedPercentile(means, (1 - alpha) * 100, 'linear'),
    confidence,
    B,
    seed,
  };
}

export type Verdict = 'better' | 'worse' | 'no significant difference';

export interface PairedComparison {
  n: number;
  meanA: number;
  meanB: number;
  /** mean(a) − mean(b) = mean of the per-case differences. */
  meanDiff: number;
  /** CI of the mean difference. */
  lower: number;
  upper: number;
  confidence: number;
  B: number;
  seed: number;
  /** How A compares with B (see `higherIsBetter`). */
  verdict: Verdict;
  signTestP: number;
  wilcoxonP: number;
}

/**
 * Paired bootstrap comparison of pattern A against pattern B on the same cases (`a[i]` and `b[i]` score the same
 * case). `higherIsBetter` (default true) says which way is good: pass false for latency or cost.
 */
export function pairedComparison(
  a: readonly number[],
  b: readonly number[],
  options: BootstrapOptions & { higherIsBetter?: boolean } = {},
): PairedComparison {
  if (a.length !== b.length) {
    throw new StatsInputError(`paired samples differ in length (${a.length} vs ${b.length})`, {
      a: a.length,
      b: b.length,
    });
  }
  nonEmpty(a, 'pairedComparison');
  const { B, seed, confidence } = resolve(options);
  const higherIsBetter = options.higherIsBetter ?? true;
  const diffs = a.map((x, i) => x - b[i]!);
  const ci = bootstrapMeanCI(diffs, { B, seed, confidence });
  let verdict: Verdict = 'no significant difference';
  if (ci.lower > 0) verdict = higherIsBetter ? 'better' : 'worse';
  else if (ci.upper < 0) verdict = higherIsBetter ? 'worse' : 'better';
  return {
    n: a.length,
    meanA: mean(a),
    meanB: mean(b),
    meanDiff: ci.mean,
    lower: ci.lower,
    upper: ci.upper,
    confidence,
    B,
    seed,
    verdict,
    signTestP: signTest(diffs).pValue,
    wilcoxonP: wilcoxonSignedRank(diffs).pValue,
  };
}

/** ln C(n, k), as a sum of logs (no overflow for large n). */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

export interface SignTest {
  positive: number;
  negative: number;
  /** Zero differences, dropped from the test. */
  ties: number;
  /** Two-sided exact binomial p-value: min(1, 2·P(X ≤ min(pos, neg))) with X ~ Bin(pos + neg, 1/2); 1 when no non-zero difference. */
  pValue: number;
}

export function signTest(diffs: readonly number[]): SignTest {
  const positive = diffs.filter((d) => d > 0).length;
  const negative = diffs.filter((d) => d < 0).length;
  const ties = diffs.length - positive - negative;
  const n = positive + negative;
  if (n === 0) return { positive, negative, ties, pValue: 1 };
  const k = Math.min(positive, negative);
  let tail = 0;
  for (let i = 0; i <= k; i++) tail += Math.exp(logChoose(n, i) - n * Math.LN2);
  return { positive, negative, ties, pValue: Math.min(1, 2 * tail) };
}

export interface WilcoxonResult {
  /** Non-zero differences used (zeros are dropped). */
  n: number;
  /** Sum of the ranks of |d| over positive differences. */
  wPlus: number;
  /** Sum of the ranks of |d| over negative differences. */
  wMinus: number;
  pValue: number;
  /** `exact` (all 2^n sign assignments, conditional on tied ranks) for n ≤ 50; `normal` approximation above. */
  method: 'exact' | 'normal';
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 erf, |error| < 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/**
 * Wilcoxon signed-rank test, two-sided. Zero differences are dropped; tied |d| share their average rank.
 * p = min(1, 2·P(W ≤ min(W+, W−))) under the null that every sign is equally likely.
 */
export function wilcoxonSignedRank(diffs: readonly number[]): WilcoxonResult {
  const nz = diffs.filter((d) => d !== 0);
  const n = nz.length;
  if (n === 0) return { n: 0, wPlus: 0, wMinus: 0, pValue: 1, method: 'exact' };
  const order = nz.map((d, i) => ({ abs: Math.abs(d), i })).sort((x, y) => x.abs - y.abs);
  const rank = new Array<number>(n);
  const tieSizes: number[] = [];
  for (let k = 0; k < n; ) {
    let end = k;
    while (end + 1 < n && order[end + 1]!.abs === order[k]!.abs) end++;
    for (let m = k; m <= end; m++) rank[order[m]!.i] = (k + end + 2) / 2;
    tieSizes.push(end - k + 1);
    k = end + 1;
  }
  let wPlus = 0;
  let wMinus = 0;
  nz.forEach((d, i) => {
    if (d > 0) wPlus += rank[i]!;
    else wMinus += rank[i]!;
  });
  const w = Math.min(wPlus, wMinus);
  if (n <= 50) {
    // Doubled ranks are integers even with ties (average ranks are multiples of 1/2).
    const doubled = rank.map((r) => Math.round(r * 2));
    const total = doubled.reduce((s, r) => s + r, 0);
    let counts = new Array<number>(total + 1).fill(0);
    counts[0] = 1;
    for (const r of doubled) {
      const next = counts.slice();
      for (let s = r; s <= total; s++) next[s]! += counts[s - r]!;
      counts = next;
    }
    const limit = Math.round(w * 2);
    let tail = 0;
    for (let s = 0; s <= limit; s++) tail += counts[s]!;
    return { n, wPlus, wMinus, pValue: Math.min(1, (2 * tail) / 2 ** n), method: 'exact' };
  }
  const mu = (n * (n + 1)) / 4;
  const tieCorrection = tieSizes.reduce((s, t) => s + (t * t * t - t), 0) / 48;
  const sd = Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24 - tieCorrection);
  const z = sd === 0 ? 0 : Math.max(0, Math.abs(w - mu) - 0.5) / sd;
  return { n, wPlus, wMinus, pValue: Math.min(1, 2 * (1 - normalCdf(z))), method: 'normal' };
}

export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p95: number;
  ci: ConfidenceInterval;
}

/** Mean, p50, p95 (linear method) and bootstrap CI of the mean, in one call for reports. */
export function summarize(xs: readonly number[], options: BootstrapOptions = {}): Summary {
  nonEmpty(xs, 'summarize');
  return {
    n: xs.length,
    mean: mean(xs),
    p50: percentile(xs, 50),
    p95: percentile(xs, 95),
    ci: bootstrapMeanCI(xs, options),
  };
}
