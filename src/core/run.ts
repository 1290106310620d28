import { z } from 'zod';

/** What a run produces and spends: shapes shared by the engine, the journal, the run store and the API. */

export const errorInfoSchema = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorInfo = z.infer<typeof errorInfoSchema>;

export const tokenUsageSchema = z.object({ inputTokens: z.number().int(), outputTokens: z.number().int() });

export const usageSchema = z.object({
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  modelCalls: z.number().int(),
  costUsd: z.number().optional(),
});
export type RunUsage = z.infer<typeof usageSchema>;

export const stepRecordSchema = z.object({
  key: z.string().describe('Journal key, e.g. seq/2/agent:extractor'),
  kind: z
    .enum(['agent', 'tool'])
    .optional()
    .describe('An agent call (one model turn) or a tool call; absent on records written before tools.'),
  agent: z.string(),
  tool: z.string().optional().describe('The tool called (kind tool).'),
  status: z.enum(['succeeded', 'failed']),
  attempts: z.number().int(),
  startedAt: z.string(),
  completedAt: z
    .string()
    .optional()
    .describe('When the step was journaled (absent on records written before it was kept).'),
  durationMs: z.number(),
  usage: tokenUsageSchema,
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

/** How an execution of a run ended, as the engine reports it and the run lifecycle records it. */
export interface RunOutcome {
  status: 'succeeded' | 'failed' | 'cancelled';
  output?: RunOutput;
  /** The output as the `run.completed` event carries it, when it differs (PII placeholders kept). */
  eventOutput?: RunOutput;
  partial?: boolean;
  failedAgents?: string[];
  details?: Record<string, unknown>;
  error?: ErrorInfo;
  usage: RunUsage;
  steps: StepRecord[];
  definitionVersion: string;
}

/**
 * One open request for a person's input on a waiting run: an approval of a tool call (the agent, the tool and
 * the arguments the model chose) or a free-text question. `step` is the journal key its answer is recorded under.
 */
export const pendingInputSchema = z.object({
  id: z.string().describe('Request id: what an answer names as `requestId`.'),
  kind: z.enum(['approval', 'question']),
  agent: z.string(),
  step: z.string().describe('Journal key the answer is recorded under.'),
  tool: z.string().optional(),
  arguments: z.unknown().optional().describe('The arguments the model chose for the tool call (approvals).'),
  question: z.string().optional(),
  createdAt: z.string(),
  expiresAt: z
    .string()
    .optional()
    .describe('When the request expires with the default decision (reject); absent: it does not expire.'),
});
export type PendingInput = z.infer<typeof pendingInputSchema>;

/**
 * A person's answer to a pending request, as journaled: a decision on an approval (possibly with edited
 * arguments) or an answer to a question; who answered (an API key id, never the key) and when. An expired
 * request is answered by the run itself with the default decision, `reject` (`expired: true`).
 */
export const humanAnswerSchema = z.object({
  requestId: z.string(),
  decision: z.enum(['approve', 'reject']).optional(),
  arguments: z.unknown().optional(),
  comment: z.string().optional(),
  answer: z.string().optional(),
  by: z.string().optional().describe('Key id of who answered; absent when the request expired.'),
  at: z.string(),
  expired: z.boolean().optional(),
});
export type HumanAnswer = z.infer<typeof humanAnswerSchema>;
