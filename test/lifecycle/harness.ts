import { pino } from 'pino';
import { buildApi } from '../../src/api/app.js';
import { type Config, loadConfig } from '../../src/config/index.js';
import type { RunQueue } from '../../src/core/ports.js';
import { RunLifecycle } from '../../src/lifecycle/lifecycle.js';
import { RunWrites } from '../../src/lifecycle/run-writes.js';
import { createModelAllowList } from '../../src/policies/model-allowlist.js';
import { runQueuePort } from '../../src/queue/runs-queue.js';
import type { RunRequest } from '../../src/runs/schema.js';
import { apiDeps, createServices, type Services } from '../../src/services.js';
import { modelEnvironment } from '../../src/teams/models.js';
import { API_KEYS } from '../support/baton.js';
import type { TestRedis } from '../support/redis.js';
import { subPrefix } from '../support/redis.js';

/**
 * The API in this process over real HTTP and a real Redis, with no worker, and a run lifecycle whose queue port a
 * test may wrap (an enqueue that fails, a job that vanishes).
 */
export async function startLifecycleApi(
  redis: TestRedis,
  options: {
    env?: Record<string, string>;
    queue?: (real: RunQueue<RunRequest>) => RunQueue<RunRequest>;
    /** Wraps the lifecycle's writes (a write that fails half-way). */
    writes?: (real: RunWrites) => RunWrites;
  } = {},
) {
  const config: Config = loadConfig({
    REDIS_URL: redis.url,
    BATON_REDIS_PREFIX: subPrefix(redis.prefix, Math.random().toString(36).slice(2, 6)),
    BATON_API_KEYS: API_KEYS,
    BATON_RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const log = pino({ level: 'silent' });
  const services: Services = createServices(config, redis.url, log);
  const real = runQueuePort(services.queue, services.redis);
  const lifecycle = new RunLifecycle({
    redis: services.redis,
    prefix: config.redisPrefix,
    store: services.store,
    writes: (options.writes ?? ((w) => w))(
      new RunWrites(services.redis, config.redisPrefix, config.retentionSeconds, services.events),
    ),
    queue: options.queue ? options.queue(real) : real,
    teams: services.teams,
    modelEnvironment: modelEnvironment(config),
    models: createModelAllowList(config),
    tenantLimits: config.tenantLimits,
    log,
  });
  const deps = { ...apiDeps(config, services, log), lifecycle };
  const app = await buildApi(deps);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    config,
    services,
    lifecycle,
    /** The queue as it is, unwrapped. */
    queue: real,
    async stop() {
      await app.close();
      await services.close();
    },
  };
}
