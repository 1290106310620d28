import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNS_QUEUE } from '../../src/queue/names.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startFleet } from '../worker/harness.js';
import { askingModel, humanTeamDir } from './support.js';

/**
 * Waiting runs cost no worker concurrency: 1,000 runs wait for a person at once on a worker with 4 slots, all
 * their jobs delayed and none active, and a new run still starts (and finishes) at once.
 */
const WAITING = 1_000;
let redis: TestRedis;
let fleet: Awaited<ReturnType<typeof startFleet>> | undefined;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await fleet?.stop();
  await redis?.stop();
});

describe(`${WAITING} runs waiting at once`, () => {
  it('hold no worker slot: a new run starts immediately', async () => {
    fleet = await startFleet(redis, { BATON_TEAMS_DIR: await humanTeamDir(), BATON_WORKER_CONCURRENCY: '4' });
    const worker = await fleet.addWorker({ model: askingModel().model });
    const queue = new Queue(RUNS_QUEUE, {
      connection: fleet.services.connect('probe'),
      prefix: fleet.config.redisPrefix,
    });
    const started = performance.now();
    for (let i = 0; i < WAITING; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, WAITING - i) }, (_, j) =>
          fleet?.client.createRun({ team: 'helpdesk', pattern: 'sequential', input: `Parcel ${i + j}?` }),
        ),
      );
    }
    // Every run reaches its question and lets go of its job.
    while ((await queue.getDelayedCount()) < WAITING) await new Promise((r) => setTimeout(r, 100));
    const waitingAfterMs = performance.now() - started;
    expect(await queue.getActiveCount()).toBe(0);
    expect(worker.activeRuns()).toEqual([]);

    const before = performance.now();
    const fresh = await fleet.client.createRun({
      team: 'plain',
      pattern: 'sequential',
      input: 'A short note.',
    });
    expect(fresh.body).toMatchObject({ status: 'queued' });
    const done = await fleet.client.waitForStatus(fresh.run.id, ['succeeded', 'failed']);
    const freshMs = performance.now() - before;
    expect(done.status).toBe('succeeded');
    expect(await queue.getDelayedCount()).toBe(WAITING);
    process.stdout.write(
      `${WAITING} runs waiting after ${Math.round(waitingAfterMs)} ms; a new run then finished in ${Math.round(freshMs)} ms\n`,
    );
    await queue.close();
  }, 300_000);
});
