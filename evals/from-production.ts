import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoggedEvaluation } from '../src/runs/evaluation-log.js';
import type { LoggedFeedback } from '../src/runs/feedback-log.js';
import type { StatsSettings } from './aggregate.js';
import { EvalInputError } from './experiment.js';
import { bootstrapMeanCI, mean, mulberry32, pairedComparison, percentile, type Verdict } from './stats.js';

/**
 * `baton eval --from-production --team T --since …`: compares a team's variants on its production runs instead of
 * a dataset. The signals are the online judge's scores (`GET /v1/evaluations`, scorer `judge`) and people's
 * feedback (`GET /v1/feedback`, the newest per run). For each signal, each variant gets its mean with a percentile
 * bootstrap CI over runs, and each pair of variants a verdict from the CI of the difference: unpaired (runs
 * resampled within each arm), and paired by subject where the same subject (`Baton-Subject`/`metadata.subject`)
 * saw both arms — each subject's mean per arm, the paired bootstrap of offline comparisons. "better" or "worse"
 * only when the whole CI lies on one side of 0.
 */

export interface ProductionFlags {
  team: string;
  since?: string | undefined;
  until?: string | undefined;
  api: string;
  key: string;
}

interface Observation {
  runId: string;
  variant: string;
  subject?: string | undefined;
  score: number;
}

export interface ArmSummary {
  variant: string;
  n: number;
  mean: number;
  ci95: [number, number];
}

export interface ArmComparison {
  a: string;
  b: string;
  /** mean(a) − mean(b) over runs, with the CI of independent resamples of each arm. */
  diff: number;
  ci95: [number, number];
  verdict: Verdict;
  /** The same statistics over subjects that saw both arms; null with fewer than 2 such subjects. */
  paired: { subjects: number; diff: number; ci95: [number, number]; verdict: Verdict } | null;
}

export interface SignalReport {
  signal: 'judge' | 'feedback';
  arms: ArmSummary[];
  comparisons: ArmComparison[];
}

export interface ProductionReport {
  team: string;
  since: string | null;
  until: string | null;
  signals: SignalReport[];
}

async function get<T>(flags: ProductionFlags, path: string, query: Record<string, string>): Promise<T> {
  const params = new URLSearchParams({ team: flags.team, ...query });
  if (flags.since) params.set('since', flags.since);
  if (flags.until) params.set('until', flags.until);
  const res = await fetch(`${flags.api.replace(/\/$/, '')}${path}?${params}`, {
    headers: { authorization: `Bearer ${flags.key}` },
  });
  const body = (await res.json()) as T & { error?: { message: string } };
  if (!res.ok) throw new EvalInputError(`GET ${path} answered ${res.status}: ${body.error?.message ?? ''}`);
  return body;
}

function verdictOf(lower: number, upper: number): Verdict {
  if (lower > 0) return 'better';
  if (upper < 0) return 'worse';
  return 'no significant difference';
}

/** CI of mean(a) − mean(b), resampling each arm on its own (the arms hold different runs). */
function unpairedDiffCI(a: number[], b: number[], stats: StatsSettings): [number, number] {
  const rng = mulberry32(stats.seed);
  const diffs: number[] = [];
  const resampledMean = (xs: number[]) => {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[Math.floor(rng() * xs.length)]!;
    return s / xs.length;
  };
  for (let i = 0; i < stats.B; i++) diffs.push(resampledMean(a) - resampledMean(b));
  const alpha = ((1 - stats.confidence) / 2) * 100;
  return [percentile(diffs, alpha), percentile(diffs, 100 - alpha)];
}

function bySubject(obs: Observation[]): Map<string, number> {
  const sums = new Map<string, number[]>();
  for (const o of obs) {
    if (o.subject === undefined) continue;
    sums.set(o.subject, [...(sums.get(o.subject) ?? []), o.score]);
  }
  return new Map([...sums].map(([s, xs]) => [s, mean(xs)]));
}

