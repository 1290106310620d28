import { readFile } from 'node:fs/promises';
import { perCaseQuality, type StatsSettings } from './aggregate.js';
import { EvalInputError } from './experiment.js';
import { type EvalResults, evalResultsSchema } from './results-schema.js';
import { pairedComparison } from './stats.js';

/**
 * The quality gate (`baton eval … --baseline results.json --max-drop 0.02`): each variant of this eval is compared
 * with the same variant of a baseline eval on the cases both scored, pairing each case's quality (averaged over
 * repeats) with its baseline quality. A variant fails when its mean quality fell by more than `maxDrop` AND the
 * paired bootstrap CI of the difference lies wholly below 0 — a drop that is both large enough to matter and
 * not explained by which cases happened to be drawn. The command then exits 2 and names the cases that got worse.
 */

export interface GateCase {
  caseId: string;
  baseline: number;
  current: number;
}

export interface GateVariant {
  variant: string;
  n: number;
  baselineMean: number;
  currentMean: number;
  /** current − baseline, with the paired bootstrap CI. */
  diff: number;
  ci95: [number, number];
  failed: boolean;
  /** Cases whose quality fell, worst first. */
  worse: GateCase[];
}

export interface GateResult {
  baseline: string;
  maxDrop: number;
  passed: boolean;
  variants: GateVariant[];
}

export async function readBaseline(path: string): Promise<EvalResults> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new EvalInputError(`Cannot read the baseline ${path}: ${(err as Error).message}.`);
  }
  const parsed = evalResultsSchema.safeParse(raw);
  if (!parsed.success) throw new EvalInputError(`The baseline ${path} is not an eval results file.`);
  return parsed.data;
}

export function parseMaxDrop(value: string | number | undefined): number {
  const n = Number(value ?? 0.02);
  if (!(Number.isFinite(n) && n >= 0 && n <= 1)) {
    throw new EvalInputError(`--max-drop must be a number between 0 and 1, got "${value}".`);
  }
  return n;
}

/** Compares `current` with `baseline`, variant by variant, on the cases both scored. */
export function qualityGate(
  current: EvalResults,
  baseline: EvalResults,
  options: { baselinePath: string; maxDrop: number; stats: StatsSettings },
): GateResult {
  if (current.config.team !== baseline.config.team) {
    throw new EvalInputError(
      `The baseline scores team ${baseline.config.team}, this eval ${current.config.team}: nothing to compare.`,
    );
  }
  const variants: GateVariant[] = [];
  for (const variant of current.config.variants) {
    const base = baseline.config.variants.find((v) => v.label === variant.label);
    if (!base) continue;
    const now = perCaseQuality(current.cases, variant);
    const before = perCaseQuality(baseline.cases, base);
    const pairs = [...now]
      .filter(([id]) => before.has(id))
      .map(([caseId, q]) => ({ caseId, current: q, baseline: before.get(caseId) as number }));
    if (pairs.length === 0) continue;
    const cmp = pairedComparison(
      pairs.map((p) => p.current),
      pairs.map((p) => p.baseline),
      options.stats,
    );
    variants.push({
      variant: variant.label,
      n: cmp.n,
      baselineMean: cmp.meanB,
      currentMean: cmp.meanA,
      diff: cmp.meanDiff,
      ci95: [cmp.lower, cmp.upper],
      failed: cmp.meanDiff < -options.maxDrop && cmp.upper < 0,
      worse: pairs
        .filter((p) => p.current < p.baseline - 1e-9)
        .sort((a, b) => a.current - a.baseline - (b.current - b.baseline)),
    });
  }
  if (variants.length === 0) {
    throw new EvalInputError(
      `The baseline ${options.baselinePath} shares no variant and case with this eval: nothing to compare.`,
    );
  }
  return {
    baseline: options.baselinePath,
    maxDrop: options.maxDrop,
    passed: variants.every((v) => !v.failed),
    variants,
  };
}

/** The gate's verdict in lines for the terminal. */
export function gateLines(gate: GateResult): string[] {
  const f = (x: number) => x.toFixed(3);
  const lines = [`quality gate against ${gate.baseline} (max drop ${gate.maxDrop}):`];
  for (const v of gate.variants) {
    lines.push(
      `  ${v.failed ? 'FAIL' : 'pass'} ${v.variant}: ${f(v.currentMean)} vs baseline ${f(v.baselineMean)}, Δ ${f(v.diff)} [${f(v.ci95[0])}, ${f(v.ci95[1])}] over ${v.n} cases`,
    );
    for (const c of v.worse.slice(0, 20)) {
      lines.push(`       worse: ${c.caseId} ${f(c.baseline)} → ${f(c.current)}`);
    }
    if (v.worse.length > 20) lines.push(`       … and ${v.worse.length - 20} more cases`);
  }
  lines.push(gate.passed ? 'quality gate passed' : 'QUALITY GATE FAILED: quality dropped significantly');
  return lines;
}
