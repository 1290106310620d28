import { perCaseQuality } from './aggregate.js';
import {
  fmtCI,
  fmtCost,
  fmtMs,
  fmtNum,
  fmtPct,
  fmtQ,
  fmtSigned,
  keyFindings,
  SIMULATED_BANNER,
} from './findings.js';
import { humanAgreementLines } from './human-grades.js';
import type { EvalResults } from './results-schema.js';

/** `report.md`: the run's settings, the summary table, the key differences in words, and the comparisons. */

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.map(cell).join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** The settings rows both reports show. */
export function settingsRows(results: EvalResults): [string, string][] {
  const c = results.config;
  const seeds =
    c.repeat === 1 ? `${c.seed}` : `${c.seed}…${c.seed + c.repeat - 1} (repeat r uses seed ${c.seed} + r)`;
  const model = c.simulated
    ? `simulated${c.model.simulatedLatencyMs ? ` (latency ${c.model.simulatedLatencyMs[0]}–${c.model.simulatedLatencyMs[1]} ms per call)` : ''}`
    : [
        c.model.provider,
        c.model.defaultDeployment,
        c.model.modelsSeen.length ? `answered by ${c.model.modelsSeen.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join(' · ');
  const rows: [string, string][] = [
    ['mode', c.mode === 'api' && c.api ? `api (${c.api.url})` : c.mode],
    ['team', `${c.team} (definition ${c.definitionVersion})`],
    [
      'dataset',
      `${c.dataset.path} · ${c.dataset.split} part (${c.dataset.caseIds.length} of its ${c.dataset.totalCases} cases)`,
    ],
    ['variants', c.variants.map((v) => v.label).join(', ')],
    ['repeats', `${c.repeat} · seed ${seeds}`],
    ['model', model],
    [
      'git commit',
      c.gitCommit
        ? `${c.gitCommit.slice(0, 12)}${c.gitDirty ? ' (with uncommitted changes)' : ''}`
        : 'unknown',
    ],
    [
      'statistics',
      `bootstrap B = ${c.stats.B}, seed ${c.stats.seed}, ${Math.round(c.stats.confidence * 100)}% CI`,
    ],
    ['wall time', `${fmtMs(c.durationMs)} · concurrency ${c.concurrency}`],
  ];
  if (c.experiment) rows.splice(1, 0, ['experiment', `${c.experiment.name} (${c.experiment.path})`]);
  const teamVariants = teamVariantVersions(results);
  if (teamVariants)
    rows.splice(rows.findIndex((r) => r[0] === 'team') + 1, 0, ['team variants', teamVariants]);
  if (c.replay) {
    rows.push(['replayed from', c.replay.from]);
    rows.push(['modelCalls during replay', String(c.replay.modelCallsDuringReplay)]);
  }
  return rows;
}

/** `base abc123 · concise def456`: each team variant compared and the definition its runs executed. */
function teamVariantVersions(results: EvalResults): string | undefined {
  const byVariant = new Map<string, string>();
  for (const v of results.config.variants) {
    const name = v.options.variant ?? 'base';
    if (v.definitionVersion && !byVariant.has(name)) byVariant.set(name, v.definitionVersion);
  }
  if (!results.config.variants.some((v) => v.options.variant)) return undefined;
  return [...byVariant].map(([name, version]) => `${name} (definition ${version})`).join(' · ');
}

export function summaryRows(results: EvalResults): string[][] {
  return results.summary.map((s) => [
    s.variant,
    String(s.n),
    fmtPct(s.successRate),
    `${fmtQ(s.quality.mean)} ${fmtCI(s.quality.ci95)}`,
    fmtMs(s.latencyMs.p50),
    fmtMs(s.latencyMs.p95),
    fmtNum(s.tokens.mean, 0),
    fmtNum(s.modelCalls.mean),
    fmtCost(s.costUsd.mean),
  ]);
}

export const summaryHead = [
  'variant',
  'n',
  'success',
  'quality mean [95% CI]',
  'latency p50',
  'latency p95',
  'tokens / run',
  'model calls / run',
  'cost / run',
];

export function comparisonRows(results: EvalResults): string[][] {
  return results.comparisons.map((c) => [
    c.a.variant,
    c.b.variant,
    String(c.n),
    fmtQ(c.quality.meanA),
    fmtQ(c.quality.meanB),
    fmtSigned(c.quality.diff),
    fmtCI(c.quality.ci95, true),
    c.quality.verdict,
    c.quality.signTestP.toFixed(3),
    c.quality.wilcoxonP.toFixed(3),
  ]);
}

export const comparisonHead = [
  'A',
  'B',
  'cases',
  'quality A',
  'quality B',
  'Δ (A − B)',
  '95% CI of Δ',
  'A vs B',
  'sign p',
  'Wilcoxon p',
];

export const readingNotes = [
  'Quality is the team’s composite score in [0, 1] (docs/evals.md), averaged over repeats per case, then over cases; the 95% CI is a percentile bootstrap over cases.',
  'Comparisons pair the two variants on the same cases: the verdict is “better”/“worse” only when the whole CI of the difference lies on one side of 0; “no significant difference” means this data cannot tell them apart, not that they are equal.',
  'Latency is the run’s wall time (p50/p95 over runs); tokens, model calls and cost are means per run, retries included.',
];

function fmtR(value: number | null): string {
  return value === null ? 'n/a' : value.toFixed(2);
}

/** The "LLM judge" section of report.md (empty without --judge). */
export function judgeLines(results: EvalResults): string[] {
  const j = results.config.judge;
  if (!j) return [];
  const lines = [
    `Every run was also graded by the LLM judge (rubric ${j.rubric}); ${j.judged} runs judged, ${j.failed} failed.`,
    '',
    table(
      ['variant', 'judge mean [95% CI]', 'quality mean'],
      results.summary.map((s) => [
        s.variant,
        s.judge ? `${fmtQ(s.judge.mean)} ${fmtCI(s.judge.ci95)}` : '—',
        fmtQ(s.quality.mean),
      ]),
    ),
    '',
  ];
  const a = j.judgeAgreement;
  lines.push(
    a
      ? `Agreement with the label-based quality over ${a.n} runs: Pearson ${fmtR(a.pearson)}, Spearman ${fmtR(a.spearman)}, Cohen's κ ${fmtR(a.kappa)} on pass/fail at ${a.threshold} (same verdict on ${fmtPct(a.passAgreement ?? 0)} of runs).`
      : 'No run was judged, so there is no agreement to report.',
  );
  if (j.humanAgreement) lines.push('', ...humanAgreementLines(j.humanAgreement).map((l) => `**${l}**`));
  if (results.config.simulated) {
    lines.push(
      '',
      'With the simulated model the judge is a heuristic (word overlap, names covered, length), not a model reading the text: its agreement with the labels says nothing about a real judge.',
    );
  }
  return lines;
}

