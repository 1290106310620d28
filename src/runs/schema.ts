import { z } from 'zod';
import { nestedDeeperThan } from '../core/json.js';
import {
  errorInfoSchema,
  pendingInputSchema,
  runOutputSchema,
  stepRecordSchema,
  usageSchema,
} from '../core/run.js';
import {
  commonRunOptionDefaults,
  commonRunOptionsShape,
  type ResolvedCommonRunOptions,
  trailingRunOptionsShape,
} from '../core/run-options.js';
import { patternNames, registeredPatterns } from '../orchestrators/index.js';
import type { RegisteredPattern } from '../orchestrators/pattern.js';

/** The zod schemas of runs: request, options, record, steps and events. The API and OpenAPI derive from these. */

export const patternSchema = z.enum(patternNames);
export type Pattern = z.infer<typeof patternSchema>;

type PatternOptionsShape = UnionToIntersection<(typeof registeredPatterns)[number]['options']>;
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;

/**
 * The researcher's flags: the options every pattern honours, then each pattern's own (patterns that share an
 * option declare it the same way). Every field is optional; defaults are applied by `resolveRunOptions`.
 */
export const runOptionsSchema = z
  .object({
    ...commonRunOptionsShape,
    ...(Object.assign({}, ...registeredPatterns.map((p) => p.options)) as PatternOptionsShape),
    ...trailingRunOptionsShape,
  })
  .strict();
export type RunOptions = z.infer<typeof runOptionsSchema>;

/** The options of a run with the defaults of every option it leaves unset, the pattern's own included. */
export function resolveRunOptions(
  pattern: RegisteredPattern,
  options: RunOptions | undefined,
): ResolvedCommonRunOptions & Record<string, unknown> {
  return {
    ...commonRunOptionDefaults,
    ...pattern.optionDefaults,
    ...(options ?? {}),
  } as ResolvedCommonRunOptions & Record<string, unknown>;
}

/** A team version: the content hash the registry names versions by (`definitionVersion`). */
export const teamVersionSchema = z.string().regex(/^[0-9a-f]{6,64}$/, 'must be a team version (hex)');

const inputSchema = z.union([
  z.string().trim().min(1, 'must not be empty').max(200_000),
  z.record(z.string(), z.unknown()).refine((o) => Object.keys(o).length > 0, 'must not be an empty object'),
]);

/** How deep a run's JSON `input` may nest objects and arrays (deeper inputs are refused with 400). */
export const MAX_INPUT_DEPTH = 32;

/**
 * A run id as the lifecycle allocates it: a lowercase UUID. Every route that takes one checks this format, so an
 * id can never name another Redis key of the run (`<id>:events`, `<id>:journal`).
 */
export const runIdSchema = z
  .string()
  .regex(
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    'must be a run id (a lowercase UUID)',
  )
  .describe('Run id (a UUID).');

export const isRunId = (value: unknown): value is string => runIdSchema.safeParse(value).success;

/** The events a run's webhook may be sent: the human-input ones and the terminal ones. */
export const webhookEventTypes = [
  'input.requested',
  'input.received',
  'input.expired',
  'run.completed',
  'run.failed',
  'run.cancelled',
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];
export const isWebhookEventType = (type: string): type is WebhookEventType =>
  (webhookEventTypes as readonly string[]).includes(type);
export const defaultWebhookEvents: readonly WebhookEventType[] = [
  'input.requested',
  'run.completed',
  'run.failed',
  'run.cancelled',
];

export const webhookSchema = z
  .object({
    url: z
      .url({ protocol: /^https?$/ })
      .max(2_048)
      .describe('Where deliveries are POSTed; its host must be in BATON_WEBHOOK_HOSTS.'),
    events: z
      .array(z.enum(webhookEventTypes))
      .min(1)
      .optional()
      .describe('The event types to deliver (default: input.requested and the terminal event).'),
  })
  .strict()
  .meta({ id: 'Webhook' });
export type Webhook = z.infer<typeof webhookSchema>;

/** The body of a webhook delivery, signed in its `Baton-Signature` header. */
export const webhookDeliverySchema = z.object({
  id: z.string().describe('Delivery id: the same on every attempt of this delivery (deduplicate by it).'),
  type: z.enum(webhookEventTypes).describe('The event type.'),
  runId: z.string(),
  createdAt: z.string().describe('When the delivery was made (ISO 8601).'),
  data: z
    .record(z.string(), z.unknown())
    .describe("The event's fields other than `type`, as the run's RunEvent of that type has them."),
});
export type WebhookDelivery = z.infer<typeof webhookDeliverySchema>;

/** One delivery attempt of a run's webhook, as the run record lists them. */
export const deliveryAttemptSchema = z.object({
  delivery: z.string().describe("Delivery id (the body's `id`; the same on every attempt)."),
  type: z.string(),
  attempt: z.number().int(),
  status: z.number().int().optional().describe('HTTP status the receiver answered.'),
  error: z.string().optional(),
  at: z.string(),
});
export type DeliveryAttempt = z.infer<typeof deliveryAttemptSchema>;

