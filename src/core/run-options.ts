import { z } from 'zod';
import { modelSettingsSchema } from './model.js';

/**
 * The run options every pattern honours (the researcher's flags): deadline, budgets, context passing, concurrency,
 * model overrides, seed and streaming. Each pattern adds its own options (src/orchestrators/); the run request's
 * `options` schema is these plus every pattern's, assembled in src/runs/schema.ts.
 */

export const contextModes = ['full', 'last', 'summary', 'truncate'] as const;
export type ContextMode = (typeof contextModes)[number];

export const commonRunOptionsShape = {
  deadlineMs: z.number().int().min(100).max(3_600_000).optional().describe('Whole-run deadline.'),
  maxTokens: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Token budget over every model call of the run.'),
  maxModelCalls: z.number().int().positive().optional().describe('Model-call budget, retries included.'),
  context: z
    .enum(contextModes)
    .optional()
    .describe(
      'What earlier work each agent sees: all of it (full, the default), the last piece, a model-made summary of each long piece, or each piece cut short (truncate).',
    ),
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(64)
    .optional()
    .describe('Concurrent branches at once (default 4).'),
  model: modelSettingsSchema.optional().describe('Overrides every agent’s model settings for this run.'),
  variant: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,62}$/)
    .optional()
    .describe(
      'A variant of the team (its `variants`): overlays of agent fields; `base` is the team as it is.',
    ),
} as const;

/** Options every pattern honours that come last in the request schema (their order is the CLI's and docs'). */
export const trailingRunOptionsShape = {
  seed: z.number().int().min(0).optional().describe('Seed for the simulated model and ctx.random().'),
  stream: z.boolean().optional().describe('Stream agent text as agent.delta events (default true).'),
} as const;

const commonRunOptionsSchema = z.object({ ...commonRunOptionsShape, ...trailingRunOptionsShape });
export type CommonRunOptions = z.infer<typeof commonRunOptionsSchema>;

export const commonRunOptionDefaults = {
  context: 'full',
  concurrency: 4,
  seed: 0,
  stream: true,
} as const satisfies Partial<CommonRunOptions>;

/** Options with their defaults applied: what `ctx.options` holds. */
export type Resolved<Options, Defaults> = Options & {
  [K in keyof Defaults & keyof Options]-?: NonNullable<Options[K]>;
};
export type ResolvedCommonRunOptions = Resolved<CommonRunOptions, typeof commonRunOptionDefaults>;
