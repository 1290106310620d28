import { createHash } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { TeamResolver } from '../teams/resolver.js';
import { EVALS_QUEUE } from './names.js';

/** An online evaluation job: grade finished run `runId`. */
export interface EvalJobData {
  runId: string;
}

/** A run that has just finished, as the worker knows it. */
export interface FinishedRun {
  runId: string;
  team: string;
  teamVersion?: string | undefined;
  status: 'succeeded' | 'failed' | 'cancelled';
}

export function createEvalsQueue(connection: Redis, prefix: string): Queue<EvalJobData> {
  return new Queue<EvalJobData>(EVALS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      // A judge outage is retried a few times, then the run stays ungraded: grading never touches the run.
      attempts: 3,
      backoff: { type: 'exponential', delay: 5_000 },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
}

/** Where in [0, 1) run `runId` falls: a run is sampled when this is below the rate (so a retry samples alike). */
export function sampleBucket(runId: string): number {
  return createHash('sha256').update(`eval:${runId}`).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * Samples finished runs for online evaluation: a succeeded run is enqueued on the `evals` queue (job id = run
 * id, so a run is graded once) when its bucket is below its team's `evaluation.rate`, else BATON_ONLINE_EVAL_RATE.
 * It never throws: a failure to sample is logged and the run is left ungraded.
 */
export class OnlineEvalSampler {
  constructor(
    private readonly queue: Queue<EvalJobData>,
    private readonly teams: TeamResolver,
    private readonly defaultRate: number,
    private readonly log: Logger,
  ) {}

  async runFinished(run: FinishedRun): Promise<boolean> {
    if (run.status !== 'succeeded') return false;
    try {
      const team = run.teamVersion
        ? await this.teams.version(run.team, run.teamVersion)
        : (await this.teams.current(run.team))?.team;
      const rate = team?.evaluation?.rate ?? this.defaultRate;
      if (rate <= 0 || sampleBucket(run.runId) >= rate) return false;
      await this.queue.add('evaluate', { runId: run.runId }, { jobId: run.runId });
      return true;
    } catch (err) {
      this.log.warn({ err, runId: run.runId }, 'could not sample the run for online evaluation');
      return false;
    }
  }
}

/**
 * The consumer of the `evals` queue: `evaluate(runId)` for each job, `concurrency` at a time. A job that throws (a
 * judge outage) is retried with backoff, then left failed; the run it grades is never touched.
 */
export function startEvalsWorker(
  connection: Redis,
  prefix: string,
  evaluate: (runId: string) => Promise<unknown>,
  log: Logger,
  concurrency = 2,
): Worker<EvalJobData> {
  const worker = new Worker<EvalJobData>(EVALS_QUEUE, (job) => evaluate(job.data.runId), {
    connection,
    prefix,
    concurrency,
  });
  worker.on('failed', (job, err) =>
    log.warn(
      { runId: job?.data.runId, err: err.message, attempts: job?.attemptsMade },
      'online evaluation failed',
    ),
  );
  worker.on('completed', (job, result) =>
    log.debug({ runId: job.data.runId, result }, 'run evaluated online'),
  );
  worker.on('error', (err) => log.warn({ err: err.message }, 'online evaluation worker error'));
  return worker;
}
