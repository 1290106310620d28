import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { collectQueueStats, type QueueStats } from '../../queue/stats.js';
import { runIdSchema, runRecordSchema } from '../../runs/schema.js';
import { listWorkers } from '../../worker/heartbeat.js';
import { type Caller, requireRole } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { errorEnvelopeSchema } from '../errors.js';

/**
 * Operator routes: the worker fleet, queue statistics and admin actions (retry a failed run, cancel a team's
 * runs, pause and resume the queue). Operator or admin role. The actions belong to the run lifecycle, which the
 * operator console (src/api/admin) calls for the same buttons.
 */

const OPERATORS = ['operator', 'admin'] as const;
const errors = { 401: errorEnvelopeSchema, 403: errorEnvelopeSchema };

const breakerSnapshotSchema = z.object({
  agent: z.string(),
  provider: z.string().optional(),
  model: z
    .string()
    .optional()
    .describe("The deployment or Foundry agent; empty for the provider's configured default."),
  configured: z
    .boolean()
    .optional()
    .describe("The breaker of the agent's own model, not of a model a run chose instead."),
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
  breakers: z
    .array(breakerSnapshotSchema)
    .describe('Circuit breaker per agent and model this worker has called.'),
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

const queueStats = (deps: ApiDeps): Promise<QueueStats> =>
  collectQueueStats(deps.queue, deps.redis, deps.config.redisPrefix);

export const fleetRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const operatorsOnly = async (request: { caller?: Caller }) => {
      requireRole(request.caller as Caller, OPERATORS);
    };

    app.get(
      '/v1/workers',
      {
        preValidation: operatorsOnly,
        schema: {
          operationId: 'listWorkers',
          summary: 'List live workers',
          description:
            'Every worker process with a live heartbeat: identity, concurrency, active runs and circuit-breaker state per agent. A worker that stops beating disappears after its TTL. Operator or admin.',
          tags: ['operations'],
          response: { 200: z.object({ items: z.array(workerSchema) }), ...errors },
        },
      },
      async () => ({ items: await listWorkers(deps.redis, deps.config.redisPrefix) }),
    );

    app.get(
      '/v1/queue',
      {
        preValidation: operatorsOnly,
        schema: {
          operationId: 'getQueueStats',
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
          preValidation: operatorsOnly,
          schema: {
            operationId: action === 'pause' ? 'pauseQueue' : 'resumeQueue',
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
        preValidation: operatorsOnly,
        schema: {
          operationId: 'retryRun',
          summary: 'Retry a failed run',
          description:
            'A new attempt of a failed run under the same id. Successful agent calls are replayed from the journal (not called again); journaled failures, and pattern steps decided after the first failure, run again. The record goes back to `queued`. 409 when the run is not failed. Operator or admin.',
          tags: ['operations'],
          params: z.object({ id: runIdSchema }),
          response: {
            202: runRecordSchema,
            ...errors,
            400: errorEnvelopeSchema,
            404: errorEnvelopeSchema,
            409: errorEnvelopeSchema,
            503: errorEnvelopeSchema,
          },
        },
      },
      async (request, reply) => {
        const { record } = await deps.lifecycle.retry(request.params.id);
        return reply.code(202).header('location', `/v1/runs/${record.id}`).send(record);
      },
    );

    app.post(
      '/v1/teams/:team/cancel',
      {
        preValidation: operatorsOnly,
        schema: {
          operationId: 'cancelTeamRuns',
          summary: "Cancel a team's runs",
          description:
            'Cancels every queued or running run of the team: waiting runs at once, running runs through their worker (within about a second). Operator or admin.',
          tags: ['operations'],
          params: z.object({ team: z.string().min(1).max(128) }),
          response: { 202: teamCancelSchema, ...errors, 404: errorEnvelopeSchema },
        },
      },
      async (request, reply) => {
        const result = await deps.lifecycle.cancelTeam(request.params.team);
        request.log.warn(
          { team: result.team, cancelled: result.cancelled.length, cancelling: result.cancelling.length },
          'team runs cancelled',
        );
        return reply.code(202).send(result);
      },
    );
  };
