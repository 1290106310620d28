import { createHash } from 'node:crypto';
import type { TeamDefinition } from './schema.js';

const versions = new WeakMap<TeamDefinition, string>();

/**
 * `definitionVersion`: a short hash of everything that shapes a run's behaviour — the team wiring, every agent's
 * instructions, model settings, policies and output schemas. Runs record it; eval results cite it.
 */
export function definitionVersion(team: TeamDefinition): string {
  const known = versions.get(team);
  if (known) return known;
  const canonical = {
    ...team,
    outputSchema: team.outputSchema?.jsonSchema,
    agents: team.agents.map((a) => ({ ...a, outputSchema: a.outputSchema?.jsonSchema })),
  };
  const version = createHash('sha256').update(JSON.stringify(canonical)).digest('hex').slice(0, 12);
  versions.set(team, version);
  return version;
}
