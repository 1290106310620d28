import { BrokenCircuitError } from 'cockatiel';
import type { AgentCall, BreakerState, CallSpend } from '../core/agent.js';
import {
  AgentTimeoutError,
  BudgetExceededError,
  CircuitOpenError,
  ModelConfigurationError,
  ModelError,
} from '../core/errors.js';
import { type AgentCallSettlement, noRuntimeHooks, type RuntimeHooks } from '../core/hooks.js';
import type { ChatRequest, ModelRouter, ModelSettings, TokenUsage } from '../core/model.js';
import { estimateTokens } from '../core/tokens.js';
import type { RunGuardrails } from '../guardrails/index.js';
import { breakerTarget, type CircuitBreakers } from '../policies/breakers.js';
import type { RunBudget } from '../policies/budget.js';
import { type ModelAllowList, modelTargetOf, sameTarget } from '../policies/model-allowlist.js';
import { retryPolicyFor } from '../policies/retry.js';
import { guardedInvoke } from './guardrail-stage.js';
import { type AttemptPlan, attemptModelCall } from './model-attempt.js';
import type { AgentDefinition } from './schema.js';

export interface AgentRuntimeDeps {
  models: ModelRouter;
  breakers: CircuitBreakers;
  /** Jitter source for retry backoff (tests pin it). */
  random?: () => number;
  /** Price of a call in USD, when prices are configured for its deployment. */
  costOf?: (deployment: string | undefined, usage: TokenUsage) => number | undefined;
  /** Spans and metrics around agent calls and model requests (src/telemetry/). */
  hooks?: RuntimeHooks;
  /** Longest retry-after wait (BATON_RETRY_AFTER_MAX_MS); a longer one fails the attempt. Default 30 s. */
  retryAfterMaxMs?: number;
  /** The models a run's override may choose (agents' own models are always allowed); without it, any. */
  allowedModels?: ModelAllowList;
}

const DEFAULT_RETRY_AFTER_MAX_MS = 30_000;

export interface InvokeRequest {
  agent: AgentDefinition;
  call: AgentCall;
  seed: number;
  /** The run's signal: cancel, deadline or shutdown. */
  signal: AbortSignal;
  /** When the run's deadline passes (ms since epoch): no retry-after wait may outlast it. */
  deadlineAt?: number | undefined;
  budget: RunBudget;
  modelOverride?: ModelSettings;
  onDelta?: (text: string) => void;
  /** The run's guardrails (src/guardrails/): checks before the model call and on the answer. */
  guardrails?: RunGuardrails | undefined;
}

/** How a failed call ended, for the settlement (and the agent-call metric). */
function failureOutcome(err: unknown, signal: AbortSignal) {
  if (err instanceof CircuitOpenError) return 'circuit_open' as const;
  if (err instanceof AgentTimeoutError) return 'timeout' as const;
  if (err instanceof BudgetExceededError) return 'budget_exceeded' as const;
  if (signal.aborted) return 'cancelled' as const;
  return 'error' as const;
}

/**
 * Runs one agent call under its policies, outermost first: budget check → circuit breaker → retry (exponential
 * backoff with jitter, honouring retry-after, retryable errors only) → timeout (aborts the model request) → the
 * model call → usage accounting. It settles with the result, or with the error and what the attempts spent, so
 * the caller can journal a failure exactly as it happened.
 */
export class AgentRuntime {
  private readonly random: () => number;
  private readonly hooks: RuntimeHooks;

  constructor(private readonly deps: AgentRuntimeDeps) {
    this.random = deps.random ?? Math.random;
    this.hooks = deps.hooks ?? noRuntimeHooks;
  }

  /** The state of the breaker a call of `agent` would pass (its model, with a run's override applied). */
  breakerState(agent: AgentDefinition, modelOverride?: ModelSettings): BreakerState {
    const settings: ModelSettings = { ...agent.model, ...modelOverride };
    const provider = this.deps.models.modelFor(settings).provider;
    return this.deps.breakers.state(breakerTarget(agent.name, settings, provider));
  }

  /**
   * Throws `BudgetExceededError` when the budget refuses the first attempt and `GuardrailBlockedError` when a
   * guardrail refuses the call or its answer; every other end is a settlement.
   */
  async invoke(req: InvokeRequest): Promise<AgentCallSettlement> {
    const { guardrails } = req;
    if (guardrails) return guardedInvoke(req, guardrails, (checked) => this.invokeChecked(checked));
    return this.invokeChecked(req);
  }

