import type { Config } from '../config/index.js';
import type { TeamDefinition } from './schema.js';

/**
 * Applies the operator's policy overrides (`BATON_AGENT_TIMEOUT_MS`, `BATON_RETRY_*`, `BATON_BREAKER_*`) to every
 * agent of every team. Teams are data, so this returns new definitions; with no override set it returns the
 * same map, and `definitionVersion` changes exactly when behaviour does.
 */
export function withPolicyOverrides(
  teams: ReadonlyMap<string, TeamDefinition>,
  o: Config['agentPolicy'],
): ReadonlyMap<string, TeamDefinition> {
  if (Object.values(o).every((v) => v === undefined)) return teams;
  const pick = <T>(override: T | undefined, own: T): T => override ?? own;
  return new Map(
    [...teams].map(([name, team]) => [
      name,
      {
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
      },
    ]),
  );
}
