import {
  BrokenCircuitError,
  handleWhen,
  type IBackoff,
  type IRetryBackoffContext,
  retry,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
} from 'cockatiel';
import { z } from 'zod';
import {
  AgentTimeoutError,
  BudgetExceededError,
  CircuitOpenError,
  ModelError,
  OutputInvalidError,
  RateLimitedError,
} from '../errors.js';
import { estimateTokens } from '../models/simulated.js';
import type { ChatModel, ChatRequest, ChatResult, ModelRouter, ModelSettings } from '../models/types.js';
import type { AgentCall, AgentResult, BreakerState } from '../orchestrators/types.js';
import {
  ATTR_BATON_AGENT_ATTEMPT,
  ATTR_BATON_AGENT_ATTEMPTS,
  ATTR_BATON_STEP_KEY,
  ATTR_GEN_AI_AGENT_DESCRIPTION,
  ATTR_GEN_AI_AGENT_ID,
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  GEN_AI_OPERATION,
} from '../telemetry/attributes.js';
import { type AgentCallOutcome, recordAgentCall, recordModelCall } from '../telemetry/metrics.js';
import { SpanKind, spanNames, withSpan } from '../telemetry/tracing.js';
import type { CircuitBreakers } from './breakers.js';
import type { RunBudget } from './budget.js';
import { type AgentDefinition, jsonSchemaOf } from './schema.js';

export interface AgentRuntimeDeps {
  models: ModelRouter;
  breakers: CircuitBreakers;
  /** Jitter source for retry backoff (tests pin it). */
  random?: () => number;
  /** Price of a call in USD, when prices are configured for its deployment. */
  costOf?: (
    deployment: string | undefined,
    usage: { inputTokens: number; outputTokens: number },
  ) => number | undefined;
  /** Record message content on spans (BATON_CAPTURE_CONTENT). */
  captureContent?: boolean;
}

/** Tokens and cost of one agent call over all its attempts. */
export interface CallSpend {
  usage: { inputTokens: number; outputTokens: number };
  costUsd?: number;
}

/** What a failed call spent, attached to the error it throws (the engine journals it). */
export function spendOf(err: unknown): { attempts: number; spent: CallSpend } {
  const e = err as { attempts?: number; spent?: CallSpend };
  return { attempts: e.attempts ?? 1, spent: e.spent ?? { usage: { inputTokens: 0, outputTokens: 0 } } };
}

export interface InvokeRequest {
  agent: AgentDefinition;
  call: AgentCall;
  seed: number;
  /** The run's signal: cancel, deadline or shutdown. */
  signal: AbortSignal;
  budget: RunBudget;
  modelOverride?: ModelSettings;
  onDelta?: (text: string) => void;
}

/**
 * Exponential backoff with jitter ("equal jitter": half fixed, half random) that never waits less than a
 * rate-limited provider asked for in `retry-after`.
 */
function backoffFor(policy: AgentDefinition['policy']['retry'], random: () => number) {
  const at = (
    attempt: number,
    context: IRetryBackoffContext<unknown>,
  ): IBackoff<IRetryBackoffContext<unknown>> => {
    const exp = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
    const jittered = exp / 2 + (random() * exp) / 2;
    const err = 'error' in context.result ? context.result.error : undefined;
    const retryAfter = err instanceof RateLimitedError ? (err.retryAfterMs ?? 0) : 0;
    return { duration: Math.max(jittered, retryAfter), next: (c) => at(attempt + 1, c) };
  };
  return { next: (context: IRetryBackoffContext<unknown>) => at(1, context) };
}

function parseStructured(agent: AgentDefinition, schema: z.ZodType, text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new OutputInvalidError(agent.name, 'the answer is not JSON', text);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new OutputInvalidError(agent.name, z.prettifyError(parsed.error), text);
  return parsed.data;
}

/**
 * Runs one agent call under its policies, outermost first: budget check → circuit breaker → retry (exponential
 * backoff with jitter, honouring retry-after, retryable errors only) → timeout (aborts the model request) →
 * the model call → usage accounting. Each attempt is a `chat {model}` span under one `invoke_agent` span.
 */
export class AgentRuntime {
  private readonly random: () => number;

  constructor(private readonly deps: AgentRuntimeDeps) {
    this.random = deps.random ?? Math.random;
  }

