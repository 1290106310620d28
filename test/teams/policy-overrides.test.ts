import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { shippedTeams } from '../../src/teams/files.js';
import { withPolicyOverrides } from '../../src/teams/policy-overrides.js';
import { definitionVersion } from '../../src/teams/version.js';

const catalog = shippedTeams();

describe('operator policy overrides', () => {
  it('leave teams untouched when nothing is set', () => {
    expect(withPolicyOverrides(catalog, loadConfig({}).agentPolicy)).toBe(catalog);
  });

  it('override every agent’s timeout, retry and breaker, and change the definition version', () => {
    const config = loadConfig({
      BATON_AGENT_TIMEOUT_MS: '500',
      BATON_RETRY_MAX_ATTEMPTS: '2',
      BATON_BREAKER_FAILURE_THRESHOLD: '1',
      BATON_BREAKER_HALF_OPEN_MS: '250',
    });
    const teams = withPolicyOverrides(catalog, config.agentPolicy);
    const original = catalog.get('news-desk');
    const team = teams.get('news-desk');
    if (!original || !team) throw new Error('news-desk missing from the catalog');
    for (const agent of team.agents) {
      expect(agent.policy).toMatchObject({
        timeoutMs: 500,
        retry: { maxAttempts: 2, initialDelayMs: original.agents[0]?.policy.retry.initialDelayMs },
        breaker: { failureThreshold: 1, halfOpenAfterMs: 250 },
      });
    }
    expect(definitionVersion(team)).not.toBe(definitionVersion(original));
  });
});
