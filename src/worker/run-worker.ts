import { hostname } from 'node:os';
import { type Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CircuitBreakers } from '../policies/breakers.js';
import { type EngineDeps, execute } from '../engine/index.js';
import { RunCancelledError, RunInterruptedError, toErrorInfo } from '../core/errors.js';
import type { RedisEventLog } from '../runs/events.js';
import { openRedisJournal } from '../runs/journal.js';
import { indexKeys } from '../runs/keys.js';
import type { RunRecord } from '../runs/schema.js';
import type { RunStore } from '../runs/store.js';
import {
  ATTR_BATON_PATTERN,
  ATTR_BATON_RUN_ATTEMPT,
  ATTR_BATON_RUN_HANDED_OVER,
  ATTR_BATON_RUN_ID,
  ATTR_BATON_RUN_RESUMED,
  ATTR_BATON_TEAM,
  ATTR_BATON_WORKER_ID,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
} from '../telemetry/attributes.js';
import { observeBreakers } from '../telemetry/metrics.js';
import { continueTrace, SpanKind, withRunContext, withSpan } from '../telemetry/tracing.js';
import { startHeartbeat } from './heartbeat.js';
import { RUNS_QUEUE } from '../queue/names.js';
import type { RunJobData } from '../queue/runs-queue.js';
import { type FinishedStatus, recordRunFinished } from '../queue/stats.js';

