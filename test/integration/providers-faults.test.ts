import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AzureOpenAIServer, startAzureOpenAIServer } from '../support/azure-openai-server.js';
import { client, OPERATOR_KEY } from '../support/baton.js';
import {
  AZURE_KEY,
  azureEnv,
  chatRequests,
  DEPLOYMENT,
  requestsFor,
  runToEnd,
  type Stack,
  startStack,
  taggedArticle,
  until,
} from '../support/providers.js';

/**
 * Agent-runtime policies against a misbehaving Azure OpenAI, through the whole service (API and worker
 * processes). Policies are shortened with the operator overrides BATON_AGENT_TIMEOUT_MS, BATON_RETRY_* and
 * BATON_BREAKER_*; each scenario runs its own worker with its own settings on the same queue.
 */
let server: AzureOpenAIServer;
let stack: Stack;
let worker: Awaited<ReturnType<Stack['worker']>> | undefined;

beforeAll(async () => {
  server = await startAzureOpenAIServer({ deployments: [DEPLOYMENT], apiKeys: [AZURE_KEY] });
  stack = await startStack();
});
afterEach(async () => {
  await worker?.kill();
  worker = undefined;
});
afterAll(async () => {
  await stack?.stop();
  await server?.close();
});

type WorkerBreaker = { worker: string; state: string; lastFailure?: { code: string } };

