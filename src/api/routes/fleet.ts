import { isSpanContextValid, trace } from '@opentelemetry/api';
import type { FastifyBaseLogger } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listWorkers, type WorkerHeartbeat } from '../../worker/heartbeat.js';
import { enqueueRun } from '../../queue/runs-queue.js';
import { collectQueueStats, type QueueStats } from '../../queue/stats.js';
import { type RunRecord, runRecordSchema } from '../../runs/schema.js';
import { type Caller, requireRole } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, errorEnvelopeSchema, notFound } from '../errors.js';

/**
 * Operator routes: the worker fleet, queue statistics and admin actions (retry a failed run, cancel a team's
 * runs, pause and resume the queue). Operator or admin role. The actions are exported for the operator
 * console (src/api/admin), which offers the same buttons.
 */

const OPERATORS = ['operator', 'admin'] as const;
const errors = { 401: errorEnvelopeSchema, 403: errorEnvelopeSchema };

const breakerSnapshotSchema = z.object({
  agent: z.string(),
  state: z.enum(['closed', 'open', 'half-open']),
  lastFailure: z.object({ at: z.string(), code: z.string(), message: z.string() }).optional(),
});

export const workerSchema = z.object({
  id: z.string().describe('host:pid:random, also the `baton.worker.id` span attribute.'),
  host: z.string(),
  pid: z.number().int(),
  version: z.string(),
  concurrency: z.number().int().describe('Runs this worker executes at once.'),
  activeJobs: z.number().int().describe('Runs executing now.'),
  activeRuns: z.array(z.string()),
  draining: z.boolean().describe('Shutting down: takes no new jobs.'),
  startedAt: z.string(),
  lastBeatAt: z.string(),
  intervalMs: z.number().int(),
  ttlMs: z.number().int().describe('Without a newer heartbeat the worker leaves the list after this long.'),
  breakers: z.array(breakerSnapshotSchema).describe('Circuit breaker per agent this worker has called.'),
});

export const queueStatsSchema = z.object({
  queue: z.string(),
  paused: z.boolean().describe('Workers take no new jobs; new runs are accepted and wait.'),
  counts: z.object({
    waiting: z.number().int(),
    active: z.number().int(),
    delayed: z.number().int().describe('Job retries waiting out their backoff.'),
    failed: z.number().int(),
    completed: z.number().int(),
  }),
  oldestWaitingAgeMs: z.number().nullable().describe('Age of the oldest waiting job; null when none waits.'),
  throughput: z.object({
    windowSeconds: z.number().int(),
    finished: z.number().int(),
    succeeded: z.number().int(),
    failed: z.number().int(),
    cancelled: z.number().int(),
  }),
  collectedAt: z.string(),
});

const teamCancelSchema = z.object({
  team: z.string(),
  cancelled: z.array(z.string()).describe('Runs that were waiting: cancelled now.'),
  cancelling: z.array(z.string()).describe('Runs executing: their workers abort them within about a second.'),
});

export function queueStats(deps: ApiDeps): Promise<QueueStats> {
  return collectQueueStats(deps.queue, deps.redis, deps.config.redisPrefix);
}

export function fleetWorkers(deps: ApiDeps): Promise<WorkerHeartbeat[]> {
  return listWorkers(deps.redis, deps.config.redisPrefix);
}

/** Job states in which a run's job is still in play (a worker has it or will take it). */
const LIVE_JOB_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);

/**
 * Retries a failed run: a new attempt under the same run id that reuses the journal (see
 * `RunStore.resetForRetry`). The old BullMQ job (failed, or completed for runs that ended before this
 * version) is removed first, then the job is added again with the same id.
 */
export async function retryRun(deps: ApiDeps, id: string, log: FastifyBaseLogger): Promise<RunRecord> {
  const { store, queue } = deps;
  const run = await store.get(id);
  if (!run) throw notFound(`Run "${id}"`);
  if (run.record.status !== 'failed') {
    throw new ApiError(
      409,
      'RUN_NOT_FAILED',
      `Only a failed run can be retried; this one is ${run.record.status}.`,
      {
        status: run.record.status,
      },
    );
  }
  const job = await queue.getJob(id);
  const state = job ? await job.getState() : undefined;
  if (state && LIVE_JOB_STATES.has(state)) {
    throw new ApiError(
      409,
      'RUN_STILL_QUEUED',
      `The run's job is still ${state}; retry it once it has ended.`,
      {
        jobState: state,
      },
    );
  }
  const reset = await store.resetForRetry(id);
  if (!reset) throw new ApiError(409, 'RUN_NOT_FAILED', 'The run is no longer failed (retried already?).');
  await queue.remove(id);
  const span = trace.getActiveSpan()?.spanContext();
  await store.update(id, {
    ...(span && isSpanContextValid(span) ? { traceId: span.traceId } : {}),
    ...((await queue.isPaused()) ? { queuePaused: true } : {}),
  });
  const { record } = run;
  try {
    await enqueueRun(queue, id, {
      team: record.team,
      pattern: record.pattern,
      input: record.input,
      ...(Object.keys(record.options).length > 0 ? { options: record.options } : {}),
      ...(record.metadata ? { metadata: record.metadata } : {}),
    });
  } catch (err) {
    log.error({ err, runId: id }, 'could not enqueue the retried run');
    await store.update(id, {
      status: 'failed',
      ...(record.error ? { error: record.error } : {}),
      ...(record.finishedAt ? { finishedAt: record.finishedAt } : {}),
    });
    throw new ApiError(503, 'QUEUE_UNAVAILABLE', 'The run queue is unavailable; try again shortly.');
  }
  log.info({ runId: id, keptSteps: reset.keptSteps.length, removedSteps: reset.removedSteps }, 'run retried');
  const after = await store.get(id);
  return after?.record ?? record;
}

