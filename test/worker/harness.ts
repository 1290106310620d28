import { Worker } from 'bullmq';
import { pino } from 'pino';
import { AgentRuntime } from '../../src/agents/runtime.js';
import { buildApi } from '../../src/api/app.js';
import { loadConfig } from '../../src/config/index.js';
import type { ChatModel } from '../../src/core/model.js';
import type { RunLifecycle } from '../../src/lifecycle/lifecycle.js';
import { CircuitBreakers } from '../../src/policies/breakers.js';
import { RUNS_QUEUE } from '../../src/queue/names.js';
import { runKeys } from '../../src/runs/keys.js';
import type { RunRecord } from '../../src/runs/schema.js';
import { apiDeps, createServices, workerDeps } from '../../src/services.js';
import { type RunWorker, startRunWorker, type WorkerDeps } from '../../src/worker/run-worker.js';
import { API_KEYS, CLIENT_KEY, client } from '../support/baton.js';
import type { TestRedis } from '../support/redis.js';
import { subPrefix } from '../support/redis.js';

export interface WorkerOptions {
  /** The model every agent call of this worker goes to (default: the simulated model of the config). */
  model?: ChatModel;
  settings?: Partial<WorkerDeps['settings']>;
  /** Wraps the lifecycle this worker uses (a test may act between its steps). */
  lifecycle?: (real: RunLifecycle) => RunLifecycle;
}

/**
 * The API in this process over real HTTP and a real Redis, and in-process workers added one by one with their own
 * model, settings and lifecycle; `takeJob` takes a run's job the way a worker does and never processes it (a
 * worker that dies while holding it).
 */
export async function startFleet(redis: TestRedis, env: Record<string, string> = {}) {
  const config = loadConfig({
    REDIS_URL: redis.url,
    BATON_REDIS_PREFIX: subPrefix(redis.prefix, Math.random().toString(36).slice(2, 6)),
    BATON_API_KEYS: API_KEYS,
    BATON_SIMULATED_LATENCY_MS: '0',
    BATON_RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const log = pino({ level: 'silent' });
  const services = createServices(config, redis.url, log);
  const app = await buildApi(apiDeps(config, services, log));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const workers: RunWorker[] = [];
  const raws: Worker[] = [];

  const addWorker = async (options: WorkerOptions = {}): Promise<RunWorker & { deps: WorkerDeps }> => {
    const deps = workerDeps(config, services, log);
    deps.subscriber = services.connect('cancel-subscriber');
    deps.settings = { ...deps.settings, ...options.settings };
    if (options.lifecycle) deps.lifecycle = options.lifecycle(services.lifecycle);
    if (options.model) {
      const model = options.model;
      deps.breakers = new CircuitBreakers();
      deps.engine = {
        ...deps.engine,
        runtime: new AgentRuntime({
          models: { modelFor: () => model },
          breakers: deps.breakers,
          random: () => 0,
        }),
      };
    }
    const worker = await startRunWorker(deps);
    workers.push(worker);
    return Object.assign(worker, { deps });
  };

  /** Takes the run's job off the queue as a worker would (locked with `token`), and does nothing with it. */
  const takeJob = async (runId: string, token: string) => {
    const raw = new Worker(RUNS_QUEUE, null, {
      connection: services.connect('raw-worker'),
      prefix: config.redisPrefix,
      autorun: false,
    });
    raws.push(raw);
    const job = await raw.getNextJob(token);
    if (job?.id !== runId) throw new Error(`expected the job of ${runId}, got ${job?.id}`);
    return job;
  };

  const c = client(url, CLIENT_KEY);
  return {
    url,
    config,
    services,
    client: c,
    addWorker,
    takeJob,
    lockKey: (runId: string) => `${config.redisPrefix}:${RUNS_QUEUE}:${runId}:lock`,
    eventTypes: async (runId: string) =>
      (await services.redis.xrange(runKeys(config.redisPrefix, runId).events, '-', '+')).map(
        ([, fields]) => (JSON.parse(fields[1] ?? '{}') as { type: string }).type,
      ),
    run: async (runId: string) => (await c.call('GET', `/v1/runs/${runId}`)).body as unknown as RunRecord,
    async stop() {
      await app.close();
      for (const w of workers) await w.close();
      for (const r of raws) await r.close(true);
      await services.close();
    },
  };
}
