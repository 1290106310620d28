import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AzureOpenAIServer, startAzureOpenAIServer } from '../support/azure-openai-server.js';
import {
  AZURE_KEY,
  azureEnv,
  chatRequests,
  DEPLOYMENT,
  maxInWindow,
  requestsFor,
  runToEnd,
  type Stack,
  startStack,
  taggedArticle,
} from '../support/providers.js';

/**
 * The per-deployment quota, through the whole service: two concurrent runs fan out four branches each against a
 * deployment allowed RPM requests per minute. The quota window is a minute (not configurable), so the test
 * asserts over its own duration: the server never sees more than RPM requests, and the branches that found no
 * capacity waited (against their timeout, shortened with BATON_AGENT_TIMEOUT_MS) instead of reaching it.
 */
const RPM = 5;
const WINDOW_MS = 60_000;
const TIMEOUT_MS = 2_500;

let server: AzureOpenAIServer;
let stack: Stack;

beforeAll(async () => {
  server = await startAzureOpenAIServer({
    deployments: [DEPLOYMENT],
    apiKeys: [AZURE_KEY],
    // Slow enough for the two runs' branches to overlap.
    behaviour: { latencyMs: 300 },
  });
  stack = await startStack();
  await stack.worker({
    ...azureEnv(server),
    BATON_QUOTA_GPT_4O_MINI: String(RPM),
    BATON_AGENT_TIMEOUT_MS: String(TIMEOUT_MS),
    BATON_RETRY_MAX_ATTEMPTS: '1',
  });
});
afterAll(async () => {
  await stack?.stop();
  await server?.close();
});

describe('quota of the deployment', () => {
  it('two concurrent 4-branch runs never put more than the quota on the server', async () => {
    const a = taggedArticle('quota-a');
    const b = taggedArticle('quota-b');
    const started = Date.now();
    const [ra, rb] = await Promise.all(
      [a, b].map((t) => runToEnd(stack.client, { team: 'news-desk', pattern: 'concurrent', input: t.input })),
    );
    const elapsed = Date.now() - started;
    if (!ra || !rb) throw new Error('both runs must finish');
    expect(elapsed).toBeLessThan(WINDOW_MS);

    const requests = chatRequests(server);
    expect(requestsFor(requests, a.tag).length + requestsFor(requests, b.tag).length).toBe(requests.length);
    // Eight branches wanted to call the deployment; the quota let RPM of them through within the minute.
    expect(requests).toHaveLength(RPM);
    expect(
      maxInWindow(
        requests.map((r) => r.receivedAt),
        WINDOW_MS,
      ),
    ).toBeLessThanOrEqual(RPM);
    for (const r of requests) expect(r.status).toBe(200);

    // Both runs went ahead with the branches that got capacity; the others timed out waiting for it.
    const runs = [ra.run, rb.run];
    for (const run of runs) {
      expect(run.status).toBe('succeeded');
      expect(run.steps).toHaveLength(4);
    }
    const steps = runs.flatMap((run) => run.steps);
    const succeeded = steps.filter((s) => s.status === 'succeeded');
    const failed = steps.filter((s) => s.status === 'failed');
    expect(succeeded).toHaveLength(RPM);
    expect(failed).toHaveLength(8 - RPM);
    for (const s of failed) expect(s.error?.code).toBe('AGENT_TIMEOUT');
    expect(runs.some((run) => run.partial === true)).toBe(true);

    // The queued branches overlapped the granted ones: two runs' branches were in flight at once.
    const tagOf = (r: (typeof requests)[number]) =>
      requestsFor([r], a.tag).length > 0 ? 'a' : requestsFor([r], b.tag).length > 0 ? 'b' : '?';
    expect(new Set(requests.map(tagOf))).toEqual(new Set(['a', 'b']));
  }, 30_000);
});
