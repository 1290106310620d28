import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AzureOpenAIServer, startAzureOpenAIServer } from '../support/azure-openai-server.js';
import { CLIENT_KEY, client, OPERATOR_KEY, OTHER_CLIENT_KEY } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { AZURE_KEY, azureEnv, DEPLOYMENT } from '../support/providers.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startService } from '../support/service.js';

/**
 * Circuit breakers are shared by every run of a worker, so they must be keyed by what actually fails: one
 * client's runs naming a provider that is not configured, or a deployment that does not exist, must not open an
 * agent's breaker for everyone else; and one client's failure messages must not reach another client.
 */
let redis: TestRedis;
let server: AzureOpenAIServer;
let service: Awaited<ReturnType<typeof startService>>;

beforeAll(async () => {
  redis = await startRedis();
  server = await startAzureOpenAIServer({ deployments: [DEPLOYMENT], apiKeys: [AZURE_KEY] });
  service = await startService(redis, {
    ...azureEnv(server),
    BATON_BREAKER_FAILURE_THRESHOLD: '2',
    BATON_RETRY_MAX_ATTEMPTS: '1',
    BATON_RATE_LIMIT_PER_MINUTE: '0',
    // The operator allows a deployment that turns out not to exist, and a provider that is not configured.
    BATON_ALLOWED_MODELS: `azure-openai/${DEPLOYMENT},azure-openai/retired-deployment,foundry/*`,
  });
});
afterAll(async () => {
  await service?.stop();
  await server?.close();
  await redis?.stop();
});
beforeEach(() => server.setBehaviour({}));

const run = (input: string, model?: Record<string, string>) => ({
  team: 'news-desk',
  pattern: 'sequential',
  input,
  ...(model ? { options: { model } } : {}),
});

interface AgentView {
  name: string;
  fleet: string;
  breaker?: { state: string; lastFailure?: { code: string; message?: string } };
}

describe('circuit breakers keyed by provider, deployment and agent', () => {
  it("one client's failing runs do not open an agent's breaker for another client", async () => {
    const other = client(service.url, OTHER_CLIENT_KEY);
    const failing = [
      ...[1, 2, 3].map((i) =>
        run(`${sampleArticle} (wrong deployment ${i})`, { deployment: 'retired-deployment' }),
      ),
      ...[1, 2, 3].map((i) => run(`${sampleArticle} (unconfigured ${i})`, { provider: 'foundry' })),
    ];
    for (const body of failing) {
      const { status, run: created } = await other.createRun(body);
      expect(status).toBe(202);
      const done = await other.waitForStatus(created.id, ['succeeded', 'failed']);
      expect(done.status).toBe('failed');
    }

    const mine = client(service.url, CLIENT_KEY);
    const { run: created } = await mine.createRun(run(`${sampleArticle} (mine)`));
    const done = await mine.waitForStatus(created.id, ['succeeded', 'failed']);
    expect(done.error).toBeUndefined();
    expect(done.status).toBe('succeeded');

    // The breaker that opened is the one of the deployment that failed; configuration errors opened none.
    const open = service.services.breakers.snapshot().filter((b) => b.state !== 'closed');
    expect(open).toEqual([
      expect.objectContaining({ agent: 'summarizer', provider: 'azure-openai', model: 'retired-deployment' }),
    ]);
    const summarizer = ((await mine.call('GET', '/v1/agents')).body as { items: AgentView[] }).items.find(
      (a) => a.name === 'summarizer',
    );
    expect(summarizer?.breaker?.state ?? 'closed').toBe('closed');
  });

  it('shows clients failure codes only; operators get the messages', async () => {
    server.setBehaviour({ fail: { status: 500, count: 1 } });
    const other = client(service.url, OTHER_CLIENT_KEY);
    const { run: created } = await other.createRun(run(`${sampleArticle} (secret project Aurora)`));
    await other.waitForStatus(created.id, ['succeeded', 'failed']);

    const view = async (key: string) =>
      ((await client(service.url, key).call('GET', '/v1/agents')).body as { items: AgentView[] }).items;
    const asClient = (await view(CLIENT_KEY)).find((a) => a.name === 'summarizer');
    expect(asClient?.breaker?.lastFailure?.code).toBe('MODEL_TRANSIENT');
    for (const agent of await view(CLIENT_KEY)) {
      expect(agent.breaker?.lastFailure?.message, agent.name).toBeUndefined();
    }
    const asOperator = (await view(OPERATOR_KEY)).find((a) => a.name === 'summarizer');
    expect(asOperator?.breaker?.lastFailure?.message).toMatch(/HTTP 500/);
  });
});
