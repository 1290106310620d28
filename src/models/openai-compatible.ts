import { DefaultAzureCredential, getBearerTokenProvider, type TokenCredential } from '@azure/identity';
import { OpenAI } from 'openai';
import type { ChatModel } from '../core/model.js';
import { AZURE_OPENAI_SCOPE } from './azure-openai.js';
import { createOpenAIChatModel } from './openai-chat.js';

export interface OpenAICompatibleModelOptions {
  /** OPENAI_BASE_URL, e.g. `http://localhost:11434/v1` or `https://<resource>.openai.azure.com/openai/v1/`. */
  baseURL: string;
  /** OPENAI_API_KEY; local servers usually need none. */
  apiKey?: string | undefined;
  /** BATON_MODEL: the model used when the agent names no deployment. */
  model?: string | undefined;
  /**
   * For an Azure v1 endpoint without a key: the Entra ID credential whose token is sent as the bearer
   * (defaults to `DefaultAzureCredential`). Ignored for other hosts.
   */
  credential?: TokenCredential | undefined;
  fetch?: typeof fetch | undefined;
  maxTokensParameter?: 'max_tokens' | 'max_completion_tokens';
}

/** Whether a base URL is an Azure OpenAI / Foundry v1 endpoint (where Entra ID works without a key). */
export function isAzureHost(baseURL: string): boolean {
  const host = new URL(baseURL).hostname;
  return /\.(openai\.azure\.com|services\.ai\.azure\.com|cognitiveservices\.azure\.com)$/.test(host);
}

/**
 * Any server speaking OpenAI Chat Completions at `{baseURL}/chat/completions`: Ollama, vLLM, llama.cpp's server,
 * LM Studio, OpenAI itself, and Azure's v1 endpoint. Requests carry `Authorization: Bearer <key>` when a key is
 * configured; against an Azure v1 endpoint without a key the bearer is an Entra ID token.
 */
export function createOpenAICompatibleModel(options: OpenAICompatibleModelOptions): ChatModel {
  let apiKey: string | (() => Promise<string>);
  let defaultHeaders: Record<string, string | null> | undefined;
  if (options.apiKey) {
    apiKey = options.apiKey;
  } else if (isAzureHost(options.baseURL)) {
    apiKey = getBearerTokenProvider(options.credential ?? new DefaultAzureCredential(), AZURE_OPENAI_SCOPE);
  } else {
    // The client insists on a key; local servers want none, so the header is dropped again.
    apiKey = 'unused';
    defaultHeaders = { authorization: null };
  }
  const client = new OpenAI({
    baseURL: options.baseURL,
    apiKey,
    maxRetries: 0,
    // Explicit nulls: otherwise the client reads OPENAI_ORG_ID / OPENAI_PROJECT_ID from the environment.
    organization: null,
    project: null,
    ...(defaultHeaders ? { defaultHeaders } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return createOpenAIChatModel({
    provider: 'openai-compatible',
    client,
    defaultModel: options.model,
    maxTokensParameter: options.maxTokensParameter ?? 'max_tokens',
  });
}
