import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, isKnownEnvVar, loadConfig } from '../../src/config/index.js';
import { ModelConfigurationError } from '../../src/core/errors.js';
import type { ChatModel, ChatRequest } from '../../src/core/model.js';
import { assertProviderConfigured } from '../../src/models/router.js';
import { createModelRouter } from '../../src/policies/model-router.js';
import { QuotaManager } from '../../src/policies/quota.js';
import { type AzureOpenAIServer, startAzureOpenAIServer } from '../support/azure-openai-server.js';
import { type FoundryServer, localHttpClient, startFoundryServer } from '../support/foundry-server.js';
import { chatRequest, fixedCredential, rejectionOf } from './helpers.js';

const signal = () => new AbortController().signal;

describe('assertProviderConfigured', () => {
  it('accepts the simulated default without any variable', () => {
    expect(() => assertProviderConfigured(loadConfig({}))).not.toThrow();
  });

  it('names every missing variable of azure-openai in one sentence', () => {
    const config = loadConfig({ BATON_MODEL_PROVIDER: 'azure-openai' });
    expect(() => assertProviderConfigured(config)).toThrow(ConfigError);
    expect(() => assertProviderConfigured(config)).toThrow(
      'BATON_MODEL_PROVIDER=azure-openai needs AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_DEPLOYMENT.',
    );
    const partly = loadConfig({
      BATON_MODEL_PROVIDER: 'azure-openai',
      AZURE_OPENAI_ENDPOINT: 'https://r.openai.azure.com',
    });
    expect(() => assertProviderConfigured(partly)).toThrow(
      'BATON_MODEL_PROVIDER=azure-openai needs AZURE_OPENAI_DEPLOYMENT.',
    );
  });

  it('does not require a key for azure-openai (Entra ID) or openai-compatible (local servers)', () => {
    expect(() =>
      assertProviderConfigured(
        loadConfig({
          BATON_MODEL_PROVIDER: 'azure-openai',
          AZURE_OPENAI_ENDPOINT: 'https://r.openai.azure.com',
          AZURE_OPENAI_DEPLOYMENT: 'gpt-4o',
        }),
      ),
    ).not.toThrow();
    expect(() =>
      assertProviderConfigured(
        loadConfig({
          BATON_MODEL_PROVIDER: 'openai-compatible',
          OPENAI_BASE_URL: 'http://localhost:11434/v1',
          BATON_MODEL: 'llama3.1',
        }),
      ),
    ).not.toThrow();
  });

  it('covers openai-compatible and foundry, and providers chosen by agents', () => {
    expect(() => assertProviderConfigured(loadConfig({ BATON_MODEL_PROVIDER: 'openai-compatible' }))).toThrow(
      'BATON_MODEL_PROVIDER=openai-compatible needs OPENAI_BASE_URL and BATON_MODEL.',
    );
    expect(() => assertProviderConfigured(loadConfig({ BATON_MODEL_PROVIDER: 'foundry' }))).toThrow(
      'BATON_MODEL_PROVIDER=foundry needs AZURE_AI_PROJECT_ENDPOINT.',
    );
    expect(() => assertProviderConfigured(loadConfig({}), 'foundry')).toThrow(
      'The model provider foundry (chosen by an agent or a run) needs AZURE_AI_PROJECT_ENDPOINT.',
    );
  });
});

