import { describe, expect, it } from 'vitest';
import { compareVariants, summarize } from './aggregate.js';
import { comparisonSentence, flipComparison, keyFindings, SIMULATED_BANNER } from './findings.js';
import { escapeHtml, qualityColour, renderHtml } from './report-html.js';
import { renderMarkdown } from './report-md.js';
import { type CaseResult, type EvalResults, evalResultsSchema, type Variant } from './results-schema.js';

const seq: Variant = { label: 'sequential', pattern: 'sequential', optionSet: 'default', options: {} };
const conc: Variant = { label: 'concurrent', pattern: 'concurrent', optionSet: 'default', options: {} };

function run(
  variant: Variant,
  caseId: string,
  quality: number,
  latencyMs: number,
  modelCalls: number,
): CaseResult {
  return {
    caseId,
    pattern: variant.pattern,
    optionSet: variant.optionSet,
    variant: variant.label,
    repeat: 0,
    seed: 0,
    runId: `${caseId}-${variant.label}`,
    status: 'succeeded',
    partial: false,
    output: { text: '{}', structured: {} },
    scores: { quality, components: { isBusiness: 1 } },
    latencyMs,
    tokens: { input: modelCalls * 100, output: modelCalls * 20, total: modelCalls * 120 },
    modelCalls,
    costUsd: null,
    steps: modelCalls,
    definitionVersion: 'abc123',
    models: ['simulated'],
  };
}

/** sequential: 1000 ms, 5 calls; concurrent: 250 ms, 4 calls; same quality on c1, +0.1 for concurrent on c2. */
function fixture(simulated = true): EvalResults {
  const cases = [
    run(seq, 'news-001', 0.9, 1000, 5),
    run(conc, 'news-001', 0.9, 250, 4),
    run(seq, 'news-002', 0.5, 1000, 5),
    run(conc, 'news-002', 0.6, 250, 4),
  ];
  const variants = [seq, conc];
  return evalResultsSchema.parse({
    version: 1,
    config: {
      createdAt: '2025-01-01T00:00:00.000Z',
      durationMs: 1234,
      mode: 'in-process',
      flags: { limit: '2' },
      experiment: null,
      team: 'news-desk',
      dataset: {
        path: 'evals/datasets/news-articles.jsonl',
        split: 'test',
        totalCases: 46,
        caseIds: ['news-001', 'news-002'],
      },
      patterns: ['sequential', 'concurrent'],
      optionSets: [{ name: 'default', options: {} }],
      variants,
      repeat: 1,
      limit: 2,
      concurrency: 8,
      seed: 0,
      gitCommit: '0123456789abcdef',
      gitDirty: false,
      definitionVersion: 'abc123',
      agentVersions: { summarizer: 'def456' },
      model: {
        provider: simulated ? 'simulated' : 'azure-openai',
        defaultDeployment: simulated ? 'simulated' : 'gpt-4o',
        simulatedLatencyMs: simulated ? [100, 300] : null,
        agents: { summarizer: {} },
        modelsSeen: [simulated ? 'simulated' : 'gpt-4o'],
      },
      simulated,
      api: null,
      record: false,
      replay: null,
      stats: { B: 2000, seed: 1, confidence: 0.95 },
    },
    cases,
    summary: summarize(cases, variants),
    comparisons: compareVariants(cases, variants),
  });
}

