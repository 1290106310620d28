import type { AgentDefinition } from '../agents/schema.js';
import type { AgentOverlay, TeamDefinition } from './schema.js';

/** The name of a run without a variant (what `baton eval --variants base,...` compares against). */
export const BASE_VARIANT = 'base';

const applied = new WeakMap<TeamDefinition, Map<string, TeamDefinition>>();

function overlaid(agent: AgentDefinition, o: AgentOverlay | undefined): AgentDefinition {
  if (!o) return agent;
  return {
    ...agent,
    ...(o.description !== undefined ? { description: o.description } : {}),
    ...(o.instructions !== undefined ? { instructions: o.instructions } : {}),
    model: { ...agent.model, ...o.model },
    ...(o.outputSchema !== undefined ? { outputSchema: o.outputSchema } : {}),
    policy: {
      timeoutMs: o.policy?.timeoutMs ?? agent.policy.timeoutMs,
      retry: { ...agent.policy.retry, ...o.policy?.retry },
      breaker: { ...agent.policy.breaker, ...o.policy?.breaker },
    },
  };
}

/**
 * The team as a run of `variant` sees it: the variant's overlay applied to its agents and the variants section
 * (and the rollout over them) left out, so its `definitionVersion` names exactly what that run executes. `base` (or none) is the team itself;
 * undefined for a variant the team does not declare. One object per team and variant, so versions hash once.
 */
export function withVariant(team: TeamDefinition, variant: string | undefined): TeamDefinition | undefined {
  if (variant === undefined || variant === BASE_VARIANT) return team;
  const overlay = team.variants?.[variant];
  if (!overlay) return undefined;
  let byName = applied.get(team);
  if (!byName) {
    byName = new Map();
    applied.set(team, byName);
  }
  let result = byName.get(variant);
  if (!result) {
    const { variants: _, rollout: _rollout, ...rest } = team;
    result = { ...rest, agents: team.agents.map((a) => overlaid(a, overlay.agents[a.name])) };
    byName.set(variant, result);
  }
  return result;
}
