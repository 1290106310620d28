import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { type AzureOpenAIServer, startAzureOpenAIServer } from '../support/azure-openai-server.js';
import { CLIENT_KEY, client } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { AZURE_KEY, azureEnv, DEPLOYMENT } from '../support/providers.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startService } from '../support/service.js';

/**
 * A run's `options.model` reaches every agent call, so clients choose only among the models the operator allows
 * (BATON_ALLOWED_MODELS; unset: each configured provider's default deployment, and the simulated model).
 */
let redis: TestRedis;
let server: AzureOpenAIServer;

beforeAll(async () => {
  redis = await startRedis();
  server = await startAzureOpenAIServer({ deployments: [DEPLOYMENT, 'gpt-4o'], apiKeys: [AZURE_KEY] });
});
afterAll(async () => {
  await server?.close();
  await redis?.stop();
});

const body = (model: Record<string, unknown>) => ({
  team: 'news-desk',
  pattern: 'sequential',
  input: sampleArticle,
  options: { model },
});

async function withService(env: Record<string, string>, fn: (c: ReturnType<typeof client>) => Promise<void>) {
  const service = await startService(redis, { BATON_RATE_LIMIT_PER_MINUTE: '0', ...env }, false);
  try {
    await fn(client(service.url, CLIENT_KEY));
  } finally {
    await service.stop();
  }
}

const code = (res: { body: Record<string, unknown> }) =>
  (res.body as { error?: { code: string } }).error?.code;

describe('the models a client may choose', () => {
  it('by default: the configured default deployment of each configured provider, and the simulated model', async () => {
    await withService(azureEnv(server), async (c) => {
      expect((await c.createRun(body({ deployment: DEPLOYMENT, temperature: 0 }))).status).toBe(202);
      expect((await c.createRun(body({ provider: 'azure-openai' }))).status).toBe(202);
      expect((await c.createRun(body({ provider: 'simulated' }))).status).toBe(202);
      // Settings that do not change the model are always fine.
      expect((await c.createRun(body({ temperature: 0.3, maxOutputTokens: 200 }))).status).toBe(202);

      for (const model of [
        { deployment: 'gpt-4o' }, // exists, but the operator did not allow it
        { provider: 'foundry' }, // not configured
        { provider: 'openai-compatible', deployment: 'llama3' },
        { provider: 'simulated', deployment: 'gpt-4o' },
      ]) {
        const res = await c.createRun(body(model));
        expect(res.status, JSON.stringify(model)).toBe(400);
        expect(code(res), JSON.stringify(model)).toBe('MODEL_NOT_ALLOWED');
      }
    });
  });

  it('with BATON_ALLOWED_MODELS: exactly the listed provider/deployment pairs', async () => {
    await withService(
      { ...azureEnv(server), BATON_ALLOWED_MODELS: `azure-openai/${DEPLOYMENT}, azure-openai/gpt-4o` },
      async (c) => {
        expect((await c.createRun(body({ deployment: 'gpt-4o' }))).status).toBe(202);
        expect((await c.createRun(body({ deployment: DEPLOYMENT }))).status).toBe(202);
        const simulated = await c.createRun(body({ provider: 'simulated' }));
        expect(simulated.status).toBe(400);
        expect(code(simulated)).toBe('MODEL_NOT_ALLOWED');
      },
    );
  });

  it('refuses deployment names with path characters before anything else looks at them', async () => {
    await withService({ BATON_ALLOWED_MODELS: 'azure-openai/*' }, async (c) => {
      for (const deployment of ['../../other/path?', 'a/b', 'x#y', 'gpt 4o', '%2e%2e', '']) {
        const res = await c.createRun(body({ provider: 'azure-openai', deployment }));
        expect(res.status, deployment).toBe(400);
        expect(code(res), deployment).toBe('VALIDATION_FAILED');
      }
      const foundry = await c.createRun(body({ provider: 'foundry', foundryAgent: '../agents/x' }));
      expect(code(foundry)).toBe('VALIDATION_FAILED');
    });
  });
});

describe('BATON_ALLOWED_MODELS', () => {
  it('reads provider, provider/deployment and provider/* entries', () => {
    const { allowedModels } = loadConfig({
      BATON_ALLOWED_MODELS: 'simulated, azure-openai/gpt-4o-mini,openai-compatible/*, foundry/triage-agent',
    });
    expect(allowedModels).toEqual([
      { provider: 'simulated' },
      { provider: 'azure-openai', model: 'gpt-4o-mini' },
      { provider: 'openai-compatible', model: '*' },
      { provider: 'foundry', model: 'triage-agent' },
    ]);
    expect(loadConfig({}).allowedModels).toBeUndefined();
  });

  it('refuses an unknown provider or a bad name with one sentence', () => {
    expect(() => loadConfig({ BATON_ALLOWED_MODELS: 'openai/gpt-4o' })).toThrow(
      /BATON_ALLOWED_MODELS entry "openai\/gpt-4o" must be provider or provider\/deployment/,
    );
    expect(() => loadConfig({ BATON_ALLOWED_MODELS: 'azure-openai/../x' })).toThrow(/BATON_ALLOWED_MODELS/);
  });
});
