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
  agent: z.string(),
  status: z.enum(['succeeded', 'failed']),
  attempts: z.number().int(),
  startedAt: z.string(),
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