/** The report's title: team, the part of the dataset scored, and the variants. */
export function evalTitle(results: EvalResults): string {
  const c = results.config;
  return `Eval: ${c.team} (${c.dataset.split} part) — ${c.variants.map((v) => v.label).join(', ')}`;
}

export function renderMarkdown(results: EvalResults): string {
  const c = results.config;
  const parts: string[] = [];
  parts.push(`# ${evalTitle(results)}`);
  if (c.simulated) parts.push(`> **${SIMULATED_BANNER}**`);
  parts.push(table(['setting', 'value'], settingsRows(results)));
  parts.push('## Summary');
  parts.push(table(summaryHead, summaryRows(results)));
  parts.push('## Key differences');
  parts.push(
    keyFindings(results)
      .map((s) => `- ${s}`)
      .join('\n'),
  );
  if (results.comparisons.length > 0) {
    parts.push('## Comparisons (paired bootstrap on per-case quality)');
    parts.push(table(comparisonHead, comparisonRows(results)));
  }
  const judge = judgeLines(results);
  if (judge.length > 0) {
    parts.push('## LLM judge');
    parts.push(judge.join('\n'));
  }
  parts.push('## How to read this');
  parts.push(readingNotes.map((s) => `- ${s}`).join('\n'));
  parts.push('## Quality per case');
  const perVariant = c.variants.map((v) => perCaseQuality(results.cases, v));
  parts.push(
    table(
      ['case', ...c.variants.map((v) => v.label)],
      c.dataset.caseIds.map((id) => [id, ...perVariant.map((q) => (q.has(id) ? fmtQ(q.get(id)!) : '—'))]),
    ),
  );
  return `${parts.join('\n\n')}\n`;
}
