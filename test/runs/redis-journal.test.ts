import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentResult } from '../../src/core/agent.js';
import { AttemptSupersededError } from '../../src/core/errors.js';
import { elapsedMs } from '../../src/core/time.js';
import { RedisEventLog } from '../../src/runs/events.js';
import { type JournalEntry, openRedisJournal, type StepWrites } from '../../src/runs/journal.js';
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

describe('the Redis journal with step events', () => {
  const eventTypes = async (runId: string) =>
    (await redis.xrange(runKeys(server.prefix, runId).events, '-', '+')).map(
      ([, f]) => `${(JSON.parse(f[1] ?? '{}') as { type: string }).type}`,
    );
  /**
   * The types of the events in `stream` once it holds at least `count`: blocking reads on a connection of their own
   * (the journal's writes go on meanwhile), each from the last event read.
   */
  const awaitEventTypes = async (stream: string, count: number): Promise<string[]> => {
    const reader = redis.duplicate();
    const types: string[] = [];
    try {
      let after = '0';
      while (types.length < count) {
        const read = await reader.xread('BLOCK', 10_000, 'STREAMS', stream, after);
        const entries = read?.[0]?.[1] ?? [];
        if (entries.length === 0) break;
        for (const [id, fields] of entries) {
          types.push((JSON.parse(fields[1] ?? '{}') as { type: string }).type);
          after = id;
        }
      }
    } finally {
      reader.disconnect();
    }
    return types;
  };
  /**
   * The journal of attempt 1 of `runId` (its record made current first), with its step writes. A `clock` that
   * does not move keeps every confirmation fresh, however slowly the test runs.
   */
  const openAttemptOne = async (runId: string, clock?: () => number) => {
    const keys = runKeys(server.prefix, runId);
    await redis.hset(keys.record, 'attempt', '1');
    const journal = await openRedisJournal(redis, server.prefix, runId, {
      attempt: 1,
      stepEvents: true,
      ...(clock ? { clock } : {}),
    });
    const steps = journal.steps;
    if (!steps) throw new Error('a journal opened with stepEvents writes step events');
    return { keys, journal, steps };
  };

  it('writes each step start and each entry with its event, in order, for the current attempt', async () => {
    const { keys, steps } = await openAttemptOne('r1');
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
    // A clock that does not move: the start after the confirmed write is held, however slowly the test runs.
    const { keys, journal, steps } = await openAttemptOne('r2', () => 0);
    await steps.complete('s/a', step(1), completed('a'));
    await redis.hset(keys.record, 'attempt', '2');
    // Right after a confirmed write the start is held: the entry that carries it reports the refusal.
    await steps.announce(started('b'));
    await expect(steps.complete('s/b', step(2), completed('b'))).rejects.toBeInstanceOf(
      AttemptSupersededError,
    );
    await expect(steps.announce(started('c'))).rejects.toBeInstanceOf(AttemptSupersededError);
    expect(await eventTypes('r2')).toEqual(['agent.completed']);
    expect(Object.keys(await redis.hgetall(keys.journal))).toEqual(['s/a']);
    expect(journal.get('s/b')).toBeUndefined();
  });

  /** Script calls the server has run (fenced writes: `EVALSHA`, or `EVAL` when the script was not cached). */
  const scriptCalls = async () => {
    const stats = await redis.info('commandstats');
    return (
      Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0) +
      Number(/cmdstat_eval:calls=(\d+)/.exec(stats)?.[1] ?? 0)
    );
  };

  /** Two steps — the first streams a delta — and the flush at the end; how many script calls they took. */
  const twoSteps = async (steps: StepWrites) => {
    const before = await scriptCalls();
    await steps.announce(started('a'));
    await steps.emit({ type: 'agent.delta', agent: 'a', step: 's/a', text: 'he' });
    await steps.complete('s/a', step(1), completed('a'));
    await steps.announce(started('b'));
    await steps.complete('s/b', step(2), completed('b'));
    await steps.flush();
    return (await scriptCalls()) - before;
  };
  const twoStepsEvents = [
    'agent.started',
    'agent.delta',
    'agent.completed',
    'agent.started',
    'agent.completed',
  ];

  it('checks the attempt before a start that comes more than a moment after the last confirmed write', async () => {
    // Every reading of the clock is 2 ms after the one before: no confirmation is fresh when a start comes.
    let now = 0;
    const { steps } = await openAttemptOne('r11', () => {
      now += 2;
      return now;
    });
    // Each start is a fenced write of its own, waited for before the step goes on.
    expect(await twoSteps(steps)).toBe(5);
    expect(await eventTypes('r11')).toEqual(twoStepsEvents);
  });

  it("sends a quick step's start with its entry: one fenced write for the step, events in order", async () => {
    // A quick step: no time passes between a confirmed write and the next start.
    const { steps } = await openAttemptOne('r4', () => 0);
    // The delta's write takes the held start with it; step b's start rides with its entry.
    expect(await twoSteps(steps)).toBe(3);
    expect(await eventTypes('r4')).toEqual(twoStepsEvents);
  });

  it("writes a slow step's start on its own while the step runs", async () => {
    const { keys, steps } = await openAttemptOne('r5');
    await steps.announce(started('a'));
    // No entry follows: the start reaches the stream anyway.
    expect(await awaitEventTypes(keys.events, 1)).toEqual(['agent.started']);
    await steps.complete('s/a', step(1), completed('a'));
    expect(await eventTypes('r5')).toEqual(['agent.started', 'agent.completed']);
  });

  it("writes a start held after a quick step's entry on its own when no entry follows", async () => {
    // Step a is quick (its start rides with its entry); step b's start is held by the same hold, then b runs long.
    const { keys, steps } = await openAttemptOne('r12', () => 0);
    await steps.announce(started('a'));
    await steps.complete('s/a', step(1), completed('a'));
    await steps.announce(started('b'));
    expect(await awaitEventTypes(keys.events, 3)).toEqual([
      'agent.started',
      'agent.completed',
      'agent.started',
    ]);
    await steps.complete('s/b', step(2), completed('b'));
    await steps.flush();
    expect(await eventTypes('r12')).toEqual([
      'agent.started',
      'agent.completed',
      'agent.started',
      'agent.completed',
    ]);
  });

  it('refuses held starts with the write that carries them once a newer attempt owns the run', async () => {
    // A clock that does not move: the start is held however long the write below takes on a loaded machine.
    const { keys, steps } = await openAttemptOne('r6', () => 0);
    await redis.hset(keys.record, 'attempt', '2');
    await steps.announce(started('a'));
    await expect(steps.flush()).rejects.toBeInstanceOf(AttemptSupersededError);
    expect(await eventTypes('r6')).toEqual([]);
  });

  it('opened from what the start read, reads nothing and still fences its writes', async () => {
    const keys = runKeys(server.prefix, 'r10');
    await redis.hset(keys.record, 'attempt', '1');
    const stored = { 's/a': JSON.stringify(step(7)) };
    const journal = await openRedisJournal(redis, server.prefix, 'r10', {
      attempt: 1,
      stepEvents: true,
      stored,
    });
    // The entry came from `stored` only: Redis holds no journal for this run.
    expect(journal.get('s/a')).toMatchObject({ kind: 'step', value: 7 });
    expect(await redis.exists(keys.journal)).toBe(0);
    await redis.hset(keys.record, 'attempt', '2');
    await expect(journal.steps?.complete('s/b', step(8), completed('b'))).rejects.toBeInstanceOf(
      AttemptSupersededError,
    );
    expect(await redis.hget(keys.journal, 's/b')).toBeNull();
  });

  it('does not open for an attempt that is already superseded', async () => {
    await redis.hset(runKeys(server.prefix, 'r3').record, 'attempt', '3');
    await expect(openRedisJournal(redis, server.prefix, 'r3', { attempt: 2 })).rejects.toBeInstanceOf(
      AttemptSupersededError,
    );
  });
});

