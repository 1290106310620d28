import { emptyTable, entryForDeployment, type QuotaLimit, type QuotaTable } from '../config/tables.js';
import { RateLimitedError } from '../core/errors.js';
import type { ChatCallOptions, ChatModel, ChatRequest, ChatResult } from '../core/model.js';
import { abortReason } from '../models/provider-errors.js';
import { requestsMade, spentBefore } from '../models/structured.js';

/**
 * Per-deployment request and token quotas, shared by every run in the process, so that concurrent runs queue
 * for a deployment's capacity instead of all receiving 429s.
 *
 * Each deployment has a budget of `rpm` requests and `tpm` tokens per window (a minute by default). A grant
 * spends one request and the request's estimated tokens; the budget comes back as grants age out of the window
 * (a sliding window: no window of `windowMs` ever holds more than `rpm` grants, or more than `tpm` tokens except
 * for a single request larger than `tpm` on its own). Waiters are served first come, first served; waiting is
 * abortable. Once the answer is in, the estimate is replaced by the real usage. A 429 pauses the deployment for
 * the provider's retry-after period: nobody is granted until it passes.
 */

export interface QuotaClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: QuotaClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface QuotaOptions {
  limits?: QuotaTable;
  /** Length of the quota window; default 60 000 ms (the quotas are per minute). */
  windowMs?: number;
  /** Longest pause a 429's retry-after may impose on a deployment; default unbounded. */
  maxPauseMs?: number;
  clock?: QuotaClock;
}

/** A granted slot; `settle` replaces the estimated tokens with the real usage once the answer is in. */
export interface QuotaGrant {
  readonly deployment: string;
  readonly tokens: number;
  /** `requests` > 1 when the call made more than one HTTP request (the corrective re-ask). */
  settle(actualTokens: number, requests?: number): void;
}

interface Spent {
  at: number;
  tokens: number;
}

interface Waiter {
  tokens: number;
  resolve(grant: QuotaGrant): void;
  reject(err: unknown): void;
  cleanup(): void;
}

interface DeploymentState {
  limit: QuotaLimit | undefined;
  spent: Spent[];
  pausedUntil: number;
  queue: Waiter[];
  timer: unknown;
}

/** Chars / 4 over everything sent, plus the completion budget: what the service counts against the TPM up front. */
export function estimateRequestTokens(request: ChatRequest): number {
  let chars = 0;
  for (const m of request.messages) {
    chars += m.content.length;
    if (m.role === 'assistant')
      for (const c of m.toolCalls ?? []) chars += c.name.length + c.arguments.length;
  }
  for (const t of request.tools ?? [])
    chars += t.name.length + t.description.length + JSON.stringify(t.parameters).length;
  if (request.responseFormat) chars += JSON.stringify(request.responseFormat.schema).length;
  return Math.ceil(chars / 4) + (request.model.maxOutputTokens ?? 0);
}

/** What a model call passes: a grant per request, and a pause after a 429. */
export interface DeploymentQuota {
  acquire(deployment: string, estimatedTokens: number, signal?: AbortSignal): Promise<QuotaGrant>;
  pause(deployment: string, ms: number): void;
}

export class QuotaManager implements DeploymentQuota {
  readonly windowMs: number;
  readonly maxPauseMs: number;
  private readonly clock: QuotaClock;
  private readonly limits: QuotaTable;
  private readonly states = new Map<string, DeploymentState>();

  constructor(options: QuotaOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.maxPauseMs = options.maxPauseMs ?? Number.POSITIVE_INFINITY;
    this.clock = options.clock ?? systemClock;
    this.limits = options.limits ?? emptyTable();
  }

  /** The limit that applies to `deployment`, if any. */
  limitFor(deployment: string): QuotaLimit | undefined {
    return entryForDeployment(this.limits, deployment);
  }

  /** Waits for a slot for one request of about `estimatedTokens`; rejects with the signal's reason on abort. */
  acquire(deployment: string, estimatedTokens: number, signal?: AbortSignal): Promise<QuotaGrant> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const state = this.state(deployment);
    return new Promise<QuotaGrant>((resolve, reject) => {
      const onAbort = () => {
        const index = state.queue.indexOf(waiter);
        if (index >= 0) state.queue.splice(index, 1);
        reject(abortReason(signal as AbortSignal));
        this.pump(deployment, state);
      };
      const waiter: Waiter = {
        tokens: Math.max(0, Math.ceil(estimatedTokens)),
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      state.queue.push(waiter);
      this.pump(deployment, state);
    });
  }

  /** Nobody is granted a slot for `deployment` during the next `ms` (a 429's retry-after), at most `maxPauseMs`. */
  pause(deployment: string, ms: number): void {
    const state = this.state(deployment);
    const pause = Math.min(Math.max(0, ms), this.maxPauseMs);
    state.pausedUntil = Math.max(state.pausedUntil, this.clock.now() + pause);
    this.pump(deployment, state);
  }

