import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AttemptSupersededError } from '../../src/core/errors.js';
import type { ChatModel, ChatRequest } from '../../src/core/model.js';
import { RunWrites } from '../../src/lifecycle/run-writes.js';
import { RedisEventLog } from '../../src/runs/events.js';
import { openRedisJournal } from '../../src/runs/journal.js';
import { simulatedModel } from '../../src/simulation/index.js';
import { ActiveAttempts } from '../../src/worker/attempts.js';
import { recording, sampleArticle } from '../support/engine.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startFleet } from './harness.js';

/**
 * A job whose lock is lost (Redis unreachable for longer than the lock) is delivered again while its first
 * attempt may still be executing. The attempt that lost its lock stops as a hand-over, and whatever it still
 * tries to write — a journal entry, the run's outcome — is refused: the attempt number is a fencing token.
 */
let redis: TestRedis;
let fleet: Awaited<ReturnType<typeof startFleet>> | undefined;

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});
afterAll(async () => {
  await redis?.stop();
});

const request = (tag: string) => ({
  team: 'news-desk',
  pattern: 'sequential',
  input: `${sampleArticle} (${tag})`,
});
const plain = () => simulatedModel({ latencyMs: [0, 0], failureRate: 0, hangRate: 0 });

/** Waits for `check` to hold, polling (what a test waits for is an event it cannot subscribe to). */
async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('an attempt that lost its job to a second delivery', () => {
  it('stops when it resumes: its journal write and its outcome are refused, the run completes once', async () => {
    fleet = await startFleet(redis);
    const inner = plain();
    let paused!: () => void;
    const reachedClassifier = new Promise<void>((resolve) => {
      paused = resolve;
    });
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => {
      resume = resolve;
    });
    // The first worker's classifier call stalls, and carries on (whatever its signal says) only when told to.
    const first = recording({
      provider: 'simulated',
      async complete(req: ChatRequest, options) {
        if (req.agent === 'classifier') {
          paused();
          await resumed;
        }
        return inner.complete(req, { ...options, signal: new AbortController().signal });
      },
    } satisfies ChatModel);
    const slow = { lockMs: 120_000, stalledIntervalMs: 300, concurrency: 1 };
    const w1 = await fleet.addWorker({ model: first, settings: slow });
    const { run } = await fleet.client.createRun(request('fenced'));
    await reachedClassifier;

    // The lock is lost; the job is found stalled and delivered to a second worker, which runs the run to its end.
    await fleet.services.redis.del(fleet.lockKey(run.id));
    const second = recording(plain());
    await fleet.addWorker({ model: second, settings: slow });
    const done = await fleet.client.waitForStatus(run.id, ['succeeded', 'failed', 'cancelled']);
    expect(done.status).toBe('succeeded');
    expect(done.attempt).toBe(2);
    const journalBefore = await fleet.services.redis.hgetall(
      `${fleet.config.redisPrefix}:run:${run.id}:journal`,
    );

    // The first attempt resumes: nothing it does reaches the run any more.
    resume();
    await until('the first attempt to end', () => w1.activeRuns().length === 0);
    expect(first.requests.map((r) => r.agent)).toEqual(['summarizer', 'classifier']);
    expect(await fleet.services.redis.hgetall(`${fleet.config.redisPrefix}:run:${run.id}:journal`)).toEqual(
      journalBefore,
    );
    const types = await fleet.eventTypes(run.id);
    expect(types.filter((t) => t === 'run.completed')).toHaveLength(1);
    expect(types.filter((t) => t === 'run.failed')).toHaveLength(0);
    expect(await fleet.run(run.id)).toMatchObject({ status: 'succeeded', attempt: 2 });
    // Each step was journaled once, by the attempt that owns the run.
    expect(second.requests.map((r) => r.agent)).toEqual(['classifier', 'extractor', 'analyst', 'editor']);
  });
});

