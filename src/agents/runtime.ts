import { type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
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
  CircuitOpenError,
  ModelError,
  OutputInvalidError,
  RateLimitedError,
} from '../errors.js';
import { estimateTokens } from '../models/simulated.js';
import type { ChatModel, ChatRequest, ChatResult, ModelRouter, ModelSettings } from '../models/types.js';
import type { AgentCall, AgentResult, BreakerState } from '../orchestrators/types.js';
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

export interface InvokeRequest {
  agent: AgentDefinition;
  call: AgentCall;
  seed: number;
  /** The run's signal: cancel, deadline or shutdown. */
  signal: AbortSignal;
  budget: RunBudget;
  modelOverride?: ModelSettings;
  onDelta?: (text: string) => void;
  /** Run attributes every span of the call carries (`baton.run.id`, pattern, team). */
  attributes?: Record<string, string>;
}

const tracer = () => trace.getTracer('baton');

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

    return tracer().startActiveSpan(
      `invoke_agent ${agent.name}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          'gen_ai.operation.name': 'invoke_agent',
          'gen_ai.agent.name': agent.name,
          'gen_ai.agent.id': agent.name,
          'baton.step.key': call.key,
          ...req.attributes,
        },
      },
      async (span) => {
        try {
          const result = await breaker.execute(() =>
            retryPolicy.execute(async () => {
              attempts += 1;
              return this.attempt(req, settings, model, schema, attempts, promptTokens);
            }, signal),
          );
          const durationMs = performance.now() - started;
          span.setAttribute('baton.agent.attempts', attempts);
          span.end();
          return {
            key: call.key,
            agent: agent.name,
            text: result.chat.message.content,
            ...(schema ? { structured: result.structured } : {}),
            toolCalls: result.chat.toolCalls,
            usage: result.chat.usage,
            attempts,
            durationMs,
            model: result.chat.model,
            ...(result.costUsd !== undefined ? { costUsd: result.costUsd } : {}),
          };
        } catch (raw) {
          const err =
            signal.aborted && !(raw instanceof ModelError)
              ? signal.reason
              : raw instanceof BrokenCircuitError
                ? new CircuitOpenError(agent.name)
                : raw;
          endWithError(span, err);
          if (err instanceof Error) Object.assign(err, { attempts });
          throw err;
        }
      },
    );
  }

  private async attempt(
    req: InvokeRequest,
    settings: ModelSettings,
    model: ChatModel,
    schema: z.ZodType | undefined,
    attempt: number,
    promptTokens: number,
  ): Promise<{ chat: ChatResult; structured: unknown; costUsd: number | undefined }> {
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
    // The run's signal is the parent of the attempt's: cancelling the run aborts the request. Not aborting on
    // return saves an AbortError allocation per call (the request is over by then anyway).
    const timeoutPolicy = timeout(agent.policy.timeoutMs, {
      strategy: TimeoutStrategy.Aggressive,
      abortOnReturn: false,
    });
    return tracer().startActiveSpan(
      `chat ${requestedModel}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': model.provider,
          'gen_ai.request.model': requestedModel,
          'gen_ai.agent.name': agent.name,
          'baton.agent.attempt': attempt,
          ...req.attributes,
        },
      },
      async (span) => {
        // cockatiel also aborts the attempt's signal when the call returns, so only its onTimeout says "timed out".
        let timedOut = false;
        const onTimeout = timeoutPolicy.onTimeout(() => {
          timedOut = true;
        });
        try {
          const chat = await timeoutPolicy.execute(({ signal: timeoutSignal }) => {
            const combined = AbortSignal.any([signal, timeoutSignal]);
            return model.complete(request, {
              signal: combined,
              ...(req.onDelta ? { onDelta: req.onDelta } : {}),
            });
          });
          const costUsd = this.deps.costOf?.(settings.deployment, chat.usage);
          budget.record(chat.usage, costUsd);
          span.setAttributes({
            'gen_ai.response.model': chat.model,
            'gen_ai.usage.input_tokens': chat.usage.inputTokens,
            'gen_ai.usage.output_tokens': chat.usage.outputTokens,
            'gen_ai.response.finish_reasons': [chat.finishReason],
          });
          const structured = schema ? parseStructured(agent, schema, chat.message.content) : undefined;
          span.end();
          return { chat, structured, costUsd };
        } catch (raw) {
          const err =
            !signal.aborted && (timedOut || raw instanceof TaskCancelledError)
              ? new AgentTimeoutError(agent.name, agent.policy.timeoutMs)
              : raw;
          endWithError(span, err);
          throw err;
        } finally {
          onTimeout.dispose();
        }
      },
    );
  }
}

function endWithError(span: Span, err: unknown): void {
  const type = err instanceof Error ? ((err as { code?: string }).code ?? err.name) : 'Error';
  span.setAttribute('error.type', type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  span.end();
}
