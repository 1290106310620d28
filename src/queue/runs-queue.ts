import { type Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobEnd, RunQueue } from '../core/ports.js';
import { waitForReplicas } from '../runs/redis-connection.js';
import { isRunId, type RunRequest } from '../runs/schema.js';
import { produceRunJob } from '../telemetry/job-spans.js';
import { RUNS_QUEUE } from './names.js';

/**
 * What a job carries: the run request, the W3C trace context of the request that created the run (a run keeps
 * one trace), and the contexts of the requests that enqueued it again (an operator's retry) to link to.
 */
export interface RunJobData {
  runId: string;
  request: RunRequest;
  trace: Record<string, string>;
  links?: Record<string, string>[];
}

export interface QueueSettings {
  prefix: string;
  /** Whole-job attempts: a crashed or stalled worker, or an infrastructure error, costs one. */
  attempts: number;
  retentionSeconds: number;
}

/**
 * Completed jobs the queue keeps for the dashboard. The run record is what clients read, and a completed job is
 * never retried, so the latest thousand are enough to look at; more would hold ~1.3 KB of Redis per finished run.
 */
export const COMPLETED_JOBS_KEPT = 1_000;
/** BullMQ's own event stream of the queue: nothing in baton reads it, so it stays short. */
export const QUEUE_EVENTS_KEPT = 1_000;

export function createRunsQueue(connection: Redis, settings: QueueSettings): Queue<RunJobData> {
  return new Queue<RunJobData>(RUNS_QUEUE, {
    connection,
    prefix: settings.prefix,
    streams: { events: { maxLen: QUEUE_EVENTS_KEPT } },
    defaultJobOptions: {
      attempts: settings.attempts,
      backoff: { type: 'exponential', delay: 1_000 },
      removeOnComplete: { age: settings.retentionSeconds, count: COMPLETED_JOBS_KEPT },
      // Failed jobs stay for the whole retention: they are what the dashboard's retry and `/retry` act on.
      removeOnFail: { age: settings.retentionSeconds },
    },
  });
}

/**
 * Enqueues a run as job `runId` inside a producer span whose context travels in the job: as the trace the job
 * continues, or, when the run has a trace already (`runTrace`), as a link from it.
 */
export async function enqueueRun(
  queue: Queue<RunJobData>,
  runId: string,
  request: RunRequest,
  runTrace?: Record<string, string>,
): Promise<void> {
  await produceRunJob({ queue: RUNS_QUEUE, runId, pattern: request.pattern, team: request.team }, (trace) =>
    queue.add(
      'run',
      runTrace ? { runId, request, trace: runTrace, links: [trace] } : { runId, request, trace },
      { jobId: runId },
    ),
  );
}

/** Job states in which a run's job is still in play (a worker has it or will take it). */
export const LIVE_JOB_STATES = ['active', 'waiting', 'delayed', 'prioritized', 'waiting-children'] as const;

/**
 * A job's data if the job is a run job as `enqueueRun` makes them: its id is a run id, its data names the same
 * run and carries a request with a team and a pattern. Jobs added by other tools (bull-board's "add", a script)
 * may carry anything — no data at all, a string, another run's id — and every reader of job data goes through
 * this instead of trusting `job.data`.
 */
export function runJobData(job: Pick<Job, 'id' | 'data'>): RunJobData | undefined {
  const data: unknown = job.data;
  if (typeof data !== 'object' || data === null) return undefined;
  const { runId, request, trace, links } = data as Record<string, unknown>;
  if (!isRunId(runId) || job.id !== runId) return undefined;
  if (typeof request !== 'object' || request === null) return undefined;
  const { team, pattern } = request as Record<string, unknown>;
  if (typeof team !== 'string' || typeof pattern !== 'string') return undefined;
  const carrier = (value: unknown): value is Record<string, string> =>
    typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string');
  const linksOk = Array.isArray(links) && links.every(carrier);
  return {
    runId,
    request: request as RunRequest,
    trace: carrier(trace) ? trace : {},
    ...(linksOk ? { links } : {}),
  };
}

/** The team a job's request names; jobs added by other tools (bull-board's "add") may carry anything. */
function teamOf(job: Job<RunJobData>): string | undefined {
  return runJobData(job)?.request.team;
}

/**
 * Of `runIds`, the runs whose job has ended for good or is gone. One pipelined read of each job's hash: a job
 * that still runs, waits or will be retried has no `finishedOn` (BullMQ sets it only on a final move, and clears
 * it when a finished job is retried); only the few that ended are asked for their exact state.
 */
async function endedJobs(
  queue: Queue<RunJobData>,
  redis: Redis,
  runIds: readonly string[],
): Promise<Map<string, JobEnd>> {
  const ended = new Map<string, JobEnd>();
  if (runIds.length === 0) return ended;
  const pipeline = redis.pipeline();
  for (const id of runIds) pipeline.hmget(queue.toKey(id), 'finishedOn', 'failedReason', 'data');
  const replies = (await pipeline.exec()) ?? [];
  for (const [i, id] of runIds.entries()) {
    const [err, fields] = replies[i] ?? [];
    if (err) continue;
    const [finishedOn, failedReason, data] = (fields ?? []) as (string | null)[];
    if (data === null || data === undefined) ended.set(id, { kind: 'gone' });
    else if (finishedOn) {
      const state = await queue.getJobState(id);
      if (state === 'failed') ended.set(id, { kind: 'failed', reason: failedReason ?? 'unknown' });
      else if (state === 'completed') ended.set(id, { kind: 'completed' });
    }
  }
  return ended;
}

/** The run lifecycle's view of the BullMQ `runs` queue; `redis` reads job hashes in bulk (any connection). */
export function runQueuePort(queue: Queue<RunJobData>, redis: Redis): RunQueue<RunRequest> {
  // The connection the queue was created with (createRunsQueue): BullMQ adds jobs over it, so a WAIT for the
  // jobs added goes there.
  const queueConnection = queue.opts.connection as Redis;
  return {
    enqueue: (runId, request, options) => enqueueRun(queue, runId, request, options?.trace),
    removeWaiting: async (runId) => (await queue.remove(runId)) === 1,
    async removeFinished(runId) {
      await queue.remove(runId);
    },
    async jobState(runId) {
      const state = await queue.getJobState(runId);
      return state === 'unknown' ? undefined : state;
    },
    isPaused: () => queue.isPaused(),
    async wake(runId) {
      const job = await queue.getJob(runId);
      if (!job) return false;
      try {
        await job.promote();
        return true;
      } catch {
        // Not delayed (any more): a worker holds the job, or it was promoted already; either way it runs.
        return false;
      }
    },
    endedJobs: (runIds) => endedJobs(queue, redis, runIds),
    replicated: (replicas, timeoutMs) =>
      waitForReplicas(queueConnection, queue.toKey(''), replicas, timeoutMs),
    async liveJobs() {
      const jobs = await queue.getJobs([...LIVE_JOB_STATES]);
      return jobs.flatMap((job) => (job?.id ? [{ runId: job.id, team: teamOf(job) }] : []));
    },
  };
}
