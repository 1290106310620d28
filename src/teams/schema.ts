import { z } from 'zod';
import { agentDefinitionSchema, agentNameSchema, outputSchemaField } from '../agents/schema.js';
import { type PatternName, registeredPatterns } from '../orchestrators/index.js';

type Registered = (typeof registeredPatterns)[number];
type WiringOf<N extends PatternName> = Extract<Registered, { name: N }>['wiring'];

/** How a team wires its agents under each pattern it supports: one optional section per registered pattern. */
export const teamPatternsSchema = z
  .object(
    Object.fromEntries(registeredPatterns.map((p) => [p.name, p.wiring.optional()])) as {
      [N in PatternName]: z.ZodOptional<WiringOf<N>>;
    },
  )
  .strict();

export const teamDefinitionSchema = z
  .object({
    name: agentNameSchema,
    description: z.string().min(1),
    agents: z.array(agentDefinitionSchema).min(1),
    patterns: teamPatternsSchema,
    /** The final output of a run of this team validates against this schema. */
    outputSchema: outputSchemaField.optional(),
    /** The agent that summarises earlier work under `options.context=summary` (default: a built-in summariser). */
    summarizer: agentNameSchema.optional(),
  })
  .strict()
  .superRefine((team, ctx) => {
    const names = new Set(team.agents.map((a) => a.name));
    const check = (name: string, where: (string | number)[]) => {
      if (!names.has(name)) ctx.addIssue({ code: 'custom', path: where, message: `unknown agent "${name}"` });
    };
    if (team.summarizer !== undefined) check(team.summarizer, ['summarizer']);
    for (const [i, a] of team.agents.entries()) {
      for (const [j, h] of a.handoffs.entries()) check(h, ['agents', i, 'handoffs', j]);
    }
    for (const pattern of registeredPatterns) {
      const wiring = team.patterns[pattern.name];
      if (wiring === undefined) continue;
      for (const ref of pattern.agentsIn(wiring)) check(ref.agent, ['patterns', pattern.name, ...ref.path]);
    }
  });
export type TeamDefinition = z.infer<typeof teamDefinitionSchema>;
export type TeamDefinitionInput = z.input<typeof teamDefinitionSchema>;
