import { AIProjectClient, type AIProjectClientOptionalParams } from '@azure/ai-projects';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import type { OpenAI } from 'openai';
import type { Response, ResponseInputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import {
  ContentFilteredError,
  PermanentModelError,
  RateLimitedError,
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
import { mapOpenAIError } from './openai-chat.js';
import { abortReason, type HeaderReader, mapHttpFailure, raceAbort } from './provider-errors.js';
import { withCorrectiveRetry } from './structured.js';

/**
 * Agents hosted in Azure AI Foundry, through `@azure/ai-projects` 2.x. A Foundry agent is a versioned definition
 * (model, instructions, tools) kept in the project; it runs through the OpenAI Responses protocol:
 *
 * 1. until it succeeds once per agent and process: `project.agents.get(name)` (`GET {endpoint}/agents/{name}?api-version=v1`) — an
 *    unknown agent fails fast and clearly;
 * 2. each call: `responses.create({ input }, { body: { agent: { name, type: 'agent_reference' } } })` on the
 *    project's OpenAI client (`POST {endpoint}/openai/v1/responses`), streamed when `onDelta` is given.
 *
 * baton sends the whole message history as `input` on every call (it owns the history and journals it), so no
 * server-side conversation is created. Model, instructions, tools and sampling settings belong to the agent
 * definition in Foundry: the service refuses them next to an agent reference, so they are not sent. The agent is
 * `model.foundryAgent`, or the baton agent's own name. Entra ID only (scope `https://ai.azure.com/.default`).
 */

type HttpClient = NonNullable<AIProjectClientOptionalParams['httpClient']>;

export interface FoundryModelOptions {
  /** AZURE_AI_PROJECT_ENDPOINT: `https://<resource>.services.ai.azure.com/api/projects/<project>`. */
  endpoint: string;
  /** Entra ID credential; defaults to `DefaultAzureCredential`. */
  credential?: TokenCredential | undefined;
  /** HTTP client of the project client's Azure pipeline (tests point it at a local server). */
  httpClient?: HttpClient | undefined;
  /** Base URL of the OpenAI Responses client; defaults to `{endpoint}/openai/v1`. */
  openAIBaseURL?: string | undefined;
}

const PROVIDER = 'foundry';

export function toResponseInput(messages: ChatMessage[]): ResponseInputItem[] {
  const items: ResponseInputItem[] = [];
  for (const m of messages) {
    switch (m.role) {
      case 'system':
      case 'user':
        items.push({ type: 'message', role: m.role, content: m.content });
        break;
      case 'assistant':
        if (m.content !== '' || !m.toolCalls?.length) {
          items.push({ type: 'message', role: 'assistant', content: m.content });
        }
        for (const call of m.toolCalls ?? []) {
          items.push({ type: 'function_call', call_id: call.id, name: call.name, arguments: call.arguments });
        }
        break;
      case 'tool':
        items.push({ type: 'function_call_output', call_id: m.toolCallId, output: m.content });
        break;
    }
  }
  return items;
}

/** A `RestError` of Azure core, by shape (the class lives in a transitive package). */
interface RestErrorLike {
  name: string;
  message: string;
  statusCode?: number;
  code?: string;
  details?: unknown;
  response?: { headers?: HeaderReader; bodyAsText?: string | null };
}

function isRestError(err: unknown): err is RestErrorLike {
  return err instanceof Error && err.name === 'RestError';
}

function mapProjectError(err: unknown, signal: AbortSignal, agent: string): unknown {
  if (signal.aborted) return abortReason(signal);
  if (!isRestError(err)) return mapOpenAIError(err, signal, PROVIDER, agent);
  let body: unknown = err.details;
  if (body === undefined && err.response?.bodyAsText) {
    try {
      body = JSON.parse(err.response.bodyAsText);
    } catch {
      body = undefined;
    }
  }
  if (err.statusCode === 404) {
    return new PermanentModelError(`Foundry agent "${agent}" does not exist in the project.`, {
      provider: PROVIDER,
      target: agent,
      status: 404,
    });
  }
  return mapHttpFailure({
    status: err.statusCode,
    headers: err.response?.headers,
    body,
    message: err.message,
    provider: PROVIDER,
    target: agent,
    cause: err,
  });
}

/** A response that did not complete, as a typed error; `undefined` when it may be used. */
function responseFailure(response: Response, agent: string): Error | undefined {
  const details = { provider: PROVIDER, target: agent, responseId: response.id };
  if (response.status === 'failed') {
    const code = response.error?.code;
    const message = `Foundry agent "${agent}" failed: ${response.error?.message ?? 'no reason given'}`;
    if (code === 'rate_limit_exceeded') return new RateLimitedError(message, undefined, details);
    if (code === 'server_error' || code === 'vector_store_timeout' || code === undefined) {
      return new TransientModelError(message, { ...details, providerCode: code });
    }
    return new PermanentModelError(message, { ...details, providerCode: code });
  }
  if (response.status === 'incomplete' && response.incomplete_details?.reason === 'content_filter') {
    return new ContentFilteredError(
      `Foundry agent "${agent}" withheld its answer (content filter).`,
      details,
    );
  }
  if (response.status === 'cancelled') {
    return new TransientModelError(`Foundry agent "${agent}": the response was cancelled.`, details);
  }
  return undefined;
}

export function fromResponse(response: Response, agent: string): ChatResult {
  const failure = responseFailure(response, agent);
  if (failure) throw failure;
  let content = '';
  const toolCalls: ToolCall[] = [];
  for (const item of response.output ?? []) {
    if (item.type === 'message') {
      for (const part of item.content) if (part.type === 'output_text') content += part.text;
    } else if (item.type === 'function_call') {
      toolCalls.push({ id: item.call_id, name: item.name, arguments: item.arguments });
    }
  }
  const finishReason: ChatResult['finishReason'] =
    toolCalls.length > 0
      ? 'tool_calls'
      : response.status === 'incomplete' && response.incomplete_details?.reason === 'max_output_tokens'
        ? 'length'
        : response.status === 'completed' || response.status === undefined
          ? 'stop'
          : 'other';
  return {
    message: { role: 'assistant', content },
    toolCalls,
    usage: {
      inputTokens: response.usage?.input_tokens ?? 0,
      outputTokens: response.usage?.output_tokens ?? 0,
    },
    model: response.model || agent,
    finishReason,
    raw: response,
  };
}

export function createFoundryModel(options: FoundryModelOptions): ChatModel {
  const project = new AIProjectClient(options.endpoint, options.credential ?? new DefaultAzureCredential(), {
    ...(options.httpClient ? { httpClient: options.httpClient } : {}),
    // The agent runtime owns retries.
    retryOptions: { maxRetries: 0 },
  });
  const openai: OpenAI = project.getOpenAIClient({
    baseURL: options.openAIBaseURL ?? `${options.endpoint.replace(/\/+$/, '')}/openai/v1`,
    maxRetries: 0,
  });
  /** Agents found in the project. Only successes are remembered; each caller's lookup uses its own signal. */
  const known = new Set<string>();

  async function ensureAgent(name: string, signal: AbortSignal): Promise<void> {
    if (known.has(name)) return;
    await project.agents.get(name, { abortSignal: signal });
    known.add(name);
  }

  /** One request; its failure is already a typed error (the corrective re-ask accounts for it). */
  async function once(agent: string, messages: ChatMessage[], call: ChatCallOptions): Promise<ChatResult> {
    try {
      return await respond(agent, messages, call);
    } catch (err) {
      throw mapProjectError(err, call.signal, agent);
    }
  }

  async function respond(agent: string, messages: ChatMessage[], call: ChatCallOptions): Promise<ChatResult> {
    const requestOptions = { signal: call.signal, body: { agent: { name: agent, type: 'agent_reference' } } };
    const input = toResponseInput(messages);
    if (!call.onDelta) {
      const response = await openai.responses.create({ input }, requestOptions);
      return fromResponse(response, agent);
    }
    const events = await openai.responses.create({ input, stream: true }, requestOptions);
    let final: Response | undefined;
    for await (const event of events as AsyncIterable<ResponseStreamEvent>) {
      switch (event.type) {
        case 'response.output_text.delta':
          call.onDelta(event.delta);
          break;
        case 'response.completed':
        case 'response.incomplete':
        case 'response.failed':
          final = event.response;
          break;
        case 'error':
          throw mapHttpFailure({
            status: event.code === 'rate_limit_exceeded' ? 429 : 500,
            body: { code: event.code },
            message: event.message,
            provider: PROVIDER,
            target: agent,
          });
      }
    }
    if (!final) {
      throw new TransientModelError(`Foundry agent "${agent}" ended its stream without a final response.`, {
        provider: PROVIDER,
        target: agent,
      });
    }
    return fromResponse(final, agent);
  }

  return {
    provider: PROVIDER,
    async complete(request: ChatRequest, call: ChatCallOptions): Promise<ChatResult> {
      const { signal } = call;
      signal.throwIfAborted();
      const agent = request.model.foundryAgent ?? request.agent;
      const run = (async () => {
        await ensureAgent(agent, signal);
        return withCorrectiveRetry(
          request.messages,
          request.responseFormat,
          (messages) => once(agent, messages, call),
          call.maxRequests,
        );
      })();
      try {
        return await raceAbort(run, signal);
      } catch (err) {
        throw mapProjectError(err, signal, agent);
      }
    },
  };
}
