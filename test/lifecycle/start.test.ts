import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunWrites } from '../../src/lifecycle/run-writes.js';
import { CLIENT_KEY, client } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startLifecycleApi } from './harness.js';

let redis: TestRedis;
let api: Awaited<ReturnType<typeof startLifecycleApi>>;
let admin: Redis;

beforeAll(async () => {
  redis = await startRedis();
  api = await startLifecycleApi(redis);
  admin = new Redis(redis.url);
});
afterAll(async () => {
  admin?.disconnect();
  await api?.stop();
  await redis?.stop();
});

const createRun = async () => {
  const created = await client(api.url, CLIENT_KEY).createRun({
    team: 'news-desk',
    pattern: 'sequential',
    input: sampleArticle,
  });
  expect(created.status).toBe(202);
  return created.run.id;
};

/** Calls per Redis command since the server started (INFO commandstats). */
const commandCalls = async () => {
  const calls: Record<string, number> = {};
  for (const m of (await admin.info('commandstats')).matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) {
    calls[m[1] as string] = Number(m[2]);
  }
  return calls;
};

describe("a worker's start of a run", () => {
  it('counts the attempt, marks the run running and reads its record in one script call', async () => {
    const id = await createRun();
    const before = await commandCalls();
    const start = await api.lifecycle.start(id);
    const after = await commandCalls();
    expect(start).toMatchObject({ kind: 'run', attempt: 1, record: { id, status: 'running' } });
    // One EVALSHA (its HINCRBY, HGETs, HSETs and HGETALL run inside it); no separate reads.
    expect((after.evalsha ?? 0) - (before.evalsha ?? 0)).toBe(1);
    expect((after.hgetall ?? 0) - (before.hgetall ?? 0)).toBe(1);
    expect((after.hincrby ?? 0) - (before.hincrby ?? 0)).toBe(1);
  });

  it('keeps the first start time across attempts, each with the next fencing token', async () => {
    const id = await createRun();
    const first = await api.lifecycle.start(id);
    const second = await api.lifecycle.start(id);
    if (first.kind !== 'run' || second.kind !== 'run') throw new Error('both attempts start the run');
    expect(second.attempt).toBe(first.attempt + 1);
    expect(second.startedAt).toBe(first.startedAt);
    expect(second.record.startedAt).toBe(first.startedAt);
  });

  it('finishes a run whose cancel came before any start as cancelled, never running it', async () => {
    const id = await createRun();
    const writes = new RunWrites(api.services.redis, api.config.redisPrefix, 60, api.services.events);
    await writes.requestCancel(id);
    expect(await api.lifecycle.start(id)).toEqual({ kind: 'cancelled' });
    const stored = await api.services.store.get(id);
    expect(stored?.record.status).toBe('cancelled');
    const events = await api.services.events.read(id, '0');
    expect(events.map((e) => e.event.type)).toEqual(['run.cancelled']);
  });

  it('leaves a finished run as it ended (a duplicate delivery), and creates nothing for a missing one', async () => {
    const id = await createRun();
    await client(api.url, CLIENT_KEY).call('POST', `/v1/runs/${id}/cancel`);
    const again = await api.lifecycle.start(id);
    expect(again).toMatchObject({ kind: 'finished', record: { status: 'cancelled' } });
    const missing = '0b6c3c7e-5d43-4a8e-9d3c-3f1f7c1d2e4a';
    expect(await api.lifecycle.start(missing)).toEqual({ kind: 'gone' });
    expect(await api.services.store.get(missing)).toBeUndefined();
  });
});
