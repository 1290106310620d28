import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { toErrorInfo } from '../core/errors.js';
import type { RunLifecycle } from '../lifecycle/lifecycle.js';
import { indexKeys } from '../runs/keys.js';

/**
 * The reconciler: every path out of BullMQ must end the run record, and some do not by themselves — a worker that
 * dies between its job failing and its `failed` handler, a job that stalled for good while no worker was there to
 * see it, a job removed or lost with Redis data. Every worker ticks every `intervalMs`; the first to take the
 * interval's lock walks the runs that are not finished and asks the queue about their jobs (one pipelined read per
 * batch), and the lifecycle abandons (`RUN_ABANDONED`) those whose job has failed, completed or gone.
 */
export interface ReconcilerOptions {
  redis: Redis;
  prefix: string;
  lifecycle: RunLifecycle;
  log: Logger;
  workerId: string;
  intervalMs: number;
  /** Runs queued more recently are left alone: their job may not be on the queue yet. Default 10 s. */
  graceMs?: number;
  /** Runs asked about per round trip. Default 500. */
  batch?: number;
}

export interface Reconciler {
  /** One pass now, if this worker gets the interval's lock; the runs it abandoned. */
  pass(): Promise<string[]>;
  stop(): void;
}

const DEFAULT_GRACE_MS = 10_000;
const DEFAULT_BATCH = 500;
/** Batches per pass at most (a backlog larger than this is walked over several intervals). */
const MAX_BATCHES = 20;

export function startReconciler(options: ReconcilerOptions): Reconciler {
  const { redis, lifecycle, log, intervalMs } = options;
  const grace = options.graceMs ?? DEFAULT_GRACE_MS;
  const batch = options.batch ?? DEFAULT_BATCH;
  const lockKey = indexKeys(options.prefix).reconciler;

  const walk = async (): Promise<string[]> => {
    const before = Date.now() - grace;
    const abandoned: string[] = [];
    let offset = 0;
    for (let i = 0; i < MAX_BATCHES; i++) {
      const ids = await lifecycle.liveRunsBefore(before, batch, offset);
      if (ids.length === 0) break;
      const ended = await lifecycle.abandonOrphans(ids);
      abandoned.push(...ended);
      offset += ids.length - ended.length;
      if (ids.length < batch) break;
    }
    return abandoned;
  };

  const pass = async (): Promise<string[]> => {
    // One worker per interval: the lock expires on its own, so a worker that dies mid-pass holds nobody up.
    const won = await redis.set(lockKey, options.workerId, 'PX', intervalMs, 'NX');
    if (won === null) return [];
    const abandoned = await walk();
    if (abandoned.length > 0) log.warn({ runs: abandoned }, 'reconciler abandoned runs whose job had ended');
    return abandoned;
  };

  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    pass()
      .catch((err: unknown) => log.warn({ err: toErrorInfo(err) }, 'reconciler pass failed'))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return { pass, stop: () => clearInterval(timer) };
}
