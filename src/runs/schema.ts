import { z } from 'zod';
import { modelSettingsSchema } from '../models/types.js';

/** The zod schemas of runs: request, options, record, steps and events. The API and OpenAPI derive from these. */

export const patterns = ['sequential', 'concurrent', 'handoff', 'magentic'] as const;
export const patternSchema = z.enum(patterns);
export type Pattern = z.infer<typeof patternSchema>;

export const contextModes = ['full', 'last', 'summary'] as const;

/** The researcher's flags. Every field is optional; defaults are applied by `resolveRunOptions`. */
export const runOptionsSchema = z
  .object({
    deadlineMs: z.number().int().min(100).max(3_600_000).optional().describe('Whole-run deadline.'),
    maxTokens: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Token budget over every model call of the run.'),
    maxModelCalls: z.number().int().positive().optional().describe('Model-call budget, retries included.'),
    context: z.enum(contextModes).optional().describe('What earlier work each agent sees (default full).'),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(64)
      .optional()
      .describe('Concurrent branches at once (default 4).'),
    model: modelSettingsSchema.optional().describe('Overrides every agent’s model settings for this run.'),
    aggregator: z
      .enum(['merge', 'vote', 'agent'])
      .optional()
      .describe('Concurrent: override the team aggregator.'),
    minSuccessful: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Concurrent: branches that must succeed (default 1).'),
    entryAgent: z.string().min(1).optional().describe('Handoff: override the team entry agent.'),
    maxHandoffs: z.number().int().min(0).max(100).optional().describe('Handoff: default 8.'),
    maxRounds: z.number().int().min(1).max(200).optional().describe('Magentic: default 20.'),
    maxStalls: z.number().int().min(0).max(50).optional().describe('Magentic: default 3.'),
    maxResets: z.number().int().min(0).max(20).optional().describe('Magentic: default 3.'),
    seed: z.number().int().min(0).optional().describe('Seed for the simulated model and ctx.random().'),
    stream: z.boolean().optional().describe('Stream agent text as agent.delta events (default true).'),
  })
  .strict();
export type RunOptions = z.infer<typeof runOptionsSchema>;

export const runOptionDefaults = {
  context: 'full',
  concurrency: 4,
  minSuccessful: 1,
  maxHandoffs: 8,
  maxRounds: 20,
  maxStalls: 3,
  maxResets: 3,
  seed: 0,
  stream: true,
} as const satisfies Partial<RunOptions>;

export type ResolvedRunOptions = RunOptions & {
  [K in keyof typeof runOptionDefaults]-?: NonNullable<RunOptions[K]>;
};

export function resolveRunOptions(options: RunOptions | undefined): ResolvedRunOptions {
  return { ...runOptionDefaults, ...(options ?? {}) } as ResolvedRunOptions;
}

const inputSchema = z.union([
  z.string().trim().min(1, 'must not be empty').max(200_000),
  z.record(z.string(), z.unknown()).refine((o) => Object.keys(o).length > 0, 'must not be an empty object'),
]);

export const runRequestSchema = z
  .object({
    team: z.string().min(1).default('news-desk'),
    pattern: patternSchema,
    input: inputSchema.describe('The task: text, or a JSON object.'),
    options: runOptionsSchema.optional(),
    metadata: z.record(z.string().min(1).max(64), z.string().max(512)).optional(),
  })
  .strict();
export type RunRequest = z.infer<typeof runRequestSchema>;

export const runStatusSchema = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export type RunStatus = z.infer<typeof runStatusSchema>;
export const terminalStatuses: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];

export const errorInfoSchema = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorInfo = z.infer<typeof errorInfoSchema>;

export const usageSchema = z.object({
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  modelCalls: z.number().int(),
  costUsd: z.number().optional(),
});
export type RunUsage = z.infer<typeof usageSchema>;

export const stepRecordSchema = z.object({
  key: z.string().describe('Journal key, e.g. seq/2/agent:extractor'),
  agent: z.string(),
  status: z.enum(['succeeded', 'failed']),
  attempts: z.number().int(),
  startedAt: z.string(),
  durationMs: z.number(),
  usage: z.object({ inputTokens: z.number().int(), outputTokens: z.number().int() }),
  costUsd: z.number().optional(),
  model: z.string().optional(),
  error: errorInfoSchema.optional(),
});
export type StepRecord = z.infer<typeof stepRecordSchema>;

