import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from 'cockatiel';
import type { BreakerState } from '../core/agent.js';
import {
  AgentTimeoutError,
  ContentFilteredError,
  ModelConfigurationError,
  ModelError,
  PermanentModelError,
  toErrorInfo,
} from '../core/errors.js';
import type { ModelSettings } from '../core/model.js';

/**
 * What a breaker protects: one agent on one model endpoint. `model` is the deployment (or Foundry agent) the
 * settings name, '' for the provider's configured default. A run's model override therefore gets breakers of its
 * own, and failures of one deployment never refuse calls to another.
 */
export interface BreakerTarget {
  agent: string;
  provider: string;
  model: string;
}

export interface BreakerSnapshot extends BreakerTarget {
  /** The breaker of the agent's own model (as its team defines it), not of a model a run chose instead. */
  configured: boolean;
  state: BreakerState;
  lastFailure?: { at: string; code: string; message: string };
}

/** The breaker target of `agent` called with `settings` on `provider` (settings.provider, else the default). */
export function breakerTarget(agent: string, settings: ModelSettings, provider: string): BreakerTarget {
  return { agent, provider, model: settings.deployment ?? settings.foundryAgent ?? '' };
}

/** HTTP statuses of a request the provider refused for what it asked (too long, malformed), not for its health. */
const REQUEST_REJECTIONS = new Set([400, 413, 422]);

/**
 * Failures that say something about the endpoint's health. Not counted: a content-filter refusal or a rejected
 * request (about the prompt, which a client controls), and configuration errors (a provider that is not
 * configured, a model the operator does not allow), which no call can fix and which must not let one client's
 * choice refuse another client's calls.
 */
export function countsAgainstBreaker(err: unknown): boolean {
  if (err instanceof AgentTimeoutError) return true;
  if (!(err instanceof ModelError)) return false;
  if (err instanceof ContentFilteredError || err instanceof ModelConfigurationError) return false;
  const status = err.details?.status;
  return !(
    err instanceof PermanentModelError &&
    typeof status === 'number' &&
    REQUEST_REJECTIONS.has(status)
  );
}

const stateName: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Open]: 'open',
  [CircuitState.Isolated]: 'open',
};

const severity: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** The more severe of two states (open, then half-open, then closed). */
export function worstState(a: BreakerState, b: BreakerState): BreakerState {
  return severity[b] > severity[a] ? b : a;
}

const keyOf = (t: BreakerTarget) => JSON.stringify([t.provider, t.model, t.agent]);

/**
 * One circuit breaker per agent and model endpoint per process (cockatiel: consecutive failures open it; after
 * `halfOpenAfterMs` one probe call decides between closed and open again). Shared by every run in the process.
 */
export class CircuitBreakers {
  private readonly byTarget = new Map<string, { policy: CircuitBreakerPolicy; snapshot: BreakerSnapshot }>();

  circuitBreakerFor(
    target: BreakerTarget,
    policy: { failureThreshold: number; halfOpenAfterMs: number },
    configured = true,
  ): CircuitBreakerPolicy {
    const key = keyOf(target);
    const existing = this.byTarget.get(key);
    if (existing) return existing.policy;
    const breaker = circuitBreaker(handleWhen(countsAgainstBreaker), {
      halfOpenAfter: policy.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(policy.failureThreshold),
    });
    const snapshot: BreakerSnapshot = { ...target, configured, state: 'closed' };
    breaker.onStateChange((s) => {
      snapshot.state = stateName[s];
    });
    breaker.onFailure(({ reason }) => {
      if ('error' in reason && countsAgainstBreaker(reason.error)) {
        const info = toErrorInfo(reason.error);
        snapshot.lastFailure = { at: new Date().toISOString(), code: info.code, message: info.message };
      }
    });
    this.byTarget.set(key, { policy: breaker, snapshot });
    return breaker;
  }

  /**
   * The state of one target's breaker (closed when it was never called). Given only an agent's name: the most
   * severe state among all of that agent's breakers.
   */
  state(target: BreakerTarget | string): BreakerState {
    if (typeof target !== 'string') {
      const entry = this.byTarget.get(keyOf(target));
      return entry ? stateName[entry.policy.state] : 'closed';
    }
    return this.snapshot()
      .filter((b) => b.agent === target)
      .reduce<BreakerState>((worst, b) => worstState(worst, b.state), 'closed');
  }

  snapshot(): BreakerSnapshot[] {
    return [...this.byTarget.values()].map(({ policy, snapshot }) => ({
      ...snapshot,
      state: stateName[policy.state],
    }));
  }
}
