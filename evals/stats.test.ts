import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bootstrapMeanCI,
  mean,
  mulberry32,
  pairedComparison,
  percentile,
  StatsInputError,
  signTest,
  summarize,
  wilcoxonSignedRank,
} from './stats.js';

const oneToTen = [7, 3, 10, 1, 5, 2, 9, 4, 8, 6];

/** n values uniform in [0, 1) from a seeded generator: the true mean is 0.5. */
function uniformSample(n: number, seed: number): number[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => rng());
}

describe('mean', () => {
  it('averages', () => {
    // (1 + 2 + 3 + 4) / 4 = 2.5
    expect(mean([1, 2, 3, 4])).toBe(2.5);
  });

  it('throws a typed error on an empty sample', () => {
    expect(() => mean([])).toThrow(StatsInputError);
  });
});

describe('percentile', () => {
  it('interpolates linearly by default (R-7)', () => {
    // sorted 1..10, h = (n − 1)·p/100 = 9·p/100
    // p50: h = 4.5 → x[4] + 0.5·(x[5] − x[4]) = 5 + 0.5 = 5.5
    expect(percentile(oneToTen, 50)).toBeCloseTo(5.5, 12);
    // p95: h = 8.55 → 9 + 0.55·1 = 9.55
    expect(percentile(oneToTen, 95)).toBeCloseTo(9.55, 12);
    // p90: h = 8.1 → 9.1; p0 = 1; p100 = 10
    expect(percentile(oneToTen, 90)).toBeCloseTo(9.1, 12);
    expect(percentile(oneToTen, 0)).toBe(1);
    expect(percentile(oneToTen, 100)).toBe(10);
  });

  it('supports nearest-rank', () => {
    // rank = ⌈p/100·n⌉: p50 → ⌈5⌉ = 5 → 5; p95 → ⌈9.5⌉ = 10 → 10; p11 → ⌈1.1⌉ = 2 → 2; p0 → rank 1 → 1
    expect(percentile(oneToTen, 50, 'nearest-rank')).toBe(5);
    expect(percentile(oneToTen, 95, 'nearest-rank')).toBe(10);
    expect(percentile(oneToTen, 11, 'nearest-rank')).toBe(2);
    expect(percentile(oneToTen, 0, 'nearest-rank')).toBe(1);
  });

  it('rejects p outside [0, 100] and empty samples', () => {
    expect(() => percentile(oneToTen, 101)).toThrow(StatsInputError);
    expect(() => percentile(oneToTen, Number.NaN)).toThrow(StatsInputError);
    expect(() => percentile([], 50)).toThrow(StatsInputError);
  });

  it('is monotone in p and within [min, max]', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (xs, p, q) => {
          const [lo, hi] = p <= q ? [p, q] : [q, p];
          for (const method of ['linear', 'nearest-rank'] as const) {
            const a = percentile(xs, lo, method);
            const b = percentile(xs, hi, method);
            expect(a).toBeLessThanOrEqual(b);
            expect(a).toBeGreaterThanOrEqual(Math.min(...xs));
            expect(b).toBeLessThanOrEqual(Math.max(...xs));
          }
        },
      ),
    );
  });
});

describe('mulberry32', () => {
  it('is deterministic per seed and uniform-looking in [0, 1)', () => {
    const a = uniformSample(1000, 7);
    expect(uniformSample(1000, 7)).toEqual(a);
    expect(uniformSample(1000, 8)).not.toEqual(a);
    expect(a.every((x) => x >= 0 && x < 1)).toBe(true);
    // mean of 1000 U(0,1) draws has sd √(1/12/1000) ≈ 0.009; 0.5 ± 0.05 is > 5 sd
    expect(Math.abs(mean(a) - 0.5)).toBeLessThan(0.05);
  });
});

