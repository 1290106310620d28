import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BatonError } from '../src/core/errors.js';
import { modelSettingsSchema } from '../src/core/model.js';
import { patternNames as allPatterns } from '../src/orchestrators/index.js';
import type { RegisteredPattern } from '../src/orchestrators/pattern.js';
import { parseOptionFlags } from '../src/runs/option-flags.js';
import { type Pattern, patternSchema, type RunOptions, runOptionsSchema } from '../src/runs/schema.js';
import type { TeamDefinition } from '../src/teams/schema.js';
import { BASE_VARIANT } from '../src/teams/variants.js';
import { type DatasetSplit, datasetSplits, splitSchema } from './datasets/schema.js';
import type { Variant } from './results-schema.js';

/**
 * What an eval runs: the team, the dataset, and the variants (pattern × option set × model) each case runs
 * under, `repeat` times. Built from command-line flags, or from an experiment file (YAML) describing a matrix,
 * with flags given on the command line winning over the file.
 */

/** A bad flag, experiment file, team or pattern: one sentence, exit code 1. */
export class EvalInputError extends BatonError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('EVAL_INVALID', message, details);
  }
}

/** Default dataset per team (relative to the working directory, i.e. the repository root). */
export const defaultDatasets: Readonly<Record<string, string>> = {
  'news-desk': 'evals/datasets/news-articles.jsonl',
  'support-desk': 'evals/datasets/support-tickets.jsonl',
};

/**
 * Runs in flight at once. With the simulated model's default latency (100–300 ms a call), 8 keeps the
 * 8-case × 4-pattern acceptance run near 10 s while leaving each run's own timing undisturbed.
 */
export const DEFAULT_CONCURRENCY = 8;

const setName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'names are letters, digits, dots, dashes and underscores');

/** An experiment file: `patterns × optionSets × models`, each option set optionally limited to some patterns. */
export const experimentSchema = z
  .strictObject({
    name: setName,
    description: z.string().optional(),
    team: z.string().min(1),
    /** Default: the team's dataset (`defaultDatasets`). */
    dataset: z.string().min(1).optional(),
    /** The part of the dataset to score (default `test`; `dev` is the part heuristics may be tuned on). */
    split: splitSchema.optional(),
    limit: z.number().int().min(1).optional(),
    repeat: z.number().int().min(1).max(1000).optional(),
    seed: z.number().int().min(0).optional(),
    concurrency: z.number().int().min(1).max(256).optional(),
    /** Score every run with the LLM judge too (as --judge). */
    judge: z.boolean().optional(),
    patterns: z.array(patternSchema).min(1),
    /** Named run-option sets. Default: one set `default` with no options. */
    optionSets: z
      .record(
        setName,
        z.strictObject({
          options: runOptionsSchema.default({}),
          /** Only these patterns run this set (default: every pattern of the experiment). */
          patterns: z.array(patternSchema).min(1).optional(),
        }),
      )
      .optional(),
    /** Named model settings, each crossed with every option set as `options.model`. */
    models: z.record(setName, modelSettingsSchema).optional(),
    /** Team variants (the team's `variants`, and `base`), each crossed with every option set as `options.variant`. */
    variants: z.array(z.string().min(1)).min(1).optional(),
  })
  .superRefine((exp, ctx) => {
    for (const [name, set] of Object.entries(exp.optionSets ?? {})) {
      for (const p of set.patterns ?? []) {
        if (!exp.patterns.includes(p)) {
          ctx.addIssue({
            code: 'custom',
            path: ['optionSets', name, 'patterns'],
            message: `"${p}" is not in the experiment's patterns (${exp.patterns.join(', ')})`,
          });
        }
      }
    }
  });
export type Experiment = z.infer<typeof experimentSchema>;

export async function loadExperiment(path: string): Promise<Experiment> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new EvalInputError(`Cannot read the experiment file ${path}: ${(err as Error).message}.`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new EvalInputError(`The experiment file ${path} is not valid YAML: ${(err as Error).message}`);
  }
  const parsed = experimentSchema.safeParse(raw);
  if (!parsed.success) {
    const reasons = parsed.error.issues.map(
      (i) => `${i.path.length ? i.path.join('.') : '(file)'}: ${i.message}`,
    );
    throw new EvalInputError(`The experiment file ${path} is invalid: ${reasons.join('; ')}.`);
  }
  return parsed.data;
}