  private async invokeChecked(req: InvokeRequest): Promise<AgentCallSettlement> {
    const plan = this.plan(req);
    plan.budget.check(plan.promptTokens);
    const info = { agent: req.agent.name, description: req.agent.description, key: req.call.key };
    return this.hooks.invokeAgent(info, () => this.attempts(plan, req));
  }

  private plan(req: InvokeRequest): AttemptPlan {
    const { agent, call } = req;
    const settings: ModelSettings = { ...agent.model, ...req.modelOverride };
    const schema = call.outputSchema ?? (call.structured !== false ? agent.outputSchema : undefined);
    const request: Omit<ChatRequest, 'model'> = {
      agent: agent.name,
      messages: call.messages,
      seed: req.seed,
      ...(call.tools ? { tools: call.tools } : {}),
      ...(call.toolChoice ? { toolChoice: call.toolChoice } : {}),
      ...(call.parallelToolCalls !== undefined ? { parallelToolCalls: call.parallelToolCalls } : {}),
      ...(schema ? { responseFormat: { name: agent.name, schema: schema.jsonSchema, strict: true } } : {}),
      ...(agent.simulation ? { simulation: agent.simulation } : {}),
    };
    return {
      agent,
      model: this.deps.models.modelFor(settings),
      settings,
      request,
      schema,
      promptTokens: estimateTokens(call.messages.map((m) => m.content).join('\n')),
      budget: req.budget,
      signal: req.signal,
      onDelta: req.onDelta,
      costOf: this.deps.costOf,
      hooks: this.hooks,
    };
  }

  /** A run's model override that the operator does not allow never reaches a provider. */
  private refuseDisallowedModel(req: InvokeRequest): void {
    const allowList = this.deps.allowedModels;
    if (!allowList || !req.modelOverride) return;
    const own = modelTargetOf(req.agent.model, allowList.defaultProvider);
    const chosen = modelTargetOf({ ...req.agent.model, ...req.modelOverride }, allowList.defaultProvider);
    if (sameTarget(own, chosen) || allowList.allows(chosen)) return;
    throw new ModelConfigurationError(
      'MODEL_NOT_ALLOWED',
      `The model ${chosen.provider}/${chosen.model ?? '(default)'} is not allowed for runs.`,
      { provider: chosen.provider, model: chosen.model },
    );
  }

  /** The longest retry-after this call may wait now: the configured maximum, within the run's deadline. */
  private longestWaitMs(req: InvokeRequest): number {
    const max = this.deps.retryAfterMaxMs ?? DEFAULT_RETRY_AFTER_MAX_MS;
    return req.deadlineAt === undefined ? max : Math.min(max, req.deadlineAt - Date.now());
  }

  private async attempts(plan: AttemptPlan, req: InvokeRequest): Promise<AgentCallSettlement> {
    const { agent, signal } = req;
    const target = breakerTarget(agent.name, plan.settings, plan.model.provider);
    const own = breakerTarget(agent.name, agent.model, this.deps.models.modelFor(agent.model).provider);
    const breaker = this.deps.breakers.circuitBreakerFor(
      target,
      agent.policy.breaker,
      target.provider === own.provider && target.model === own.model,
    );
    const retryPolicy = retryPolicyFor(agent.policy.retry, this.random, () => this.longestWaitMs(req));
    const started = performance.now();
    let attempts = 0;
    // What this call alone spent over all its attempts (the run budget is shared with concurrent calls).
    const spent: CallSpend = { usage: { inputTokens: 0, outputTokens: 0 }, requests: 0 };
    try {
      this.refuseDisallowedModel(req);
      const { chat, structured } = await breaker.execute(() =>
        retryPolicy.execute(() => attemptModelCall(plan, ++attempts, spent), signal),
      );
      return {
        ok: true,
        requests: spent.requests,
        result: {
          key: req.call.key,
          agent: agent.name,
          text: chat.message.content,
          ...(plan.schema ? { structured } : {}),
          toolCalls: chat.toolCalls,
          usage: spent.usage,
          attempts,
          durationMs: performance.now() - started,
          model: chat.model,
          ...(spent.costUsd !== undefined ? { costUsd: spent.costUsd } : {}),
        },
      };
    } catch (raw) {
      const error =
        signal.aborted && !(raw instanceof ModelError)
          ? signal.reason
          : raw instanceof BrokenCircuitError
            ? new CircuitOpenError(agent.name)
            : raw;
      const failure = error instanceof Error ? error : new Error(String(error));
      return { ok: false, error: failure, outcome: failureOutcome(failure, signal), attempts, spent };
    }
  }
}
