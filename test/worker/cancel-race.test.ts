import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatModel } from '../../src/core/model.js';
import type { RunLifecycle } from '../../src/lifecycle/lifecycle.js';
import { runKeys } from '../../src/runs/keys.js';
import { simulatedModel } from '../../src/simulation/index.js';
import { recording, sampleArticle } from '../support/engine.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startFleet } from './harness.js';

/**
 * A cancel is a flag on the record plus a message to every worker. The worker must not lose one that arrives while
 * it starts the run — after it read the record, before it would have listened for the run — nor one whose message
 * never reached it.
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

describe('a cancel that arrives while the worker starts the run', () => {
  it('is not lost: the run ends cancelled and no model is called', async () => {
    fleet = await startFleet(redis);
    const { services } = fleet;
    const model = recording(simulatedModel({ latencyMs: [0, 0], failureRate: 0, hangRate: 0 }));
    let delivered: Promise<void> = Promise.resolve();
    const worker = await fleet.addWorker({
      model,
      // Between reading the record (no cancel yet) and going on, the run is cancelled, and the cancel message
      // has reached this worker's subscriber before the worker continues: the window, every time.
      lifecycle: (real: RunLifecycle) => {
        const wrapped = Object.create(real) as RunLifecycle;
        wrapped.start = async (runId) => {
          const decision = await real.start(runId);
          const stored = await services.store.get(runId);
          if (stored) {
            delivered = new Promise<void>((resolve) => {
              const onMessage = (_channel: string, id: string) => {
                if (id !== runId) return;
                worker.deps.subscriber.off('message', onMessage);
                resolve();
              };
              worker.deps.subscriber.on('message', onMessage);
            });
            await real.cancel(stored);
            await delivered;
          }
          return decision;
        };
        return wrapped;
      },
    });
    const { run } = await fleet.client.createRun(request('cancel while starting'));
    const ended = await fleet.client.waitForStatus(run.id, ['cancelled', 'succeeded', 'failed']);
    expect(ended.status).toBe('cancelled');
    expect(model.requests).toHaveLength(0);
    expect(
      (await fleet.eventTypes(run.id)).filter((t) => t.startsWith('run.') && t !== 'run.started'),
    ).toEqual(['run.cancelled']);
  });
});

describe('a cancel whose message never reached the worker', () => {
  it('is found on the record and aborts the run all the same', async () => {
    fleet = await startFleet(redis);
    let started!: () => void;
    const calledModel = new Promise<void>((resolve) => {
      started = resolve;
    });
    // Every model call hangs until the run is aborted.
    const hanging: ChatModel = {
      provider: 'simulated',
      complete: (_request, { signal }) =>
        new Promise((_, reject) => {
          started();
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
    };
    await fleet.addWorker({ model: hanging, settings: { cancelPollMs: 100 } });
    const { run } = await fleet.client.createRun(request('lost message'));
    await calledModel;
    // The flag is set, but the message is lost (as when the worker's subscription was down).
    await fleet.services.redis.hset(
      runKeys(fleet.config.redisPrefix, run.id).record,
      'cancelRequested',
      'true',
    );
    const ended = await fleet.client.waitForStatus(run.id, ['cancelled', 'succeeded', 'failed']);
    expect(ended.status).toBe('cancelled');
  });
});
