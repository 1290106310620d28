import type { Config } from '../config/index.js';
import type { TeamDefinition } from './schema.js';

const overridden = new WeakMap<TeamDefinition, TeamDefinition>();

/** Whether any override is set (none: teams are used as they are, and keep their versions). */
export function hasPolicyOverrides(o: Config['agentPolicy']): boolean {
  return Object.values(o).some((v) => v !== undefined);
}

/**
 * Applies the operator's policy overrides (`BATON_AGENT_TIMEOUT_MS`, `BATON_RETRY_*`, `BATON_BREAKER_*`) to every
 * agent of a team. Teams are data, so this returns a new definition (one per team object, so its version hashes
 * once); with no override set it returns the same team, and `definitionVersion` changes exactly when behaviour
 * does.
 */
export function withPolicyOverride(team: TeamDefinition, o: Config['agentPolicy']): TeamDefinition {
  if (!hasPolicyOverrides(o)) return team;
  const known = overridden.get(team);
  if (known) return known;
  const pick = <T>(override: T | undefined, own: T): T => override ?? own;
  const result: TeamDefinition = {
    ...team,
    agents: team.agents.map((agent) => ({
      ...agent,
      policy: {
        timeoutMs: pick(o.timeoutMs, agent.policy.timeoutMs),
        retry: {
          ...agent.policy.retry,
          maxAttempts: pick(o.retryMaxAttempts, agent.policy.retry.maxAttempts),
          initialDelayMs: pick(o.retryInitialDelayMs, agent.policy.retry.initialDelayMs),
        },
        breaker: {
          failureThreshold: pick(o.breakerFailureThreshold, agent.policy.breaker.failureThreshold),
          halfOpenAfterMs: pick(o.breakerHalfOpenMs, agent.policy.breaker.halfOpenAfterMs),
        },
      },
    })),
  };
  overridden.set(team, result);
  return result;
}

/** `withPolicyOverride` over a map of teams (the same map when no override is set). */
export function withPolicyOverrides(
  teams: ReadonlyMap<string, TeamDefinition>,
  o: Config['agentPolicy'],
): ReadonlyMap<string, TeamDefinition> {
  if (!hasPolicyOverrides(o)) return teams;
  return new Map([...teams].map(([name, team]) => [name, withPolicyOverride(team, o)]));
}
