import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBenchEngine } from '../../bench/harness.js';
import type { ChatModel } from '../../src/core/model.js';
import { startRedis, type TestRedis } from '../support/redis.js';

/** Answers at once; counts its calls. */
function instant(): ChatModel & { calls: number } {
  const model = {
    provider: 'simulated' as const,
    calls: 0,
    async complete(request: Parameters<ChatModel['complete']>[0]) {
      model.calls += 1;
      return {
        message: { role: 'assistant' as const, content: `ok ${request.agent}` },
        toolCalls: [],
        usage: { inputTokens: 3, outputTokens: 2 },
        model: 'instant',
        finishReason: 'stop' as const,
      };
    },
  };
  return model;
}

const agent = (name: string) => ({ name, description: `agent ${name}`, instructions: `You are ${name}.` });
const seq4 = {
  name: 'seq4',
  description: '4-agent chain',
  agents: ['a1', 'a2', 'a3', 'a4'].map(agent),
  patterns: { sequential: { order: ['a1', 'a2', 'a3', 'a4'] } },
};

describe('createBenchEngine (the stable benchmark entry point)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    // The harness keeps the plain key layout (benchmarks measure a single Redis).
    redis = await startRedis({ layout: 'plain' });
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('runs a team document in-process through the full runtime', async () => {
    const model = instant();
    const engine = await createBenchEngine({ durable: false, model });
    const first = await engine.run(seq4, 'sequential', 'hi');
    const second = await engine.run(seq4, 'sequential', 'hi');
    await engine.close();
    for (const r of [first, second]) {
      expect(r.status).toBe('succeeded');
      expect(r.output?.text).toBe('ok a4');
      expect(r.steps.map((s) => s.agent)).toEqual(['a1', 'a2', 'a3', 'a4']);
      expect(r.usage).toMatchObject({ inputTokens: 12, outputTokens: 8, modelCalls: 4 });
    }
    expect(model.calls).toBe(8);
  });

  it('journals every step and appends ordered events in Redis when durable', async () => {
    const model = instant();
    const engine = await createBenchEngine({ durable: true, redisUrl: redis.url, model });
    const result = await engine.run(seq4, 'sequential', 'hi');
    await engine.close();
    expect(result.status).toBe('succeeded');
    expect(result.steps).toHaveLength(4);

    const conn = new Redis(redis.url);
    try {
      const [journalKey] = await conn.keys('*:run:bench-1:journal');
      expect(journalKey).toBeDefined();
      expect(Object.keys(await conn.hgetall(journalKey as string)).sort()).toEqual(
        result.steps.map((s) => s.key).sort(),
      );
      const stream = await conn.xrange((journalKey as string).replace(/:journal$/, ':events'), '-', '+');
      const types = stream.map(([, fields]) => (JSON.parse(fields[1] ?? '{}') as { type: string }).type);
      expect(types).toEqual([
        'run.started',
        ...['a1', 'a2', 'a3', 'a4'].flatMap(() => ['agent.started', 'agent.completed']),
      ]);
    } finally {
      conn.disconnect();
    }
  });

  it('refuses a durable engine without a Redis URL', async () => {
    await expect(createBenchEngine({ durable: true, model: instant() })).rejects.toThrow(/redisUrl/);
  });
});
