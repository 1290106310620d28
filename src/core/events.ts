import { z } from 'zod';
import {
  errorInfoSchema,
  pendingInputSchema,
  runOutputSchema,
  tokenUsageSchema,
  usageSchema,
} from './run.js';

/**
 * The events of a run, one schema for every pattern: the engine emits agent events, patterns emit their own
 * (handoffs, ledgers), the run lifecycle emits the terminal ones; the run's event stream stores them and the API
 * serves them over SSE.
 */

const base = { runId: z.string(), at: z.string() };
const stepRef = { agent: z.string(), step: z.string() };

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
    usage: tokenUsageSchema,
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
    type: z.literal('agent.attempt.failed'),
    ...base,
    ...stepRef,
    attempt: z.number().int().describe('1 for the first attempt of the call.'),
    durationMs: z.number(),
    error: errorInfoSchema,
  }),
  z.object({
    type: z.literal('tool.called'),
    ...base,
    ...stepRef,
    tool: z.string(),
    callId: z.string(),
    arguments: z.string().optional().describe('Only when BATON_CAPTURE_CONTENT=true.'),
  }),
  z.object({
    type: z.literal('tool.completed'),
    ...base,
    ...stepRef,
    tool: z.string(),
    callId: z.string(),
    durationMs: z.number(),
    attempts: z.number().int(),
    result: z.string().optional().describe('Only when BATON_CAPTURE_CONTENT=true.'),
  }),
  z.object({
    type: z.literal('tool.failed'),
    ...base,
    ...stepRef,
    tool: z.string(),
    callId: z.string(),
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
    type: z.literal('speaker.selected'),
    ...base,
    turn: z.number().int(),
    speaker: z.string(),
    reason: z.string().optional(),
  }),
  z.object({ type: z.literal('input.requested'), ...base, request: pendingInputSchema }),
  z.object({
    type: z.literal('input.received'),
    ...base,
    requestId: z.string(),
    step: z.string(),
    decision: z.enum(['approve', 'reject']).optional(),
    by: z.string(),
  }),
  z.object({
    type: z.literal('input.expired'),
    ...base,
    requestId: z.string(),
    step: z.string(),
    decision: z.literal('reject').describe('The default decision of an expired request.'),
  }),
  z.object({
    type: z.literal('guardrail.triggered'),
    ...base,
    ...stepRef,
    guardrail: z.string().describe('pii, prompt-shields, content-safety, output or judge.'),
    stage: z.enum(['input', 'output']),
    outcome: z.enum(['pass', 'transform', 'block', 'reask']),
    findings: z
      .record(z.string(), z.number().int())
      .optional()
      .describe('How many values of each kind the check found (never the values).'),
    reason: z.string().optional(),
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
    output: runOutputSchema.describe(
      "The run's output; where PII guardrails redacted values, with their placeholders (the run record has the values).",
    ),
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
