import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { CircuitBreakers } from './policies/breakers.js';
import { catalog } from './teams/catalog/index.js';
import { withPolicyOverrides } from './teams/policy-overrides.js';
import { AgentRuntime } from './agents/runtime.js';
import { ApiKeys } from './api/auth.js';
import type { ApiDeps } from './api/deps.js';
import type { Config } from './config/index.js';
import type { EngineDeps } from './engine/index.js';
import { type BatonModelRouter, createModelRouter } from './policies/model-router.js';
import { orchestrators } from './orchestrators/index.js';
import { createRunsQueue } from './queue/runs-queue.js';
import type { WorkerDeps } from './worker/run-worker.js';
import { RedisEventLog } from './runs/events.js';
import { RunStore } from './runs/store.js';
import { engineTelemetry, runtimeTelemetry } from './telemetry/hooks.js';

/**
 * The composition root: builds the process's shared services from config. Every dependency is created here
 * and passed down; nothing below reads the environment or holds a module-level singleton.
 */
export interface Services {
  /** Opens a named connection that `close()` will quit. */
  connect(name: string): Redis;
  redis: Redis;
  store: RunStore;
  events: RedisEventLog;
  breakers: CircuitBreakers;
  close(): Promise<void>;
}

function connectRedis(url: string, log: Logger, name: string): Redis {
  // BullMQ needs maxRetriesPerRequest: null on the connections its workers block on.
  const redis = new Redis(url, { maxRetriesPerRequest: null, connectionName: `baton-${name}` });
  redis.on('error', (err) => log.warn({ err: err.message, connection: name }, 'redis connection error'));
  return redis;
}

export function createServices(config: Config, redisUrl: string, log: Logger): Services {
  const connections: Redis[] = [];
  const connect = (name: string) => {
    const conn = connectRedis(redisUrl, log, name);
    connections.push(conn);
    return conn;
  };
  const redis = connect('state');
  return {
    connect,
    redis,
    store: new RunStore(redis, config.redisPrefix, config.retentionSeconds),
    events: new RedisEventLog(redis, config.redisPrefix),
    breakers: new CircuitBreakers(),
    async close() {
      await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}

export function engineDeps(
  config: Config,
  services: Services,
  log: Logger,
  models: BatonModelRouter = createModelRouter(config),
): EngineDeps {
  return {
    runtime: new AgentRuntime({
      models,
      breakers: services.breakers,
      costOf: models.costOf,
      hooks: runtimeTelemetry({ captureContent: config.telemetry.captureContent }),
    }),
    teams: withPolicyOverrides(catalog, config.agentPolicy),
    orchestrators,
    log,
    captureContent: config.telemetry.captureContent,
    hooks: engineTelemetry(),
  };
}

export function apiDeps(config: Config, services: Services, log: Logger): ApiDeps {
  if (!config.apiKeys?.length) throw new Error('BATON_API_KEYS is not set.');
  return {
    config,
    redis: services.redis,
    store: services.store,
    events: services.events,
    queue: createRunsQueue(services.connect('queue'), {
      prefix: config.redisPrefix,
      attempts: config.worker.jobAttempts,
      retentionSeconds: config.retentionSeconds,
    }),
    teams: withPolicyOverrides(catalog, config.agentPolicy),
    keys: new ApiKeys(config.apiKeys),
    log,
  };
}

export function workerDeps(config: Config, services: Services, log: Logger): WorkerDeps {
  return {
    connection: services.connect('worker'),
    redis: services.redis,
    subscriber: services.connect('cancel-subscriber'),
    store: services.store,
    events: services.events,
    engine: engineDeps(config, services, log),
    breakers: services.breakers,
    log,
    settings: {
      prefix: config.redisPrefix,
      concurrency: config.worker.concurrency,
      lockMs: config.worker.lockMs,
      stalledIntervalMs: config.worker.stalledIntervalMs,
      maxStalledCount: config.worker.jobAttempts,
      attempts: config.worker.jobAttempts,
      shutdownGraceMs: config.worker.shutdownGraceMs,
      heartbeatIntervalMs: config.worker.heartbeatIntervalMs,
      heartbeatTtlMs: config.worker.heartbeatTtlMs,
    },
  };
}
