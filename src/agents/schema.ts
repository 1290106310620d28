import { createHash } from 'node:crypto';
import { z } from 'zod';
import { modelSettingsSchema, simulationSchema } from '../models/types.js';

const agentName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes, starting with a letter');

/** A zod schema carried as data (agent and team output schemas). */
const zodSchema = z.custom<z.ZodType>((v) => v instanceof z.ZodType, 'must be a zod schema');

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
    name: agentName,
    /** What routing managers (magentic, handoff triage) read to choose this agent. */
    description: z.string().min(1),
    instructions: z.string().min(1),
    model: modelSettingsSchema.default({}),
    /** When set, the agent answers JSON that must validate against this schema. */
    outputSchema: zodSchema.optional(),
    /** Agents this one may transfer control to (handoff pattern). */
    handoffs: z.array(agentName).default([]),
    policy: agentPolicySchema.default(agentPolicySchema.parse({})),
    /** How the offline simulated model plays this agent. */
    simulation: simulationSchema.optional(),
  })
  .strict();
export type AgentDefinition = z.infer<typeof agentDefinitionSchema>;
export type AgentDefinitionInput = z.input<typeof agentDefinitionSchema>;

export const aggregatorSchema = z.union([
  z.literal('merge'),
  z.literal('vote'),
  z.object({ agent: agentName }).strict(),
]);

/** How a team wires its agents under each pattern it supports. */
export const teamPatternsSchema = z
  .object({
    sequential: z
      .object({ order: z.array(agentName).min(1), fallback: agentName.optional() })
      .strict()
      .optional(),
    concurrent: z
      .object({ agents: z.array(agentName).min(1), aggregator: aggregatorSchema.default('merge') })
      .strict()
      .optional(),
    handoff: z.object({ entry: agentName, fallback: agentName.optional() }).strict().optional(),
    magentic: z
      .object({ manager: agentName, participants: z.array(agentName).min(1) })
      .strict()
      .optional(),
  })
  .strict();

export const teamDefinitionSchema = z
  .object({
    name: agentName,
    description: z.string().min(1),
    agents: z.array(agentDefinitionSchema).min(1),
    patterns: teamPatternsSchema,
    /** The final output of a run of this team validates against this schema. */
    outputSchema: zodSchema.optional(),
  })
  .strict()
  .superRefine((team, ctx) => {
    const names = new Set(team.agents.map((a) => a.name));
    const check = (name: string | undefined, where: (string | number)[]) => {
      if (name !== undefined && !names.has(name)) {
        ctx.addIssue({ code: 'custom', path: where, message: `unknown agent "${name}"` });
      }
    };
    for (const [i, a] of team.agents.entries()) {
      for (const [j, h] of a.handoffs.entries()) check(h, ['agents', i, 'handoffs', j]);
    }
    const p = team.patterns;
    for (const [i, n] of p.sequential?.order.entries() ?? [])
      check(n, ['patterns', 'sequential', 'order', i]);
    check(p.sequential?.fallback, ['patterns', 'sequential', 'fallback']);
    for (const [i, n] of p.concurrent?.agents.entries() ?? [])
      check(n, ['patterns', 'concurrent', 'agents', i]);
    const agg = p.concurrent?.aggregator;
    if (agg && typeof agg === 'object') check(agg.agent, ['patterns', 'concurrent', 'aggregator', 'agent']);
    check(p.handoff?.entry, ['patterns', 'handoff', 'entry']);
    check(p.handoff?.fallback, ['patterns', 'handoff', 'fallback']);
    check(p.magentic?.manager, ['patterns', 'magentic', 'manager']);
    for (const [i, n] of p.magentic?.participants.entries() ?? [])
      check(n, ['patterns', 'magentic', 'participants', i]);
  });
export type TeamDefinition = z.infer<typeof teamDefinitionSchema>;
export type TeamDefinitionInput = z.input<typeof teamDefinitionSchema>;

const jsonSchemas = new WeakMap<z.ZodType, Record<string, unknown>>();

/** JSON Schema of an output schema, for structured outputs and for hashing (computed once per schema). */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  let json = jsonSchemas.get(schema);
  if (!json) {
    json = z.toJSONSchema(schema, { target: 'draft-7', unrepresentable: 'any' }) as Record<string, unknown>;
    jsonSchemas.set(schema, json);
  }
  return json;
}

/**
 * `definitionVersion`: a short hash of everything that shapes a run's behaviour — the team wiring, every
 * agent's instructions, model settings, policies and output schemas. Eval results cite it.
 */
const versions = new WeakMap<TeamDefinition, string>();

export function definitionVersion(team: TeamDefinition): string {
  const known = versions.get(team);
  if (known) return known;
  const canonical = {
    ...team,
    outputSchema: team.outputSchema ? jsonSchemaOf(team.outputSchema) : undefined,
    agents: team.agents.map((a) => ({
      ...a,
      outputSchema: a.outputSchema ? jsonSchemaOf(a.outputSchema) : undefined,
    })),
  };
  const version = createHash('sha256').update(JSON.stringify(canonical)).digest('hex').slice(0, 12);
  versions.set(team, version);
  return version;
}
