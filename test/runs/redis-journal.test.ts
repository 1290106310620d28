import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttemptSupersededError } from '../../src/core/errors.js';
import { type JournalEntry, openRedisJournal } from '../../src/runs/journal.js';
import { runKeys } from '../../src/runs/keys.js';
import { startRedis, type TestRedis } from '../support/redis.js';

const step = (value: number): JournalEntry => ({
  kind: 'step',
  value,
  completedAt: new Date().toISOString(),
});
const started = (agent: string) => ({ type: 'agent.started', agent, step: `s/${agent}` }) as const;
const completed = (agent: string) =>
  ({
    type: 'agent.completed',
    agent,
    step: `s/${agent}`,
    durationMs: 1,
    attempts: 1,
    usage: { inputTokens: 1, outputTokens: 1 },
  }) as const;

describe('the Redis journal with step events', () => {
  let server: TestRedis;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  const eventTypes = async (runId: string) =>
    (await redis.xrange(runKeys(server.prefix, runId).events, '-', '+')).map(
      ([, f]) => `${(JSON.parse(f[1] ?? '{}') as { type: string }).type}`,
    );

  it('writes each step start and each entry with its event, in order, for the current attempt', async () => {
    const keys = runKeys(server.prefix, 'r1');
    await redis.hset(keys.record, 'attempt', '1');
    const journal = await openRedisJournal(redis, server.prefix, 'r1', { attempt: 1, stepEvents: true });
    const steps = journal.steps;
    if (!steps) throw new Error('a journal opened with stepEvents writes step events');
    await steps.announce(started('a'));
    await steps.complete('s/a', step(1), completed('a'));
    await steps.announce(started('b'));
    await steps.complete('s/b', step(2), completed('b'));
    await steps.flush();
    expect(await eventTypes('r1')).toEqual([
      'agent.started',
      'agent.completed',
      'agent.started',
      'agent.completed',
    ]);
    expect(Object.keys(await redis.hgetall(keys.journal)).sort()).toEqual(['s/a', 's/b']);
    const reopened = await openRedisJournal(redis, server.prefix, 'r1', 1);
    expect(reopened.get('s/b')).toMatchObject({ kind: 'step', value: 2 });
  });

  it('refuses the start, the entry and its event once a newer attempt owns the run', async () => {
    const keys = runKeys(server.prefix, 'r2');
    await redis.hset(keys.record, 'attempt', '1');
    const journal = await openRedisJournal(redis, server.prefix, 'r2', { attempt: 1, stepEvents: true });
    const steps = journal.steps;
    if (!steps) throw new Error('a journal opened with stepEvents writes step events');
    await steps.complete('s/a', step(1), completed('a'));
    await redis.hset(keys.record, 'attempt', '2');
    // Right after a confirmed write the start is pipelined: the entry that follows reports the refusal.
    await steps.announce(started('b')).catch(() => {});
    await expect(steps.complete('s/b', step(2), completed('b'))).rejects.toBeInstanceOf(
      AttemptSupersededError,
    );
    await expect(steps.announce(started('c'))).rejects.toBeInstanceOf(AttemptSupersededError);
    expect(await eventTypes('r2')).toEqual(['agent.completed']);
    expect(Object.keys(await redis.hgetall(keys.journal))).toEqual(['s/a']);
    expect(journal.get('s/b')).toBeUndefined();
  });

  it('does not open for an attempt that is already superseded', async () => {
    await redis.hset(runKeys(server.prefix, 'r3').record, 'attempt', '3');
    await expect(openRedisJournal(redis, server.prefix, 'r3', { attempt: 2 })).rejects.toBeInstanceOf(
      AttemptSupersededError,
    );
  });
});
