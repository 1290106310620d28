import { hostname } from 'node:os';
import { DelayedError, type Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import { AttemptSupersededError, RunInterruptedError, toErrorInfo } from '../core/errors.js';
import { RUNS_QUEUE } from '../queue/names.js';
import { type RunJobData, runJobData } from '../queue/runs-queue.js';
import { consumeRunJob } from '../telemetry/job-spans.js';
import { observeBreakers } from '../telemetry/metrics.js';
import { ActiveAttempts } from './attempts.js';
import { watchCancels } from './cancel-watch.js';
import type { WorkerDeps } from './deps.js';
import { startHeartbeat } from './heartbeat.js';
import { startReconciler } from './reconciler.js';
import { processRunJob, type WorkerScope } from './run-job.js';
import { startWebhookWorker } from './webhook-worker.js';

export type { WorkerDeps } from './deps.js';

export interface RunWorker {
  readonly id: string;
  activeRuns(): string[];
  /** Stops taking jobs, lets in-flight runs reach a step boundary (hand-over), then closes. */
  close(): Promise<void>;
}

const DEFAULT_CANCEL_POLL_MS = 2_000;

/**
 * Whether a job's failure is its last: BullMQ will not deliver it again. A job that stalled more than
 * `maxStalledCount` times is failed with an `UnrecoverableError` while `attemptsMade` is still low, so the
 * attempts alone do not tell.
 */
export function isFinalFailure(job: Job, err: Error, attempts: number): boolean {
  return (
    err instanceof UnrecoverableError ||
    err.name === 'UnrecoverableError' ||
    job.finishedOn !== undefined ||
    job.attemptsMade >= (job.opts.attempts ?? attempts)
  );
}

/** The processor BullMQ calls for each job: the run job inside its consumer span. */
function processor(deps: WorkerDeps, scope: WorkerScope) {
  return async (job: Job<RunJobData>, token?: string) => {
    const data = runJobData(job);
    if (!data) {
      // Not a run job (added by hand, e.g. bull-board's "add"): failed at once, never retried, no run touched.
      deps.log.warn({ jobId: job.id, name: job.name }, 'a job that is not a run job was failed');
      throw new UnrecoverableError('FOREIGN_JOB: this job was not created by baton and is not a run job');
    }
    const { runId, request } = data;
    const info = {
      queue: RUNS_QUEUE,
      runId,
      pattern: request.pattern,
      team: request.team,
      trace: data.trace,
      links: data.links,
      workerId: scope.id,
    };
    const ending = await consumeRunJob(info, async (span) => {
      try {
        const ended = await processRunJob(deps, scope, job, token, span);
        if (ended !== 'done') span.handedOver();
        return ended;
      } catch (err) {
        if (!(err instanceof UnrecoverableError)) {
          deps.log.error({ err: toErrorInfo(err), runId }, 'run attempt failed; the job will be retried');
        }
        throw err;
      }
    });
    // Handed over (drain) or superseded (another attempt holds the job): not a failure, and not this attempt's job
    // to move any more. BullMQ leaves a job alone on WaitingError.
    if (ending === 'waiting') throw new DelayedError();
    if (ending !== 'done') throw new WaitingError();
  };
}

/**
 * The BullMQ worker of the `runs` queue. Each job executes one run through the engine; the journal makes a
 * second delivery (crash, stall, hand-over) resume where the first stopped, and the attempt number fences off an
 * earlier delivery that is still executing.
 */
export async function startRunWorker(deps: WorkerDeps): Promise<RunWorker> {
  const { log, settings } = deps;
  const id = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const attempts = new ActiveAttempts();
  const drain = new AbortController();
  const stopCancels = await watchCancels({
    subscriber: deps.subscriber,
    prefix: settings.prefix,
    lifecycle: deps.lifecycle,
    attempts,
    log,
    pollMs: settings.cancelPollMs ?? DEFAULT_CANCEL_POLL_MS,
  });

  const worker = new Worker<RunJobData>(RUNS_QUEUE, processor(deps, { id, attempts, drain: drain.signal }), {
    connection: deps.connection,
    prefix: settings.prefix,
    concurrency: settings.concurrency,
    lockDuration: settings.lockMs,
    stalledInterval: settings.stalledIntervalMs,
    maxStalledCount: settings.maxStalledCount,
    autorun: true,
  });
  worker.on('failed', (job, err) => {
    const runId = job ? runJobData(job)?.runId : undefined;
    if (!job || !runId || !isFinalFailure(job, err, settings.attempts)) return;
    // BullMQ will not deliver the job again: the run fails for good instead of staying "running" forever.
    deps.lifecycle
      .abandon(runId, `The run's job failed for good: ${err.message}`)
      .catch((e: unknown) => log.error({ err: toErrorInfo(e) }, 'could not mark an abandoned run failed'));
  });
  // A lock that could not be renewed (Redis was unreachable longer than the lock) may already belong to another
  // delivery of the job: the attempt stops at once, as a hand-over, and its writes are fenced off anyway.
  worker.on('lockRenewalFailed', (jobIds) => {
    for (const runId of jobIds) {
      if (attempts.abort(runId, new AttemptSupersededError('its job lock was lost'))) {
        log.warn({ runId }, 'job lock lost; stopping this attempt');
      }
    }
  });
  worker.on('error', (err) => log.error({ err: toErrorInfo(err) }, 'worker error'));
  await worker.waitUntilReady();
  const heartbeat = await startHeartbeat({
    redis: deps.redis,
    prefix: settings.prefix,
    intervalMs: settings.heartbeatIntervalMs,
    ttlMs: settings.heartbeatTtlMs,
    log,
    identity: { id, concurrency: settings.concurrency },
    describe: () => ({
      activeRuns: attempts.runIds(),
      breakers: deps.breakers.snapshot(),
      draining: drain.signal.aborted,
    }),
  });
  const webhooks = deps.webhooks
    ? await startWebhookWorker({ ...deps.webhooks, prefix: settings.prefix, log })
    : undefined;
  const stopBreakerGauge = observeBreakers(() => deps.breakers.snapshot());
  // The fleet's breakers, including those this worker has not called, go out with its heartbeats.
  const breakerRefresh = setInterval(() => void deps.breakers.refresh(), settings.heartbeatIntervalMs);
  const reconciler = startReconciler({
    redis: deps.redis,
    prefix: settings.prefix,
    lifecycle: deps.lifecycle,
    log,
    workerId: id,
    intervalMs: settings.reconcileIntervalMs,
    ...(settings.reconcileGraceMs !== undefined ? { graceMs: settings.reconcileGraceMs } : {}),
  });

  log.info({ worker: id, concurrency: settings.concurrency }, 'worker ready');
  return {
    id,
    activeRuns: () => attempts.runIds(),
    async close() {
      drain.abort();
      reconciler.stop();
      void heartbeat.beat(); // the fleet view shows this worker draining
      const closing = worker.close();
      // Past the grace period, abort the calls in flight too; their runs resume elsewhere from the journal.
      const grace = setTimeout(
        () => attempts.abortAll(() => new RunInterruptedError()),
        settings.shutdownGraceMs,
      );
      await closing;
      clearTimeout(grace);
      await webhooks?.close();
      await heartbeat.stop();
      stopBreakerGauge();
      clearInterval(breakerRefresh);
      await stopCancels();
    },
  };
}
