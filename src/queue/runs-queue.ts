import { type Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RunQueue } from '../core/ports.js';
import { isRunId, type RunRequest } from '../runs/schema.js';
import { produceRunJob } from '../telemetry/job-spans.js';
import { RUNS_QUEUE } from './names.js';

/** What a job carries: the run request and the W3C trace context of the request that created it. */
export interface RunJobData {
  runId: string;
  request: RunRequest;
  trace: Record<string, string>;
}

export interface QueueSettings {
  prefix: string;
  /** Whole-job attempts: a crashed or stalled worker, or an infrastructure error, costs one. */
  attempts: number;
  retentionSeconds: number;
}

export function createRunsQueue(connection: Redis, settings: QueueSettings): Queue<RunJobData> {
  return new Queue<RunJobData>(RUNS_QUEUE, {
    connection,
    prefix: settings.prefix,
    defaultJobOptions: {
      attempts: settings.attempts,
      backoff: { type: 'exponential', delay: 1_000 },
      removeOnComplete: { age: settings.retentionSeconds, count: 10_000 },
      removeOnFail: { age: settings.retentionSeconds },
    },
  });
}

/** Enqueues a run as job `runId` inside a producer span whose context travels in the job. */
export async function enqueueRun(
  queue: Queue<RunJobData>,
  runId: string,
  request: RunRequest,
): Promise<void> {
  await produceRunJob({ queue: RUNS_QUEUE, runId, pattern: request.pattern, team: request.team }, (trace) =>
    queue.add('run', { runId, request, trace }, { jobId: runId }),
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
  const { runId, request, trace } = data as Record<string, unknown>;
  if (!isRunId(runId) || job.id !== runId) return undefined;
  if (typeof request !== 'object' || request === null) return undefined;
  const { team, pattern } = request as Record<string, unknown>;
  if (typeof team !== 'string' || typeof pattern !== 'string') return undefined;
  const traceOk =
    typeof trace === 'object' && trace !== null && Object.values(trace).every((v) => typeof v === 'string');
  return { runId, request: request as RunRequest, trace: traceOk ? (trace as Record<string, string>) : {} };
}

/** The team a job's request names; jobs added by other tools (bull-board's "add") may carry anything. */
function teamOf(job: Job<RunJobData>): string | undefined {
  return runJobData(job)?.request.team;
}

/** The run lifecycle's view of the BullMQ `runs` queue. */
export function runQueuePort(queue: Queue<RunJobData>): RunQueue<RunRequest> {
  return {
    enqueue: (runId, request) => enqueueRun(queue, runId, request),
    removeWaiting: async (runId) => (await queue.remove(runId)) === 1,
    async removeFinished(runId) {
      await queue.remove(runId);
    },
    async jobState(runId) {
      const state = await queue.getJobState(runId);
      return state === 'unknown' ? undefined : state;
    },
    isPaused: () => queue.isPaused(),
    async liveJobs() {
      const jobs = await queue.getJobs([...LIVE_JOB_STATES]);
      return jobs.flatMap((job) => (job?.id ? [{ runId: job.id, team: teamOf(job) }] : []));
    },
  };
}