export const runRequestSchema = z
  .object({
    team: z.string().min(1).default('news-desk'),
    teamVersion: teamVersionSchema
      .optional()
      .describe(
        'Run exactly this version of the team (default: its current version when the run is created).',
      ),
    pattern: patternSchema,
    input: inputSchema
      .refine((input) => !nestedDeeperThan(input, MAX_INPUT_DEPTH), {
        message: `must not nest objects or arrays more than ${MAX_INPUT_DEPTH} levels deep`,
      })
      .describe(`The task: text, or a JSON object (at most ${MAX_INPUT_DEPTH} levels deep).`),
    options: runOptionsSchema.optional(),
    metadata: z.record(z.string().min(1).max(64), z.string().max(512)).optional(),
    webhook: webhookSchema
      .optional()
      .describe("Signed deliveries of the run's events (Baton-Signature), retried with backoff."),
  })
  .strict();
export type RunRequest = z.infer<typeof runRequestSchema>;

export const runStatusSchema = z
  .enum(['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'])
  .describe('queued → running ⇄ waiting (for human input) → succeeded | failed | cancelled.');
export type RunStatus = z.infer<typeof runStatusSchema>;
export const terminalStatuses: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];

/** A quality signal on a run (or one of its steps), from a user or a reviewer. */
export const feedbackSchema = z
  .object({
    score: z.number().min(0).max(1).describe('0 (bad) to 1 (good); thumbs down/up are 0 and 1.'),
    comment: z.string().trim().min(1).max(2_000).optional(),
    step: z.string().min(1).max(200).optional().describe('Journal key of the step the feedback is about.'),
    correction: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        'The answer the user expected, in the shape of the team’s output; `baton feedback export` makes it the label of an eval case.',
      ),
  })
  .strict();
export const feedbackEntrySchema = feedbackSchema.extend({ at: z.string() });
export type FeedbackEntry = z.infer<typeof feedbackEntrySchema>;

/** One online evaluation score of a finished run (kept beyond the run's retention). */
export const evaluationSchema = z.object({
  scorer: z.string().describe('`judge` (the LLM judge), `schema` (output matches the team’s output schema).'),
  score: z.number().min(0).max(1),
  judgeModel: z.string().optional().describe('The model that judged (scorer `judge`).'),
  rubric: z.string().optional(),
  at: z.string(),
});
export type Evaluation = z.infer<typeof evaluationSchema>;

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
  pending: z
    .array(pendingInputSchema)
    .optional()
    .describe('Open requests for human input (approvals, questions) of a waiting run.'),
  webhook: webhookSchema.optional(),
  deliveries: z.array(deliveryAttemptSchema).optional().describe('Webhook delivery attempts, oldest first.'),
  traceId: z.string().optional(),
  feedback: z.array(feedbackEntrySchema).optional(),
  evaluations: z
    .array(evaluationSchema)
    .optional()
    .describe('Online evaluation scores (BATON_ONLINE_EVAL_RATE of finished runs are graded).'),
  attempt: z.number().int().describe('Worker attempts so far (more than 1 after a crash or hand-over).'),
  cancelRequested: z.boolean().optional(),
  queuePaused: z.boolean().optional().describe('True when the run was accepted while the queue was paused.'),
  definitionVersion: z
    .string()
    .describe(
      'Hash of what the run executes: the team version, with its variant and operator overrides applied.',
    ),
  teamVersion: z
    .string()
    .optional()
    .describe('The team version the run is pinned to: it executes this version even if the team changes.'),
  variant: z
    .string()
    .optional()
    .describe(
      'The team variant the run executes: options.variant, else the arm of the team’s rollout, else `base`.',
    ),
  subject: z
    .string()
    .optional()
    .describe('The rollout subject (Baton-Subject header or metadata.subject) the variant was assigned by.'),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  durationMs: z.number().optional(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

/**
 * A person's answer to a pending request of a waiting run (`POST /v1/runs/{id}/input`): a decision on an approval
 * (`arguments` may edit the call) or an answer to a question.
 */
export const inputAnswerSchema = z.union([
  z
    .object({
      requestId: z.string().min(1).max(100),
      decision: z.enum(['approve', 'reject']),
      arguments: z
        .record(z.string(), z.unknown())
        .optional()
        .describe("Approve the call with these arguments instead (checked against the tool's schema)."),
      comment: z
        .string()
        .trim()
        .min(1)
        .max(2_000)
        .optional()
        .describe('Shown to the model with a rejection.'),
    })
    .strict()
    .meta({ id: 'ApprovalAnswer' }),
  z
    .object({ requestId: z.string().min(1).max(100), answer: z.string().trim().min(1).max(20_000) })
    .strict()
    .meta({ id: 'QuestionAnswer' }),
]);
export type InputAnswer = z.infer<typeof inputAnswerSchema>;