function signalReport(
  signal: SignalReport['signal'],
  obs: Observation[],
  stats: StatsSettings,
): SignalReport {
  const byArm = new Map<string, Observation[]>();
  for (const o of obs) byArm.set(o.variant, [...(byArm.get(o.variant) ?? []), o]);
  const names = [...byArm.keys()].sort();
  const arms = names.map((variant) => {
    const ci = bootstrapMeanCI(
      byArm.get(variant)!.map((o) => o.score),
      stats,
    );
    return { variant, n: ci.n, mean: ci.mean, ci95: [ci.lower, ci.upper] as [number, number] };
  });
  const comparisons: ArmComparison[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const [a, b] = [byArm.get(names[i]!)!, byArm.get(names[j]!)!];
      const ci = unpairedDiffCI(
        a.map((o) => o.score),
        b.map((o) => o.score),
        stats,
      );
      const [sa, sb] = [bySubject(a), bySubject(b)];
      const both = [...sa.keys()].filter((s) => sb.has(s));
      const p =
        both.length >= 2
          ? pairedComparison(
              both.map((s) => sa.get(s)!),
              both.map((s) => sb.get(s)!),
              stats,
            )
          : null;
      comparisons.push({
        a: names[i]!,
        b: names[j]!,
        diff: mean(a.map((o) => o.score)) - mean(b.map((o) => o.score)),
        ci95: ci,
        verdict: verdictOf(ci[0], ci[1]),
        paired: p ? { subjects: p.n, diff: p.meanDiff, ci95: [p.lower, p.upper], verdict: p.verdict } : null,
      });
    }
  }
  return { signal, arms, comparisons };
}

export async function compareProduction(
  flags: ProductionFlags,
  stats: StatsSettings,
): Promise<ProductionReport> {
  const [{ items: evaluations }, { items: feedback }] = await Promise.all([
    get<{ items: LoggedEvaluation[] }>(flags, '/v1/evaluations', { scorer: 'judge', limit: '10000' }),
    get<{ items: LoggedFeedback[] }>(flags, '/v1/feedback', { limit: '1000' }),
  ]);
  const judged = new Map<string, Observation>();
  for (const e of evaluations) {
    if (!judged.has(e.runId)) judged.set(e.runId, e); // newest first: a re-graded run counts once
  }
  const felt = new Map<string, Observation>();
  for (const f of feedback) if (!felt.has(f.runId)) felt.set(f.runId, f);
  const signals: SignalReport[] = [];
  if (judged.size > 0) signals.push(signalReport('judge', [...judged.values()], stats));
  if (felt.size > 0) signals.push(signalReport('feedback', [...felt.values()], stats));
  if (signals.length === 0) {
    throw new EvalInputError(
      `No online scores or feedback for team "${flags.team}"${flags.since ? ` since ${flags.since}` : ''}.`,
    );
  }
  return { team: flags.team, since: flags.since ?? null, until: flags.until ?? null, signals };
}

export function productionLines(report: ProductionReport): string[] {
  const f = (x: number) => x.toFixed(3);
  const ci = (c: [number, number]) => `[${f(c[0])}, ${f(c[1])}]`;
  const lines = [`${report.team} in production${report.since ? ` since ${report.since}` : ''}:`];
  for (const s of report.signals) {
    lines.push(`  ${s.signal === 'judge' ? 'online judge score' : 'feedback score'}:`);
    for (const a of s.arms) lines.push(`    ${a.variant}: ${f(a.mean)} ${ci(a.ci95)} over ${a.n} runs`);
    for (const c of s.comparisons) {
      lines.push(`    ${c.a} vs ${c.b}: Δ ${f(c.diff)} ${ci(c.ci95)} — ${c.a} ${c.verdict}`);
      if (c.paired) {
        lines.push(
          `      paired over ${c.paired.subjects} subjects who saw both: Δ ${f(c.paired.diff)} ${ci(c.paired.ci95)} — ${c.a} ${c.paired.verdict}`,
        );
      }
    }
  }
  return lines;
}

export async function writeProductionReport(report: ProductionReport, outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, 'production.json');
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
