import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttemptSupersededError } from '../../src/core/errors.js';
import { RunWrites } from '../../src/lifecycle/run-writes.js';
import { openRedisJournal } from '../../src/runs/journal.js';
import { CLIENT_KEY, client, OPERATOR_KEY } from '../support/baton.js';
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
  it('counts the attempt, marks the run running and reads its record and journal in one script call', async () => {
    const id = await createRun();
    const before = await commandCalls();
    const start = await api.lifecycle.start(id);
    const after = await commandCalls();
    expect(start).toMatchObject({ kind: 'run', attempt: 1, record: { id, status: 'running' } });
    // One EVALSHA (its HINCRBY, HGETs, HSETs and the two HGETALLs run inside it); no separate reads.
    expect((after.evalsha ?? 0) - (before.evalsha ?? 0)).toBe(1);
    expect((after.hgetall ?? 0) - (before.hgetall ?? 0)).toBe(2);
    expect((after.hincrby ?? 0) - (before.hincrby ?? 0)).toBe(1);
  });

  it('hands a later attempt the journal its predecessor wrote, read after the attempt was counted', async () => {
    const id = await createRun();
    const first = await api.lifecycle.start(id);
    if (first.kind !== 'run') throw new Error('the first attempt starts the run');
    expect(first.journal).toEqual({});
    const journal = await openRedisJournal(api.services.redis, api.config.redisPrefix, id, {
      attempt: first.attempt,
      stored: first.journal,
    });
    await journal.put('seq/0/agent:a', { kind: 'step', value: 1, completedAt: new Date().toISOString() });
    const second = await api.lifecycle.start(id);
    if (second.kind !== 'run') throw new Error('the second attempt starts the run');
    expect(Object.keys(second.journal)).toEqual(['seq/0/agent:a']);
    // The first attempt is fenced off from then on: its next entry is refused.
    await expect(
      journal.put('seq/1/agent:b', { kind: 'step', value: 2, completedAt: new Date().toISOString() }),
    ).rejects.toBeInstanceOf(AttemptSupersededError);
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

describe("a worker's finish of a run", () => {
  it('writes the outcome in one script call and settles indexes, tokens and throughput in one transaction', async () => {
    const id = await createRun();
    const start = await api.lifecycle.start(id);
    if (start.kind !== 'run') throw new Error('the run starts');
    const before = await commandCalls();
    const ended = await api.lifecycle.finish(
      id,
      {
        status: 'succeeded',
        output: { text: 'done' },
        usage: { inputTokens: 10, outputTokens: 2, modelCalls: 1 },
        steps: [],
        definitionVersion: start.record.definitionVersion,
      },
      start.startedAt,
      start.attempt,
      start.owner,
    );
    const after = await commandCalls();
    expect(ended).toBe('finished');
    const delta = (command: string) => (after[command] ?? 0) - (before[command] ?? 0);
    expect(delta('evalsha')).toBe(1);
    // The live indexes, the tenant's tokens and the queue's throughput: one MULTI in the prefix's slot.
    expect(delta('multi')).toBe(1);
    expect(delta('exec')).toBe(1);
    const finished = await admin.zrange(`${api.config.redisPrefix}:stats:finished`, '0', '-1');
    expect(finished.filter((entry) => entry.endsWith(`:succeeded:${id}`))).toHaveLength(1);
    const stats = (await client(api.url, OPERATOR_KEY).call('GET', '/v1/queue')).body as {
      throughput: { succeeded: number };
    };
    expect(stats.throughput.succeeded).toBeGreaterThanOrEqual(1);
  });
});