/** Cancels every queued or running run of `team`: waiting ones at once, running ones through their worker. */
export async function cancelTeam(
  deps: ApiDeps,
  team: string,
): Promise<{ team: string; cancelled: string[]; cancelling: string[] }> {
  const { store, queue, events } = deps;
  if (!deps.teams.has(team)) throw notFound(`Team "${team}"`);
  const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'waiting-children']);
  const cancelled: string[] = [];
  const cancelling: string[] = [];
  const seen = new Set<string>();
  for (const job of jobs) {
    if (!job || job.data.request.team !== team || seen.has(job.data.runId)) continue;
    const runId = job.data.runId;
    seen.add(runId);
    const run = await store.get(runId);
    if (!run || store.isTerminal(run.record.status)) continue;
    await store.requestCancel(runId);
    // A job no worker holds is removed here; a locked (running) one is aborted by its worker.
    if ((await queue.remove(runId)) === 1) {
      await store.finishCancelled(run.record, events);
      cancelled.push(runId);
    } else {
      cancelling.push(runId);
    }
  }
  return { team, cancelled, cancelling };
}

export const fleetRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const operatorsOnly = async (request: { caller?: Caller }) => {
      requireRole(request.caller as Caller, OPERATORS);
    };

    app.get(
      '/v1/workers',
      {
        preHandler: operatorsOnly,
        schema: {
          summary: 'List live workers',
          description:
            'Every worker process with a live heartbeat: identity, concurrency, active runs and circuit-breaker state per agent. A worker that stops beating disappears after its TTL. Operator or admin.',
          tags: ['operations'],
          response: { 200: z.object({ items: z.array(workerSchema) }), ...errors },
        },
      },
      async () => ({ items: await fleetWorkers(deps) }),
    );

    app.get(
      '/v1/queue',
      {
        preHandler: operatorsOnly,
        schema: {
          summary: 'Queue statistics',
          description:
            'Job counts of the runs queue, the age of the oldest waiting job and the runs finished in the last minute. Operator or admin.',
          tags: ['operations'],
          response: { 200: queueStatsSchema, ...errors },
        },
      },
      async () => queueStats(deps),
    );

    for (const action of ['pause', 'resume'] as const) {
      app.post(
        `/v1/queue/${action}`,
        {
          preHandler: operatorsOnly,
          schema: {
            summary: action === 'pause' ? 'Pause the queue' : 'Resume the queue',
            description:
              action === 'pause'
                ? 'Workers finish the runs they have and take no new ones. New runs are still accepted: they wait, and their record says `queuePaused: true`. Operator or admin.'
                : 'Workers take waiting runs again. Operator or admin.',
            tags: ['operations'],
            response: { 200: queueStatsSchema, ...errors },
          },
        },
        async (request) => {
          if (action === 'pause') await deps.queue.pause();
          else await deps.queue.resume();
          request.log.warn({ keyId: request.caller?.keyId }, `queue ${action}d`);
          return queueStats(deps);
        },
      );
    }

    app.post(
      '/v1/runs/:id/retry',
      {
        preHandler: operatorsOnly,
        schema: {
          summary: 'Retry a failed run',
          description:
            'A new attempt of a failed run under the same id. Successful agent calls are replayed from the journal (not called again); journaled failures, and pattern steps decided after the first failure, run again. The record goes back to `queued`. 409 when the run is not failed. Operator or admin.',
          tags: ['operations'],
          params: z.object({ id: z.string().min(1).max(128) }),
          response: {
            202: runRecordSchema,
            ...errors,
            404: errorEnvelopeSchema,
            409: errorEnvelopeSchema,
            503: errorEnvelopeSchema,
          },
        },
      },
      async (request, reply) => {
        const record = await retryRun(deps, request.params.id, request.log);
        return reply.code(202).header('location', `/v1/runs/${record.id}`).send(record);
      },
    );

    app.post(
      '/v1/teams/:team/cancel',
      {
        preHandler: operatorsOnly,
        schema: {
          summary: "Cancel a team's runs",
          description:
            'Cancels every queued or running run of the team: waiting runs at once, running runs through their worker (within about a second). Operator or admin.',
          tags: ['operations'],
          params: z.object({ team: z.string().min(1).max(128) }),
          response: { 202: teamCancelSchema, ...errors, 404: errorEnvelopeSchema },
        },
      },
      async (request, reply) => {
        const result = await cancelTeam(deps, request.params.team);
        request.log.warn(
          { team: result.team, cancelled: result.cancelled.length, cancelling: result.cancelling.length },
          'team runs cancelled',
        );
        return reply.code(202).send(result);
      },
    );
  };
