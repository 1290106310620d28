import { describe, expect, it } from 'vitest';
import { compareVariants, pairedQuality, perCaseQuality, summarize, summarizeVariant } from './aggregate.js';
import type { CaseResult, Variant } from './results-schema.js';

const seq: Variant = { label: 'sequential', pattern: 'sequential', optionSet: 'default', options: {} };
const conc: Variant = { label: 'concurrent', pattern: 'concurrent', optionSet: 'default', options: {} };

function run(
  variant: Variant,
  caseId: string,
  repeat: number,
  quality: number,
  extra: Partial<CaseResult> = {},
): CaseResult {
  return {
    caseId,
    pattern: variant.pattern,
    optionSet: variant.optionSet,
    variant: variant.label,
    repeat,
    seed: repeat,
    runId: `${caseId}-${variant.label}-${repeat}`,
    status: 'succeeded',
    partial: false,
    output: { text: '' },
    scores: { quality, components: {} },
    latencyMs: 100,
    tokens: { input: 80, output: 20, total: 100 },
    modelCalls: 5,
    costUsd: null,
    steps: 5,
    definitionVersion: 'v1',
    models: ['simulated'],
    ...extra,
  };
}

/**
 * sequential: c1 r0 0.5 / r1 0.7 (case mean 0.6), c2 r0 1.0 / r1 1.0 (case mean 1.0); latencies 100..400;
 * c2 r1 failed; tokens 100, 200, 300, 400; calls 5, 5, 5, 6.
 * concurrent: c1 0.4 ×2, c2 0.8 ×2, c3 0.1 (c3 only here); latencies 50 each; 4 calls; priced 0.01/0.03.
 */
const results: CaseResult[] = [
  run(seq, 'c1', 0, 0.5, { latencyMs: 100, tokens: { input: 90, output: 10, total: 100 } }),
  run(seq, 'c1', 1, 0.7, { latencyMs: 200, tokens: { input: 150, output: 50, total: 200 } }),
  run(seq, 'c2', 0, 1.0, { latencyMs: 300, tokens: { input: 250, output: 50, total: 300 } }),
  run(seq, 'c2', 1, 1.0, {
    latencyMs: 400,
    tokens: { input: 300, output: 100, total: 400 },
    modelCalls: 6,
    status: 'failed',
  }),
  run(conc, 'c1', 0, 0.4, { latencyMs: 50, modelCalls: 4, costUsd: 0.01 }),
  run(conc, 'c1', 1, 0.4, { latencyMs: 50, modelCalls: 4, costUsd: 0.03, partial: true }),
  run(conc, 'c2', 0, 0.8, { latencyMs: 50, modelCalls: 4, costUsd: null }),
  run(conc, 'c2', 1, 0.8, { latencyMs: 50, modelCalls: 4, costUsd: null }),
  run(conc, 'c3', 0, 0.1, { latencyMs: 50, modelCalls: 4, costUsd: null }),
];