export const runOutputSchema = z.object({
  text: z.string(),
  structured: z.unknown().optional(),
});
export type RunOutput = z.infer<typeof runOutputSchema>;

/** A quality signal on a run (or one of its steps), from a user or a reviewer. */
export const feedbackSchema = z
  .object({
    score: z.number().min(0).max(1).describe('0 (bad) to 1 (good); thumbs down/up are 0 and 1.'),
    comment: z.string().trim().min(1).max(2_000).optional(),
    step: z.string().min(1).max(200).optional().describe('Journal key of the step the feedback is about.'),
  })
  .strict();
export const feedbackEntrySchema = feedbackSchema.extend({ at: z.string() });
export type FeedbackEntry = z.infer<typeof feedbackEntrySchema>;

export const runRecordSchema = z.object({
  id: z.string(),
  status: runStatusSchema,
  team: z.string(),
  pattern: patternSchema,
  input: inputSchema,
  options: runOptionsSchema,
  metadata: z.record(z.string(), z.string()).optional(),
  output: runOutputSchema.optional(),
  partial: z.boolean().optional().describe('Succeeded with degraded output (failed branches, budget stop).'),
  failedAgents: z.array(z.string()).optional(),
  details: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('Pattern-specific result, e.g. final ledgers.'),
  error: errorInfoSchema.optional(),
  usage: usageSchema,
  steps: z.array(stepRecordSchema),
  traceId: z.string().optional(),
  feedback: z.array(feedbackEntrySchema).optional(),
  attempt: z.number().int().describe('Worker attempts so far (more than 1 after a crash or hand-over).'),
  cancelRequested: z.boolean().optional(),
  queuePaused: z.boolean().optional().describe('True when the run was accepted while the queue was paused.'),
  definitionVersion: z.string(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  durationMs: z.number().optional(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

const base = { runId: z.string(), at: z.string() };
const stepRef = { agent: z.string(), step: z.string() };
const tokens = z.object({ inputTokens: z.number().int(), outputTokens: z.number().int() });

/** One event schema for every pattern. `id` is the Redis stream id (the SSE event id). */
export const runEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('run.started'), ...base, attempt: z.number().int(), resumed: z.boolean() }),
  z.object({ type: z.literal('agent.started'), ...base, ...stepRef }),
  z.object({ type: z.literal('agent.delta'), ...base, ...stepRef, text: z.string() }),
  z.object({
    type: z.literal('agent.completed'),
    ...base,
    ...stepRef,
    durationMs: z.number(),
    attempts: z.number().int(),
    usage: tokens,
    text: z.string().optional().describe('Only when BATON_CAPTURE_CONTENT=true.'),
  }),
  z.object({
    type: z.literal('agent.failed'),
    ...base,
    ...stepRef,
    attempts: z.number().int(),
    error: errorInfoSchema,
  }),
  z.object({
    type: z.literal('handoff'),
    ...base,
    from: z.string(),
    to: z.string(),
    reason: z.string().optional(),
  }),
  z.object({ type: z.literal('plan.created'), ...base, ledger: z.record(z.string(), z.unknown()) }),
  z.object({
    type: z.literal('ledger.updated'),
    ...base,
    round: z.number().int(),
    ledger: z.record(z.string(), z.unknown()),
  }),
  z.object({
    type: z.literal('replanned'),
    ...base,
    reset: z.number().int(),
    ledger: z.record(z.string(), z.unknown()),
  }),
  z.object({
    type: z.literal('budget.exceeded'),
    ...base,
    budget: z.enum(['tokens', 'modelCalls']),
    limit: z.number(),
    used: z.number(),
  }),
  z.object({
    type: z.literal('run.completed'),
    ...base,
    partial: z.boolean(),
    output: runOutputSchema,
    usage: usageSchema,
  }),
  z.object({ type: z.literal('run.failed'), ...base, error: errorInfoSchema }),
  z.object({ type: z.literal('run.cancelled'), ...base }),
]);
export type RunEvent = z.infer<typeof runEventSchema>;
export type RunEventType = RunEvent['type'];
/** What emitters pass: the runId and timestamp are filled in by the event stream. */
export type RunEventInput = RunEvent extends infer E
  ? E extends RunEvent
    ? Omit<E, 'runId' | 'at'>
    : never
  : never;
export const terminalEventTypes: readonly RunEventType[] = ['run.completed', 'run.failed', 'run.cancelled'];
