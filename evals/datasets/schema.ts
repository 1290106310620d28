import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { BatonError } from '../../src/core/errors.js';
import { companyOutlookSchema, newsDeskOutputSchema } from '../news-desk-output.js';
import { normalizeCompanyName } from '../scorers/company-names.js';
import { resolutionCategories, specialists } from '../support-desk-output.js';

/**
 * Eval dataset formats. A dataset is a JSONL file: one case per line, `{ id, split, text, expected }`, where
 * `split` says which part of the dataset the case belongs to (`dev`: the simulated model's heuristics may be
 * tuned on it; `test`: they may not — reports score one part), `text` is the run input and `expected` the label,
 * in the shape of the team's output schema minus the free-text parts a label cannot pin down (the per-company
 * `reason`, the support `reply`). Blank lines are ignored.
 *
 * Each team's dataset format is registered in `datasetKinds` with its id prefix; `loadDataset(path)` reads the
 * first case's id to pick the format, then validates every line against it.
 */

/** The two parts of every dataset: `dev` for tuning heuristics, `test` for scoring them. */
export const datasetSplits = ['dev', 'test'] as const;
export type DatasetSplit = (typeof datasetSplits)[number];
export const splitSchema = z.enum(datasetSplits);

/**
 * How the shipped datasets were split, so no one moves a case to suit a heuristic: the cases are grouped by label
 * (news: business or not; tickets: resolution category) and, within each group in file order, the 2nd, 5th, 8th,
 * … case is `dev`, every other one `test`. `datasets.test.ts` checks the files still follow it.
 */
export function assignedSplit(indexInGroup: number): DatasetSplit {
  return indexInGroup % 3 === 1 ? 'dev' : 'test';
}

/** The cases of one part of a dataset, in file order. */
export function casesOf<C extends { split: DatasetSplit }>(cases: readonly C[], split: DatasetSplit): C[] {
  return cases.filter((c) => c.split === split);
}

/** news-desk label: the output schema without `reason`; business articles name ≥ 1 company, others none. */
export const newsLabelSchema = newsDeskOutputSchema
  .pick({ title: true, isBusiness: true, summary: true })
  .extend({ companies: z.array(companyOutlookSchema.pick({ name: true, direction: true }).strict()) })
  .strict()
  .superRefine((label, ctx) => {
    if (!label.isBusiness && label.companies.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['companies'],
        message: 'a non-business article lists no companies',
      });
    }
    if (label.isBusiness && label.companies.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['companies'],
        message: 'a business article names at least one company',
      });
    }
    const seen = new Set<string>();
    label.companies.forEach((c, i) => {
      const key = normalizeCompanyName(c.name);
      if (seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['companies', i, 'name'],
          message: `duplicate company "${c.name}"`,
        });
      }
      seen.add(key);
    });
  });
export type NewsLabel = z.infer<typeof newsLabelSchema>;

export const newsCaseSchema = z
  .strictObject({
    id: z.string().regex(/^news-\d{3,}$/, 'news ids look like news-001'),
    split: splitSchema,
    text: z.string().min(1),
    expected: newsLabelSchema,
  })
  .superRefine((c, ctx) => {
    const firstLine = c.text.split('\n', 1)[0];
    if (firstLine !== c.expected.title) {
      ctx.addIssue({
        code: 'custom',
        path: ['expected', 'title'],
        message: `must equal the text's first line ("${firstLine}")`,
      });
    }
  });
export type NewsCase = z.infer<typeof newsCaseSchema>;

const specialistEnum = z.enum(specialists);
const categoryEnum = z.enum(Object.values(resolutionCategories).flat() as [string, ...string[]]);

/** support-desk label: the specialist and one of the resolution categories that specialist owns. */
export const supportLabelSchema = z
  .strictObject({ specialist: specialistEnum, category: categoryEnum })
  .superRefine((label, ctx) => {
    const owned: readonly string[] = resolutionCategories[label.specialist];
    if (!owned.includes(label.category)) {
      ctx.addIssue({
        code: 'custom',
        path: ['category'],
        message: `"${label.category}" is not a ${label.specialist} category (${owned.join(', ')})`,
      });
    }
  });
