import { DefaultAzureCredential, getBearerTokenProvider, type TokenCredential } from '@azure/identity';
import { AzureOpenAI } from 'openai';
import type { ChatModel } from '../core/model.js';
import { createOpenAIChatModel } from './openai-chat.js';

/** Request paths the Azure client puts under `/deployments/{deployment}` (those of chat completions and kin). */
const DEPLOYMENT_PATHS = new Set(['/chat/completions', '/completions', '/embeddings']);

/**
 * The `openai` package's Azure client puts the body's `model` into the request path as it is. This one encodes it
 * (a deployment name is data, never a path), so a name like `../x?y` cannot reach another URL with the API key.
 */
class PathSafeAzureOpenAI extends AzureOpenAI {
  override buildRequest(...[options, props]: Parameters<AzureOpenAI['buildRequest']>) {
    const body = options.body as { model?: unknown } | undefined;
    const model = body && typeof body === 'object' ? body.model : undefined;
    if (options.method === 'post' && typeof model === 'string' && DEPLOYMENT_PATHS.has(options.path)) {
      const path = `/deployments/${encodeURIComponent(model)}${options.path}`;
      return super.buildRequest({ ...options, path }, props);
    }
    return super.buildRequest(options, props);
  }
}

/** Entra ID scope of Azure OpenAI (Cognitive Services). */
export const AZURE_OPENAI_SCOPE = 'https://cognitiveservices.azure.com/.default';

export interface AzureOpenAIModelOptions {
  /** `https://<resource>.openai.azure.com` (AZURE_OPENAI_ENDPOINT). */
  endpoint: string;
  /** OPENAI_API_VERSION, e.g. `2024-10-21`. */
  apiVersion: string;
  /** Used when the agent names no deployment (AZURE_OPENAI_DEPLOYMENT). */
  deployment?: string | undefined;
  /** AZURE_OPENAI_API_KEY. Without it, requests carry an Entra ID bearer token from `credential`. */
  apiKey?: string | undefined;
  /** Entra ID credential used when there is no key; defaults to `DefaultAzureCredential`. */
  credential?: TokenCredential | undefined;
  /** Custom fetch (tests, proxies). */
  fetch?: typeof fetch | undefined;
  /**
   * See `OpenAIChatModelOptions.maxTokensParameter`. Default: `max_completion_tokens` from api-version
   * 2024-09-01(-preview) on (reasoning models accept nothing else), `max_tokens` before.
   */
  maxTokensParameter?: 'max_tokens' | 'max_completion_tokens';
}

/**
 * Azure OpenAI over the `openai` package's `AzureOpenAI` client: requests go to
 * `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…` with the `api-key` header, or with
 * `Authorization: Bearer <Entra ID token>` when no key is configured. One client serves every deployment: the
 * deployment travels as the request's `model` and the client puts it in the path.
 */
export function createAzureOpenAIModel(options: AzureOpenAIModelOptions): ChatModel {
  const auth = options.apiKey
    ? { apiKey: options.apiKey }
    : {
        // `apiKey` and `azureADTokenProvider` are mutually exclusive. An empty key (rather than none) stops the
        // client from reading AZURE_OPENAI_API_KEY from the environment behind the configuration's back.
        apiKey: '',
        azureADTokenProvider: getBearerTokenProvider(
          options.credential ?? new DefaultAzureCredential(),
          AZURE_OPENAI_SCOPE,
        ),
      };
  const client = new PathSafeAzureOpenAI({
    // baseURL rather than endpoint: the client would otherwise also read OPENAI_BASE_URL from the environment.
    baseURL: `${options.endpoint.replace(/\/+$/, '')}/openai`,
    apiVersion: options.apiVersion,
    ...auth,
    maxRetries: 0,
    organization: null,
    project: null,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return createOpenAIChatModel({
    provider: 'azure-openai',
    client,
    defaultModel: options.deployment,
    maxTokensParameter:
      options.maxTokensParameter ??
      (options.apiVersion >= '2024-09-01' ? 'max_completion_tokens' : 'max_tokens'),
  });
}
