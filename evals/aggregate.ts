import type { CaseResult, Comparison, SummaryEntry, Variant } from './results-schema.js';
import { bootstrapMeanCI, mean, pairedComparison, percentile } from './stats.js';

/**
 * Turns per-run results into the report's summary (one entry per variant) and pairwise comparisons. Pure and
 * deterministic: the bootstrap is seeded (`StatsSettings`).
 *
 * - Quality is averaged over repeats per case first, then over cases: the case is the sampling unit, so the
 *   CI (`bootstrapMeanCI`) resamples cases, and repeats only reduce each case's noise.
 * - Latency p50/p95 (linear percentile), tokens, model calls and cost are over runs.
 * - Comparisons pair the per-case quality of two variants on the cases both ran (`pairedComparison`).
 */

export interface StatsSettings {
  B: number;
  seed: number;
  confidence: number;
}

export const defaultStats: StatsSettings = { B: 2000, seed: 1, confidence: 0.95 };

type VariantRef = Pick<Variant, 'label' | 'pattern' | 'optionSet'>;

function runsOf(cases: readonly CaseResult[], variant: VariantRef): CaseResult[] {
  return cases.filter((c) => c.variant === variant.label);
}

/** Per-case quality averaged over repeats, in the order cases first appear. */
export function perCaseQuality(cases: readonly CaseResult[], variant: VariantRef): Map<string, number> {
  const sums = new Map<string, { sum: number; n: number }>();
  for (const c of runsOf(cases, variant)) {
    const s = sums.get(c.caseId) ?? { sum: 0, n: 0 };
    s.sum += c.scores.quality;
    s.n += 1;
    sums.set(c.caseId, s);
  }
  return new Map([...sums].map(([id, s]) => [id, s.sum / s.n]));
}

/**
 * Per-case judge score averaged over the repeats the judge scored, or undefined when no run of the variant was
 * judged (no --judge). Runs the judge failed on (null) are left out; a case with none left is left out.
 */
export function perCaseJudge(
  cases: readonly CaseResult[],
  variant: VariantRef,
): Map<string, number> | undefined {
  const runs = runsOf(cases, variant).filter((c) => c.scores.judge !== undefined);
  if (runs.length === 0) return undefined;
  const sums = new Map<string, { sum: number; n: number }>();
  for (const c of runs) {
    if (c.scores.judge === null || c.scores.judge === undefined) continue;
    const s = sums.get(c.caseId) ?? { sum: 0, n: 0 };
    s.sum += c.scores.judge;
    s.n += 1;
    sums.set(c.caseId, s);
  }
  return new Map([...sums].map(([id, s]) => [id, s.sum / s.n]));
}

function judgeSummary(
  cases: readonly CaseResult[],
  variant: VariantRef,
  stats: StatsSettings,
): Pick<SummaryEntry, 'judge'> {
  const perCase = perCaseJudge(cases, variant);
  if (perCase === undefined) return {};
  if (perCase.size === 0) return { judge: null };
  const ci = bootstrapMeanCI([...perCase.values()], stats);
  return { judge: { mean: ci.mean, ci95: [ci.lower, ci.upper] } };
}

