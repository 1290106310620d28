import { z } from 'zod';
import { modelSettingsSchema, simulationSchema } from '../core/model.js';
import {
  compileJsonSchema,
  isOutputSchema,
  type OutputSchema,
  zodOutputSchema,
} from '../core/output-schema.js';
import { toolLimits, toolRefSchema } from '../tools/schema.js';

/** Names of agents and teams: lower-case letters, digits and dashes. */
export const agentNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes, starting with a letter');

/**
 * Bounds on what one agent definition may hold. Team documents come from files and from the registry API; these
 * keep one document from making every prompt, hash and validation expensive.
 */
export const agentLimits = {
  descriptionChars: 2_000,
  instructionsChars: 32_000,
  handoffs: 32,
  /** Nesting of objects and arrays inside one output schema. */
  schemaDepth: 32,
  /** One output schema as JSON text. */
  schemaBytes: 65_536,
} as const;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof z.ZodType)
  );
}

function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + children.reduce<number>((max, child) => Math.max(max, depthOf(child)), 0);
}

/** Where a JSON pointer (`/properties/a~1b`) leads, as path segments. */
function pointerPath(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * An output schema: a JSON Schema object (what team documents hold), compiled with Ajv into an `OutputSchema`;
 * or, in code, a zod schema or an `OutputSchema`. A JSON Schema that is invalid, too large or too deep is an issue
 * at its place inside the schema.
 */
export const outputSchemaField = z
  .custom<z.ZodType | OutputSchema | Record<string, unknown>>(
    (v) => v instanceof z.ZodType || isPlainObject(v),
    'must be a JSON Schema object',
  )
  .transform((v, ctx): OutputSchema => {
    if (v instanceof z.ZodType) return zodOutputSchema(v);
    if (isOutputSchema(v)) return v;
    const bytes = JSON.stringify(v).length;
    if (bytes > agentLimits.schemaBytes) {
      ctx.addIssue({
        code: 'custom',
        message: `is ${bytes} bytes of JSON; at most ${agentLimits.schemaBytes} are allowed`,
      });
      return z.NEVER;
    }
    if (depthOf(v) > agentLimits.schemaDepth) {
      ctx.addIssue({ code: 'custom', message: `nests deeper than ${agentLimits.schemaDepth} levels` });
      return z.NEVER;
    }
    const compiled = compileJsonSchema(v);
    if (compiled.ok) return compiled.schema;
    ctx.addIssue({
      code: 'custom',
      message: `is not a usable JSON Schema: ${compiled.problem.message}`,
      path: pointerPath(compiled.problem.pointer),
    });
    return z.NEVER;
  })
  .meta({
    id: 'OutputSchema',
    description: 'A JSON Schema (draft 2020-12, or draft-07 with $schema) of the JSON answer.',
  });

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
    description: z.string().min(1).max(agentLimits.descriptionChars),
    instructions: z.string().min(1).max(agentLimits.instructionsChars),
    model: modelSettingsSchema.default({}),
    /** When set, the agent answers JSON that must validate against this schema. */
    outputSchema: outputSchemaField.optional(),
    /** Agents this one may transfer control to (handoff pattern). */
    handoffs: z.array(agentNameSchema).max(agentLimits.handoffs).default([]),
    policy: agentPolicySchema.default(agentPolicySchema.parse({})),
    /** How the offline simulated model plays this agent. */
    simulation: simulationSchema.optional(),
    /** The team's tools this agent may call (an MCP server's tools as `<source>__<tool>`). */
    tools: z.array(toolRefSchema).max(toolLimits.perAgent).default([]),
    /** Model turns that may call tools before the agent must answer. */
    maxToolRounds: z.number().int().min(1).max(32).default(8),
  })
  .strict();
export type AgentDefinition = z.infer<typeof agentDefinitionSchema>;
export type AgentDefinitionInput = z.input<typeof agentDefinitionSchema>;
