import { pino } from 'pino';
import { buildApi } from '../../src/api/app.js';
import type { ApiDeps } from '../../src/api/deps.js';
import { loadConfig } from '../../src/config/index.js';
import { apiDeps, createServices, workerDeps } from '../../src/services.js';
import { startRunWorker } from '../../src/worker/run-worker.js';
import { API_KEYS } from './baton.js';
import type { TestRedis } from './redis.js';
import { subPrefix } from './redis.js';

/** The API (and optionally a worker) in this process over real HTTP and a real Redis. */
export async function startService(
  redis: TestRedis,
  env: Record<string, string> = {},
  withWorker = true,
  /** Changes the API's dependencies before the API is built (e.g. a verifier with test settings). */
  adjust: (deps: ApiDeps) => ApiDeps = (deps) => deps,
) {
  const config = loadConfig({
    REDIS_URL: redis.url,
    BATON_REDIS_PREFIX: subPrefix(redis.prefix, Math.random().toString(36).slice(2, 6)),
    BATON_API_KEYS: API_KEYS,
    BATON_SIMULATED_LATENCY_MS: '0',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const log = pino({ level: 'silent' });
  const services = createServices(config, redis.url, log);
  const worker = withWorker ? await startRunWorker(workerDeps(config, services, log)) : undefined;
  const deps = adjust(apiDeps(config, services, log));
  const app = await buildApi({ ...deps, localBreakers: () => services.breakers.snapshot() });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: address,
    app,
    config,
    services,
    deps,
    async stop() {
      await app.close();
      await worker?.close();
      await deps.queue.close();
      await services.close();
    },
  };
}