describe('bootstrapMeanCI', () => {
  it('contains the true mean and narrows with more data', () => {
    const small = bootstrapMeanCI(uniformSample(50, 11), { seed: 3 });
    const large = bootstrapMeanCI(uniformSample(2000, 11), { seed: 3 });
    for (const ci of [small, large]) {
      expect(ci.lower).toBeLessThan(0.5);
      expect(ci.upper).toBeGreaterThan(0.5);
      expect(ci.lower).toBeLessThanOrEqual(ci.mean);
      expect(ci.upper).toBeGreaterThanOrEqual(ci.mean);
    }
    // width scales like 1/√n: √(2000/50) ≈ 6.3 times narrower; demand at least 3×
    expect(large.upper - large.lower).toBeLessThan((small.upper - small.lower) / 3);
    // for U(0,1), the 95% half-width ≈ 1.96·√(1/12/n): n = 2000 → ≈ 0.0127
    expect((large.upper - large.lower) / 2).toBeCloseTo(1.96 * Math.sqrt(1 / 12 / 2000), 2);
  });

  it('is deterministic for a seed and reports its parameters', () => {
    const xs = uniformSample(30, 5);
    const a = bootstrapMeanCI(xs, { seed: 42, B: 500 });
    expect(bootstrapMeanCI(xs, { seed: 42, B: 500 })).toEqual(a);
    expect(a).toMatchObject({ n: 30, B: 500, seed: 42, confidence: 0.95 });
    expect(bootstrapMeanCI(xs, { seed: 43, B: 500 })).not.toEqual(a);
    expect(bootstrapMeanCI(xs).B).toBe(2000);
  });

  it('collapses to the value for a constant sample, and widens with the confidence level', () => {
    const constant = bootstrapMeanCI([0.7, 0.7, 0.7]);
    expect(constant.lower).toBeCloseTo(0.7, 12);
    expect(constant.upper).toBeCloseTo(0.7, 12);
    const xs = uniformSample(40, 9);
    const c80 = bootstrapMeanCI(xs, { confidence: 0.8 });
    const c99 = bootstrapMeanCI(xs, { confidence: 0.99 });
    expect(c99.upper - c99.lower).toBeGreaterThan(c80.upper - c80.lower);
  });

  it('rejects bad options', () => {
    expect(() => bootstrapMeanCI([1], { B: 0 })).toThrow(StatsInputError);
    expect(() => bootstrapMeanCI([1], { confidence: 1 })).toThrow(StatsInputError);
  });
});

describe('pairedComparison', () => {
  const base = uniformSample(40, 21);
  const noise = uniformSample(40, 22).map((x) => (x - 0.5) * 0.1);

  it('says better when A is clearly better', () => {
    const a = base.map((x, i) => x + 0.2 + noise[i]!);
    const r = pairedComparison(a, base, { seed: 1 });
    // per-case differences are 0.2 + noise in [−0.05, 0.05): the whole CI lies above 0
    expect(r.verdict).toBe('better');
    expect(r.lower).toBeGreaterThan(0.15);
    expect(r.upper).toBeLessThan(0.25);
    expect(r.meanDiff).toBeCloseTo(r.meanA - r.meanB, 12);
    // all 40 differences positive: sign-test p = 2·(1/2)^40
    expect(r.signTestP).toBeCloseTo(2 * 0.5 ** 40, 20);
    expect(r.wilcoxonP).toBeLessThan(1e-6);
  });

  it('says worse when A is clearly worse', () => {
    const a = base.map((x, i) => x - 0.2 + noise[i]!);
    expect(pairedComparison(a, base, { seed: 1 }).verdict).toBe('worse');
  });

  it('says no significant difference for identical inputs (CI = [0, 0])', () => {
    const r = pairedComparison(base, [...base]);
    expect(r).toMatchObject({ verdict: 'no significant difference', lower: 0, upper: 0, meanDiff: 0 });
    expect(r.signTestP).toBe(1);
    expect(r.wilcoxonP).toBe(1);
  });

  it('says no significant difference when the difference is pure noise', () => {
    // differences ±noise in pairs (d, −d): their mean is 0, so the CI must straddle 0
    const symmetric = noise.map((x, i) => (i % 2 === 0 ? x : -noise[i - 1]!));
    const r = pairedComparison(
      base.map((x, i) => x + symmetric[i]!),
      base,
      { seed: 2 },
    );
    expect(r.meanDiff).toBeCloseTo(0, 12);
    expect(r.lower).toBeLessThan(0);
    expect(r.upper).toBeGreaterThan(0);
    expect(r.verdict).toBe('no significant difference');
  });

  it('flips the verdict when lower is better (latency, cost)', () => {
    const slower = base.map((x) => x + 1);
    expect(pairedComparison(slower, base, { higherIsBetter: false }).verdict).toBe('worse');
    expect(pairedComparison(base, slower, { higherIsBetter: false }).verdict).toBe('better');
  });

  it('is deterministic for a seed and rejects unpaired samples', () => {
    const a = base.map((x, i) => x + noise[i]! + 0.01);
    expect(pairedComparison(a, base, { seed: 9 })).toEqual(pairedComparison(a, base, { seed: 9 }));
    expect(() => pairedComparison([1, 2], [1])).toThrow(StatsInputError);
    expect(() => pairedComparison([], [])).toThrow(StatsInputError);
  });
});

