import { randomUUID } from 'node:crypto';
import {
  BrokenCircuitError,
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
import {
  type Coordination,
  type CoordinationEvents,
  DegradationTracker,
  silentCoordinationEvents,
} from './coordination.js';
import { breakerAdmitScript, breakerListScript, breakerRecordScript } from './fleet-breaker-scripts.js';

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

/** What a call passes: it runs `fn`, or refuses with cockatiel's `BrokenCircuitError` while the circuit is open. */
export interface AgentBreaker {
  execute<T>(fn: () => Promise<T>): Promise<T>;
}

export interface BreakerPolicy {
  failureThreshold: number;
  halfOpenAfterMs: number;
}

export interface FleetBreakerOptions {
  coordination: Coordination;
  events?: CoordinationEvents;
  /** How long a half-open probe holds its claim before another worker may probe (a worker that died). */
  probeLeaseMs?: number;
}

interface Entry {
  breaker: AgentBreaker;
  local: CircuitBreakerPolicy;
  snapshot: BreakerSnapshot;
  /** True when the fleet's state (in Redis) decides; the local breaker is then only the fallback. */
  shared: boolean;
}

/**
 * One circuit breaker per agent and model endpoint (cockatiel: consecutive failures open it; after
 * `halfOpenAfterMs` one probe call decides between closed and open again), shared by every run in the process.
 * With `fleet`, the breakers are the fleet's: their state lives in Redis (see `fleet-breaker-scripts.ts`), so
 * failures on any worker count toward opening it for all, and one probe is let through fleet-wide. While Redis
 * does not answer, each worker's own breaker decides.
 */
export class CircuitBreakers {
  private readonly byTarget = new Map<string, Entry>();
  /** Breaker keys by agent, provider and model (`cachedKeyOf`). */
  private readonly keys = new Map<string, Map<string, Map<string, string>>>();
  /** Fleet breakers this worker has not called itself, as Redis last showed them. */
  private readonly seen = new Map<string, BreakerSnapshot>();
  private readonly tracker: DegradationTracker | undefined;

  constructor(private readonly fleet?: FleetBreakerOptions) {
    this.tracker = fleet
      ? new DegradationTracker('breakers', fleet.events ?? silentCoordinationEvents)
      : undefined;
  }

  circuitBreakerFor(target: BreakerTarget, policy: BreakerPolicy, configured = true): AgentBreaker {
    const key = this.cachedKeyOf(target);
    const existing = this.byTarget.get(key);
    if (existing) return existing.breaker;
    const local = circuitBreaker(handleWhen(countsAgainstBreaker), {
      halfOpenAfter: policy.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(policy.failureThreshold),
    });
    const snapshot: BreakerSnapshot = { ...target, configured, state: 'closed' };
    const shared = this.fleet !== undefined;
    local.onStateChange((s) => {
      if (!shared || this.tracker?.degraded) snapshot.state = stateName[s];
    });
    local.onFailure(({ reason }) => {
      if ('error' in reason && countsAgainstBreaker(reason.error))
        snapshot.lastFailure = failureOf(reason.error);
    });
    const breaker: AgentBreaker =
      this.fleet && this.tracker
        ? new FleetBreaker(key, policy, local, snapshot, this.fleet, this.tracker)
        : { execute: (fn) => local.execute(fn) };
    this.byTarget.set(key, { breaker, local, snapshot, shared });
    return breaker;
  }

  /**
   * The state of one target's breaker (closed when it was never called). Given only an agent's name: the most
   * severe state among all of that agent's breakers. A fleet breaker's state is the fleet's as this worker last
   * saw it.
   */
  state(target: BreakerTarget | string): BreakerState {
    if (typeof target !== 'string') {
      const entry = this.byTarget.get(keyOf(target));
      return entry ? this.stateOf(entry) : 'closed';
    }
    return this.snapshot()
      .filter((b) => b.agent === target)
      .reduce<BreakerState>((worst, b) => worstState(worst, b.state), 'closed');
  }

  snapshot(): BreakerSnapshot[] {
    const own = [...this.byTarget.values()].map((entry) => ({
      ...entry.snapshot,
      state: this.stateOf(entry),
    }));
    const others = [...this.seen.entries()].filter(([key]) => !this.byTarget.has(key)).map(([, s]) => s);
    return [...own, ...others];
  }

  /**
   * Reads the fleet's breakers from Redis, so that this worker's snapshot (its heartbeat, its metrics) shows
   * the shared state of every breaker, including those it has not called. Without the fleet: nothing to do.
   */
  async refresh(): Promise<void> {
    if (!this.fleet || !this.tracker) return;
    let shared: BreakerSnapshot[];
    try {
      shared = await fleetBreakerSnapshot(this.fleet.coordination);
      this.tracker.succeeded();
    } catch (err) {
      this.tracker.failed(err);
      return;
    }
    this.seen.clear();
    for (const b of shared) {
      const key = keyOf(b);
      const entry = this.byTarget.get(key);
      if (!entry) {
        this.seen.set(key, b);
        continue;
      }
      entry.snapshot.state = b.state;
      if (b.lastFailure) entry.snapshot.lastFailure = b.lastFailure;
    }
  }

  /**
   * `keyOf(target)`, made once per target: every agent call looks its breaker up, and encoding the key each time
   * was 2 % of an in-process step. Bounded as `byTarget` is, by the targets called.
   */
  private cachedKeyOf(target: BreakerTarget): string {
    let byProvider = this.keys.get(target.agent);
    if (!byProvider) {
      byProvider = new Map();
      this.keys.set(target.agent, byProvider);
    }
    let byModel = byProvider.get(target.provider);
    if (!byModel) {
      byModel = new Map();
      byProvider.set(target.provider, byModel);
    }
    let key = byModel.get(target.model);
    if (key === undefined) {
      key = keyOf(target);
      byModel.set(target.model, key);
    }
    return key;
  }

  private stateOf(entry: Entry): BreakerState {
    return entry.shared && !this.tracker?.degraded ? entry.snapshot.state : stateName[entry.local.state];
  }
}

function failureOf(err: unknown): NonNullable<BreakerSnapshot['lastFailure']> {
  const info = toErrorInfo(err);
  return { at: new Date().toISOString(), code: info.code, message: info.message };
}

const breakerKeyPrefix = (c: Coordination) => `${c.prefix}:fleet:breaker:`;
const breakerIndexKey = (c: Coordination) => `${c.prefix}:fleet:breakers`;

/**
 * The fleet's breakers as Redis holds them (those that ever failed): what the API and the fleet page show. An
 * open breaker whose half-open time has come shows half-open (the next call probes).
 */
export async function fleetBreakerSnapshot(coordination: Coordination): Promise<BreakerSnapshot[]> {
  const raw = (await coordination.run(breakerListScript, [breakerIndexKey(coordination)], [])) as string[];
  const now = Number(raw[raw.length - 1]);
  const out: BreakerSnapshot[] = [];
  for (let i = 0; i + 5 < raw.length; i += 5) {
    const [key, state, openUntil, lastFailure, configured] = raw.slice(i, i + 5) as string[] as [
      string,
      string,
      string,
      string,
      string,
    ];
    const [provider, model, agent] = JSON.parse(key.slice(breakerKeyPrefix(coordination).length)) as string[];
    const shown: BreakerState =
      state === 'open' && Number(openUntil) <= now
        ? 'half-open'
        : state === 'open'
          ? 'open'
          : state === 'half-open'
            ? 'half-open'
            : 'closed';
    out.push({
      agent: agent ?? '',
      provider: provider ?? '',
      model: model ?? '',
      configured: configured !== '0',
      state: shown,
      ...(lastFailure ? { lastFailure: JSON.parse(lastFailure) as BreakerSnapshot['lastFailure'] } : {}),
    });
  }
  return out;
}

/** Breaker keys outlive an idle day at most. */
const BREAKER_TTL_MS = 24 * 3600_000;
const DEFAULT_PROBE_LEASE_MS = 60_000;

/**
 * A breaker whose state is the fleet's. A call costs one Redis round trip before it (admission); its outcome is
 * written after it only when it changes something (a failure, a probe's result, the first success after
 * failures), off the call's path for a success.
 */
class FleetBreaker implements AgentBreaker {
  constructor(
    private readonly key: string,
    private readonly policy: BreakerPolicy,
    private readonly local: CircuitBreakerPolicy,
    private readonly snapshot: BreakerSnapshot,
    private readonly fleet: FleetBreakerOptions,
    private readonly tracker: DegradationTracker,
  ) {}

  private get redisKey(): string {
    return `${breakerKeyPrefix(this.fleet.coordination)}${this.key}`;
  }

  async execute<T>(fn: () => Promise<T>): Promise<T> {
    const token = randomUUID();
    let admission: [string, number];
    try {
      admission = (await this.fleet.coordination.run(
        breakerAdmitScript,
        [this.redisKey],
        [this.fleet.probeLeaseMs ?? DEFAULT_PROBE_LEASE_MS, token],
      )) as [string, number];
      this.tracker.succeeded();
    } catch (err) {
      this.tracker.failed(err);
      return this.local.execute(fn);
    }
    const [verdict, failures] = admission;
    if (verdict === 'open' || verdict === 'half-open') {
      this.snapshot.state = verdict;
      throw new BrokenCircuitError();
    }
    const probe = verdict === 'probe';
    this.snapshot.state = probe ? 'half-open' : 'closed';
    let value: T;
    try {
      value = await fn();
    } catch (err) {
      if (countsAgainstBreaker(err)) {
        this.snapshot.lastFailure = failureOf(err);
        await this.record('failure', token, JSON.stringify(this.snapshot.lastFailure));
      } else if (probe) await this.record('neutral', token);
      throw err;
    }
    if (probe || failures > 0) void this.record('success', token);
    return value;
  }

  /** Writes an outcome; a write lost to an outage leaves the fleet's count where it was. */
  private async record(
    outcome: 'success' | 'failure' | 'neutral',
    token: string,
    lastFailure = '',
  ): Promise<void> {
    try {
      const state = await this.fleet.coordination.run(
        breakerRecordScript,
        [this.redisKey, breakerIndexKey(this.fleet.coordination)],
        [
          outcome,
          token,
          this.policy.failureThreshold,
          this.policy.halfOpenAfterMs,
          lastFailure,
          BREAKER_TTL_MS,
          this.snapshot.configured ? '1' : '0',
        ],
      );
      this.tracker.succeeded();
      if (state === 'closed' || state === 'open' || state === 'half-open') this.snapshot.state = state;
    } catch (err) {
      this.tracker.failed(err);
    }
  }
}