describe('quota configuration', () => {
  it('reads BATON_QUOTAS as deployment=rpm:tpm or JSON, and BATON_QUOTA_<DEPLOYMENT>', () => {
    const config = loadConfig({ BATON_QUOTAS: 'gpt-4o=60:90000,gpt-4o-mini=300, o3=:50000' });
    expect(config.models.quotas).toEqual({
      'gpt-4o': { rpm: 60, tpm: 90_000 },
      'gpt-4o-mini': { rpm: 300 },
      o3: { tpm: 50_000 },
    });
    const json = loadConfig({ BATON_QUOTAS: '{"gpt-4o":{"rpm":10,"tpm":2000},"*":{"rpm":5}}' });
    expect(json.models.quotas).toEqual({ 'gpt-4o': { rpm: 10, tpm: 2000 }, '*': { rpm: 5 } });

    const vars = loadConfig({ BATON_QUOTAS: 'gpt-4o-mini=1:1', BATON_QUOTA_GPT_4O_MINI: '120:40000' });
    expect(vars.models.quotas).toEqual({ GPT_4O_MINI: { rpm: 120, tpm: 40_000 } });
    expect(new QuotaManager({ limits: vars.models.quotas }).limitFor('gpt-4o-mini')).toEqual({
      rpm: 120,
      tpm: 40_000,
    });
    expect(isKnownEnvVar('BATON_QUOTA_GPT_4O_MINI')).toBe(true);
    expect(isKnownEnvVar('BATON_QUOTAS')).toBe(true);
    expect(isKnownEnvVar('BATON_PRICES')).toBe(true);
  });

  it('rejects malformed quotas with a sentence naming the variable', () => {
    expect(() => loadConfig({ BATON_QUOTAS: 'gpt-4o=fast' })).toThrow(
      /^Invalid configuration: BATON_QUOTAS entry "gpt-4o=fast" must be deployment=rpm:tpm/,
    );
    expect(() => loadConfig({ BATON_QUOTAS: 'gpt-4o' })).toThrow(/BATON_QUOTAS entry "gpt-4o" must be/);
    expect(() => loadConfig({ BATON_QUOTAS: 'gpt-4o=1.5:10' })).toThrow(/BATON_QUOTAS entry/);
    expect(() => loadConfig({ BATON_QUOTA_GPT_4O: 'lots' })).toThrow(
      'Invalid configuration: BATON_QUOTA_GPT_4O must be rpm:tpm with positive whole numbers (got "lots").',
    );
  });
});