describe('key differences', () => {
  it('says which variant is faster, by how much, with the calls and the quality verdict', () => {
    const results = fixture();
    const [c] = results.comparisons;
    // A = sequential (p50 1000 ms), B = concurrent (250 ms): told from the faster side, 1000 / 250 = 4.0×.
    expect(comparisonSentence(c!)).toBe(
      "concurrent is 4.0× faster than sequential (p50 250 ms vs 1.00 s); concurrent makes 4.0 model calls per run to sequential's 5.0 and uses 0.80× its tokens, at no significant difference in quality (Δ +0.050, 95% CI [0.000, +0.100], n = 2).",
    );
  });

  it('flips a comparison without changing its content', () => {
    const c = fixture().comparisons[0]!;
    const f = flipComparison(c);
    expect(f.a.variant).toBe('concurrent');
    expect(f.quality.diff).toBeCloseTo(-c.quality.diff, 12);
    expect(f.quality.ci95).toEqual([-c.quality.ci95[1], -c.quality.ci95[0]]);
    expect(flipComparison(f)).toEqual(c);
  });

  it('names the leaders first', () => {
    const lines = keyFindings(fixture());
    expect(lines[0]).toMatch(/^Highest mean quality: concurrent \(0\.750, 95% CI/); // (0.9 + 0.6) / 2
    expect(lines[1]).toBe('Fastest: concurrent (p50 250 ms).');
    expect(lines[2]).toBe('Fewest model calls: concurrent (4.0 per run).');
  });
});

describe('report.md', () => {
  it('has the banner, settings, summary table, key differences, comparisons and per-case quality', () => {
    const md = renderMarkdown(fixture());
    expect(md).toMatch(/^# Eval: news-desk \(test part\) — sequential, concurrent\n/);
    expect(md).toContain('| dataset | evals/datasets/news-articles.jsonl · test part (2 of its 46 cases) |');
    expect(md).toContain(`> **${SIMULATED_BANNER}**`);
    for (const section of [
      '## Summary',
      '## Key differences',
      '## Comparisons (paired bootstrap on per-case quality)',
      '## How to read this',
      '## Quality per case',
    ]) {
      expect(md).toContain(section);
    }
    expect(md).toContain(
      '| sequential | 2 | 100% | 0.700 [0.500, 0.900] | 1.00 s | 1.00 s | 600 | 5.0 | — |',
    );
    expect(md).toContain(
      '| concurrent | 2 | 100% | 0.750 [0.600, 0.900] | 250 ms | 250 ms | 480 | 4.0 | — |',
    );
    expect(md).toContain('| sequential | concurrent | 2 | 0.700 | 0.750 | -0.050 |');
    expect(md).toContain('| news-002 | 0.500 | 0.600 |');
    expect(md).toContain('| git commit | 0123456789ab |');
  });

  it('carries no simulated banner for a real model, and states replay model calls', () => {
    const results = fixture(false);
    results.config.mode = 'replay';
    results.config.replay = { from: 'out/eval-a', modelCallsDuringReplay: 0 };
    const md = renderMarkdown(results);
    expect(md).not.toContain('Simulated model');
    expect(md).toContain('| modelCalls during replay | 0 |');
  });
});

describe('report.html', () => {
  const html = renderHtml(fixture());

  it('is one self-contained page: inline CSS and SVG, no scripts, links or network references', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<style>');
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/\ssrc=|\shref=/i);
  });

  it('has the banner, tables and the four charts', () => {
    expect(html).toContain(`<p class="banner">${escapeHtml(SIMULATED_BANNER)}</p>`);
    expect(html).toContain('<h2>Summary</h2>');
    expect(html).toContain('<h2>Key differences</h2>');
    expect(html.match(/<svg /g)).toHaveLength(4); // scatter, tokens, model calls, heat map
    expect(html).toContain('aria-label="quality versus latency"');
    expect(html).toContain('aria-label="tokens per run (mean)"');
    expect(html).toContain('aria-label="model calls per run (mean)"');
    expect(html).toContain('aria-label="quality per case and variant"');
    // one heat-map cell per case × variant, coloured by its quality
    expect(html).toContain(`fill="${qualityColour(0.6)}"><title>news-002 · concurrent: 0.60</title>`);
  });

  it('escapes text and colours quality from red to green', () => {
    expect(escapeHtml('<a href="x">&\'</a>')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
    expect(qualityColour(0)).toMatch(/^hsl\(0,/);
    expect(qualityColour(0.5)).toMatch(/^hsl\(60,/);
    expect(qualityColour(1)).toMatch(/^hsl\(120,/);
  });
});