describe('summary aggregation', () => {
  it('averages repeats per case before averaging cases', () => {
    expect([...perCaseQuality(results, seq)]).toEqual([
      ['c1', 0.6], // (0.5 + 0.7) / 2
      ['c2', 1.0], // (1.0 + 1.0) / 2
    ]);
  });

  it('summarises one variant with hand-computed figures', () => {
    const s = summarizeVariant(results, seq);
    expect(s).toMatchObject({
      variant: 'sequential',
      pattern: 'sequential',
      optionSet: 'default',
      n: 4,
      cases: 2,
    });
    expect(s.successRate).toBe(0.75); // 3 of 4 succeeded
    expect(s.partialRate).toBe(0);
    expect(s.quality.mean).toBeCloseTo(0.8, 12); // (0.6 + 1.0) / 2
    // Two cases: resample means are 0.6, 0.8 or 1.0 with chances 1/4, 1/2, 1/4, so the 2.5th and 97.5th
    // percentiles of 2000 resamples are the extremes.
    expect(s.quality.ci95[0]).toBeCloseTo(0.6, 12);
    expect(s.quality.ci95[1]).toBeCloseTo(1.0, 12);
    // sorted [100, 200, 300, 400]: p50 h = 1.5 → 250; p95 h = 2.85 → 300 + 0.85·100 = 385
    expect(s.latencyMs).toEqual({ p50: 250, p95: 385, mean: 250 });
    // totals (100+200+300+400)/4 = 250; inputs (90+150+250+300)/4 = 197.5; outputs (10+50+50+100)/4 = 52.5
    expect(s.tokens).toEqual({ mean: 250, inputMean: 197.5, outputMean: 52.5 });
    expect(s.modelCalls.mean).toBe(5.25); // (5+5+5+6)/4
    expect(s.costUsd.mean).toBeNull(); // no run was priced
  });

  it('counts unpriced runs as 0 once any run was priced, and reports partial runs', () => {
    const s = summarizeVariant(results, conc);
    expect(s.costUsd.mean).toBeCloseTo(0.008, 12); // (0.01 + 0.03 + 0 + 0 + 0) / 5
    expect(s.partialRate).toBe(0.2); // 1 of 5
    expect(s.successRate).toBe(1);
    expect(s.quality.mean).toBeCloseTo(0.4333333333, 9); // (0.4 + 0.8 + 0.1) / 3
  });

  it('gives one entry per variant, in the given order, and an empty entry for a variant with no runs', () => {
    const none: Variant = { label: 'magentic', pattern: 'magentic', optionSet: 'default', options: {} };
    const all = summarize(results, [conc, seq, none]);
    expect(all.map((s) => s.variant)).toEqual(['concurrent', 'sequential', 'magentic']);
    expect(all[2]).toMatchObject({ n: 0, cases: 0, costUsd: { mean: null } });
  });
});

describe('pairing and comparisons', () => {
  it('pairs the per-case quality of two variants on the cases both ran', () => {
    expect(pairedQuality(results, seq, conc)).toEqual({
      caseIds: ['c1', 'c2'],
      a: [0.6, 1.0],
      b: [0.4, 0.8],
    });
  });

  it('compares each pair once with the paired bootstrap, sign test and Wilcoxon', () => {
    const [c, ...rest] = compareVariants(results, [seq, conc]);
    expect(rest).toEqual([]);
    expect(c!.a.variant).toBe('sequential');
    expect(c!.b.variant).toBe('concurrent');
    expect(c!.n).toBe(2); // c3 has no sequential run
    // differences 0.6 − 0.4 = 0.2 and 1.0 − 0.8 = 0.2: every resample's mean is 0.2
    expect(c!.quality.diff).toBeCloseTo(0.2, 12);
    expect(c!.quality.ci95[0]).toBeCloseTo(0.2, 12);
    expect(c!.quality.ci95[1]).toBeCloseTo(0.2, 12);
    expect(c!.quality.verdict).toBe('better');
    expect(c!.quality.signTestP).toBeCloseTo(0.5, 12); // 2 positives of 2: 2 · P(X ≤ 0) = 2 · 1/4
    expect(c!.quality.wilcoxonP).toBeCloseTo(0.5, 12); // W− = 0; 1 of 4 sign patterns ≤ 0, two-sided
    // Latency, calls and tokens over the shared cases only (c1, c2): sequential p50 250, concurrent 50.
    expect(c!.latencyMs).toEqual({ p50A: 250, p50B: 50, ratio: 5 });
    expect(c!.modelCalls).toEqual({ meanA: 5.25, meanB: 4 });
    expect(c!.tokens).toEqual({ meanA: 250, meanB: 100 });
  });

  it('says worse from the other side and skips pairs without shared cases', () => {
    const only3: Variant = { label: 'handoff', pattern: 'handoff', optionSet: 'default', options: {} };
    const extra = [...results, run(only3, 'c9', 0, 1)];
    const cs = compareVariants(extra, [conc, seq, only3]);
    expect(cs).toHaveLength(1); // handoff ran only c9, shared with nobody
    expect(cs[0]!.quality.verdict).toBe('worse');
    expect(cs[0]!.quality.diff).toBeCloseTo(-0.2, 12);
  });
});