export type SupportLabel = z.infer<typeof supportLabelSchema>;

export const supportCaseSchema = z.strictObject({
  id: z.string().regex(/^ticket-\d{3,}$/, 'ticket ids look like ticket-001'),
  split: splitSchema,
  text: z.string().min(1),
  expected: supportLabelSchema,
});
export type SupportCase = z.infer<typeof supportCaseSchema>;

/** The dataset formats `loadDataset` knows, by team. Add an entry here when a team gets a dataset. */
export const datasetKinds = {
  'news-desk': { idPrefix: 'news-', caseSchema: newsCaseSchema },
  'support-desk': { idPrefix: 'ticket-', caseSchema: supportCaseSchema },
} as const;
export type DatasetTeam = keyof typeof datasetKinds;

export type LoadedDataset =
  | { team: 'news-desk'; path: string; cases: NewsCase[] }
  | { team: 'support-desk'; path: string; cases: SupportCase[] };

/** A dataset file is unreadable or a line does not fit its format. `details` name the file, line and field. */
export class DatasetError extends BatonError {
  constructor(file: string, line: number, field: string, problem: string) {
    super('DATASET_INVALID', `${file}:${line}: ${field}: ${problem}`, { file, line, field, problem });
  }
}

/**
 * Parses JSONL text against `schema`. Every line is validated; the first bad line throws a `DatasetError`
 * naming `file`, the 1-based line number and the field path (e.g. `expected.companies.1.direction`). Duplicate
 * ids are errors too.
 */
export function parseDataset<S extends z.ZodType<{ id: string }>>(
  text: string,
  file: string,
  schema: S,
): z.output<S>[] {
  const cases: z.output<S>[] = [];
  const ids = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const lineNo = i + 1;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      throw new DatasetError(file, lineNo, '(line)', `not valid JSON: ${(err as Error).message}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
      throw new DatasetError(file, lineNo, field, issue.message);
    }
    const id = parsed.data.id;
    const first = ids.get(id);
    if (first !== undefined)
      throw new DatasetError(file, lineNo, 'id', `duplicate id "${id}" (first on line ${first})`);
    ids.set(id, lineNo);
    cases.push(parsed.data);
  }
  if (cases.length === 0) throw new DatasetError(file, 1, '(file)', 'the dataset has no cases');
  return cases;
}

/** Reads and validates a JSONL dataset against an explicit case schema. */
export async function loadDatasetWith<S extends z.ZodType<{ id: string }>>(
  path: string,
  schema: S,
): Promise<z.output<S>[]> {
  return parseDataset(await readText(path), path, schema);
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new DatasetError(path, 0, '(file)', `cannot read: ${(err as Error).message}`);
  }
}

/** The team whose dataset format matches the first case's id prefix, with the line it was found on. */
function detectTeam(text: string, file: string): DatasetTeam {
  const lines = text.split(/\r?\n/);
  const index = lines.findIndex((l) => l.trim() !== '');
  if (index < 0) throw new DatasetError(file, 1, '(file)', 'the dataset has no cases');
  let id: unknown;
  try {
    id = (JSON.parse(lines[index]!) as { id?: unknown } | null)?.id;
  } catch (err) {
    throw new DatasetError(file, index + 1, '(line)', `not valid JSON: ${(err as Error).message}`);
  }
  for (const [team, kind] of Object.entries(datasetKinds)) {
    if (typeof id === 'string' && id.startsWith(kind.idPrefix)) return team as DatasetTeam;
  }
  const prefixes = Object.values(datasetKinds).map((k) => `"${k.idPrefix}"`);
  throw new DatasetError(file, index + 1, 'id', `must start with one of ${prefixes.join(', ')}`);
}

/**
 * Reads a JSONL dataset, picks its format from the first case's id prefix (`news-` → news-desk,
 * `ticket-` → support-desk) and validates every line (see `parseDataset`).
 */
export async function loadDataset(path: string): Promise<LoadedDataset> {
  const text = await readText(path);
  const team = detectTeam(text, path);
  if (team === 'news-desk') return { team, path, cases: parseDataset(text, path, newsCaseSchema) };
  return { team, path, cases: parseDataset(text, path, supportCaseSchema) };
}
