import { hostname } from 'node:os';
import { type Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RunCancelledError, RunInterruptedError, toErrorInfo } from '../core/errors.js';
import type { ErrorInfo } from '../core/run.js';
import { type EngineDeps, execute } from '../engine/index.js';
import type { RunLifecycle } from '../lifecycle/lifecycle.js';
import type { CircuitBreakers } from '../policies/breakers.js';
import { RUNS_QUEUE } from '../queue/names.js';
import type { RunJobData } from '../queue/runs-queue.js';
import type { RedisEventLog } from '../runs/events.js';
import { openRedisJournal } from '../runs/journal.js';
import { indexKeys } from '../runs/keys.js';
import { consumeRunJob, type RunJobSpan } from '../telemetry/job-spans.js';
import { observeBreakers } from '../telemetry/metrics.js';
import { startHeartbeat } from './heartbeat.js';

export interface WorkerDeps {
  /** For BullMQ (blocking commands); needs `maxRetriesPerRequest: null`. */
  connection: Redis;
  /** Run state reads and writes. */
  redis: Redis;
  /** A connection of its own for the cancel channel (a subscribed connection can do nothing else). */
  subscriber: Redis;
  lifecycle: RunLifecycle;
  events: RedisEventLog;
  engine: EngineDeps;
  /** The breakers the engine's runtime uses: their state goes out with every heartbeat. */
  breakers: CircuitBreakers;
  log: Logger;
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
  };
}

export interface RunWorker {
  readonly id: string;
  activeRuns(): string[];
  /** Stops taking jobs, lets in-flight runs reach a step boundary (hand-over), then closes. */
  close(): Promise<void>;
}

/** A failed run fails its job too (no job retry: the run's outcome is final), so queue tools show it failed. */
const failJob = (error: ErrorInfo | undefined) =>
  new UnrecoverableError(`${error?.code ?? 'RUN_FAILED'}: ${error?.message ?? 'the run failed'}`);

/** One run job: start the run through the lifecycle, execute it, record the outcome. True when handed over. */
async function processRunJob(
  deps: WorkerDeps,
  worker: { id: string; active: Map<string, AbortController>; drain: AbortSignal },
  job: Job<RunJobData>,
  token: string | undefined,
  span: RunJobSpan,
): Promise<boolean> {
  const { runId, request } = job.data;
  const log = deps.log.child({ runId });
  const start = await deps.lifecycle.start(runId);
  if (start.kind === 'gone') {
    log.warn('job for a run with no record (expired or discarded); dropping it');
    return false;
  }
  // A duplicate delivery of a finished run leaves the job in the state the run ended in.
  if (start.kind === 'finished') {
    if (start.record.status === 'failed') throw failJob(start.record.error);
    return false;
  }
  if (start.kind === 'cancelled') return false;
  span.attempt(start.attempt);
  log.info(
    { attempt: start.attempt, worker: worker.id },
    start.attempt > 1 ? 'resuming run' : 'starting run',
  );
  const controller = new AbortController();
  worker.active.set(runId, controller);
  try {
    const outcome = await execute(
      {
        runId,
        request,
        attempt: start.attempt,
        journal: await openRedisJournal(deps.redis, deps.settings.prefix, runId),
        events: deps.events,
        signal: controller.signal,
        drain: worker.drain,
        firstStartedAt: Date.parse(start.startedAt),
      },
      deps.engine,
    );
    await deps.lifecycle.finish(runId, outcome, start.startedAt);
    log.info({ status: outcome.status, usage: outcome.usage }, 'run finished');
    if (outcome.status === 'failed') throw failJob(outcome.error);
    return false;
  } catch (err) {
    if (!(err instanceof RunInterruptedError)) throw err;
    log.info('worker shutting down; handing the run back to the queue');
    await job.moveToWait(token);
    span.handedOver();
    return true;
  } finally {
    worker.active.delete(runId);
  }
}

/**
 * The BullMQ worker of the `runs` queue. Each job executes one run through the engine; the journal makes a
 * second delivery (crash, stall, hand-over) resume where the first stopped.
 */