describe("a run's event stream", () => {
  it("stores events without the run id (the stream is the run's own) and reads them back with it", async () => {
    const runId = '7b0c2a52-34c8-4f3e-9a4e-0d2f1b6c9e01';
    const log = new RedisEventLog(redis, server.prefix);
    await log.append(runId, started('a'));
    await redis.hset(runKeys(server.prefix, runId).record, 'attempt', '1');
    const journal = await openRedisJournal(redis, server.prefix, runId, { attempt: 1, stepEvents: true });
    await journal.steps?.complete('s/a', step(1), completed('a'));
    const raw = await redis.xrange(runKeys(server.prefix, runId).events, '-', '+');
    expect(raw).toHaveLength(2);
    for (const [, fields] of raw) {
      expect(fields[1]).not.toContain(runId);
      expect(JSON.parse(fields[1] ?? '{}')).toHaveProperty('at');
    }
    const read = await log.read(runId, '0');
    expect(read.map((e) => [e.event.type, e.event.runId])).toEqual([
      ['agent.started', runId],
      ['agent.completed', runId],
    ]);
    // An entry written by an earlier version, with the run id inside, reads the same.
    const old = { ...started('b'), runId, at: new Date().toISOString() };
    await redis.xadd(runKeys(server.prefix, runId).events, '*', 'e', JSON.stringify(old));
    expect((await log.read(runId, '0')).at(-1)?.event).toMatchObject({
      type: 'agent.started',
      agent: 'b',
      runId,
    });
  });
});

