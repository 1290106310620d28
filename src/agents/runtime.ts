import { BrokenCircuitError } from 'cockatiel';
import { abortSignalOf, cockatielSignal, type RunAbortSignal } from '../core/abort.js';
import type { AgentCall, BreakerState, CallSpend } from '../core/agent.js';
import {
  AgentTimeoutError,
  BudgetExceededError,
  CircuitOpenError,
  ModelConfigurationError,
  ModelError,
} from '../core/errors.js';
import { type AgentCallSettlement, noRuntimeHooks, type RuntimeHooks } from '../core/hooks.js';
import type { ChatMessage, ChatRequest, ModelRouter, ModelSettings, TokenUsage } from '../core/model.js';
import { elapsedMs } from '../core/time.js';
import { estimateTokens } from '../core/tokens.js';
import type { ToolLoop } from '../core/tools.js';
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
  signal: RunAbortSignal;
  /** When the run's deadline passes (ms since epoch): no retry-after wait may outlast it. */
  deadlineAt?: number | undefined;
  budget: RunBudget;
  modelOverride?: ModelSettings | undefined;
  onDelta?: ((text: string) => void) | undefined;
  /** Told of each attempt that failed (retried or not), with how long it took. */
  onAttemptFailed?: (failure: { attempt: number; error: unknown; durationMs: number }) => void;
  /** The agent's own tools and the journal around them: the call runs the tool loop. */
  tools?: ToolLoop | undefined;
  /** The run's guardrails (src/guardrails/): checks before the model call and on the answer. */
  guardrails?: RunGuardrails | undefined;
}

/** How a failed call ended, for the settlement (and the agent-call metric). */
function failureOutcome(err: unknown, signal: RunAbortSignal) {
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
    const tools = req.tools;
    if (!tools || tools.definitions.length === 0) {
      return this.hooks.invokeAgent(info, () => this.attempts(plan, req));
    }
    return this.hooks.invokeAgent(info, () => this.toolLoop(plan, req, tools));
  }

  /**
   * The tool loop: model → tool calls → tool results → model, until the model answers without asking for the
   * agent's tools (a call of a pattern's own tool, such as a handoff, is the pattern's to act on), bounded by
   * `maxRounds` turns that may call tools (the turn after them is offered none). A turn that asked for tools is
   * journaled before its tools run; the final turn is the call's result, journaled by the engine.
   */
  private async toolLoop(
    plan: AttemptPlan,
    req: InvokeRequest,
    tools: ToolLoop,
  ): Promise<AgentCallSettlement> {
    const own = new Set(tools.definitions.map((d) => d.name));
    const patternTools = req.call.tools ?? [];
    let messages: ChatMessage[] = [...req.call.messages];
    for (let round = 0; ; round++) {
      const offered = round < tools.maxRounds ? [...patternTools, ...tools.definitions] : patternTools;
      let turn = tools.replayTurn(round);
      if (!turn) {
        const turnPlan: AttemptPlan = {
          ...plan,
          request: {
            ...plan.request,
            messages,
            ...(offered.length > 0 ? { tools: offered } : { tools: undefined }),
          },
          promptTokens: estimateTokens(messages.map((m) => m.content).join('\n')),
        };
        const settled = await this.attempts(turnPlan, req);
        if (!settled.ok) return settled;
        const calls = settled.result.toolCalls;
        if (calls.length === 0 || !calls.every((c) => own.has(c.name)) || round >= tools.maxRounds)
          return settled;
        await tools.recordTurn(round, settled.result, settled.requests);
        turn = settled.result;
      }
      const results = await this.guardedToolResults(req, await tools.runTools(round, turn.toolCalls));
      messages = [
        ...messages,
        { role: 'assistant', content: turn.text, toolCalls: turn.toolCalls },
        ...results,
      ];
    }
  }

  /**
   * Tool results are input the model reads like the run's own: the run's guardrails redact personal data in them
   * and Prompt Shields checks them for injected instructions before the next turn.
   */
  private async guardedToolResults(req: InvokeRequest, results: ChatMessage[]): Promise<ChatMessage[]> {
    if (!req.guardrails) return results;
    return req.guardrails.beforeCall(
      { agent: req.agent.name, step: req.call.key, signal: abortSignalOf(req.signal) },
      results,
    );
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
        retryPolicy.execute(async () => {
          const attempt = ++attempts;
          const at = performance.now();
          try {
            return await attemptModelCall(plan, attempt, spent);
          } catch (error) {
            req.onAttemptFailed?.({ attempt, error, durationMs: elapsedMs(at) });
            throw error;
          }
        }, cockatielSignal(signal)),
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
          durationMs: elapsedMs(started),
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
