import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { EngineDeps } from '../engine/index.js';
import type { RunLifecycle } from '../lifecycle/lifecycle.js';
import type { CircuitBreakers } from '../policies/breakers.js';
import type { FinishedRun } from '../queue/evals-queue.js';
import type { RedisEventLog } from '../runs/events.js';
import type { WebhookWorkerDeps } from './webhook-worker.js';

export interface WorkerDeps {
  /** For BullMQ (blocking commands); needs `maxRetriesPerRequest: null`. */
  connection: Redis;
  /** Run state reads and writes. */
  redis: Redis;
  /** A connection of its own for the cancel channel (a subscribed connection can do nothing else). */
  subscriber: Redis;
  lifecycle: RunLifecycle;
  events: RedisEventLog;
  /**
   * Where the engine journals steps and appends their events: one connection for both, so writes the engine does
   * not wait for each (a pipelined step start) still reach Redis in order.
   */
  steps: { redis: Redis; events: RedisEventLog };
  engine: EngineDeps;
  /** The breakers the engine's runtime uses: their state goes out with every heartbeat. */
  breakers: CircuitBreakers;
  log: Logger;
  /** Runs a run's execution on behalf of its tenant (the owner's key id), for fair shares of model capacity. */
  onBehalfOf?: <T>(tenant: string, fn: () => Promise<T>) => Promise<T>;
  /** Told of every run this worker finished (online evaluation samples them); must not throw. */
  runFinished?: (run: FinishedRun) => Promise<unknown>;
  /** Sends runs' webhook deliveries from this process too (when webhooks are configured). */
  webhooks?: Omit<WebhookWorkerDeps, 'log' | 'prefix'> | undefined;
  settings: {
    prefix: string;
    concurrency: number;
    lockMs: number;
    stalledIntervalMs: number;
    maxStalledCount: number;
    attempts: number;
    shutdownGraceMs: number;
    heartbeatIntervalMs: number;
    heartbeatTtlMs: number;
    /** How often the fleet reconciles runs with their jobs (one worker does it per interval). */
    reconcileIntervalMs: number;
    /** Runs queued more recently than this are not reconciled yet (default 10 s). */
    reconcileGraceMs?: number;
    /** How often the cancel flag of the runs executing here is read (a lost cancel message still arrives). */
    cancelPollMs?: number;
  };
}