describe('createModelRouter', () => {
  let azure: AzureOpenAIServer;
  let foundry: FoundryServer;
  beforeAll(async () => {
    azure = await startAzureOpenAIServer({
      deployments: ['gpt-4o-mini', 'gpt-4o', 'llama3'],
      apiKeys: ['k'],
    });
    foundry = await startFoundryServer({ agents: [{ name: 'researcher' }] });
  });
  afterAll(async () => {
    await azure.close();
    await foundry.close();
  });
  beforeEach(() => {
    azure.requests.length = 0;
    foundry.requests.length = 0;
  });

  const env = () => ({
    AZURE_OPENAI_ENDPOINT: azure.url,
    AZURE_OPENAI_API_KEY: 'k',
    AZURE_OPENAI_DEPLOYMENT: 'gpt-4o-mini',
    OPENAI_BASE_URL: `${azure.url}/openai/v1`,
    OPENAI_API_KEY: 'k',
    BATON_MODEL: 'llama3',
    AZURE_AI_PROJECT_ENDPOINT: 'https://res.services.ai.azure.com/api/projects/baton',
    BATON_PRICES: 'gpt-4o-mini=0.00015:0.0006,llama3=0:0',
  });

  function countingSimulated(): ChatModel & { calls: ChatRequest[] } {
    const calls: ChatRequest[] = [];
    return {
      provider: 'simulated',
      calls,
      async complete(request) {
        calls.push(request);
        return {
          message: { role: 'assistant', content: 'simulated' },
          toolCalls: [],
          usage: { inputTokens: 1, outputTokens: 1 },
          model: 'simulated',
          finishReason: 'stop',
        };
      },
    };
  }

  it('routes each request by settings.provider, defaulting to BATON_MODEL_PROVIDER, creating each provider once', async () => {
    const simulated = countingSimulated();
    const router = createModelRouter(loadConfig(env()), {
      simulated,
      credential: fixedCredential('entra'),
      foundry: { httpClient: localHttpClient(foundry.url), openAIBaseURL: `${foundry.projectUrl}/openai/v1` },
    });

    expect(router.modelFor({}).provider).toBe('simulated');
    expect(router.modelFor({})).toBe(router.modelFor({ provider: 'simulated' }));
    await router.modelFor({}).complete(chatRequest(), { signal: signal() });
    expect(simulated.calls).toHaveLength(1);

    const viaAzure = await router
      .modelFor({ provider: 'azure-openai' })
      .complete(chatRequest({ model: { provider: 'azure-openai' } }), { signal: signal() });
    expect(viaAzure.message.content).toBe('ok: Say hello to the team.');
    expect(azure.requests[0]?.path).toBe('/openai/deployments/gpt-4o-mini/chat/completions');

    await router
      .modelFor({ provider: 'openai-compatible' })
      .complete(chatRequest({ model: { provider: 'openai-compatible' } }), { signal: signal() });
    expect(azure.requests[1]?.path).toBe('/openai/v1/chat/completions');
    expect(azure.requests[1]?.body).toMatchObject({ model: 'llama3' });

    const viaFoundry = await router
      .modelFor({ provider: 'foundry' })
      .complete(chatRequest({ agent: 'researcher', model: { provider: 'foundry' } }), { signal: signal() });
    expect(viaFoundry.message.content).toBe('researcher: Say hello to the team.');
    expect(router.modelFor({ provider: 'foundry' })).toBe(router.modelFor({ provider: 'foundry' }));
  });

  it('with BATON_MODEL_PROVIDER=azure-openai, agents without a provider go to Azure', async () => {
    const router = createModelRouter(loadConfig({ ...env(), BATON_MODEL_PROVIDER: 'azure-openai' }));
    const model = router.modelFor({});
    expect(model.provider).toBe('azure-openai');
    await model.complete(chatRequest({ model: { deployment: 'gpt-4o' } }), { signal: signal() });
    expect(azure.requests[0]?.path).toBe('/openai/deployments/gpt-4o/chat/completions');
  });

  it('an unconfigured provider chosen by an agent fails its calls with a configuration error naming the variables', async () => {
    const router = createModelRouter(loadConfig({}));
    const err = await rejectionOf(
      router.modelFor({ provider: 'azure-openai' }).complete(chatRequest(), { signal: signal() }),
    );
    // A configuration error: not retried, and never counted against a circuit breaker.
    expect(err).toBeInstanceOf(ModelConfigurationError);
    expect((err as ModelConfigurationError).code).toBe('MODEL_NOT_CONFIGURED');
    expect((err as ModelConfigurationError).retryable).toBe(false);
    expect((err as Error).message).toBe(
      'The model provider azure-openai (chosen by an agent or a run) needs AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_DEPLOYMENT.',
    );
  });

  it('accounts requests to deployments, prices them, and shares one quota', async () => {
    const router = createModelRouter(
      loadConfig({ ...env(), BATON_MODEL_PROVIDER: 'azure-openai', BATON_QUOTAS: 'gpt-4o-mini=100:100000' }),
    );
    expect(router.deploymentFor({ agent: 'a', model: {} })).toBe('gpt-4o-mini');
    expect(router.deploymentFor({ agent: 'a', model: { deployment: 'gpt-4o' } })).toBe('gpt-4o');
    expect(router.deploymentFor({ agent: 'a', model: { provider: 'openai-compatible' } })).toBe('llama3');
    expect(router.deploymentFor({ agent: 'a', model: { provider: 'foundry' } })).toBe('a');
    expect(router.deploymentFor({ agent: 'a', model: { provider: 'foundry', foundryAgent: 'b' } })).toBe('b');
    expect(router.deploymentFor({ agent: 'a', model: { provider: 'simulated' } })).toBe('simulated');

    expect(router.costOf(undefined, { inputTokens: 2000, outputTokens: 1000 })).toBe(0.0009);
    expect(router.costOf('llama3', { inputTokens: 2000, outputTokens: 1000 })).toBe(0);
    expect(router.costOf('gpt-4o', { inputTokens: 2000, outputTokens: 1000 })).toBeUndefined();

    const result = await router.modelFor({}).complete(chatRequest(), { signal: signal() });
    expect(router.quota.limitFor('gpt-4o-mini')).toEqual({ rpm: 100, tpm: 100_000 });
    expect(router.quota.usage('gpt-4o-mini')).toMatchObject({
      requests: 1,
      tokens: result.usage.inputTokens + result.usage.outputTokens,
    });
  });
});
