import { randomUUID } from 'node:crypto';
import type { QuotaLimit } from '../config/tables.js';
import { abortReason } from '../models/provider-errors.js';
import {
  type Coordination,
  type CoordinationEvents,
  DegradationTracker,
  silentCoordinationEvents,
} from './coordination.js';
import { quotaAcquireScript, quotaPauseScript, quotaSettleScript } from './fleet-quota-scripts.js';
import type { DeploymentQuota, QuotaGrant, QuotaManager } from './quota.js';

/**
 * The deployment quotas of the whole fleet: every worker takes its grants from the same Redis window (see
 * `fleet-quota-scripts.ts`), so twenty workers together stay within a deployment's requests and tokens per
 * minute, a 429 pauses the deployment for all of them, and tenants share a saturated deployment by weight.
 *
 * Within this worker the waiters of one tenant are served in arrival order; waiting is abortable. When Redis
 * does not answer in time, a waiter takes its grant from `local` (the per-process quota) instead: the fleet then
 * runs on per-worker limits until Redis answers again, never on none.
 */
export interface FleetQuotaOptions {
  coordination: Coordination;
  /** The per-process quota: the limits, the window, and the fallback while Redis is unreachable. */
  local: QuotaManager;
  /** The tenant on whose behalf the current model call runs (undefined: outside any run). */
  tenantOf?: () => string | undefined;
  /** A tenant's share of a saturated deployment relative to others (default 1). */
  weightOf?: (tenant: string) => number;
  events?: CoordinationEvents;
  /**
   * How long a request may take from its grant to its arrival at the provider. Grants are spaced over the
   * window plus this, so that the provider, which counts arrivals, never sees more than the quota in a window.
   */
  slackMs?: number;
  /** Longest sleep before a waiter asks Redis again (its tenant's claim is renewed that often). */
  maxSleepMs?: number;
  /** How soon a waiter that another tenant preceded asks again. */
  yieldMs?: number;
}

interface Waiter {
  tokens: number;
  signal: AbortSignal | undefined;
  resolve(grant: QuotaGrant): void;
  reject(err: unknown): void;
  cleanup(): void;
}

interface DeploymentState {
  limit: QuotaLimit | undefined;
  /** Waiters by tenant, each in arrival order; tenants in the order they began waiting. */
  tenants: Map<string, Waiter[]>;
  pumping: boolean;
}

/** What Redis said to one waiter: granted, no capacity for `ms`, or another tenant goes first. */
type Answer = { kind: 'granted' } | { kind: 'wait'; ms: number } | { kind: 'yield' };

const NO_TENANT = '-';

export class FleetQuota implements DeploymentQuota {
  private readonly states = new Map<string, DeploymentState>();
  private readonly tracker: DegradationTracker;
  private readonly maxSleepMs: number;
  private readonly yieldMs: number;
  /** This worker among the fleet's waiters (its own entries in the `waiting` set). */
  private readonly id = randomUUID();

  constructor(private readonly options: FleetQuotaOptions) {
    this.tracker = new DegradationTracker('quota', options.events ?? silentCoordinationEvents);
    this.maxSleepMs = options.maxSleepMs ?? 250;
    this.yieldMs = options.yieldMs ?? 20;
  }

  /** True while grants come from the per-process fallback. */
  get degraded(): boolean {
    return this.tracker.degraded;
  }

  acquire(deployment: string, estimatedTokens: number, signal?: AbortSignal): Promise<QuotaGrant> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const tenant = this.options.tenantOf?.() ?? NO_TENANT;
    const state = this.state(deployment);
    return new Promise<QuotaGrant>((resolve, reject) => {
      const queue = state.tenants.get(tenant) ?? [];
      state.tenants.set(tenant, queue);
      const onAbort = () => {
        this.remove(state, tenant, waiter);
        reject(abortReason(signal as AbortSignal));
      };
      const waiter: Waiter = {
        tokens: Math.max(0, Math.ceil(estimatedTokens)),
        signal,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      void this.pump(deployment, state);
    });
  }

  pause(deployment: string, ms: number): void {
    this.options.local.pause(deployment, ms);
    const pauseMs = Math.max(0, Math.min(ms, this.options.local.maxPauseMs));
    this.options.coordination
      .run(quotaPauseScript, [this.key(deployment, 'pause')], [Math.ceil(pauseMs)])
      .then(
        () => this.tracker.succeeded(),
        (err: unknown) => this.tracker.failed(err),
      );
  }

  private state(deployment: string): DeploymentState {
    let state = this.states.get(deployment);
    if (!state) {
      state = {
        limit: this.options.local.limitFor(deployment),
        tenants: new Map(),
        pumping: false,
      };
      this.states.set(deployment, state);
    }
    return state;
  }

  private remove(state: DeploymentState, tenant: string, waiter: Waiter): void {
    const queue = state.tenants.get(tenant);
    if (!queue) return;
    const index = queue.indexOf(waiter);
    if (index >= 0) queue.splice(index, 1);
    if (queue.length === 0) state.tenants.delete(tenant);
  }