export function summarizeVariant(
  cases: readonly CaseResult[],
  variant: VariantRef,
  stats: StatsSettings = defaultStats,
): SummaryEntry {
  const runs = runsOf(cases, variant);
  const base = { variant: variant.label, pattern: variant.pattern, optionSet: variant.optionSet };
  if (runs.length === 0) {
    return {
      ...base,
      n: 0,
      cases: 0,
      successRate: 0,
      partialRate: 0,
      quality: { mean: 0, ci95: [0, 0] },
      latencyMs: { p50: 0, p95: 0, mean: 0 },
      tokens: { mean: 0, inputMean: 0, outputMean: 0 },
      modelCalls: { mean: 0 },
      costUsd: { mean: null },
    };
  }
  const perCase = [...perCaseQuality(cases, variant).values()];
  const ci = bootstrapMeanCI(perCase, stats);
  const latencies = runs.map((r) => r.latencyMs);
  const costs = runs.map((r) => r.costUsd);
  return {
    ...base,
    n: runs.length,
    cases: perCase.length,
    successRate: runs.filter((r) => r.status === 'succeeded').length / runs.length,
    partialRate: runs.filter((r) => r.partial).length / runs.length,
    quality: { mean: ci.mean, ci95: [ci.lower, ci.upper] },
    latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), mean: mean(latencies) },
    tokens: {
      mean: mean(runs.map((r) => r.tokens.total)),
      inputMean: mean(runs.map((r) => r.tokens.input)),
      outputMean: mean(runs.map((r) => r.tokens.output)),
    },
    modelCalls: { mean: mean(runs.map((r) => r.modelCalls)) },
    // A run that stopped before any priced call has no cost; it counts as 0 once any run was priced.
    costUsd: { mean: costs.every((c) => c === null) ? null : mean(costs.map((c) => c ?? 0)) },
    ...judgeSummary(cases, variant, stats),
  };
}

export function summarize(
  cases: readonly CaseResult[],
  variants: readonly VariantRef[],
  stats: StatsSettings = defaultStats,
): SummaryEntry[] {
  return variants.map((v) => summarizeVariant(cases, v, stats));
}

/** The per-case quality of A and B on the cases both ran, aligned by case (A's case order). */
export function pairedQuality(
  cases: readonly CaseResult[],
  a: VariantRef,
  b: VariantRef,
): { caseIds: string[]; a: number[]; b: number[] } {
  const qa = perCaseQuality(cases, a);
  const qb = perCaseQuality(cases, b);
  const caseIds = [...qa.keys()].filter((id) => qb.has(id));
  return { caseIds, a: caseIds.map((id) => qa.get(id)!), b: caseIds.map((id) => qb.get(id)!) };
}

function ref(v: VariantRef) {
  return { variant: v.label, pattern: v.pattern, optionSet: v.optionSet };
}

/** One comparison per unordered pair of variants (A earlier in `variants` than B) with at least one shared case. */
export function compareVariants(
  cases: readonly CaseResult[],
  variants: readonly VariantRef[],
  stats: StatsSettings = defaultStats,
): Comparison[] {
  const out: Comparison[] = [];
  for (let i = 0; i < variants.length; i++) {
    for (let j = i + 1; j < variants.length; j++) {
      const a = variants[i]!;
      const b = variants[j]!;
      const paired = pairedQuality(cases, a, b);
      if (paired.caseIds.length === 0) continue;
      const shared = new Set(paired.caseIds);
      const runsA = runsOf(cases, a).filter((r) => shared.has(r.caseId));
      const runsB = runsOf(cases, b).filter((r) => shared.has(r.caseId));
      const p = pairedComparison(paired.a, paired.b, stats);
      const p50A = percentile(
        runsA.map((r) => r.latencyMs),
        50,
      );
      const p50B = percentile(
        runsB.map((r) => r.latencyMs),
        50,
      );
      out.push({
        a: ref(a),
        b: ref(b),
        n: p.n,
        quality: {
          meanA: p.meanA,
          meanB: p.meanB,
          diff: p.meanDiff,
          ci95: [p.lower, p.upper],
          verdict: p.verdict,
          signTestP: p.signTestP,
          wilcoxonP: p.wilcoxonP,
        },
        latencyMs: { p50A, p50B, ratio: p50B > 0 ? p50A / p50B : null },
        modelCalls: {
          meanA: mean(runsA.map((r) => r.modelCalls)),
          meanB: mean(runsB.map((r) => r.modelCalls)),
        },
        tokens: {
          meanA: mean(runsA.map((r) => r.tokens.total)),
          meanB: mean(runsB.map((r) => r.tokens.total)),
        },
      });
    }
  }
  return out;
}
