import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKeys } from '../../src/runs/keys.js';
import { CLIENT_KEY, client, OPERATOR_KEY, OTHER_CLIENT_KEY } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startService } from '../support/service.js';

/**
 * Run records hold client-chosen names (a deployment in `options.model`) and are read back through their schema:
 * a name must never turn into an inherited property of a lookup table, and a record that cannot be read must
 * never break the listings or the console.
 */
let redis: TestRedis;
let service: Awaited<ReturnType<typeof startService>>;

beforeAll(async () => {
  redis = await startRedis();
  service = await startService(redis, {
    BATON_PRICES: 'gpt-4o=0.0025:0.01,*=0.001:0.002',
    BATON_QUOTAS: '*=600:',
    BATON_ALLOWED_MODELS: 'simulated,simulated/constructor',
    BATON_RATE_LIMIT_PER_MINUTE: '0',
  });
});
afterAll(async () => {
  await service?.stop();
  await redis?.stop();
});

type Listing = { items: { id: string }[] };

describe('a deployment named like an object property', () => {
  it('is priced at "*" and its run stays readable', async () => {
    const c = client(service.url, CLIENT_KEY);
    const { status, run } = await c.createRun({
      team: 'news-desk',
      pattern: 'sequential',
      input: sampleArticle,
      options: { model: { provider: 'simulated', deployment: 'constructor' } },
    });
    expect(status).toBe(202);
    const done = await c.waitForStatus(run.id, ['succeeded', 'failed']);
    expect(done.status).toBe('succeeded');
    const tokens = done.usage.inputTokens + done.usage.outputTokens;
    expect(tokens).toBeGreaterThan(0);
    expect(typeof done.usage.costUsd).toBe('number');
    expect(Number.isFinite(done.usage.costUsd)).toBe(true);
    const listed = (await c.call('GET', '/v1/runs?limit=100')).body as unknown as Listing;
    expect(listed.items.map((r) => r.id)).toContain(run.id);
  });
});

describe('a stored record that fails to parse', () => {
  it('is skipped (and logged) by the listings, and answered with an error where it is asked for', async () => {
    const owner = client(service.url, CLIENT_KEY);
    const other = client(service.url, OTHER_CLIENT_KEY);
    const operator = client(service.url, OPERATOR_KEY);
    const first = (await owner.createRun({ team: 'news-desk', pattern: 'sequential', input: sampleArticle }))
      .run;
    const broken = (
      await owner.createRun({ team: 'news-desk', pattern: 'sequential', input: `${sampleArticle} (broken)` })
    ).run;
    const last = (await owner.createRun({ team: 'news-desk', pattern: 'sequential', input: sampleArticle }))
      .run;
    for (const r of [first, broken, last]) await owner.waitForStatus(r.id, ['succeeded']);
    // What a record written by an older or buggy version looks like: a field its schema refuses.
    await service.services.redis.hset(
      runKeys(service.config.redisPrefix, broken.id).record,
      'usage',
      JSON.stringify({ inputTokens: 'many' }),
    );

    for (const [who, c] of [
      ['owner', owner],
      ['operator', operator],
    ] as const) {
      const res = await c.call('GET', '/v1/runs?limit=100');
      expect(res.status, who).toBe(200);
      const ids = (res.body as unknown as Listing).items.map((r) => r.id);
      expect(ids, who).toContain(first.id);
      expect(ids, who).toContain(last.id);
      expect(ids, who).not.toContain(broken.id);
      // A page boundary on the broken record still pages on.
      const page1 = (await c.call('GET', '/v1/runs?limit=1')).body as unknown as Listing & {
        nextCursor?: string;
      };
      expect(page1.items).toHaveLength(1);
    }

    const single = await owner.call('GET', `/v1/runs/${broken.id}`);
    expect(single.status).toBe(500);
    expect((single.body as { error: { code: string; message: string } }).error.code).toBe('RUN_UNREADABLE');
    expect((await operator.call('GET', `/v1/runs/${broken.id}`)).status).toBe(500);
    // Another client still learns nothing about the run.
    expect((await other.call('GET', `/v1/runs/${broken.id}`)).status).toBe(404);

    // The operators' console keeps working with the broken run on the queue.
    await operator.call('POST', '/v1/queue/pause');
    const waiting = (
      await owner.createRun({ team: 'news-desk', pattern: 'sequential', input: `${sampleArticle} (waits)` })
    ).run;
    await service.services.redis.hset(
      runKeys(service.config.redisPrefix, waiting.id).record,
      'createdAt',
      JSON.stringify(42),
    );
    const page = await fetch(`${service.url}/admin`, {
      headers: { authorization: `Bearer ${OPERATOR_KEY}` },
    });
    expect(page.status).toBe(200);
    expect((await operator.call('GET', '/v1/runs?limit=100')).status).toBe(200);
    await operator.call('POST', '/v1/queue/resume');
  });
});
