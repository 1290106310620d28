import { z } from 'zod';
import { modelSettingsSchema } from '../src/core/model.js';
import { patternSchema, runOptionsSchema } from '../src/runs/schema.js';
import { splitSchema } from './datasets/schema.js';
import { humanAgreementSchema } from './human-grades.js';

/**
 * The shape of `results.json`, the one file every eval run writes and every report is generated from. Tests
 * validate real output against it; `--replay` reads a recorded run's file through it.
 */

const interval = z.tuple([z.number(), z.number()]);
const verdictSchema = z.enum(['better', 'worse', 'no significant difference']);

/** One variant of a run: a pattern under one named option set (option sets come from --option or an experiment). */
export const variantSchema = z.object({
  /** How reports name it: the pattern alone when there is one option set, else `pattern · optionSet`. */
  label: z.string(),
  pattern: patternSchema,
  optionSet: z.string(),
  /** The run options every run of this variant gets (before the per-repeat seed). */
  options: runOptionsSchema,
  /** `definitionVersion` of what this variant's runs executed (the team, with `options.variant` applied). */
  definitionVersion: z.string().optional(),
});
export type Variant = z.infer<typeof variantSchema>;

export const caseResultSchema = z.object({
  caseId: z.string(),
  pattern: patternSchema,
  optionSet: z.string(),
  variant: z.string(),
  /** 0-based repetition; the run's seed is the base seed + repeat. */
  repeat: z.number().int().min(0),
  seed: z.number().int().min(0),
  runId: z.string(),
  status: z.enum(['succeeded', 'failed', 'cancelled']),
  partial: z.boolean(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  output: z.object({ text: z.string(), structured: z.unknown().optional() }).nullable(),
  scores: z.object({
    /** The team's composite quality score in [0, 1] (0 for a run without output). */
    quality: z.number().min(0).max(1),
    components: z.record(z.string(), z.number()),
    /**
     * With --judge: the LLM judge's normalised score in [0, 1] (0 for a run without output, like quality), or
     * null when the judge failed (`judgeError` says why). Absent without --judge.
     */
    judge: z.number().min(0).max(1).nullable().optional(),
    judgeError: z.object({ code: z.string(), message: z.string() }).optional(),
  }),
  /** Run wall time: measured around the engine in-process, the run record's duration via --api, recorded in replay. */
  latencyMs: z.number().min(0),
  tokens: z.object({ input: z.number().int(), output: z.number().int(), total: z.number().int() }),
  modelCalls: z.number().int().min(0),
  /** null when no price is configured for the deployment. */
  costUsd: z.number().nullable(),
  steps: z.number().int().min(0),
  definitionVersion: z.string(),
  /** Models that answered the run's steps, as providers report them (`simulated` for the simulated model). */
  models: z.array(z.string()),
  /** Path of the recorded journal, relative to the output directory (with --record). */
  recording: z.string().optional(),
});
export type CaseResult = z.infer<typeof caseResultSchema>;

export const summaryEntrySchema = z.object({
  variant: z.string(),
  pattern: patternSchema,
  optionSet: z.string(),
  /** Runs (cases × repeats). */
  n: z.number().int().min(0),
  /** Distinct cases. */
  cases: z.number().int().min(0),
  /** Runs that succeeded (partial results included) / n. */
  successRate: z.number().min(0).max(1),
  partialRate: z.number().min(0).max(1),
  /** Mean of the per-case quality (each case averaged over its repeats), with a bootstrap CI over cases. */
  quality: z.object({ mean: z.number(), ci95: interval }),
  latencyMs: z.object({ p50: z.number(), p95: z.number(), mean: z.number() }),
  tokens: z.object({ mean: z.number(), inputMean: z.number(), outputMean: z.number() }),
  modelCalls: z.object({ mean: z.number() }),
  costUsd: z.object({ mean: z.number().nullable() }),
  /** With --judge: mean per-case judge score with a bootstrap CI over cases; null when no case was judged. */
  judge: z.object({ mean: z.number(), ci95: interval }).nullable().optional(),
});
export type SummaryEntry = z.infer<typeof summaryEntrySchema>;

const variantRef = z.object({ variant: z.string(), pattern: patternSchema, optionSet: z.string() });

export const comparisonSchema = z.object({
  a: variantRef,
  b: variantRef,
  /** Cases both variants ran. */
  n: z.number().int().min(1),
  quality: z.object({
    meanA: z.number(),
    meanB: z.number(),
    /** meanA − meanB with the paired-bootstrap CI of that difference. */
    diff: z.number(),
    ci95: interval,
    /** How A compares with B. */
    verdict: verdictSchema,
    signTestP: z.number(),
    wilcoxonP: z.number(),
  }),
  latencyMs: z.object({
    p50A: z.number(),
    p50B: z.number(),
    /** p50A / p50B (null when p50B is 0). */
    ratio: z.number().nullable(),
  }),
  modelCalls: z.object({ meanA: z.number(), meanB: z.number() }),
  tokens: z.object({ meanA: z.number(), meanB: z.number() }),
});
export type Comparison = z.infer<typeof comparisonSchema>;

export const evalConfigSchema = z.object({
  createdAt: z.string(),
  /** Wall time of the whole eval. */
  durationMs: z.number().min(0),
  mode: z.enum(['in-process', 'api', 'replay']),
  /** The command-line flags as given (API keys are never written). */
  flags: z.record(z.string(), z.unknown()),
  experiment: z.object({ path: z.string(), name: z.string() }).nullable(),
  team: z.string(),
  dataset: z.object({
    path: z.string(),
    /** The part of the dataset scored (`dev` or `test`, see evals/datasets/schema.ts). */
    split: splitSchema,
    /** Cases in that part of the file. */
    totalCases: z.number().int().min(1),
    /** Ids of the cases this eval ran, in file order. */
    caseIds: z.array(z.string()),
  }),
  patterns: z.array(patternSchema),
  optionSets: z.array(z.object({ name: z.string(), options: runOptionsSchema })),
  variants: z.array(variantSchema),
  repeat: z.number().int().min(1),
  limit: z.number().int().min(1).nullable(),
  concurrency: z.number().int().min(1),
  /** Base seed; repeat r runs with seed + r. */
  seed: z.number().int().min(0),
  gitCommit: z.string().nullable(),
  gitDirty: z.boolean().nullable(),
  /** `definitionVersion(team)`: hash of the team wiring, agents, prompts and schemas. */
  definitionVersion: z.string(),
  /** Per-agent hash of instructions, model settings, policies and output schema. */
  agentVersions: z.record(z.string(), z.string()),
  model: z.object({
    /** BATON_MODEL_PROVIDER of the process that ran the engine (null via --api: the service decides). */
    provider: z.string().nullable(),
    defaultDeployment: z.string().nullable(),
    /** Latency range of the simulated model (BATON_SIMULATED_LATENCY_MS), when it ran in-process. */
    simulatedLatencyMs: z.tuple([z.number(), z.number()]).nullable(),
    /** Each agent's own model settings from the team definition. */
    agents: z.record(z.string(), modelSettingsSchema),
    /** Models that answered, as providers report them. */
    modelsSeen: z.array(z.string()),
  }),
  /** True when every answer came from the offline simulated model: the figures show machinery, not quality. */
  simulated: z.boolean(),
  api: z.object({ url: z.string() }).nullable(),
  record: z.boolean(),
  replay: z.object({ from: z.string(), modelCallsDuringReplay: z.number().int().min(0) }).nullable(),
  stats: z.object({ B: z.number().int(), seed: z.number().int(), confidence: z.number() }),
  /** With --judge: the rubric, how many runs were judged, and the judge's agreement with the label-based quality. */
  judge: z
    .object({
      rubric: z.string(),
      judged: z.number().int().min(0),
      failed: z.number().int().min(0),
      /** `judgeAgreement(judge, quality)` over every judged run (threshold 0.5); null when no run was judged. */
      judgeAgreement: z
        .object({
          n: z.number().int().min(0),
          pearson: z.number().nullable(),
          spearman: z.number().nullable(),
          kappa: z.number().nullable(),
          passAgreement: z.number().nullable(),
          threshold: z.number(),
        })
        .nullable(),
      /** With --human-grades: the judge's agreement with people's grades, with CIs and a trust verdict. */
      humanAgreement: humanAgreementSchema.optional(),
    })
    .nullable()
    .optional(),
});
export type EvalConfig = z.infer<typeof evalConfigSchema>;

export const evalResultsSchema = z.object({
  version: z.literal(1),
  config: evalConfigSchema,
  cases: z.array(caseResultSchema),
  summary: z.array(summaryEntrySchema),
  comparisons: z.array(comparisonSchema),
});
export type EvalResults = z.infer<typeof evalResultsSchema>;
