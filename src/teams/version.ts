import { createHash } from 'node:crypto';
import type { OutputSchema } from '../core/output-schema.js';
import type { TeamDefinition } from './schema.js';

const versions = new WeakMap<TeamDefinition, string>();

const jsonOf = (schema: OutputSchema | undefined) => schema?.jsonSchema;

/**
 * The resolved document of a team: every field with its defaults filled in and output schemas as JSON Schema.
 * Parsing it again gives the same team; it is what the registry stores and what versions hash.
 */
export function resolvedDocument(team: TeamDefinition): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify({
      ...team,
      outputSchema: jsonOf(team.outputSchema),
      agents: team.agents.map((a) => ({ ...a, outputSchema: jsonOf(a.outputSchema) })),
      variants: team.variants
        ? Object.fromEntries(
            Object.entries(team.variants).map(([name, v]) => [
              name,
              {
                ...v,
                agents: Object.fromEntries(
                  Object.entries(v.agents).map(([agent, o]) => [
                    agent,
                    { ...o, outputSchema: jsonOf(o.outputSchema) },
                  ]),
                ),
              },
            ]),
          )
        : undefined,
    }),
  ) as Record<string, unknown>;
}

/**
 * `definitionVersion`: a short hash of everything that shapes a run's behaviour — the team wiring, every agent's
 * instructions, model settings, policies and output schemas, the team's models and variants. The registry names
 * a team's versions by it; runs record it; eval results cite it.
 */
export function definitionVersion(team: TeamDefinition): string {
  const known = versions.get(team);
  if (known) return known;
  const version = createHash('sha256')
    .update(JSON.stringify(resolvedDocument(team)))
    .digest('hex')
    .slice(0, 12);
  versions.set(team, version);
  return version;
}
