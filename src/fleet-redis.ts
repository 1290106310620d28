import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';
import type { Coordination, CoordinationEvents, LuaScript } from './policies/coordination.js';
import { openRedis, type RedisTarget } from './runs/redis-connection.js';
import { type RedisScript, redisScript } from './runs/redis-script.js';

/**
 * The fleet's coordination port over ioredis. Its connection has no offline queue and a command timeout: while
 * Redis is unreachable or slow, calls reject within `timeoutMs` instead of waiting for a reconnect, and the
 * policies apply their per-process limits meanwhile.
 */
export function redisCoordination(
  target: RedisTarget,
  prefix: string,
  timeoutMs: number,
  log: Logger,
): Coordination & { close(): Promise<void> } {
  const redis = openRedis(target, {
    connectionName: 'baton-fleet',
    enableOfflineQueue: false,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    // Reconnect quickly after an outage: the limits come back with the connection.
    retryStrategy: (times) => Math.min(50 * times, 500),
  });
  redis.on('error', (err) => log.debug({ err: err.message }, 'fleet coordination connection error'));
  const scripts = new Map<LuaScript, RedisScript>();
  const scriptFor = (script: LuaScript) => {
    let bound = scripts.get(script);
    if (!bound) {
      bound = redisScript(script.source);
      scripts.set(script, bound);
    }
    return bound;
  };
  /** A connection that is (re)connecting gets `timeoutMs` to become ready, as a command would. */
  const ready = () =>
    redis.status === 'ready'
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            redis.off('ready', onReady);
            reject(new Error(`Redis not ready within ${timeoutMs} ms (${redis.status})`));
          }, timeoutMs);
          const onReady = () => {
            clearTimeout(timer);
            resolve();
          };
          redis.once('ready', onReady);
        });
  return {
    prefix,
    async run(script, keys, args) {
      await ready();
      return scriptFor(script)(redis, keys, args);
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** Logs each change between fleet-wide limits and the local fallback. */
export function loggedCoordinationEvents(log: Logger): CoordinationEvents {
  return {
    degraded: (what, err) =>
      log.warn(
        { limits: what, err: err instanceof Error ? err.message : String(err) },
        'Redis did not answer in time: per-worker limits apply until it does',
      ),
    recovered: (what) => log.info({ limits: what }, 'fleet-wide limits apply again'),
  };
}

/** Which tenant the code running now works for: the worker sets it around a run, the fleet quota reads it. */
export interface TenantScope {
  current(): string | undefined;
  run<T>(tenant: string, fn: () => Promise<T>): Promise<T>;
}

export function tenantScope(): TenantScope {
  const storage = new AsyncLocalStorage<string>();
  return {
    current: () => storage.getStore(),
    run: (tenant, fn) => storage.run(tenant, fn),
  };
}
