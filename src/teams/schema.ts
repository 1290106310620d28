import { z } from 'zod';
import { agentDefinitionSchema, agentLimits, agentNameSchema, outputSchemaField } from '../agents/schema.js';
import { modelProviders, modelSettingsSchema } from '../core/model.js';
import { teamGuardrailsSchema } from '../guardrails/schema.js';
import { type PatternName, patternNames, registeredPatterns } from '../orchestrators/index.js';

type Registered = (typeof registeredPatterns)[number];
type WiringOf<N extends PatternName> = Extract<Registered, { name: N }>['wiring'];

/** Bounds on one team document (see `agentLimits` for the bounds on each agent). */
export const teamLimits = {
  agents: 32,
  variants: 16,
  models: 32,
  descriptionChars: agentLimits.descriptionChars,
} as const;

/** How a team wires its agents under each pattern it supports: one optional section per registered pattern. */
export const teamPatternsSchema = z
  .object(
    Object.fromEntries(registeredPatterns.map((p) => [p.name, p.wiring.optional()])) as {
      [N in PatternName]: z.ZodOptional<WiringOf<N>>;
    },
  )
  .strict();

/** One model the team's agents and runs may use: a provider and, optionally, one deployment of it. */
export const teamModelSchema = z
  .object({
    provider: z.enum(modelProviders),
    deployment: z
      .string()
      .min(1)
      .optional()
      .describe('Deployment, model or Foundry agent name; omitted: any deployment of the provider.'),
  })
  .strict();
export type TeamModel = z.infer<typeof teamModelSchema>;

/** What a variant may change of one agent: wording, model settings (merged), output schema and policy. */
export const agentOverlaySchema = z
  .object({
    description: z.string().min(1).max(agentLimits.descriptionChars).optional(),
    instructions: z.string().min(1).max(agentLimits.instructionsChars).optional(),
    model: modelSettingsSchema.optional().describe('Merged over the agent’s own model settings.'),
    outputSchema: outputSchemaField.optional(),
    policy: z
      .object({
        timeoutMs: z.number().int().min(1).optional(),
        retry: z
          .object({
            maxAttempts: z.number().int().min(1).max(10).optional(),
            initialDelayMs: z.number().int().min(0).optional(),
            maxDelayMs: z.number().int().min(0).optional(),
          })
          .strict()
          .optional(),
        breaker: z
          .object({
            failureThreshold: z.number().int().min(1).optional(),
            halfOpenAfterMs: z.number().int().min(1).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type AgentOverlay = z.infer<typeof agentOverlaySchema>;

/** A named overlay of agent fields; a run selects one with `options.variant` (`base`: no overlay). */
export const teamVariantSchema = z
  .object({
    description: z.string().min(1).max(teamLimits.descriptionChars).optional(),
    agents: z.record(agentNameSchema, agentOverlaySchema),
  })
  .strict();

export const variantNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes, starting with a letter');

export const teamDefinitionSchema = z
  .object({
    name: agentNameSchema,
    description: z.string().min(1).max(teamLimits.descriptionChars),
    agents: z.array(agentDefinitionSchema).min(1).max(teamLimits.agents),
    patterns: teamPatternsSchema,
    /** The final output of a run of this team validates against this schema. */
    outputSchema: outputSchemaField.optional(),
    /** The models this team's agents and runs may use (absent: any the operator allows). */
    models: z.array(teamModelSchema).min(1).max(teamLimits.models).optional(),
    /** Named overlays of agent fields (prompt and model variants for A/B tests). */
    variants: z
      .record(variantNameSchema, teamVariantSchema)
      .refine((v) => Object.keys(v).length <= teamLimits.variants, `at most ${teamLimits.variants} variants`)
      .optional(),
    /** The agent that summarises earlier work under `options.context=summary` (default: a built-in summariser). */
    summarizer: agentNameSchema.optional(),
    /** Checks on what the team's agents send to models and what they answer (docs/guardrails.md). */
    guardrails: teamGuardrailsSchema.optional(),
  })
  .strict()
  .superRefine((team, ctx) => {
    const names = new Set<string>();
    for (const [i, a] of team.agents.entries()) {
      if (names.has(a.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['agents', i, 'name'],
          message: `duplicate agent name "${a.name}"`,
        });
      }
      names.add(a.name);
    }
    const check = (name: string, where: (string | number)[]) => {
      if (!names.has(name)) ctx.addIssue({ code: 'custom', path: where, message: `unknown agent "${name}"` });
    };
    if (team.summarizer !== undefined) check(team.summarizer, ['summarizer']);
    for (const [i, a] of (team.guardrails?.output?.agents ?? []).entries()) {
      check(a, ['guardrails', 'output', 'agents', i]);
    }
    const judge = team.guardrails?.output?.judge;
    if (judge) check(judge.agent, ['guardrails', 'output', 'judge', 'agent']);
    for (const [i, a] of team.agents.entries()) {
      for (const [j, h] of a.handoffs.entries()) {
        if (h === a.name) {
          ctx.addIssue({
            code: 'custom',
            path: ['agents', i, 'handoffs', j],
            message: 'an agent cannot hand off to itself',
          });
        } else check(h, ['agents', i, 'handoffs', j]);
      }
    }
    for (const pattern of registeredPatterns) {
      const wiring = team.patterns[pattern.name];
      if (wiring === undefined) continue;
      for (const ref of pattern.agentsIn(wiring)) check(ref.agent, ['patterns', pattern.name, ...ref.path]);
    }
    if (Object.values(team.patterns).every((w) => w === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['patterns'],
        message: `wires no pattern; wire at least one of ${patternNames.join(', ')}`,
      });
    }
    for (const [variant, overlay] of Object.entries(team.variants ?? {})) {
      if (variant === 'base') {
        ctx.addIssue({
          code: 'custom',
          path: ['variants', variant],
          message: '"base" names the team without a variant',
        });
      }
      for (const agent of Object.keys(overlay.agents)) check(agent, ['variants', variant, 'agents', agent]);
    }
  });
export type TeamDefinition = z.infer<typeof teamDefinitionSchema>;
export type TeamDefinitionInput = z.input<typeof teamDefinitionSchema>;
