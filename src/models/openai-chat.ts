import '@azure/openai/types';
import type {
  ContentFilterResultsForChoiceOutput,
  ContentFilterResultsForPromptOutput,
} from '@azure/openai/types';
import { APIConnectionError, APIError, APIUserAbortError, type OpenAI } from 'openai';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsBase,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
} from 'openai/resources/chat/completions';
import {
  ContentFilteredError,
  ModelConfigurationError,
  ModelError,
  TransientModelError,
} from '../core/errors.js';
import type {
  ChatCallOptions,
  ChatMessage,
  ChatModel,
  ChatRequest,
  ChatResult,
  ToolCall,
} from '../core/model.js';
import { abortReason, filteredCategories, mapHttpFailure, raceAbort } from './provider-errors.js';
import { strictFlag, withCorrectiveRetry } from './structured.js';

/**
 * The Chat Completions code path shared by `azure-openai` and `openai-compatible`: request mapping (messages,
 * tools, structured output), streaming with tool-call accumulation, finish reasons, usage, the corrective re-ask
 * for invalid structured answers, and typed errors. The client is created by the provider file (Azure or plain
 * OpenAI) with `maxRetries: 0`: the agent runtime owns retries.
 */

export interface OpenAIChatModelOptions {
  provider: 'azure-openai' | 'openai-compatible';
  /** An `openai` client (`AzureOpenAI` or `OpenAI`) built with `maxRetries: 0`. */
  client: OpenAI;
  /** The model sent when the agent names no deployment (AZURE_OPENAI_DEPLOYMENT / BATON_MODEL). */
  defaultModel: string | undefined;
  /**
   * Which parameter carries `maxOutputTokens`. `max_tokens` is understood by every OpenAI-compatible server;
   * reasoning models on Azure and OpenAI only accept `max_completion_tokens`.
   */
  maxTokensParameter?: 'max_tokens' | 'max_completion_tokens';
}

type FinishReason = ChatResult['finishReason'];

/** The model (Azure: deployment) a request goes to; undefined when neither the agent nor the config names one. */
export function modelOf(request: ChatRequest, defaultModel: string | undefined): string | undefined {
  return request.model.deployment ?? defaultModel;
}

export function toOpenAIMessages(messages: ChatMessage[]): ChatCompletionMessageParam[] {
  return messages.map((m): ChatCompletionMessageParam => {
    if (m.role === 'tool') return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
    const name = m.name ? { name: m.name } : {};
    if (m.role !== 'assistant') return { role: m.role, content: m.content, ...name };
    const calls = m.toolCalls ?? [];
    if (calls.length === 0) return { role: 'assistant', content: m.content, ...name };
    return {
      role: 'assistant',
      // With tool calls the content may be empty; the API wants null rather than "" then.
      content: m.content === '' ? null : m.content,
      ...name,
      tool_calls: calls.map((c) => ({
        id: c.id,
        type: 'function' as const,
        function: { name: c.name, arguments: c.arguments },
      })),
    };
  });
}

/** The request body without `stream` (and with `messages` as given). */
export function toRequestBody(
  request: ChatRequest,
  messages: ChatMessage[],
  model: string,
  maxTokensParameter: 'max_tokens' | 'max_completion_tokens' = 'max_tokens',
): ChatCompletionCreateParamsBase {
  const settings = request.model;
  const body: ChatCompletionCreateParamsBase = { model, messages: toOpenAIMessages(messages) };
  if (settings.temperature !== undefined) body.temperature = settings.temperature;
  if (settings.seed !== undefined) body.seed = settings.seed;
  if (settings.maxOutputTokens !== undefined) body[maxTokensParameter] = settings.maxOutputTokens;
  const tools = request.tools ?? [];
  if (tools.length > 0) {
    body.tools = tools.map((t) => ({
      type: 'function' as const,
      function: { name: t.name, description: t.description, parameters: t.parameters },
    }));
    if (request.toolChoice) body.tool_choice = request.toolChoice;
    if (request.parallelToolCalls !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  }
  if (request.responseFormat) {
    const format = request.responseFormat;
    body.response_format = {
      type: 'json_schema',
      json_schema: { name: format.name, schema: format.schema, strict: strictFlag(format) },
    };
  }
  return body;
}

function mapFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'stop':
    case 'length':
    case 'tool_calls':
    case 'content_filter':
      return reason;
    case 'function_call':
      return 'tool_calls';
    default:
      return 'other';
  }
}