/** The flags of `baton eval` as commander hands them over (strings until resolved here). */
export interface EvalFlags {
  team?: string;
  dataset?: string;
  split?: string;
  patterns?: string;
  repeat?: number | string;
  limit?: number | string;
  concurrency?: number | string;
  option?: Record<string, string>;
  seed?: number | string;
  out?: string;
  experiment?: string;
  api?: string;
  key?: string;
  record?: boolean;
  replay?: string;
  judge?: boolean;
  /** Team variants to compare, comma-separated (`base` is the team without a variant). */
  variants?: string;
  /** The quality gate: a baseline results.json to compare against, and the largest mean drop tolerated. */
  baseline?: string;
  maxDrop?: string | number;
  /** A JSONL file of people's grades of cases (with --judge): the judge's agreement with people. */
  humanGrades?: string;
  /** Compare the team's variants on production runs (online scores and feedback) since/until these times. */
  fromProduction?: boolean;
  since?: string;
  until?: string;
}

export interface EvalPlan {
  team: string;
  datasetPath: string;
  /** The part of the dataset the eval scores. */
  split: DatasetSplit;
  patterns: Pattern[];
  optionSets: { name: string; options: RunOptions }[];
  variants: Variant[];
  repeat: number;
  limit: number | null;
  concurrency: number;
  seed: number;
  experiment: { path: string; name: string } | null;
  /** Score every run with the LLM judge too. */
  judge: boolean;
  /** The team variants compared (`--variants`), or null when the team runs as it is. */
  teamVariants: string[] | null;
}

function positiveInt(value: number | string | undefined, flag: string, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new EvalInputError(`${flag} must be an integer of at least ${min}, got "${value}".`);
  }
  return n;
}

/** CLI options win over a set's options; `model` is merged one level deep. */
function mergeOptions(base: RunOptions, over: RunOptions): RunOptions {
  const merged: RunOptions = { ...base, ...over };
  if (base.model || over.model) merged.model = { ...base.model, ...over.model };
  return merged;
}

/** The run seed of repeat `r`: the variant's own seed option if it sets one, else the base seed, plus r. */
export function seedFor(plan: Pick<EvalPlan, 'seed'>, variant: Variant, repeat: number): number {
  return (variant.options.seed ?? plan.seed) + repeat;
}

export function variantLabel(pattern: Pattern, optionSet: string, single: boolean): string {
  return single ? pattern : `${pattern} · ${optionSet}`;
}

/**
 * Resolves flags (and the experiment file they name) into a plan, checking the team exists, every pattern is
 * registered and the team is wired for it.
 */