  private key(deployment: string, part: string): string {
    return `${this.options.coordination.prefix}:fleet:quota:{${deployment}}:${part}`;
  }

  private weight(tenant: string): number {
    const w = tenant === NO_TENANT ? 1 : (this.options.weightOf?.(tenant) ?? 1);
    return w > 0 ? w : 1;
  }

  /** One loop per deployment and worker: asks Redis for each tenant's first waiter until none is left. */
  private async pump(deployment: string, state: DeploymentState): Promise<void> {
    if (state.pumping) return;
    state.pumping = true;
    try {
      while (state.tenants.size > 0) {
        let sleep = Number.POSITIVE_INFINITY;
        for (const [tenant, queue] of [...state.tenants]) {
          const head = queue[0];
          if (!head) continue;
          const answer = await this.tryAcquire(deployment, state, tenant, head, queue.length > 1);
          if (answer.kind === 'granted') {
            sleep = 0;
            continue;
          }
          if (answer.kind === 'yield') {
            sleep = Math.min(sleep, this.yieldMs);
            continue;
          }
          // No capacity is no capacity for every tenant: ask again when it comes back.
          sleep = Math.min(sleep, answer.ms);
          break;
        }
        if (sleep > 0 && state.tenants.size > 0) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(sleep, this.maxSleepMs)));
        }
      }
    } finally {
      state.pumping = false;
    }
  }

  /** Asks Redis for the first waiter of `tenant`; a grant resolves it (or the fallback serves it). */
  private async tryAcquire(
    deployment: string,
    state: DeploymentState,
    tenant: string,
    head: Waiter,
    more: boolean,
  ): Promise<Answer> {
    const id = randomUUID();
    const weight = this.weight(tenant);
    let answer: unknown;
    try {
      answer = await this.options.coordination.run(quotaAcquireScript, this.acquireKeys(deployment), [
        this.options.local.windowMs + (this.options.slackMs ?? 0),
        state.limit?.rpm ?? 0,
        state.limit?.tpm ?? 0,
        head.tokens,
        id,
        tenant,
        weight,
        more ? 1 : 0,
        this.maxSleepMs * 4,
        this.maxSleepMs,
        this.id,
      ]);
      this.tracker.succeeded();
    } catch (err) {
      this.tracker.failed(err);
      return this.fallBack(deployment, state, tenant, head);
    }
    const [granted, waitMs] = answer as [number, number];
    if (granted !== 1) return waitMs < 0 ? { kind: 'yield' } : { kind: 'wait', ms: Math.max(1, waitMs) };
    this.remove(state, tenant, head);
    head.cleanup();
    if (head.signal?.aborted) {
      // Aborted while Redis answered: the request slot stays spent (the window cannot tell), its tokens do not.
      this.settle(deployment, id, tenant, head.tokens, weight, 0, 1);
      return { kind: 'granted' };
    }
    head.resolve(this.grant(deployment, id, tenant, head.tokens, weight));
    return { kind: 'granted' };
  }

  private acquireKeys(deployment: string): string[] {
    return ['grants', 'tokens', 'meta', 'pause', 'vt', 'waiting'].map((p) => this.key(deployment, p));
  }

  /**
   * Redis did not answer: the per-process quota may grant this waiter, within one sleep. A waiter it does not
   * grant by then stays here and asks Redis first again, so that grants go back to the fleet's window as soon as
   * Redis answers, instead of draining a local backlog past the fleet's limits.
   */
  private async fallBack(
    deployment: string,
    state: DeploymentState,
    tenant: string,
    head: Waiter,
  ): Promise<Answer> {
    const within = AbortSignal.timeout(this.maxSleepMs);
    const signal = head.signal ? AbortSignal.any([head.signal, within]) : within;
    let grant: QuotaGrant;
    try {
      grant = await this.options.local.acquire(deployment, head.tokens, signal);
    } catch {
      // Aborted by its own signal (the waiter's abort handler has rejected it) or out of time: ask again.
      return { kind: 'wait', ms: 1 };
    }
    this.remove(state, tenant, head);
    head.cleanup();
    head.resolve(grant);
    return { kind: 'granted' };
  }

  private grant(deployment: string, id: string, tenant: string, tokens: number, weight: number): QuotaGrant {
    return {
      deployment,
      tokens,
      settle: (actualTokens, requests = 1) =>
        this.settle(deployment, id, tenant, tokens, weight, actualTokens, requests),
    };
  }

  /** Off the call's path: the answer is already in; a settle lost to an outage leaves the estimate counted. */
  private settle(
    deployment: string,
    id: string,
    tenant: string,
    estimate: number,
    weight: number,
    actual: number,
    requests: number,
  ): void {
    const keys = ['grants', 'tokens', 'meta', 'vt'].map((p) => this.key(deployment, p));
    this.options.coordination
      .run(quotaSettleScript, keys, [
        id,
        Math.max(0, Math.ceil(actual)),
        Math.max(0, requests - 1),
        tenant,
        estimate,
        weight,
      ])
      .then(
        () => this.tracker.succeeded(),
        (err: unknown) => this.tracker.failed(err),
      );
  }
}