function toToolCalls(calls: ChatCompletionMessageToolCall[] | undefined): ToolCall[] {
  const out: ToolCall[] = [];
  for (const call of calls ?? []) {
    if (call.type === 'function') {
      out.push({ id: call.id, name: call.function.name, arguments: call.function.arguments });
    }
  }
  return out;
}

function completionFiltered(
  provider: string,
  model: string,
  choiceResults: ContentFilterResultsForChoiceOutput | undefined,
): ContentFilteredError {
  const categories = filteredCategories(choiceResults);
  return new ContentFilteredError(
    `${provider} (${model}) withheld the answer (content filter${categories.length > 0 ? `: ${categories.join(', ')}` : ''}).`,
    { provider, target: model, categories },
  );
}

function promptRefused(provider: string, model: string, categories: string[]): ContentFilteredError {
  return new ContentFilteredError(
    `${provider} (${model}) refused the prompt (content filter: ${categories.join(', ')}).`,
    { provider, target: model, categories },
  );
}

function promptFiltered(results: ContentFilterResultsForPromptOutput[] | undefined): string[] {
  return (results ?? []).flatMap((r) => filteredCategories(r.content_filter_results));
}

/** Turns anything the `openai` client threw into a typed error (or the abort reason when the call was cancelled). */
export function mapOpenAIError(err: unknown, signal: AbortSignal, provider: string, target: string): unknown {
  if (signal.aborted) return abortReason(signal);
  if (err instanceof ModelError) return err;
  if (err instanceof APIUserAbortError) return new DOMException(err.message, 'AbortError');
  if (err instanceof APIConnectionError) {
    return mapHttpFailure({
      status: undefined,
      message: err.message,
      provider,
      target,
      cause: err.cause ?? err,
    });
  }
  if (err instanceof APIError) {
    return mapHttpFailure({
      status: err.status,
      headers: err.headers,
      body: err.error,
      message: err.message,
      provider,
      target,
      cause: err,
    });
  }
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) return err;
  if (isConnectionFailure(err)) {
    // A failure inside a streamed body (socket closed mid-answer) is not wrapped by the client.
    return new TransientModelError(`${provider} (${target}) connection failed: ${(err as Error).message}`, {
      provider,
      target,
    });
  }
  return err;
}

function isSocketError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|UND_ERR_)/.test(code);
}

/** undici reports a dropped connection as `TypeError: terminated` / `fetch failed`, with the socket error as cause. */
function isConnectionFailure(err: unknown): boolean {
  if (isSocketError(err)) return true;
  if (!(err instanceof TypeError)) return false;
  return /^(terminated|fetch failed)$/.test(err.message) || isSocketError(err.cause);
}

