import { UnrecoverableError } from 'bullmq';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { indexKeys, runKeys, tenantKeys } from '../../src/runs/keys.js';
import { sampleArticle } from '../support/engine.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startFleet } from './harness.js';

/**
 * No run is left `running` (or `queued`) once its job can no longer run: a job failed for good by BullMQ's stall
 * limit is ended by the worker's `failed` handler whatever `attemptsMade` says, and the reconciler ends the runs
 * whose job failed, completed or vanished without anyone ending them.
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

describe('a job that stalled more than maxStalledCount times', () => {
  it('ends its run as RUN_ABANDONED although BullMQ reports attemptsMade 1', async () => {
    fleet = await startFleet(redis);
    const { run } = await fleet.client.createRun(request('stalled'));
    // A worker takes the job, starts the run, and dies: its lock is gone and nobody will renew it.
    await fleet.takeJob(run.id, 'dead-worker');
    expect((await fleet.services.lifecycle.start(run.id)).kind).toBe('run');
    await fleet.services.redis.del(fleet.lockKey(run.id));
    expect((await fleet.run(run.id)).status).toBe('running');

    // The next worker finds the job stalled once more than allowed: BullMQ fails it when the worker takes it.
    await fleet.addWorker({
      settings: { maxStalledCount: 0, attempts: 5, stalledIntervalMs: 300, lockMs: 1_000 },
    });
    const ended = await fleet.client.waitForStatus(run.id, ['failed', 'succeeded', 'cancelled']);
    expect(ended.status).toBe('failed');
    expect(ended.error?.code).toBe('RUN_ABANDONED');
    expect(ended.error?.message).toMatch(/stalled more than allowable limit/);
    const job = await fleet.services.queue.getJob(run.id);
    expect(job?.attemptsMade).toBeLessThan(5);
    expect(await fleet.eventTypes(run.id)).toEqual(['run.failed']);
  });
});

describe('the reconciler', () => {
  const reconciling = { reconcileIntervalMs: 200, reconcileGraceMs: 0 };

  it('abandons a run whose job vanished', async () => {
    fleet = await startFleet(redis);
    const { run } = await fleet.client.createRun(request('vanished'));
    await fleet.services.queue.remove(run.id);
    await fleet.addWorker({ settings: reconciling });
    const ended = await fleet.client.waitForStatus(run.id, ['failed', 'succeeded', 'cancelled']);
    expect(ended.status).toBe('failed');
    expect(ended.error).toMatchObject({
      code: 'RUN_ABANDONED',
      message: expect.stringMatching(/job is gone/),
    });
  });

  it('abandons a run whose job failed for good while no worker was there to end it', async () => {
    fleet = await startFleet(redis);
    const { run } = await fleet.client.createRun(request('failed job'));
    const job = await fleet.takeJob(run.id, 'crashing-worker');
    expect((await fleet.services.lifecycle.start(run.id)).kind).toBe('run');
    await job.moveToFailed(new UnrecoverableError('worker crashed after failing the job'), 'crashing-worker');
    expect((await fleet.run(run.id)).status).toBe('running');

    await fleet.addWorker({ settings: reconciling });
    const ended = await fleet.client.waitForStatus(run.id, ['failed', 'succeeded', 'cancelled']);
    expect(ended.error).toMatchObject({
      code: 'RUN_ABANDONED',
      message: "The run's job failed: worker crashed after failing the job",
    });
  });

  it('leaves live runs alone, and one worker per interval does the work', async () => {
    fleet = await startFleet(redis);
    const waiting = (await fleet.client.createRun(request('waits'))).run;
    const orphan = (await fleet.client.createRun(request('orphan'))).run;
    await fleet.services.queue.remove(orphan.id);
    const { startReconciler } = await import('../../src/worker/reconciler.js');
    const { services, config } = fleet;
    const make = (workerId: string) =>
      startReconciler({
        redis: services.redis,
        prefix: config.redisPrefix,
        lifecycle: services.lifecycle,
        log: pino({ level: 'silent' }),
        workerId,
        intervalMs: 60_000,
        graceMs: 0,
      });
    const [a, b] = [make('a'), make('b')];
    try {
      const passes = await Promise.all([a.pass(), b.pass()]);
      expect(passes.flat()).toEqual([orphan.id]);
      expect(passes.filter((p) => p.length > 0)).toHaveLength(1);
    } finally {
      a.stop();
      b.stop();
    }
    expect((await fleet.run(waiting.id)).status).toBe('queued');
    expect((await fleet.run(orphan.id)).error?.code).toBe('RUN_ABANDONED');
  });

  it('takes a finished run whose finisher stopped half-way out of the live indexes', async () => {
    fleet = await startFleet(redis);
    const { run } = await fleet.client.createRun(request('half-finished'));
    const { services, config } = fleet;
    const owner = (await services.redis.hget(runKeys(config.redisPrefix, run.id).record, 'owner')) ?? '';
    // The run's half of the finish was written (its record says succeeded, its job completed); the indexes' not.
    await services.redis.hset(
      runKeys(config.redisPrefix, run.id).record,
      'status',
      JSON.stringify('succeeded'),
    );
    await services.queue.remove(run.id);
    const live = () =>
      Promise.all([
        services.redis.zscore(indexKeys(config.redisPrefix).live, run.id),
        services.redis.zscore(tenantKeys(config.redisPrefix, owner).live, run.id),
      ]);
    expect((await live()).every((score) => score !== null)).toBe(true);
    const { startReconciler } = await import('../../src/worker/reconciler.js');
    const reconciler = startReconciler({
      redis: services.redis,
      prefix: config.redisPrefix,
      lifecycle: services.lifecycle,
      log: pino({ level: 'silent' }),
      workerId: 'w',
      intervalMs: 60_000,
      graceMs: 0,
    });
    try {
      expect(await reconciler.pass()).toEqual([]);
    } finally {
      reconciler.stop();
    }
    expect(await live()).toEqual([null, null]);
    expect((await fleet.run(run.id)).status).toBe('succeeded');
  });
});