/** The summarizer's breaker on each live worker (GET /v1/agents as an operator), once `ready` holds. */
async function summarizerOnWorkers(ready: (workers: WorkerBreaker[]) => boolean): Promise<WorkerBreaker[]> {
  const operator = client(stack.api.url, OPERATOR_KEY);
  const deadline = Date.now() + 3_000;
  for (;;) {
    const res = await operator.call('GET', '/v1/agents');
    const items = (res.body as { items?: { team: string; name: string; workers?: WorkerBreaker[] }[] }).items;
    const workers = items?.find((a) => a.team === 'news-desk' && a.name === 'summarizer')?.workers ?? [];
    if (ready(workers)) return workers;
    if (Date.now() > deadline)
      throw new Error(`GET /v1/agents: summarizer breakers ${JSON.stringify(workers)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a deployment that never answers', () => {
  it('trips the per-agent timeout and the request is closed on the server side', async () => {
    // Long enough for each attempt's request to reach the server before the attempt times out: on a loaded CI
    // host one arrived 719 ms into a 1 s attempt, and another attempt of 1 s ended before its request was sent.
    const timeoutMs = 4_000;
    worker = await stack.worker({
      ...azureEnv(server),
      BATON_AGENT_TIMEOUT_MS: String(timeoutMs),
      BATON_RETRY_MAX_ATTEMPTS: '2',
      BATON_RETRY_INITIAL_DELAY_MS: '50',
    });
    server.setBehaviour({ hang: {} });
    const { tag, input } = taggedArticle('hang');
    // With the team's 30 s timeout instead of the 4 s override, two attempts could not end within this test's
    // 30 s: the run ending as below shows the override applied, with no wall-clock bound to miss on a loaded host.
    const { run, events } = await runToEnd(stack.client, { team: 'news-desk', pattern: 'sequential', input });

    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('AGENT_FAILED');
    expect(run.steps).toHaveLength(1);
    expect(run.steps[0]).toMatchObject({
      agent: 'summarizer',
      status: 'failed',
      attempts: 2,
      error: { code: 'AGENT_TIMEOUT' },
    });
    expect(events.find((e) => e.type === 'agent.failed')).toMatchObject({
      agent: 'summarizer',
      attempts: 2,
      error: { code: 'AGENT_TIMEOUT' },
    });

    const requests = requestsFor(chatRequests(server), tag);
    expect(requests).toHaveLength(2);
    await until('the server to see both connections closed', () =>
      requests.every((r) => r.closedAt !== undefined),
    );
    for (const r of requests) {
      expect(r.status).toBeUndefined(); // never answered
      // Closed by the client when its attempt timed out (how long the server saw it open depends on when the
      // request reached it, which a loaded host delays).
      expect(r.clientClosed).toBe(true);
    }
  }, 30_000);
});

describe('sustained 500s', () => {
  it('open the breaker: runs fail fast with CIRCUIT_OPEN without reaching the server; a probe closes it', async () => {
    const halfOpenMs = 3_000;
    worker = await stack.worker({
      ...azureEnv(server),
      BATON_RETRY_MAX_ATTEMPTS: '1',
      BATON_BREAKER_FAILURE_THRESHOLD: '2',
      BATON_BREAKER_HALF_OPEN_MS: String(halfOpenMs),
      // The worker publishes its breakers with its heartbeat; GET /v1/agents reads them.
      BATON_HEARTBEAT_INTERVAL_MS: '100',
      BATON_HEARTBEAT_TTL_MS: '1000',
      // This worker's own breaker, fresh: the fleet's (in Redis) would still count the previous test's timeouts.
      // test/integration/fleet-limits.test.ts covers the fleet's breakers.
      BATON_FLEET_LIMITS: 'false',
    });
    server.setBehaviour({ fail: { status: 500 } });
    const count = () => chatRequests(server).length;
    const base = count();

    // Two consecutive failures (threshold 2) reach the server and open the summarizer's breaker.
    for (const label of ['500-a', '500-b']) {
      const { tag, input } = taggedArticle(label);
      const { run } = await runToEnd(stack.client, { team: 'news-desk', pattern: 'sequential', input });
      expect(run.status).toBe('failed');
      expect(run.steps[0]).toMatchObject({
        agent: 'summarizer',
        status: 'failed',
        error: { code: 'MODEL_TRANSIENT' },
      });
      const requests = requestsFor(chatRequests(server), tag);
      expect(requests.map((r) => r.status)).toEqual([500]);
    }
    const openedAt = Date.now();
    expect(count()).toBe(base + 2);

    // While open: runs keep failing, with CIRCUIT_OPEN, and the server sees nothing more.
    for (const label of ['open-a', 'open-b', 'open-c']) {
      const { input } = taggedArticle(label);
      const { run } = await runToEnd(stack.client, { team: 'news-desk', pattern: 'sequential', input });
      expect(run.status).toBe('failed');
      expect(run.steps[0]).toMatchObject({
        agent: 'summarizer',
        status: 'failed',
        error: { code: 'CIRCUIT_OPEN' },
      });
      expect(run.usage.modelCalls).toBe(0);
      expect(run.steps[0]?.durationMs).toBeLessThan(500);
    }
    expect(count()).toBe(base + 2);
    // The operator sees the open breaker, with the failure that opened it.
    const seen = await summarizerOnWorkers((ws) => ws.some((w) => w.state === 'open'));
    expect(seen.map((w) => w.state)).toContain('open');
    expect(seen.find((w) => w.state === 'open')?.lastFailure?.code).toBe('MODEL_TRANSIENT');
    const openFor = Date.now() - openedAt;
    if (openFor >= halfOpenMs) {
      throw new Error(
        `the fail-fast runs took ${openFor} ms, past the ${halfOpenMs} ms half-open delay; the check is void`,
      );
    }

    // After the cool-down the next call is a probe; the deployment has recovered, so it closes the breaker.
    server.setBehaviour({});
    await new Promise((resolve) => setTimeout(resolve, halfOpenMs - openFor + 200));
    const probe = taggedArticle('probe');
    const { run: probed } = await runToEnd(stack.client, {
      team: 'news-desk',
      pattern: 'sequential',
      input: probe.input,
    });
    expect(probed.status).toBe('succeeded');
    expect(probed.steps.map((s) => s.status)).toEqual(Array(5).fill('succeeded'));
    expect(requestsFor(chatRequests(server), probe.tag).map((r) => r.status)).toEqual(Array(5).fill(200));

    // Closed again: the next run goes straight through as well.
    const after = taggedArticle('closed');
    const { run: next } = await runToEnd(stack.client, {
      team: 'news-desk',
      pattern: 'sequential',
      input: after.input,
    });
    expect(next.status).toBe('succeeded');
    expect(requestsFor(chatRequests(server), after.tag)).toHaveLength(5);
    const closed = await summarizerOnWorkers((ws) => ws.every((w) => w.state === 'closed'));
    expect(closed.length).toBeGreaterThan(0);
  }, 30_000);
});
