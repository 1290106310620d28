import { writeFile } from 'node:fs/promises';
import type { LoggedFeedback } from '../src/runs/feedback-log.js';
import { type DatasetTeam, datasetKinds } from './datasets/schema.js';
import { EvalInputError } from './experiment.js';
import { scorableOutput } from './score.js';

/**
 * `baton feedback export`: production feedback back into an eval dataset. It reads `GET /v1/feedback` for a team
 * (since a time), keeps the newest feedback per run, and makes each run a case of the team's dataset format
 * (`evals/datasets/schema.ts`): the run's input is the case's text, and its label is the correction the user
 * supplied or, for feedback scoring 0.5 or more, the run's own structured output (the user accepted it). Runs
 * without content (BATON_FEEDBACK_CONTENT off), negative feedback without a correction, and labels the team's
 * case schema refuses are skipped and counted. Every case is in the `test` part, so `baton eval --dataset` scores
 * them as they are; `--grades` also writes each case's feedback score as a human grade for `--human-grades`.
 */

export interface FeedbackExportFlags {
  team: string;
  since?: string;
  until?: string;
  api: string;
  key: string;
  out: string;
  grades?: string;
}

export interface FeedbackExport {
  cases: number;
  skipped: Record<string, number>;
}

/** The label of the team's dataset format from an answer in the team's output shape. */
function labelOf(team: DatasetTeam, answer: Record<string, unknown>): unknown {
  if (team === 'support-desk') return { specialist: answer.specialist, category: answer.category };
  const companies = Array.isArray(answer.companies) ? (answer.companies as Record<string, unknown>[]) : [];
  return {
    title: answer.title,
    isBusiness: answer.isBusiness,
    summary: answer.summary,
    companies: answer.isBusiness ? companies.map((c) => ({ name: c.name, direction: c.direction })) : [],
  };
}

async function fetchFeedback(flags: FeedbackExportFlags): Promise<LoggedFeedback[]> {
  const query = new URLSearchParams({ team: flags.team, limit: '1000' });
  if (flags.since) query.set('since', flags.since);
  if (flags.until) query.set('until', flags.until);
  const res = await fetch(`${flags.api.replace(/\/$/, '')}/v1/feedback?${query}`, {
    headers: { authorization: `Bearer ${flags.key}` },
  });
  const body = (await res.json()) as { items?: LoggedFeedback[]; error?: { message: string } };
  if (!res.ok)
    throw new EvalInputError(`GET /v1/feedback answered ${res.status}: ${body.error?.message ?? ''}`);
  return body.items ?? [];
}

export async function exportFeedback(flags: FeedbackExportFlags): Promise<FeedbackExport> {
  if (!(flags.team in datasetKinds)) {
    throw new EvalInputError(
      `There is no dataset format for team "${flags.team}" (known: ${Object.keys(datasetKinds).join(', ')}).`,
    );
  }
  const team = flags.team as DatasetTeam;
  const kind = datasetKinds[team];
  const items = await fetchFeedback(flags);
  const seen = new Set<string>();
  const skipped: Record<string, number> = {};
  const skip = (why: string) => {
    skipped[why] = (skipped[why] ?? 0) + 1;
  };
  const cases: string[] = [];
  const grades: string[] = [];
  for (const f of items) {
    if (seen.has(f.runId)) continue; // newest first: the latest feedback on a run decides
    seen.add(f.runId);
    if (typeof f.input !== 'string') {
      skip(f.input === undefined ? 'no content (BATON_FEEDBACK_CONTENT is off)' : 'input is not text');
      continue;
    }
    const answer = f.correction ?? (f.score >= 0.5 ? scorableOutput(f.output) : undefined);
    if (!answer || typeof answer !== 'object') {
      skip('negative feedback without a correction');
      continue;
    }
    const id = `${kind.idPrefix}${String(cases.length + 1).padStart(3, '0')}`;
    const parsed = kind.caseSchema.safeParse({
      id,
      split: 'test',
      text: f.input,
      expected: labelOf(team, answer as Record<string, unknown>),
    });
    if (!parsed.success) {
      skip('label refused by the dataset schema');
      continue;
    }
    cases.push(JSON.stringify(parsed.data));
    grades.push(JSON.stringify({ caseId: id, grade: f.score, ...(f.comment ? { comment: f.comment } : {}) }));
  }
  await writeFile(flags.out, cases.length > 0 ? `${cases.join('\n')}\n` : '');
  if (flags.grades) await writeFile(flags.grades, grades.length > 0 ? `${grades.join('\n')}\n` : '');
  return { cases: cases.length, skipped };
}

/** The CLI entry: exit 0 with at least one case written, 1 otherwise. */
export async function feedbackExportCommand(
  flags: Partial<FeedbackExportFlags>,
  io: { stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream } = {},
): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  try {
    for (const required of ['team', 'out', 'api', 'key'] as const) {
      if (!flags[required]) throw new EvalInputError(`--${required} is required.`);
    }
    const result = await exportFeedback(flags as FeedbackExportFlags);
    const skipped = Object.entries(result.skipped).map(([why, n]) => `${n} ${why}`);
    stdout.write(
      `wrote ${result.cases} cases to ${flags.out}${skipped.length ? ` (skipped: ${skipped.join('; ')})` : ''}\n`,
    );
    return result.cases > 0 ? 0 : 1;
  } catch (err) {
    if (err instanceof EvalInputError) {
      stderr.write(`baton feedback export: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
