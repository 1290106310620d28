import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunWrites } from '../../src/lifecycle/run-writes.js';
import { CLIENT_KEY, client } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startLifecycleApi } from './harness.js';

let redis: TestRedis;
let api: Awaited<ReturnType<typeof startLifecycleApi>>;
/** The next enqueue fails (the queue's Redis is unreachable) while this is set. */
const failNext = { on: false };
/**
 * How the next discard fails: `before` writes nothing, `after-delete` removes the run but cannot release its key
 * (Redis went away, or failed over, between the two).
 */
const discardFails: { next: 'before' | 'after-delete' | undefined } = { next: undefined };

beforeAll(async () => {
  redis = await startRedis();
  api = await startLifecycleApi(redis, {
    queue: (real) => ({
      ...real,
      async enqueue(runId, request) {
        if (failNext.on) {
          failNext.on = false;
          throw new Error('Connection is closed.');
        }
        return real.enqueue(runId, request);
      },
    }),
    writes: (real) =>
      Object.assign(Object.create(real) as RunWrites, {
        async discard(id: string, owner: string, idempotencyKey?: string) {
          const how = discardFails.next;
          discardFails.next = undefined;
          if (how === 'before') throw new Error('Connection is closed.');
          if (how === 'after-delete') {
            await real.discard(id, owner);
            throw new Error('Connection is closed.');
          }
          return real.discard(id, owner, idempotencyKey);
        },
      }),
  });
});
afterAll(async () => {
  await api?.stop();
  await redis?.stop();
});

describe('an Idempotency-Key after a failed enqueue', () => {
  it('is released with the discarded run, so the client can retry with the same key', async () => {
    const c = client(api.url, CLIENT_KEY);
    const body = { team: 'news-desk', pattern: 'sequential', input: sampleArticle };
    const key = { 'idempotency-key': 'order-7-attempt' };
    failNext.on = true;
    const refused = await c.createRun(body, key);
    expect(refused.status).toBe(503);
    expect((refused.body as { error: { code: string } }).error.code).toBe('QUEUE_UNAVAILABLE');

    const retried = await c.createRun(body, key);
    expect(retried.status).toBe(202);
    expect(retried.run.status).toBe('queued');
    // The key now belongs to the run that was created: repeating answers it, not a new one.
    const repeated = await c.createRun(body, key);
    expect(repeated.status).toBe(200);
    expect(repeated.run.id).toBe(retried.run.id);
    // The discarded run left nothing behind.
    const listed = (await c.call('GET', '/v1/runs')).body as { items: { id: string }[] };
    expect(listed.items.map((r) => r.id)).toEqual([retried.run.id]);
  });

  it('is kept when it already points at another run (a concurrent request that succeeded)', async () => {
    const { lifecycle } = api;
    const request = { team: 'news-desk', pattern: 'sequential' as const, input: `${sampleArticle} (2)` };
    const first = await lifecycle.create({ request, owner: 'k1', idempotencyKey: 'shared', trace: {} });
    expect(first.created).toBe(true);
    // Discarding some other run of this owner must not free a key that is not its own.
    failNext.on = true;
    await expect(
      lifecycle.create({ request: { ...request, input: 'other' }, owner: 'k1', trace: {} }),
    ).rejects.toThrow(/unavailable/);
    const again = await lifecycle.create({ request, owner: 'k1', idempotencyKey: 'shared', trace: {} });
    expect(again).toMatchObject({ created: false, record: { id: first.record.id } });
  });

  it('completes a creation that stopped after claiming the key and before storing the run (a retry is not a conflict)', async () => {
    const c = client(api.url, CLIENT_KEY);
    const body = { team: 'news-desk', pattern: 'sequential', input: `${sampleArticle} (3)` };
    const key = { 'idempotency-key': 'order-9-attempt' };
    failNext.on = true;
    discardFails.next = 'after-delete';
    const refused = await c.createRun(body, key);
    expect(refused.status).toBe(503);
    const retried = await c.createRun(body, key);
    expect(retried.status).toBe(202);
    expect(retried.run.status).toBe('queued');
    expect(await api.queue.jobState(retried.run.id)).toBe('waiting');
    expect((await c.createRun(body, key)).run.id).toBe(retried.run.id);
  });

  it('queues a stored run whose job was never added when the client retries with its key', async () => {
    const c = client(api.url, CLIENT_KEY);
    const body = { team: 'news-desk', pattern: 'sequential', input: `${sampleArticle} (4)` };
    const key = { 'idempotency-key': 'order-11-attempt' };
    failNext.on = true;
    discardFails.next = 'before';
    const refused = await c.createRun(body, key);
    expect(refused.status).toBe(503);
    expect((refused.body as { error: { code: string } }).error.code).toBe('QUEUE_UNAVAILABLE');
    const retried = await c.createRun(body, key);
    expect(retried.status).toBe(200);
    expect(await api.queue.jobState(retried.run.id)).toBe('waiting');
  });
});