  /** Requests and tokens granted in the current window, and how many callers wait (metrics, tests). */
  usage(deployment: string): { requests: number; tokens: number; waiting: number; pausedUntil: number } {
    const state = this.state(deployment);
    this.prune(state, this.clock.now());
    return {
      requests: state.spent.length,
      tokens: state.spent.reduce((sum, s) => sum + s.tokens, 0),
      waiting: state.queue.length,
      pausedUntil: state.pausedUntil,
    };
  }

  private state(deployment: string): DeploymentState {
    let state = this.states.get(deployment);
    if (!state) {
      state = { limit: this.limitFor(deployment), spent: [], pausedUntil: 0, queue: [], timer: undefined };
      this.states.set(deployment, state);
    }
    return state;
  }

  private prune(state: DeploymentState, now: number): void {
    let expired = 0;
    while (expired < state.spent.length && (state.spent[expired] as Spent).at + this.windowMs <= now)
      expired++;
    if (expired > 0) state.spent.splice(0, expired);
  }

  /** Milliseconds until a request of `tokens` fits, 0 when it fits now. */
  private waitFor(state: DeploymentState, tokens: number, now: number): number {
    const { limit, spent } = state;
    let until = now;
    if (limit?.rpm !== undefined && spent.length >= limit.rpm) {
      // The oldest grants must age out until fewer than rpm remain.
      const release = spent[spent.length - limit.rpm];
      until = Math.max(until, (release?.at ?? now) + this.windowMs);
    }
    if (limit?.tpm !== undefined && spent.length > 0) {
      let total = spent.reduce((sum, s) => sum + s.tokens, 0);
      let k = 0;
      while (k < spent.length && total + tokens > limit.tpm) {
        total -= (spent[k] as Spent).tokens;
        k++;
      }
      if (k > 0) until = Math.max(until, (spent[k - 1] as Spent).at + this.windowMs);
    }
    return until - now;
  }

  private pump(deployment: string, state: DeploymentState): void {
    if (state.timer !== undefined) {
      this.clock.clearTimeout(state.timer);
      state.timer = undefined;
    }
    while (state.queue.length > 0) {
      const now = this.clock.now();
      this.prune(state, now);
      const head = state.queue[0] as Waiter;
      const wait = Math.max(state.pausedUntil - now, this.waitFor(state, head.tokens, now));
      if (wait > 0) {
        state.timer = this.clock.setTimeout(() => {
          state.timer = undefined;
          this.pump(deployment, state);
        }, wait);
        return;
      }
      state.queue.shift();
      head.cleanup();
      const spent: Spent = { at: now, tokens: head.tokens };
      state.spent.push(spent);
      head.resolve({
        deployment,
        tokens: head.tokens,
        settle: (actualTokens, requests = 1) => {
          spent.tokens = Math.max(0, actualTokens);
          // Extra HTTP requests of the same call (the corrective re-ask) count against the rpm too.
          for (let i = 1; i < requests; i++) state.spent.push({ at: this.clock.now(), tokens: 0 });
          this.pump(deployment, state);
        },
      });
    }
  }
}

/** Wait after a 429 that named no retry-after. */
export const DEFAULT_RATE_LIMIT_PAUSE_MS = 1_000;

/**
 * A `ChatModel` whose every request first takes a slot from the deployment's quota, settles it with the real
 * usage, and pauses the deployment when the provider answers 429.
 */
export function withQuota(
  model: ChatModel,
  quota: DeploymentQuota,
  deploymentOf: (request: ChatRequest) => string,
): ChatModel {
  return {
    provider: model.provider,
    async complete(request: ChatRequest, call: ChatCallOptions): Promise<ChatResult> {
      const deployment = deploymentOf(request);
      // A grant is a place in the deployment's window: taken when the request can leave, not before.
      await model.ready?.();
      const grant = await quota.acquire(deployment, estimateRequestTokens(request), call.signal);
      let settled = false;
      let failure: unknown;
      try {
        const result = await model.complete(request, call);
        grant.settle(result.usage.inputTokens + result.usage.outputTokens, requestsMade(result));
        settled = true;
        return result;
      } catch (err) {
        failure = err;
        if (err instanceof RateLimitedError) {
          quota.pause(deployment, err.retryAfterMs ?? DEFAULT_RATE_LIMIT_PAUSE_MS);
        }
        throw err;
      } finally {
        // A failed or aborted call keeps its estimate: the service may have counted it.
        if (!settled) grant.settle(grant.tokens, spentBefore(failure).requests);
      }
    },
  };
}
