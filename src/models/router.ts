import type { AIProjectClientOptionalParams } from '@azure/ai-projects';
import type { TokenCredential } from '@azure/identity';
import { type Config, ConfigError } from '../config/index.js';
import { ModelConfigurationError } from '../core/errors.js';
import type { ChatModel, ChatRequest, ModelProvider, ModelRouter, ModelSettings } from '../core/model.js';
import { createSimulatedModel } from './simulated.js';

export interface ModelRouterDeps {
  /** The simulated model to use (tests pin skills and faults); default `createSimulatedModel(config…simulated)`. */
  simulated?: ChatModel;
  /** Entra ID credential for azure-openai without a key, Azure v1 endpoints without a key, and foundry. */
  credential?: TokenCredential;
  /** fetch used by the azure-openai and openai-compatible clients. */
  fetch?: typeof fetch;
  /** Foundry transport overrides (tests: an https endpoint served by a local server). */
  foundry?: {
    httpClient?: AIProjectClientOptionalParams['httpClient'];
    openAIBaseURL?: string;
  };
  /** Replaces whole providers (before policies such as the quota are applied). */
  providers?: Partial<Record<ModelProvider, ChatModel>>;
}

export interface ProviderRouter extends ModelRouter {
  /** The provider serving `settings`, created on first use and then reused. */
  modelFor(settings: ModelSettings): ChatModel;
  /** The provider a request with these settings goes to. */
  providerFor(settings: ModelSettings): ModelProvider;
  /**
   * The deployment a request is accounted to (quota and price key): the agent's deployment, else the provider's
   * default (AZURE_OPENAI_DEPLOYMENT, BATON_MODEL); for foundry the Foundry agent name; `simulated` for the
   * simulated model.
   */
  deploymentFor(request: Pick<ChatRequest, 'agent' | 'model'>): string;
}

/** The variables each provider needs, in the order they are reported. */
const REQUIRED: Record<ModelProvider, (keyof Config['env'])[]> = {
  simulated: [],
  'azure-openai': ['AZURE_OPENAI_ENDPOINT', 'AZURE_OPENAI_DEPLOYMENT'],
  'openai-compatible': ['OPENAI_BASE_URL', 'BATON_MODEL'],
  foundry: ['AZURE_AI_PROJECT_ENDPOINT'],
};

function listOf(names: string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** The missing variables of `provider` as one sentence, or undefined when it is configured. */
export function missingProviderConfig(config: Config, provider: ModelProvider): string | undefined {
  const missing = REQUIRED[provider].filter((name) => config.env[name] === undefined);
  if (missing.length === 0) return undefined;
  const who =
    provider === config.models.provider
      ? `BATON_MODEL_PROVIDER=${provider}`
      : `The model provider ${provider} (chosen by an agent or a run)`;
  return `${who} needs ${listOf(missing)}.`;
}

/**
 * Start-up check: throws `ConfigError` with one sentence naming the missing variables when `provider` (default:
 * BATON_MODEL_PROVIDER) lacks its settings, e.g. "BATON_MODEL_PROVIDER=azure-openai needs AZURE_OPENAI_ENDPOINT
 * and AZURE_OPENAI_DEPLOYMENT."
 */
export function assertProviderConfigured(
  config: Config,
  provider: ModelProvider = config.models.provider,
): void {
  const problem = missingProviderConfig(config, provider);
  if (problem) throw new ConfigError(problem);
}

/**
 * A provider whose SDK (the OpenAI client, Azure Identity, the Foundry client: ~55 MB of a process's memory) is
 * loaded on its first call, so a worker that never calls it never holds it.
 */
function loadedOnFirstCall(provider: ModelProvider, load: () => Promise<ChatModel>): ChatModel {
  let loading: Promise<ChatModel> | undefined;
  const loaded = () => {
    loading ??= load();
    return loading;
  };
  return {
    provider,
    async ready() {
      await loaded();
    },
    async complete(request, options) {
      return (await loaded()).complete(request, options);
    },
  };
}

/** A model that refuses every request: a provider an agent asked for but the deployment does not configure. */
function unavailableModel(provider: ModelProvider, problem: string): ChatModel {
  return {
    provider,
    complete: async () => {
      throw new ModelConfigurationError('MODEL_NOT_CONFIGURED', problem, { provider });
    },
  };
}

export function defaultDeployment(config: Config, provider: ModelProvider): string | undefined {
  switch (provider) {
    case 'azure-openai':
      return config.env.AZURE_OPENAI_DEPLOYMENT;
    case 'openai-compatible':
      return config.env.BATON_MODEL;
    case 'simulated':
      return 'simulated';
    case 'foundry':
      return undefined;
  }
}

/**
 * Chooses the provider per request (`settings.provider ?? BATON_MODEL_PROVIDER`), creating each provider once per
 * process on first use. Policies (quota, prices) are applied above this layer (src/policies/model-router.ts).
 */
export function createProviderRouter(config: Config, deps: ModelRouterDeps = {}): ProviderRouter {
  const models = new Map<ModelProvider, ChatModel>();
  const env = config.env;

  const providerFor = (settings: ModelSettings): ModelProvider => settings.provider ?? config.models.provider;

  const deploymentFor = (request: Pick<ChatRequest, 'agent' | 'model'>): string => {
    const provider = providerFor(request.model);
    if (provider === 'foundry')
      return request.model.deployment ?? request.model.foundryAgent ?? request.agent;
    return request.model.deployment ?? defaultDeployment(config, provider) ?? provider;
  };

  function create(provider: ModelProvider): ChatModel {
    const given = deps.providers?.[provider];
    if (given) return given;
    if (provider === 'simulated') return deps.simulated ?? createSimulatedModel(config.models.simulated);
    const problem = missingProviderConfig(config, provider);
    if (problem) return unavailableModel(provider, problem);
    switch (provider) {
      case 'azure-openai':
        return loadedOnFirstCall(provider, async () =>
          (await import('./azure-openai.js')).createAzureOpenAIModel({
            endpoint: env.AZURE_OPENAI_ENDPOINT as string,
            apiVersion: env.OPENAI_API_VERSION,
            deployment: env.AZURE_OPENAI_DEPLOYMENT,
            apiKey: env.AZURE_OPENAI_API_KEY,
            credential: deps.credential,
            fetch: deps.fetch,
          }),
        );
      case 'openai-compatible':
        return loadedOnFirstCall(provider, async () =>
          (await import('./openai-compatible.js')).createOpenAICompatibleModel({
            baseURL: env.OPENAI_BASE_URL as string,
            apiKey: env.OPENAI_API_KEY,
            model: env.BATON_MODEL,
            credential: deps.credential,
            fetch: deps.fetch,
          }),
        );
      case 'foundry':
        return loadedOnFirstCall(provider, async () =>
          (await import('./foundry.js')).createFoundryModel({
            endpoint: env.AZURE_AI_PROJECT_ENDPOINT as string,
            credential: deps.credential,
            httpClient: deps.foundry?.httpClient,
            openAIBaseURL: deps.foundry?.openAIBaseURL,
          }),
        );
    }
  }

  return {
    providerFor,
    deploymentFor,
    modelFor(settings) {
      const provider = providerFor(settings);
      let model = models.get(provider);
      if (!model) {
        model = create(provider);
        models.set(provider, model);
      }
      return model;
    },
  };
}