describe('stored journal entries', () => {
  const agentEntry = (result: Partial<AgentResult>): JournalEntry => ({
    kind: 'agent',
    ok: true,
    result: {
      key: 'seq/0/agent:a',
      agent: 'a',
      text: '{"title":"t","n":1}',
      structured: { title: 't', n: 1 },
      toolCalls: [],
      usage: { inputTokens: 10, outputTokens: 2 },
      attempts: 1,
      durationMs: 1.5,
      model: 'm',
      ...result,
    },
    usage: { inputTokens: 10, outputTokens: 2 },
    modelCalls: 1,
    startedAt: '2026-11-30T00:00:00.000Z',
    completedAt: '2026-11-30T00:00:00.002Z',
  });

  it('leave out what the entry says elsewhere, and read back exactly as written', async () => {
    const cases: [string, JournalEntry][] = [
      ['seq/0/agent:a', agentEntry({})],
      // Structured answers that are not the text parsed, usage of the last attempt only, tool calls, another key.
      ['seq/1/agent:a', agentEntry({ structured: { title: 't', n: 1, added: true } })],
      ['seq/2/agent:a', agentEntry({ usage: { inputTokens: 5, outputTokens: 1 }, key: 'elsewhere' })],
      [
        'seq/3/agent:a',
        agentEntry({ toolCalls: [{ id: 'c1', name: 'kb', arguments: '{}' }], structured: undefined }),
      ],
      ['seq/4/agent:a', agentEntry({ text: 'not json', structured: 'not json' })],
      ['seq/5/step', step(5)],
    ];
    await redis.hset(runKeys(server.prefix, 'r9').record, 'attempt', '1');
    const journal = await openRedisJournal(redis, server.prefix, 'r9', 1);
    for (const [k, entry] of cases) await journal.put(k, entry);
    const stored = await redis.hget(runKeys(server.prefix, 'r9').journal, 'seq/0/agent:a');
    expect(stored).not.toContain('"key"');
    expect(stored).not.toContain('"toolCalls"');
    expect(stored).not.toContain('"structured"');
    expect(JSON.parse(stored ?? '{}').result.usage).toBeUndefined();
    const reopened = await openRedisJournal(redis, server.prefix, 'r9', 1);
    for (const [k, entry] of cases) expect(reopened.get(k)).toStrictEqual(JSON.parse(JSON.stringify(entry)));
  });
});

describe('durations as they are journaled', () => {
  it('are kept to the microsecond: no timer noise in every finished run', () => {
    const started = performance.now() - 12.3456789;
    const elapsed = elapsedMs(started);
    expect(elapsed).toBeGreaterThanOrEqual(12.345);
    expect(Math.round(elapsed * 1000) / 1000).toBe(elapsed);
  });
});
