import { TaskCancelledError, TimeoutStrategy, timeout } from 'cockatiel';
import type { CallSpend } from '../core/agent.js';
import { AgentTimeoutError, OutputInvalidError } from '../core/errors.js';
import type { RuntimeHooks } from '../core/hooks.js';
import type { ChatModel, ChatRequest, ChatResult, ModelSettings } from '../core/model.js';
import type { OutputSchema } from '../core/output-schema.js';
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
  signal: AbortSignal;
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

/**
 * One attempt of an agent call: reserve it against the run budget, send the request under the agent's timeout
 * (which aborts the request, not just the wait), account its usage and cost into `spent`, and check the answer
 * against the output schema.
 */
export async function attemptModelCall(
  plan: AttemptPlan,
  attempt: number,
  spent: CallSpend,
): Promise<AttemptResult> {
  const { agent, settings, budget, signal } = plan;
  const allowance = budget.reserveCall(plan.promptTokens);
  const maxOutputTokens =
    allowance === undefined
      ? settings.maxOutputTokens
      : Math.min(settings.maxOutputTokens ?? allowance, allowance);
  const request: ChatRequest = {
    ...plan.request,
    model: { ...settings, ...(maxOutputTokens !== undefined ? { maxOutputTokens } : {}) },
  };
  // The run's signal is the parent of the attempt's: cancelling the run aborts the request. Not aborting on
  // return saves an AbortError allocation per call (the request is over by then anyway).
  const timeoutPolicy = timeout(agent.policy.timeoutMs, {
    strategy: TimeoutStrategy.Aggressive,
    abortOnReturn: false,
  });
  const info = {
    agent: agent.name,
    provider: plan.model.provider,
    requestedModel: settings.deployment ?? settings.foundryAgent ?? plan.model.provider,
    attempt,
    temperature: settings.temperature,
    maxOutputTokens,
    messages: request.messages,
  };
  const result = await plan.hooks.modelCall(info, async () => {
    // cockatiel also aborts the attempt's signal when the call returns, so only its onTimeout says "timed out".
    let timedOut = false;
    const onTimeout = timeoutPolicy.onTimeout(() => {
      timedOut = true;
    });
    try {
      const chat = await timeoutPolicy.execute(
        ({ signal: attemptSignal }) =>
          plan.model.complete(request, {
            signal: attemptSignal,
            ...(plan.onDelta ? { onDelta: plan.onDelta } : {}),
          }),
        signal,
      );
      const costUsd = plan.costOf?.(settings.deployment, chat.usage);
      budget.record(chat.usage, costUsd);
      spent.usage.inputTokens += chat.usage.inputTokens;
      spent.usage.outputTokens += chat.usage.outputTokens;
      if (costUsd !== undefined) spent.costUsd = (spent.costUsd ?? 0) + costUsd;
      return chat;
    } catch (raw) {
      throw !signal.aborted && (timedOut || raw instanceof TaskCancelledError)
        ? new AgentTimeoutError(agent.name, agent.policy.timeoutMs)
        : raw;
    } finally {
      onTimeout.dispose();
    }
  });
  const structured = plan.schema
    ? parseStructured(agent.name, plan.schema, result.message.content)
    : undefined;
  return { chat: result, structured };
}
