import type { RunAbortSignal } from '../core/abort.js';
import type { CallSpend } from '../core/agent.js';
import { AgentTimeoutError, OutputInvalidError } from '../core/errors.js';
import type { RuntimeHooks } from '../core/hooks.js';
import type {
  ChatCallOptions,
  ChatModel,
  ChatRequest,
  ChatResult,
  ModelSettings,
  TokenUsage,
} from '../core/model.js';
import type { OutputSchema } from '../core/output-schema.js';
import { requestsMade, spentBefore } from '../models/structured.js';
import { type AttemptSignal, withTimeout } from '../policies/attempt-timeout.js';
import type { RunBudget } from '../policies/budget.js';
import type { AgentDefinition } from './schema.js';

/** Everything one model request of an agent call needs. */
export interface AttemptPlan {
  agent: AgentDefinition;
  model: ChatModel;
  settings: ModelSettings;
  /** The request without the output-token cap, which each attempt sets from what the budget allows. */
  request: Omit<ChatRequest, 'model'>;
  schema: OutputSchema | undefined;
  promptTokens: number;
  budget: RunBudget;
  signal: RunAbortSignal;
  onDelta: ((text: string) => void) | undefined;
  costOf: ((deployment: string | undefined, usage: ChatResult['usage']) => number | undefined) | undefined;
  hooks: RuntimeHooks;
}

export interface AttemptResult {
  chat: ChatResult;
  structured: unknown;
}

/** The JSON answer when it satisfies `schema`; otherwise `OutputInvalidError` quoting what is wrong. */
function parseStructured(agent: string, schema: OutputSchema, text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new OutputInvalidError(agent, 'the answer is not JSON', text);
  }
  const checked = schema.check(value);
  if (!checked.ok) throw new OutputInvalidError(agent, checked.problem, text);
  return checked.value;
}

/** Prompt tokens of a corrective re-ask beyond the first request's: the schema it quotes and its sentence. */
function reaskPromptTokens(request: AttemptPlan['request']): number | undefined {
  const format = request.responseFormat;
  return format ? Math.ceil(JSON.stringify(format.schema).length / 4) + 60 : undefined;
}

/**
 * One attempt of an agent call: reserve it against the run budget (waiting while concurrent calls hold what it
 * needs), send the request under the agent's timeout (which aborts the request, not just the wait), settle the
 * reservation with what the attempt really spent (every request, the corrective re-ask included), account it
 * into `spent`, and check the answer against the output schema.
 */
export async function attemptModelCall(
  plan: AttemptPlan,
  attempt: number,
  spent: CallSpend,
): Promise<AttemptResult> {
  const { agent, settings, budget, signal } = plan;
  const reservation = await budget.reserve(
    {
      promptTokens: plan.promptTokens,
      wantedOutputTokens: settings.maxOutputTokens,
      reaskPromptTokens: reaskPromptTokens(plan.request),
    },
    signal,
  );
  const { maxOutputTokens } = reservation;
  const request: ChatRequest = {
    ...plan.request,
    model: { ...settings, ...(maxOutputTokens !== undefined ? { maxOutputTokens } : {}) },
  };
  const info = {
    agent: agent.name,
    provider: plan.model.provider,
    requestedModel: settings.deployment ?? settings.foundryAgent ?? plan.model.provider,
    attempt,
    temperature: settings.temperature,
    maxOutputTokens,
    messages: request.messages,
  };
  let settlement: { usage: TokenUsage; requests: number; costUsd?: number | undefined } | undefined;
  try {
    const result = await plan.hooks.modelCall(info, () =>
      sendWithTimeout(plan, request, reservation.maxRequests),
    );
    const costUsd = plan.costOf?.(settings.deployment, result.usage);
    settlement = { usage: result.usage, requests: requestsMade(result), costUsd };
    // A turn that calls tools has no answer yet to check.
    const structured =
      plan.schema && result.toolCalls.length === 0
        ? parseStructured(agent.name, plan.schema, result.message.content)
        : undefined;
    return { chat: result, structured };
  } catch (err) {
    settlement ??= spentBefore(err);
    throw err;
  } finally {
    const settled = settlement ?? { usage: { inputTokens: 0, outputTokens: 0 }, requests: 1 };
    reservation.settle(settled);
    spent.usage.inputTokens += settled.usage.inputTokens;
    spent.usage.outputTokens += settled.usage.outputTokens;
    spent.requests += settled.requests;
    if (settled.costUsd !== undefined) spent.costUsd = (spent.costUsd ?? 0) + settled.costUsd;
  }
}

/**
 * The model request under the agent's timeout, which aborts the request itself (not just the wait); cancelling the
 * run aborts it too. The request's signal is made only if the model reads it (`withTimeout`).
 */
function sendWithTimeout(plan: AttemptPlan, request: ChatRequest, maxRequests: number): Promise<ChatResult> {
  const { agent, onDelta } = plan;
  const { timeoutMs } = agent.policy;
  return withTimeout(
    timeoutMs,
    plan.signal,
    () => new AgentTimeoutError(agent.name, timeoutMs),
    (attempt) => plan.model.complete(request, new ModelCallOptions(attempt, maxRequests, onDelta)),
  );
}

/**
 * A model request's options: the signal is the attempt's, made only if the provider reads it. A class, as
 * `withTimeout`'s attempt is, because an object literal with a getter closure keeps the call alive in V8.
 */
class ModelCallOptions implements ChatCallOptions {
  constructor(
    private readonly attempt: AttemptSignal,
    readonly maxRequests: number,
    readonly onDelta: ((text: string) => void) | undefined,
  ) {}

  get signal(): AbortSignal {
    return this.attempt.signal;
  }
}
