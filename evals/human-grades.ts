import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { EvalInputError } from './experiment.js';
import { cohenKappa, spearman } from './scorers/agreement.js';
import { mulberry32, percentile } from './stats.js';

/**
 * Judge agreement with people (`baton eval --judge --human-grades grades.jsonl`). A grades file has one line per
 * graded case: `{ "caseId", "grade", "variant"? }`, `grade` a score in [0, 1] or `"pass"`/`"fail"` (a
 * categorical grade, taken as 1/0). `baton feedback export --grades` writes one from production feedback. Every
 * judged run of a graded case (of that variant, when the grade names one) is paired with the person's grade, and
 * the report gives Cohen's κ on pass/fail (≥ 0.5) and Spearman's ρ on the scores, each with a percentile
 * bootstrap CI over the pairs. The judge is **not to be trusted** when κ < 0.4 or ρ < 0.5 (below "moderate"
 * agreement), or when fewer than 10 pairs were graded.
 */

export const TRUST_MIN_KAPPA = 0.4;
export const TRUST_MIN_SPEARMAN = 0.5;
export const TRUST_MIN_PAIRS = 10;

export const humanGradeSchema = z.strictObject({
  caseId: z.string().min(1),
  variant: z.string().min(1).optional(),
  grade: z.union([z.number().min(0).max(1), z.enum(['pass', 'fail'])]),
  comment: z.string().optional(),
});
export type HumanGrade = z.infer<typeof humanGradeSchema>;

const gradeValue = (g: HumanGrade['grade']) => (g === 'pass' ? 1 : g === 'fail' ? 0 : g);

export async function readHumanGrades(path: string): Promise<HumanGrade[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new EvalInputError(`Cannot read the human grades ${path}: ${(err as Error).message}.`);
  }
  const grades: HumanGrade[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let parsed: ReturnType<typeof humanGradeSchema.safeParse>;
    try {
      parsed = humanGradeSchema.safeParse(JSON.parse(line));
    } catch {
      throw new EvalInputError(`${path}:${i + 1}: not JSON.`);
    }
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new EvalInputError(`${path}:${i + 1}: ${issue?.path.join('.') || 'line'}: ${issue?.message}`);
    }
    grades.push(parsed.data);
  }
  if (grades.length === 0) throw new EvalInputError(`The human grades file ${path} has no grades.`);
  return grades;
}

/** What agreement reads of a judged run (a `CaseResult` of results.json). */
interface JudgedRun {
  caseId: string;
  variant: string;
  scores: { judge?: number | null | undefined };
}

const interval = z.tuple([z.number(), z.number()]).nullable();

export const humanAgreementSchema = z.object({
  file: z.string(),
  n: z.number().int().min(0),
  kappa: z.number().nullable(),
  kappaCi95: interval,
  spearman: z.number().nullable(),
  spearmanCi95: interval,
  trusted: z.boolean(),
  /** Why the judge is not to be trusted; absent when it is. */
  warning: z.string().optional(),
});
export type HumanAgreement = z.infer<typeof humanAgreementSchema>;

/** Percentile bootstrap CI of `stat` over resampled pairs; null when too few resamples give a value. */
function bootstrapCI(
  x: readonly number[],
  y: readonly number[],
  stat: (a: number[], b: number[]) => number | null,
  B: number,
  seed: number,
): [number, number] | null {
  const rng = mulberry32(seed);
  const values: number[] = [];
  for (let b = 0; b < B; b++) {
    const a: number[] = [];
    const c: number[] = [];
    for (let i = 0; i < x.length; i++) {
      const k = Math.floor(rng() * x.length);
      a.push(x[k]!);
      c.push(y[k]!);
    }
    const v = stat(a, c);
    if (v !== null) values.push(v);
  }
  if (values.length < B / 2) return null;
  return [percentile(values, 2.5), percentile(values, 97.5)];
}

const passKappa = (a: number[], b: number[]) =>
  cohenKappa(
    a.map((v) => v >= 0.5),
    b.map((v) => v >= 0.5),
  );

/** The judge's agreement with people over the judged runs of graded cases. */
export function humanAgreement(
  file: string,
  grades: readonly HumanGrade[],
  runs: readonly JudgedRun[],
  stats: { B: number; seed: number },
): HumanAgreement {
  const judge: number[] = [];
  const human: number[] = [];
  for (const run of runs) {
    if (typeof run.scores.judge !== 'number') continue;
    const grade =
      grades.find((g) => g.caseId === run.caseId && g.variant === run.variant) ??
      grades.find((g) => g.caseId === run.caseId && g.variant === undefined);
    if (!grade) continue;
    judge.push(run.scores.judge);
    human.push(gradeValue(grade.grade));
  }
  const n = judge.length;
  const kappa = n > 0 ? passKappa(judge, human) : null;
  const rho = n > 1 ? spearman(judge, human) : null;
  const problems: string[] = [];
  if (n < TRUST_MIN_PAIRS) problems.push(`only ${n} graded runs (at least ${TRUST_MIN_PAIRS} are needed)`);
  if (kappa === null || kappa < TRUST_MIN_KAPPA)
    problems.push(`kappa ${kappa?.toFixed(2) ?? 'n/a'} < ${TRUST_MIN_KAPPA}`);
  if (rho === null || rho < TRUST_MIN_SPEARMAN)
    problems.push(`Spearman ${rho?.toFixed(2) ?? 'n/a'} < ${TRUST_MIN_SPEARMAN}`);
  return {
    file,
    n,
    kappa,
    kappaCi95: n > 1 ? bootstrapCI(judge, human, passKappa, stats.B, stats.seed) : null,
    spearman: rho,
    spearmanCi95: n > 2 ? bootstrapCI(judge, human, spearman, stats.B, stats.seed) : null,
    trusted: problems.length === 0,
    ...(problems.length > 0
      ? {
          warning: `The judge disagrees with people too much to be trusted: ${problems.join('; ')}. Do not gate or compare on its scores.`,
        }
      : {}),
  };
}

export function humanAgreementLines(a: HumanAgreement): string[] {
  const ci = (c: [number, number] | null) => (c ? ` [${c[0].toFixed(2)}, ${c[1].toFixed(2)}]` : '');
  return [
    `LLM judge vs people (${a.n} graded runs, ${a.file}): kappa ${a.kappa?.toFixed(2) ?? 'n/a'}${ci(a.kappaCi95)}, Spearman ${a.spearman?.toFixed(2) ?? 'n/a'}${ci(a.spearmanCi95)}`,
    ...(a.warning ? [`WARNING: ${a.warning}`] : []),
  ];
}