export async function startRunWorker(deps: WorkerDeps): Promise<RunWorker> {
  const { log, settings } = deps;
  const id = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const active = new Map<string, AbortController>();
  const drain = new AbortController();
  const stopCancelListener = await listenForCancels(deps, active);

  const worker = new Worker<RunJobData>(
    RUNS_QUEUE,
    async (job, token) => {
      const { runId, request } = job.data;
      const info = {
        queue: RUNS_QUEUE,
        runId,
        pattern: request.pattern,
        team: request.team,
        trace: job.data.trace,
        links: job.data.links,
        workerId: id,
      };
      const handedOver = await consumeRunJob(info, async (span) => {
        try {
          return await processRunJob(deps, { id, active, drain: drain.signal }, job, token, span);
        } catch (err) {
          if (!(err instanceof UnrecoverableError)) {
            log.error({ err: toErrorInfo(err), runId }, 'run attempt failed; the job will be retried');
          }
          throw err;
        }
      });
      // A hand-over (worker draining) is not a failure: the span ends marked as such, then BullMQ is told.
      if (handedOver) throw new WaitingError();
    },
    {
      connection: deps.connection,
      prefix: settings.prefix,
      concurrency: settings.concurrency,
      lockDuration: settings.lockMs,
      stalledInterval: settings.stalledIntervalMs,
      maxStalledCount: settings.maxStalledCount,
      autorun: true,
    },
  );
  worker.on('failed', (job, err) => {
    if (!job || job.attemptsMade < (job.opts.attempts ?? settings.attempts)) return;
    // Out of attempts: the run fails for good instead of staying "running" forever.
    deps.lifecycle
      .abandon(job.data.runId, `The run failed on every attempt: ${err.message}`)
      .catch((e: unknown) => log.error({ err: toErrorInfo(e) }, 'could not mark an abandoned run failed'));
  });
  worker.on('error', (err) => log.error({ err: toErrorInfo(err) }, 'worker error'));
  await worker.waitUntilReady();
  log.info({ worker: id, concurrency: settings.concurrency }, 'worker ready');
  const heartbeat = await startHeartbeat({
    redis: deps.redis,
    prefix: settings.prefix,
    intervalMs: settings.heartbeatIntervalMs,
    ttlMs: settings.heartbeatTtlMs,
    log,
    identity: { id, concurrency: settings.concurrency },
    describe: () => ({
      activeRuns: [...active.keys()],
      breakers: deps.breakers.snapshot(),
      draining: drain.signal.aborted,
    }),
  });
  const stopBreakerGauge = observeBreakers(() => deps.breakers.snapshot());

  return {
    id,
    activeRuns: () => [...active.keys()],
    async close() {
      drain.abort();
      void heartbeat.beat(); // the fleet view shows this worker draining
      const closing = worker.close();
      const grace = setTimeout(() => {
        // Past the grace period, abort the calls in flight too; their runs resume elsewhere from the journal.
        for (const controller of active.values()) controller.abort(new RunInterruptedError());
      }, settings.shutdownGraceMs);
      await closing;
      clearTimeout(grace);
      await heartbeat.stop();
      stopBreakerGauge();
      await stopCancelListener();
    },
  };
}

/** Cancels reach the worker running the run over a Redis channel; it aborts the run. */
async function listenForCancels(
  deps: WorkerDeps,
  active: Map<string, AbortController>,
): Promise<() => Promise<void>> {
  const channel = indexKeys(deps.settings.prefix).cancelChannel;
  await deps.subscriber.subscribe(channel);
  deps.subscriber.on('message', (from, runId) => {
    if (from !== channel) return;
    const controller = active.get(runId);
    if (controller && !controller.signal.aborted) {
      deps.log.info({ runId }, 'cancel received; aborting the run');
      controller.abort(new RunCancelledError());
    }
  });
  return async () => {
    await deps.subscriber.unsubscribe(channel).catch(() => {});
  };
}