export async function resolvePlan(
  flags: EvalFlags,
  teams: ReadonlyMap<string, TeamDefinition>,
  orchestrators: ReadonlyMap<string, RegisteredPattern>,
): Promise<EvalPlan> {
  const experiment = flags.experiment ? await loadExperiment(flags.experiment) : undefined;
  const cliOptions = (() => {
    try {
      return parseOptionFlags(flags.option ?? {});
    } catch (err) {
      throw new EvalInputError((err as Error).message);
    }
  })();

  const team = flags.team ?? experiment?.team ?? 'news-desk';
  const definition = teams.get(team);
  if (!definition) {
    throw new EvalInputError(`Unknown team "${team}"; known teams: ${[...teams.keys()].join(', ')}.`);
  }
  const wired = allPatterns.filter((p) => definition.patterns[p] !== undefined && orchestrators.has(p));

  let patterns: Pattern[];
  if (flags.patterns !== undefined) {
    const names = flags.patterns
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (names.length === 0) throw new EvalInputError('--patterns names no pattern.');
    patterns = [];
    for (const name of names) {
      if (!(allPatterns as readonly string[]).includes(name)) {
        throw new EvalInputError(`Unknown pattern "${name}"; patterns are ${allPatterns.join(', ')}.`);
      }
      if (!patterns.includes(name as Pattern)) patterns.push(name as Pattern);
    }
  } else {
    patterns = experiment?.patterns ?? wired;
  }
  for (const p of patterns) {
    if (!orchestrators.has(p))
      throw new EvalInputError(`Pattern "${p}" is not available in this build of baton.`);
    if (definition.patterns[p] === undefined) {
      throw new EvalInputError(
        `Team "${team}" is not wired for the ${p} pattern (it supports ${wired.join(', ') || 'none'}).`,
      );
    }
  }

  const datasetPath = flags.dataset ?? experiment?.dataset ?? defaultDatasets[team];
  if (!datasetPath)
    throw new EvalInputError(`Team "${team}" has no default dataset; pass --dataset <file.jsonl>.`);

  if (flags.split !== undefined && !(datasetSplits as readonly string[]).includes(flags.split)) {
    throw new EvalInputError(`--split must be one of ${datasetSplits.join(', ')}, got "${flags.split}".`);
  }
  const split = (flags.split as DatasetSplit | undefined) ?? experiment?.split ?? 'test';

  const seedFlag = positiveInt(flags.seed, '--seed', 0);
  const sets = Object.entries(experiment?.optionSets ?? { default: { options: {} } }).map(([name, set]) => {
    const options = mergeOptions(set.options, cliOptions);
    // --seed on the command line is the base seed of every variant, whatever a set says.
    if (seedFlag !== undefined) delete options.seed;
    return { name, options, patterns: 'patterns' in set ? set.patterns : undefined };
  });
  const models = Object.entries(experiment?.models ?? {});
  const optionSets: { name: string; options: RunOptions; patterns: Pattern[] | undefined }[] =
    models.length === 0
      ? sets
      : sets.flatMap((set) =>
          models.map(([modelName, model]) => ({
            name: sets.length === 1 && set.name === 'default' ? modelName : `${set.name}+${modelName}`,
            options: mergeOptions(set.options, { model: { ...model, ...cliOptions.model } }),
            patterns: set.patterns,
          })),
        );

  const teamVariants = variantsOf(flags, experiment, definition);
  const crossed = teamVariants ? withTeamVariants(optionSets, teamVariants) : optionSets;

  const pairs = patterns.flatMap((pattern) =>
    crossed
      .filter((set) => set.patterns === undefined || set.patterns.includes(pattern))
      .map((set) => ({ pattern, set })),
  );
  if (pairs.length === 0)
    throw new EvalInputError('The experiment selects no pattern × option-set combination.');
  const single = crossed.length === 1 && !teamVariants;
  const variants: Variant[] = pairs.map(({ pattern, set }) => ({
    label: variantLabel(pattern, set.name, single),
    pattern,
    optionSet: set.name,
    options: set.options,
  }));

  return {
    team,
    datasetPath,
    split,
    patterns,
    optionSets: crossed.map(({ name, options }) => ({ name, options })),
    variants,
    repeat: positiveInt(flags.repeat, '--repeat') ?? experiment?.repeat ?? 1,
    limit: positiveInt(flags.limit, '--limit') ?? experiment?.limit ?? null,
    concurrency:
      positiveInt(flags.concurrency, '--concurrency') ?? experiment?.concurrency ?? DEFAULT_CONCURRENCY,
    seed: seedFlag ?? experiment?.seed ?? cliOptions.seed ?? 0,
    experiment: experiment && flags.experiment ? { path: flags.experiment, name: experiment.name } : null,
    judge: flags.judge ?? experiment?.judge ?? false,
    teamVariants,
  };
}

type OptionSet = { name: string; options: RunOptions; patterns: Pattern[] | undefined };

/** The team variants an eval compares (`--variants`, else the experiment's), each one the team declares. */
function variantsOf(
  flags: EvalFlags,
  experiment: Experiment | undefined,
  team: TeamDefinition,
): string[] | null {
  const names =
    flags.variants !== undefined
      ? [
          ...new Set(
            flags.variants
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
          ),
        ]
      : experiment?.variants;
  if (!names) return null;
  if (names.length === 0) throw new EvalInputError('--variants names no variant.');
  const declared = [BASE_VARIANT, ...Object.keys(team.variants ?? {})];
  for (const name of names) {
    if (!declared.includes(name)) {
      throw new EvalInputError(
        `Team "${team.name}" has no variant "${name}" (its variants: ${declared.join(', ')}).`,
      );
    }
  }
  return names;
}

/**
 * Every option set once per team variant, as `options.variant` (none for `base`): variants are compared like
 * patterns, on the same cases with the same seeds. A set is named by its variant alone when it is the only set.
 */
function withTeamVariants(sets: OptionSet[], variants: string[]): OptionSet[] {
  const alone = sets.length === 1 && sets[0]?.name === 'default';
  return sets.flatMap((set) =>
    variants.map((variant) => {
      const { variant: _, ...options } = set.options;
      return {
        name: alone ? variant : `${set.name}+${variant}`,
        options: variant === BASE_VARIANT ? options : { ...options, variant },
        patterns: set.patterns,
      };
    }),
  );
}