export function createOpenAIChatModel(options: OpenAIChatModelOptions): ChatModel {
  const { client, provider } = options;

  /** One HTTP request; its failure is already a typed error (the corrective re-ask accounts for it). */
  async function once(
    request: ChatRequest,
    messages: ChatMessage[],
    model: string,
    call: ChatCallOptions,
  ): Promise<ChatResult> {
    const body = toRequestBody(request, messages, model, options.maxTokensParameter);
    try {
      if (call.onDelta) return await stream(body, model, call.signal, call.onDelta);
      // The body carries `stream` only when streaming.
      const completion = await client.chat.completions.create(
        body as ChatCompletionCreateParamsNonStreaming,
        {
          signal: call.signal,
        },
      );
      return fromCompletion(completion, model);
    } catch (err) {
      throw mapOpenAIError(err, call.signal, provider, model);
    }
  }

  function fromCompletion(completion: ChatCompletion, model: string): ChatResult {
    const choice = completion.choices[0];
    if (!choice) {
      const categories = promptFiltered(completion.prompt_filter_results);
      if (categories.length > 0) {
        throw promptRefused(provider, model, categories);
      }
      throw new TransientModelError(`${provider} (${model}) answered without a choice.`, {
        provider,
        target: model,
      });
    }
    const finishReason = mapFinishReason(choice.finish_reason);
    if (finishReason === 'content_filter')
      throw completionFiltered(provider, model, choice.content_filter_results);
    return {
      message: { role: 'assistant', content: choice.message.content ?? '' },
      toolCalls: toToolCalls(choice.message.tool_calls),
      usage: {
        inputTokens: completion.usage?.prompt_tokens ?? 0,
        outputTokens: completion.usage?.completion_tokens ?? 0,
      },
      model: completion.model || model,
      finishReason,
      raw: completion,
    };
  }

  async function stream(
    body: ChatCompletionCreateParamsBase,
    model: string,
    signal: AbortSignal,
    onDelta: (text: string) => void,
  ): Promise<ChatResult> {
    const chunks = await client.chat.completions.create(
      { ...body, stream: true, stream_options: { include_usage: true } },
      { signal },
    );
    let content = '';
    let finish: string | null | undefined;
    let reportedModel = '';
    let usage = { inputTokens: 0, outputTokens: 0 };
    let choiceFilter: ContentFilterResultsForChoiceOutput | undefined;
    const promptFilter: ContentFilterResultsForPromptOutput[] = [];
    const calls = new Map<number, { id: string; name: string; arguments: string }>();
    let last: ChatCompletionChunk | undefined;
    for await (const chunk of chunks) {
      last = chunk;
      if (chunk.model) reportedModel = chunk.model;
      if (chunk.usage) {
        usage = {
          inputTokens: chunk.usage.prompt_tokens ?? 0,
          outputTokens: chunk.usage.completion_tokens ?? 0,
        };
      }
      if (chunk.prompt_filter_results) promptFilter.push(...chunk.prompt_filter_results);
      const choice = chunk.choices[0];
      if (!choice) continue;
      if (choice.content_filter_results) choiceFilter = choice.content_filter_results;
      if (choice.finish_reason) finish = choice.finish_reason;
      const delta = choice.delta;
      if (delta?.content) {
        content += delta.content;
        onDelta(delta.content);
      }
      for (const part of delta?.tool_calls ?? []) {
        const slot = calls.get(part.index) ?? { id: '', name: '', arguments: '' };
        if (part.id) slot.id = part.id;
        if (part.function?.name) slot.name += part.function.name;
        if (part.function?.arguments) slot.arguments += part.function.arguments;
        calls.set(part.index, slot);
      }
    }
    const finishReason = mapFinishReason(finish);
    if (finishReason === 'content_filter') throw completionFiltered(provider, model, choiceFilter);
    if (finish === undefined) {
      const categories = promptFilter.flatMap((r) => filteredCategories(r.content_filter_results));
      if (categories.length > 0) {
        throw promptRefused(provider, model, categories);
      }
      throw new TransientModelError(`${provider} (${model}) ended the stream without a finish reason.`, {
        provider,
        target: model,
      });
    }
    return {
      message: { role: 'assistant', content },
      toolCalls: [...calls.entries()].sort(([a], [b]) => a - b).map(([, c]) => c),
      usage,
      model: reportedModel || model,
      finishReason,
      raw: last,
    };
  }

  return {
    provider,
    async complete(request, call) {
      const { signal } = call;
      signal.throwIfAborted();
      const model = modelOf(request, options.defaultModel);
      if (!model) {
        throw new ModelConfigurationError(
          'MODEL_NOT_CONFIGURED',
          `Agent "${request.agent}" names no model deployment and ${provider} has no default one configured.`,
          { provider, agent: request.agent },
        );
      }
      const run = withCorrectiveRetry(
        request.messages,
        request.responseFormat,
        (messages) => once(request, messages, model, call),
        call.maxRequests,
      );
      try {
        return await raceAbort(run, signal);
      } catch (err) {
        throw mapOpenAIError(err, signal, provider, model);
      }
    },
  };
}
