import type { Queue } from 'bullmq';
import type { ChainableCommander, Redis } from 'ioredis';
import { RUNS_QUEUE } from './names.js';

/**
 * Queue statistics for operators (`GET /v1/queue`, the ops page) and for the queue gauges: one collector so
 * the API and the metrics report the same numbers.
 *
 * Throughput comes from a sorted set that workers write when they finish a run (score = finish time), trimmed
 * to the last few minutes on every write: `<prefix>:stats:finished`.
 */

export const THROUGHPUT_WINDOW_MS = 60_000;
/** How much finish history is kept (the window plus slack for clocks and slow readers). */
const FINISHED_KEEP_MS = 5 * 60_000;

export type FinishedStatus = 'succeeded' | 'failed' | 'cancelled';

export function statsKeys(prefix: string) {
  return { finished: `${prefix}:stats:finished` };
}

/**
 * Counts a finished run in the throughput statistics: adds its commands to `tx`, a transaction on the prefix's
 * slot (the one in which the run's finisher also takes it off the live indexes).
 */
export function countRunFinished(
  tx: ChainableCommander,
  prefix: string,
  runId: string,
  status: FinishedStatus,
  now = Date.now(),
): ChainableCommander {
  const key = statsKeys(prefix).finished;
  return tx
    .zadd(key, now, `${now}:${status}:${runId}`)
    .zremrangebyscore(key, '-inf', now - FINISHED_KEEP_MS)
    .pexpire(key, FINISHED_KEEP_MS);
}

export interface QueueStats {
  queue: string;
  /** Paused: workers take no new jobs; new runs are accepted and wait. */
  paused: boolean;
  counts: { waiting: number; active: number; delayed: number; failed: number; completed: number };
  /** Age of the oldest job waiting for a worker, in ms; null when none waits. */
  oldestWaitingAgeMs: number | null;
  /** Runs workers finished in the last `windowSeconds`, by outcome. */
  throughput: {
    windowSeconds: number;
    finished: number;
    succeeded: number;
    failed: number;
    cancelled: number;
  };
  collectedAt: string;
}

/** Collects the statistics of the runs queue: BullMQ counts, the oldest waiting job and recent throughput. */
export async function collectQueueStats(
  queue: Queue,
  redis: Redis,
  prefix: string,
  now = Date.now(),
): Promise<QueueStats> {
  const [counts, paused, oldest, finished] = await Promise.all([
    queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'),
    queue.isPaused(),
    queue.getJobs(['wait'], 0, 0, true),
    redis.zrangebyscore(statsKeys(prefix).finished, now - THROUGHPUT_WINDOW_MS, '+inf'),
  ]);
  const throughput = { finished: finished.length, succeeded: 0, failed: 0, cancelled: 0 };
  for (const member of finished) {
    const status = member.split(':')[1];
    if (status === 'succeeded' || status === 'failed' || status === 'cancelled') throughput[status] += 1;
  }
  const oldestJob = oldest[0];
  return {
    queue: queue.name ?? RUNS_QUEUE,
    paused,
    counts: {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
      completed: counts.completed ?? 0,
    },
    oldestWaitingAgeMs: oldestJob ? Math.max(0, now - oldestJob.timestamp) : null,
    throughput: { windowSeconds: THROUGHPUT_WINDOW_MS / 1000, ...throughput },
    collectedAt: new Date(now).toISOString(),
  };
}

/**
 * The queue gauges' view of the same numbers (the shape `observeQueue` in src/telemetry/metrics.ts reads):
 * waiting includes delayed jobs, and the oldest wait is 0 when nothing waits.
 */
export function queueGaugeSnapshot(stats: QueueStats): {
  waiting: number;
  active: number;
  failed: number;
  oldestWaitMs: number;
} {
  return {
    waiting: stats.counts.waiting + stats.counts.delayed,
    active: stats.counts.active,
    failed: stats.counts.failed,
    oldestWaitMs: stats.oldestWaitingAgeMs ?? 0,
  };
}
