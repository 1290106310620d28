import { z } from 'zod';
import { agentDefinitionSchema, agentLimits, agentNameSchema, outputSchemaField } from '../agents/schema.js';
import { modelProviders, modelSettingsSchema } from '../core/model.js';
import { teamGuardrailsSchema } from '../guardrails/schema.js';
import { type PatternName, patternNames, registeredPatterns } from '../orchestrators/index.js';
import { approvalTimeoutMsSchema, toolDeclarationSchema, toolLimits } from '../tools/schema.js';

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
    /**
     * An A/B rollout over the variants: a weight per arm (`base` or a declared variant). New runs without an
     * explicit `options.variant` are assigned an arm sticky by subject (see `teams/rollout.ts`).
     */
    rollout: z
      .record(z.string(), z.number().int().min(0).max(1_000_000))
      .refine((r) => Object.values(r).some((w) => w > 0), 'at least one arm needs a weight above 0')
      .optional()
      .describe('Weights per arm, e.g. { base: 90, concise: 10 }; arms are base and declared variants.'),
    /** Online evaluation of this team's finished runs (see docs/llmops.md). */
    evaluation: z
      .object({
        rate: z
          .number()
          .min(0)
          .max(1)
          .optional()
          .describe('Fraction of finished runs the judge grades (default BATON_ONLINE_EVAL_RATE).'),
        rubric: z
          .string()
          .min(1)
          .max(agentLimits.instructionsChars)
          .refine((t) => t.includes('{{output}}'), 'must contain {{output}} (and usually {{input}})')
          .optional()
          .describe(
            'The judge prompt: {{input}} and {{output}} are filled in; it must ask for the JSON verdict of the default rubric.',
          ),
      })
      .strict()
      .optional(),
    /** The agent that summarises earlier work under `options.context=summary` (default: a built-in summariser). */
    summarizer: agentNameSchema.optional(),
    /** Tools the team's agents may call: HTTP APIs, MCP servers, knowledge search (docs/tools.md). */
    tools: z.array(toolDeclarationSchema).max(toolLimits.tools).optional(),
    /** The default `approvalTimeoutMs` of the team's requests for a person (a tool's own wins). */
    approvalTimeoutMs: approvalTimeoutMsSchema.optional(),
    /** Checks on what the team's agents send to models and what they answer (docs/guardrails.md). */
    guardrails: teamGuardrailsSchema.optional(),
  })
  .strict()
  .superRefine((team, ctx) => {
    checkToolRefs(team, ctx);
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
    for (const arm of Object.keys(team.rollout ?? {})) {
      if (arm !== 'base' && !team.variants?.[arm]) {
        ctx.addIssue({
          code: 'custom',
          path: ['rollout', arm],
          message: `unknown variant "${arm}" (arms are base and the team's variants)`,
        });
      }
    }
  });
/** Tool names are unique, and every agent's tools are declared (an MCP tool's source is an `mcp` tool). */
function checkToolRefs(
  team: { tools?: { name: string; kind: string }[] | undefined; agents: { tools: string[] }[] },
  ctx: z.RefinementCtx,
): void {
  const kinds = new Map<string, string>();
  for (const [i, t] of (team.tools ?? []).entries()) {
    if (kinds.has(t.name))
      ctx.addIssue({
        code: 'custom',
        path: ['tools', i, 'name'],
        message: `duplicate tool name "${t.name}"`,
      });
    kinds.set(t.name, t.kind);
  }
  for (const [i, a] of team.agents.entries()) {
    for (const [j, ref] of a.tools.entries()) {
      const [source, inner] = ref.split('__');
      const kind = kinds.get(source ?? '');
      const problem =
        kind === undefined
          ? `unknown tool "${source}"`
          : inner !== undefined && kind !== 'mcp'
            ? `"${source}" is not an MCP server; only MCP tools are named <source>__<tool>`
            : undefined;
      if (problem) ctx.addIssue({ code: 'custom', path: ['agents', i, 'tools', j], message: problem });
    }
  }
}

export type TeamDefinition = z.infer<typeof teamDefinitionSchema>;
export type TeamDefinitionInput = z.input<typeof teamDefinitionSchema>;