  breakerState(agent: string): BreakerState {
    return this.deps.breakers.state(agent);
  }

  async invoke(req: InvokeRequest): Promise<AgentResult> {
    const { agent, call, budget, signal } = req;
    const settings: ModelSettings = { ...agent.model, ...req.modelOverride };
    const model = this.deps.models.modelFor(settings);
    const schema = call.outputSchema ?? (call.structured !== false ? agent.outputSchema : undefined);
    const promptTokens = estimateTokens(call.messages.map((m) => m.content).join('\n'));
    budget.check(promptTokens);

    const breaker = this.deps.breakers.circuitBreakerFor(agent);
    const retryPolicy = retry(
      handleWhen((e) => e instanceof ModelError && e.retryable),
      {
        maxAttempts: agent.policy.retry.maxAttempts - 1,
        backoff: backoffFor(agent.policy.retry, this.random),
      },
    );
    const started = performance.now();
    let attempts = 0;
    let outcome: AgentCallOutcome = 'error';
    // What this call alone spent over all its attempts (the run budget is shared with concurrent calls).
    const spent: CallSpend = { usage: { inputTokens: 0, outputTokens: 0 } };

    try {
      return await withSpan(
        spanNames.invokeAgent(agent.name),
        {
          attributes: {
            [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION.invokeAgent,
            [ATTR_GEN_AI_AGENT_NAME]: agent.name,
            [ATTR_GEN_AI_AGENT_ID]: agent.name,
            [ATTR_GEN_AI_AGENT_DESCRIPTION]: agent.description,
            [ATTR_BATON_STEP_KEY]: call.key,
          },
        },
        async (span) => {
          try {
            const result = await breaker.execute(() =>
              retryPolicy.execute(async () => {
                attempts += 1;
                return this.attempt(req, settings, model, schema, attempts, promptTokens, spent);
              }, signal),
            );
            span.setAttribute(ATTR_BATON_AGENT_ATTEMPTS, attempts);
            outcome = 'success';
            return {
              key: call.key,
              agent: agent.name,
              text: result.chat.message.content,
              ...(schema ? { structured: result.structured } : {}),
              toolCalls: result.chat.toolCalls,
              usage: spent.usage,
              attempts,
              durationMs: performance.now() - started,
              model: result.chat.model,
              ...(spent.costUsd !== undefined ? { costUsd: spent.costUsd } : {}),
            };
          } catch (raw) {
            span.setAttribute(ATTR_BATON_AGENT_ATTEMPTS, attempts);
            const err =
              signal.aborted && !(raw instanceof ModelError)
                ? signal.reason
                : raw instanceof BrokenCircuitError
                  ? new CircuitOpenError(agent.name)
                  : raw;
            outcome = callOutcome(err, signal);
            if (err instanceof Error) Object.assign(err, { attempts, spent });
            throw err;
          }
        },
      );
    } finally {
      recordAgentCall({ agent: agent.name, outcome, durationMs: performance.now() - started });
    }
  }

  private async attempt(
    req: InvokeRequest,
    settings: ModelSettings,
    model: ChatModel,
    schema: z.ZodType | undefined,
    attempt: number,
    promptTokens: number,
    spent: CallSpend,
  ): Promise<{ chat: ChatResult; structured: unknown }> {
    const { agent, call, budget, signal } = req;
    const allowance = budget.reserveCall(promptTokens);
    const maxOutputTokens =
      allowance === undefined
        ? settings.maxOutputTokens
        : Math.min(settings.maxOutputTokens ?? allowance, allowance);
    const request: ChatRequest = {
      agent: agent.name,
      model: { ...settings, ...(maxOutputTokens !== undefined ? { maxOutputTokens } : {}) },
      messages: call.messages,
      seed: req.seed,
      ...(call.tools ? { tools: call.tools } : {}),
      ...(call.toolChoice ? { toolChoice: call.toolChoice } : {}),
      ...(call.parallelToolCalls !== undefined ? { parallelToolCalls: call.parallelToolCalls } : {}),
      ...(schema ? { responseFormat: { name: agent.name, schema: jsonSchemaOf(schema), strict: true } } : {}),
      ...(agent.simulation ? { simulation: agent.simulation } : {}),
    };
    const requestedModel = settings.deployment ?? settings.foundryAgent ?? model.provider;
    const provider = genAiProviderName(model.provider);
    // The run's signal is the parent of the attempt's: cancelling the run aborts the request. Not aborting on
    // return saves an AbortError allocation per call (the request is over by then anyway).
    const timeoutPolicy = timeout(agent.policy.timeoutMs, {
      strategy: TimeoutStrategy.Aggressive,
      abortOnReturn: false,
    });
    const started = performance.now();
    return withSpan(
      spanNames.chat(requestedModel),
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION.chat,
          [ATTR_GEN_AI_PROVIDER_NAME]: provider,
          [ATTR_GEN_AI_REQUEST_MODEL]: requestedModel,
          [ATTR_GEN_AI_AGENT_NAME]: agent.name,
          [ATTR_BATON_AGENT_ATTEMPT]: attempt,
          ...(settings.temperature !== undefined
            ? { [ATTR_GEN_AI_REQUEST_TEMPERATURE]: settings.temperature }
            : {}),
          ...(maxOutputTokens !== undefined ? { [ATTR_GEN_AI_REQUEST_MAX_TOKENS]: maxOutputTokens } : {}),
          ...(this.deps.captureContent
            ? { [ATTR_GEN_AI_INPUT_MESSAGES]: JSON.stringify(call.messages) }
            : {}),
        },
      },
      async (span) => {
        // cockatiel also aborts the attempt's signal when the call returns, so only its onTimeout says "timed out".
        let timedOut = false;
        const onTimeout = timeoutPolicy.onTimeout(() => {
          timedOut = true;
        });
        let chat: ChatResult | undefined;
        try {
          chat = await timeoutPolicy.execute(
            ({ signal: attemptSignal }) =>
              model.complete(request, {
                signal: attemptSignal,
                ...(req.onDelta ? { onDelta: req.onDelta } : {}),
              }),
            signal,
          );
          const costUsd = this.deps.costOf?.(settings.deployment, chat.usage);
          budget.record(chat.usage, costUsd);
          spent.usage.inputTokens += chat.usage.inputTokens;
          spent.usage.outputTokens += chat.usage.outputTokens;
          if (costUsd !== undefined) spent.costUsd = (spent.costUsd ?? 0) + costUsd;
          span.setAttributes({
            [ATTR_GEN_AI_RESPONSE_MODEL]: chat.model,
            [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: chat.usage.inputTokens,
            [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: chat.usage.outputTokens,
            [ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: [chat.finishReason],
            ...(this.deps.captureContent
              ? { [ATTR_GEN_AI_OUTPUT_MESSAGES]: JSON.stringify([chat.message]) }
              : {}),
          });
          const structured = schema ? parseStructured(agent, schema, chat.message.content) : undefined;
          return { chat, structured };
        } catch (raw) {
          throw !signal.aborted && (timedOut || raw instanceof TaskCancelledError)
            ? new AgentTimeoutError(agent.name, agent.policy.timeoutMs)
            : raw;
        } finally {
          onTimeout.dispose();
          recordModelCall({
            provider,
            requestModel: requestedModel,
            durationMs: performance.now() - started,
            ...(chat
              ? {
                  responseModel: chat.model,
                  inputTokens: chat.usage.inputTokens,
                  outputTokens: chat.usage.outputTokens,
                }
              : { errorType: 'error' }),
          });
        }
      },
    );
  }
}

/** How an agent call ended, for the agent-call metric. */
function callOutcome(err: unknown, signal: AbortSignal): AgentCallOutcome {
  if (err instanceof CircuitOpenError) return 'circuit_open';
  if (err instanceof AgentTimeoutError) return 'timeout';
  if (err instanceof BudgetExceededError) return 'budget_exceeded';
  if (signal.aborted) return 'cancelled';
  return 'error';
}

/** `gen_ai.provider.name` values of the GenAI semantic conventions for baton's providers. */
function genAiProviderName(provider: ChatModel['provider']): string {
  switch (provider) {
    case 'azure-openai':
      return 'azure.ai.openai';
    case 'openai-compatible':
      return 'openai';
    case 'foundry':
      return 'azure.ai.foundry';
    default:
      return 'baton.simulated';
  }
}