describe('signTest', () => {
  it('computes exact two-sided binomial p-values by hand', () => {
    // 5 positive, 0 negative: P(X ≤ 0) = 1/32 → p = 2/32 = 0.0625
    expect(signTest([1, 2, 3, 4, 5]).pValue).toBeCloseTo(0.0625, 12);
    // 8 positive, 2 negative (and one zero, dropped): n = 10, P(X ≤ 2) = (1 + 10 + 45)/1024 = 56/1024
    // p = 112/1024 = 0.109375
    const r = signTest([1, 1, 1, 1, 1, 1, 1, 1, -1, -1, 0]);
    expect(r).toMatchObject({ positive: 8, negative: 2, ties: 1 });
    expect(r.pValue).toBeCloseTo(0.109375, 12);
    // balanced: p capped at 1
    expect(signTest([1, -1]).pValue).toBe(1);
    expect(signTest([0, 0]).pValue).toBe(1);
  });
});

describe('wilcoxonSignedRank', () => {
  it('computes exact p-values by hand', () => {
    // all 5 positive: W+ = 15, W− = 0; P(W ≤ 0) = 1/32 → p = 0.0625
    expect(wilcoxonSignedRank([1, 2, 3, 4, 5])).toMatchObject({
      n: 5,
      wPlus: 15,
      wMinus: 0,
      method: 'exact',
    });
    expect(wilcoxonSignedRank([1, 2, 3, 4, 5]).pValue).toBeCloseTo(0.0625, 12);
    // [0, 1, −2, 3, 4, 5]: zero dropped, W− = 2, W+ = 13
    // subsets of {1..5} with sum ≤ 2: {}, {1}, {2} → 3/32; p = 6/32 = 0.1875
    const r = wilcoxonSignedRank([0, 1, -2, 3, 4, 5]);
    expect(r).toMatchObject({ n: 5, wPlus: 13, wMinus: 2 });
    expect(r.pValue).toBeCloseTo(0.1875, 12);
  });

  it('handles tied magnitudes with average ranks', () => {
    // |d| all 1 → ranks 2, 2, 2; W+ = 4, W− = 2; P(W ≤ 2) over sign patterns: sums 0 (1 way), 2 (3 ways) → 4/8
    // p = min(1, 2·0.5) = 1
    expect(wilcoxonSignedRank([1, 1, -1])).toMatchObject({ wPlus: 4, wMinus: 2, pValue: 1 });
  });

  it('uses the normal approximation above 50 pairs', () => {
    const r = wilcoxonSignedRank(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(r.method).toBe('normal');
    // W− = 0, mean 915, sd = √(60·61·121/24) ≈ 135.8 → z ≈ 6.7 → p ≈ 2e-11
    expect(r.pValue).toBeLessThan(1e-8);
    const balanced = wilcoxonSignedRank(
      Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? 1 : -1) * (i + 1)),
    );
    expect(balanced.pValue).toBeGreaterThan(0.5);
  });
});

describe('summarize', () => {
  it('bundles mean, p50, p95 and the CI', () => {
    const s = summarize(oneToTen, { seed: 4 });
    expect(s).toMatchObject({ n: 10, mean: 5.5, p50: 5.5 });
    expect(s.p95).toBeCloseTo(9.55, 12);
    expect(s.ci.lower).toBeLessThan(5.5);
    expect(s.ci.upper).toBeGreaterThan(5.5);
  });
});
