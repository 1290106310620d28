import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKeys } from '../../src/runs/keys.js';
import { CLIENT_KEY, client } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startLifecycleApi } from './harness.js';

let redis: TestRedis;
let api: Awaited<ReturnType<typeof startLifecycleApi>>;

beforeAll(async () => {
  redis = await startRedis();
  api = await startLifecycleApi(redis);
});
afterAll(async () => {
  await api?.stop();
  await redis?.stop();
});

describe("a finished run's event stream", () => {
  it('keeps only what it holds (not the ~4 KB Redis sets aside for more), with the same events, ids and expiry', async () => {
    const c = client(api.url, CLIENT_KEY);
    const created = await c.createRun({ team: 'news-desk', pattern: 'sequential', input: sampleArticle });
    expect(created.status).toBe(202);
    const id = created.run.id;
    const key = runKeys(api.config.redisPrefix, id).events;
    const { redis: conn } = api.services;
    for (const agent of ['summarizer', 'classifier']) {
      await api.services.events.append(id, { type: 'agent.started', agent, step: `seq/${agent}` });
    }
    const open = Number(await conn.call('MEMORY', 'USAGE', key));
    // Run nowhere: no worker picks it up, so cancelling finishes it at once.
    const cancelled = await c.call('POST', `/v1/runs/${id}/cancel`);
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    const before = await conn.xrange(key, '-', '+');
    expect(before.map(([, f]) => JSON.parse(f[1] ?? '{}').type)).toContain('run.cancelled');

    const finished = Number(await conn.call('MEMORY', 'USAGE', key));
    expect(open).toBeGreaterThan(4_000);
    expect(finished).toBeLessThan(open / 2);
    expect(await conn.xrange(key, '-', '+')).toEqual(before);
    const ttl = await conn.ttl(key);
    expect(ttl).toBeGreaterThan(api.config.retentionSeconds - 60);
    expect(ttl).toBeLessThanOrEqual(api.config.retentionSeconds);
    // The stream still takes events (a retried run appends to it) after the ones it had.
    const next = await conn.xadd(key, '*', 'e', '{}');
    expect(next && next > (before.at(-1)?.[0] ?? '')).toBe(true);
  });
});

describe('a server that refuses RESTORE (as a managed Redis may)', () => {
  it('still finishes the run, and keeps its stream as it was', async () => {
    const admin = new Redis(redis.url);
    // A user allowed everything but RESTORE: what the finishing script meets on such a server.
    await admin.call('ACL', 'SETUSER', 'no-restore', 'on', '>no-restore-pw', '~*', '&*', '+@all', '-restore');
    admin.disconnect();
    const url = redis.url.replace('redis://', 'redis://no-restore:no-restore-pw@');
    const limited = await startLifecycleApi({ ...redis, url });
    try {
      const c = client(limited.url, CLIENT_KEY);
      const created = await c.createRun({ team: 'news-desk', pattern: 'sequential', input: sampleArticle });
      const id = created.run.id;
      const cancelled = await c.call('POST', `/v1/runs/${id}/cancel`);
      expect(cancelled.body).toMatchObject({ status: 'cancelled' });
      const key = runKeys(limited.config.redisPrefix, id).events;
      const events = await limited.services.redis.xrange(key, '-', '+');
      expect(events.map(([, f]) => JSON.parse(f[1] ?? '{}').type)).toContain('run.cancelled');
      expect(Number(await limited.services.redis.call('MEMORY', 'USAGE', key))).toBeGreaterThan(4_000);
      expect(await limited.services.redis.ttl(key)).toBeGreaterThan(0);
    } finally {
      await limited.stop();
      const cleanup = new Redis(redis.url);
      await cleanup.call('ACL', 'DELUSER', 'no-restore');
      cleanup.disconnect();
    }
  });
});