describe('a job lock that cannot be renewed', () => {
  it('stops the attempt as a hand-over; the run resumes from its journal and completes', async () => {
    fleet = await startFleet(redis);
    const inner = plain();
    let hung = false;
    let hanging!: () => void;
    const hangs = new Promise<void>((resolve) => {
      hanging = resolve;
    });
    // The first classifier call hangs until its attempt is aborted; later calls answer.
    const model = recording({
      provider: 'simulated',
      complete(req: ChatRequest, options) {
        if (req.agent === 'classifier' && !hung) {
          hung = true;
          hanging();
          return new Promise((_, reject) => {
            options.signal.addEventListener('abort', () => reject(options.signal.reason), { once: true });
          });
        }
        return inner.complete(req, options);
      },
    } satisfies ChatModel);
    await fleet.addWorker({ model, settings: { lockMs: 1_000, stalledIntervalMs: 300, concurrency: 1 } });
    const { run } = await fleet.client.createRun(request('lock lost'));
    await hangs;
    await fleet.services.redis.del(fleet.lockKey(run.id));
    const done = await fleet.client.waitForStatus(run.id, ['succeeded', 'failed', 'cancelled']);
    expect(done.status).toBe('succeeded');
    expect(done.attempt).toBe(2);
    const types = await fleet.eventTypes(run.id);
    expect(types.filter((t) => t === 'run.completed')).toHaveLength(1);
    expect(types.filter((t) => t === 'run.failed')).toHaveLength(0);
    // The summarizer's answer was journaled by the first attempt and replayed by the second.
    expect(model.requests.map((r) => r.agent)).toEqual([
      'summarizer',
      'classifier',
      'classifier',
      'extractor',
      'analyst',
      'editor',
    ]);
  });
});

describe('fencing tokens', () => {
  it('refuse journal writes and outcomes of an attempt once a newer attempt started', async () => {
    fleet = await startFleet(redis);
    const { services, config } = fleet;
    const { run } = await fleet.client.createRun(request('tokens'));
    const writes = new RunWrites(
      services.redis,
      config.redisPrefix,
      60,
      new RedisEventLog(services.redis, config.redisPrefix),
    );
    const begun = await writes.startAttempt(run.id, new Date().toISOString());
    expect(begun.verdict).toBe('running');
    const first = begun.verdict === 'gone' ? 0 : begun.attempt;
    expect(begun.verdict === 'gone' ? undefined : JSON.parse(begun.fields.status ?? '')).toBe('running');
    const journal = await openRedisJournal(services.redis, config.redisPrefix, run.id, first);
    await journal.put('step/1', { kind: 'step', value: 1, completedAt: new Date().toISOString() });

    const again = await writes.startAttempt(run.id, new Date().toISOString());
    const second = again.verdict === 'gone' ? 0 : again.attempt;
    expect(second).toBe(first + 1);
    await expect(
      journal.put('step/2', { kind: 'step', value: 2, completedAt: new Date().toISOString() }),
    ).rejects.toBeInstanceOf(AttemptSupersededError);
    const outcome = {
      status: 'succeeded' as const,
      output: { text: 'x' },
      usage: { inputTokens: 1, outputTokens: 1, modelCalls: 1 },
      steps: [],
      definitionVersion: 'v',
    };
    expect(await writes.finish(run.id, outcome, { fence: first })).toBe('superseded');
    expect(await writes.finish(run.id, outcome, { fence: second })).toBe('finished');
    // Never twice, fenced or not.
    expect(await writes.finish(run.id, outcome, { fence: second })).toBe('finished-already');
    expect(await writes.finish(run.id, { ...outcome, status: 'cancelled' })).toBe('finished-already');
    expect(await fleet.eventTypes(run.id)).toEqual(['run.completed']);
    // A job for a run that does not exist creates nothing.
    expect(await writes.startAttempt('no-such-run', new Date().toISOString())).toEqual({ verdict: 'gone' });
    expect(await services.redis.exists(`${config.redisPrefix}:run:no-such-run`)).toBe(0);
  });

  it('a second delivery to the same worker supersedes the attempt still registered there', () => {
    const attempts = new ActiveAttempts();
    const a = attempts.register('r');
    const b = attempts.register('r');
    expect(a.controller.signal.reason).toBeInstanceOf(AttemptSupersededError);
    expect(b.tookOver).toBe(true);
    attempts.release(a);
    expect(attempts.runIds()).toEqual(['r']);
    attempts.release(b);
    expect(attempts.runIds()).toEqual([]);
  });
});
