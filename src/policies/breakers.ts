import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from 'cockatiel';
import type { BreakerState } from '../core/agent.js';
import { AgentTimeoutError, ContentFilteredError, ModelError, toErrorInfo } from '../core/errors.js';

export interface BreakerSnapshot {
  agent: string;
  state: BreakerState;
  lastFailure?: { at: string; code: string; message: string };
}

/** Failures that say something about the agent's health; a content-filter refusal is about the prompt. */
export function countsAgainstBreaker(err: unknown): boolean {
  return (
    (err instanceof ModelError || err instanceof AgentTimeoutError) && !(err instanceof ContentFilteredError)
  );
}

const stateName: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Open]: 'open',
  [CircuitState.Isolated]: 'open',
};

/**
 * One circuit breaker per agent per process (cockatiel: consecutive failures open it; after `halfOpenAfterMs`
 * one probe call decides between closed and open again). Shared by every run in the process.
 */
export class CircuitBreakers {
  private readonly byAgent = new Map<string, { policy: CircuitBreakerPolicy; snapshot: BreakerSnapshot }>();

  circuitBreakerFor(agent: {
    name: string;
    policy: { breaker: { failureThreshold: number; halfOpenAfterMs: number } };
  }): CircuitBreakerPolicy {
    const existing = this.byAgent.get(agent.name);
    if (existing) return existing.policy;
    const policy = circuitBreaker(handleWhen(countsAgainstBreaker), {
      halfOpenAfter: agent.policy.breaker.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(agent.policy.breaker.failureThreshold),
    });
    const snapshot: BreakerSnapshot = { agent: agent.name, state: 'closed' };
    policy.onStateChange((s) => {
      snapshot.state = stateName[s];
    });
    policy.onFailure(({ reason }) => {
      if ('error' in reason && countsAgainstBreaker(reason.error)) {
        const info = toErrorInfo(reason.error);
        snapshot.lastFailure = { at: new Date().toISOString(), code: info.code, message: info.message };
      }
    });
    this.byAgent.set(agent.name, { policy, snapshot });
    return policy;
  }

  state(agent: string): BreakerState {
    const entry = this.byAgent.get(agent);
    return entry ? stateName[entry.policy.state] : 'closed';
  }

  snapshot(): BreakerSnapshot[] {
    return [...this.byAgent.values()].map(({ policy, snapshot }) => ({
      ...snapshot,
      state: stateName[policy.state],
    }));
  }
}
