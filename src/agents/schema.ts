import { z } from 'zod';
import { modelSettingsSchema, simulationSchema } from '../core/model.js';
import { isOutputSchema, type OutputSchema, zodOutputSchema } from '../core/output-schema.js';

/** Names of agents and teams: lower-case letters, digits and dashes. */
export const agentNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes, starting with a letter');

/** An output schema carried as data: an `OutputSchema`, or a zod schema (turned into one). */
export const outputSchemaField = z
  .custom<z.ZodType | OutputSchema>(
    (v) => v instanceof z.ZodType || isOutputSchema(v),
    'must be an output schema',
  )
  .transform((v): OutputSchema => (v instanceof z.ZodType ? zodOutputSchema(v) : v));

export const retryPolicySchema = z
  .object({
    /** Total attempts, the first included. */
    maxAttempts: z.number().int().min(1).max(10).default(3),
    initialDelayMs: z.number().int().min(0).default(200),
    maxDelayMs: z.number().int().min(0).default(5_000),
  })
  .strict();

export const breakerPolicySchema = z
  .object({
    /** Consecutive failed calls (after retries) that open the breaker. */
    failureThreshold: z.number().int().min(1).default(5),
    /** How long the breaker stays open before one half-open probe is let through. */
    halfOpenAfterMs: z.number().int().min(1).default(10_000),
  })
  .strict();

export const agentPolicySchema = z
  .object({
    /** Per attempt: the model request is aborted when it passes. */
    timeoutMs: z.number().int().min(1).default(30_000),
    retry: retryPolicySchema.default(retryPolicySchema.parse({})),
    breaker: breakerPolicySchema.default(breakerPolicySchema.parse({})),
  })
  .strict();
export type AgentPolicy = z.infer<typeof agentPolicySchema>;

export const agentDefinitionSchema = z
  .object({
    name: agentNameSchema,
    /** What routing managers (magentic, handoff triage) read to choose this agent. */
    description: z.string().min(1),
    instructions: z.string().min(1),
    model: modelSettingsSchema.default({}),
    /** When set, the agent answers JSON that must validate against this schema. */
    outputSchema: outputSchemaField.optional(),
    /** Agents this one may transfer control to (handoff pattern). */
    handoffs: z.array(agentNameSchema).default([]),
    policy: agentPolicySchema.default(agentPolicySchema.parse({})),
    /** How the offline simulated model plays this agent. */
    simulation: simulationSchema.optional(),
  })
  .strict();
export type AgentDefinition = z.infer<typeof agentDefinitionSchema>;
export type AgentDefinitionInput = z.input<typeof agentDefinitionSchema>;