export interface WorkerDeps {
  /** For BullMQ (blocking commands); needs `maxRetriesPerRequest: null`. */
  connection: Redis;
  /** Run state reads and writes. */
  redis: Redis;
  /** A connection of its own for the cancel channel (a subscribed connection can do nothing else). */
  subscriber: Redis;
  store: RunStore;
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

/**
 * The BullMQ worker of the `runs` queue. Each job executes one run through the engine; the journal makes a
 * second delivery (crash, stall, hand-over) resume where the first stopped.
 */
export async function startRunWorker(deps: WorkerDeps): Promise<RunWorker> {
  const { store, events, log, settings } = deps;
  const id = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const active = new Map<string, AbortController>();
  const drain = new AbortController();
  const noteFinished = (runId: string, status: FinishedStatus) =>
    recordRunFinished(deps.redis, settings.prefix, runId, status).catch((err: unknown) =>
      log.warn({ err: toErrorInfo(err), runId }, 'could not record the finished run in queue stats'),
    );
  /** A failed run fails its job too (no job retry: the run's outcome is final), so queue tools show it failed. */
  const failJob = (record: Pick<RunRecord, 'error'>) =>
    new UnrecoverableError(
      `${record.error?.code ?? 'RUN_FAILED'}: ${record.error?.message ?? 'the run failed'}`,
    );

  const cancelChannel = indexKeys(settings.prefix).cancelChannel;
  await deps.subscriber.subscribe(cancelChannel);
  deps.subscriber.on('message', (channel, runId) => {
    if (channel !== cancelChannel) return;
    const controller = active.get(runId);
    if (controller && !controller.signal.aborted) {
      log.info({ runId }, 'cancel received; aborting the run');
      controller.abort(new RunCancelledError());
    }
  });

  const processRun = async (job: Job<RunJobData>, token?: string): Promise<void> => {
    const { runId, request } = job.data;
    const runLog = log.child({ runId });
    const attempt = await store.nextAttempt(runId);
    // The job continues the trace of the request that created the run, and links to it: each attempt (after a
    // crash, a stall or a hand-over) is its own consumer span in the same trace, marked as a resumption.
    const { parent, links } = continueTrace(job.data.trace);
    const spanOptions = {
      kind: SpanKind.CONSUMER,
      parent,
      links,
      attributes: {
        [ATTR_MESSAGING_SYSTEM]: 'bullmq',
        [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
        [ATTR_MESSAGING_DESTINATION_NAME]: RUNS_QUEUE,
        [ATTR_MESSAGING_MESSAGE_ID]: runId,
        [ATTR_BATON_RUN_ID]: runId,
        [ATTR_BATON_PATTERN]: request.pattern,
        [ATTR_BATON_TEAM]: request.team,
        [ATTR_BATON_RUN_ATTEMPT]: attempt,
        [ATTR_BATON_RUN_RESUMED]: attempt > 1,
        [ATTR_BATON_WORKER_ID]: id,
      },
    };
    const run = { runId, pattern: request.pattern, team: request.team };
    // A hand-over (worker draining) is not a failure: the span ends marked as such, then BullMQ is told.
    const handedOver = await withRunContext(run, () =>
      withSpan(`process ${RUNS_QUEUE}`, spanOptions, async (span): Promise<boolean> => {
        try {
          const stored = await store.get(runId);
          if (!stored) {
            runLog.warn('job for a run with no record (expired or discarded); dropping it');
            return false;
          }
          if (store.isTerminal(stored.record.status)) {
            // A duplicate delivery of a finished run: leave the job in the state the run ended in.
            if (stored.record.status === 'failed') throw failJob(stored.record);
            return false;
          }
          const startedAt = stored.record.startedAt ?? new Date().toISOString();
          if (stored.record.cancelRequested) {
            await store.finishCancelled(stored.record, events, startedAt);
            await noteFinished(runId, 'cancelled');
            return false;
          }
          await store.update(runId, { status: 'running', startedAt, attempt });
          runLog.info({ attempt, worker: id }, attempt > 1 ? 'resuming run' : 'starting run');

          const controller = new AbortController();
          active.set(runId, controller);
          try {
            const outcome = await execute(
              {
                runId,
                request,
                attempt,
                journal: await openRedisJournal(deps.redis, settings.prefix, runId),
                events,
                signal: controller.signal,
                drain: drain.signal,
                firstStartedAt: Date.parse(startedAt),
              },
              deps.engine,
            );
            await store.finish(runId, outcome, events, startedAt);
            runLog.info({ status: outcome.status, usage: outcome.usage }, 'run finished');
            await noteFinished(runId, outcome.status);
            if (outcome.status === 'failed') throw failJob(outcome);
          } finally {
            active.delete(runId);
          }
        } catch (err) {
          if (err instanceof UnrecoverableError) throw err;
          if (err instanceof RunInterruptedError) {
            runLog.info('worker shutting down; handing the run back to the queue');
            await job.moveToWait(token);
            span.setAttribute(ATTR_BATON_RUN_HANDED_OVER, true);
            return true;
          }
          runLog.error({ err: toErrorInfo(err), attempt }, 'run attempt failed; the job will be retried');
          throw err;
        }
        return false;
      }),
    );
    if (handedOver) throw new WaitingError();
  };

  const worker = new Worker<RunJobData>(RUNS_QUEUE, processRun, {
    connection: deps.connection,
    prefix: settings.prefix,
    concurrency: settings.concurrency,
    lockDuration: settings.lockMs,
    stalledInterval: settings.stalledIntervalMs,
    maxStalledCount: settings.maxStalledCount,
    autorun: true,
  });
  worker.on('failed', (job, err) => {
    if (!job || job.attemptsMade < (job.opts.attempts ?? settings.attempts)) return;
    // Out of attempts: the run fails for good instead of staying "running" forever.
    void (async () => {
      const stored = await store.get(job.data.runId);
      if (!stored || store.isTerminal(stored.record.status)) return;
      await store.finish(
        job.data.runId,
        {
          status: 'failed',
          error: { code: 'RUN_ABANDONED', message: `The run failed on every attempt: ${err.message}` },
          usage: stored.record.usage,
          steps: stored.record.steps,
          definitionVersion: stored.record.definitionVersion,
        },
        events,
        stored.record.startedAt,
      );
      await noteFinished(job.data.runId, 'failed');
    })().catch((e: unknown) => log.error({ err: toErrorInfo(e) }, 'could not mark an abandoned run failed'));
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
      await deps.subscriber.unsubscribe(cancelChannel).catch(() => {});
    },
  };
}
