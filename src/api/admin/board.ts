import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { QueueAdapterOptions } from '@bull-board/api/dist/types.js';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RUNS_QUEUE } from '../../queue/names.js';
import { isRunId } from '../../runs/schema.js';
import type { Caller } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';

export const BOARD_PATH = '/admin/queues';

/**
 * bull-board's state-changing actions an OPERATOR may use: pausing and resuming, retrying failed jobs (one or
 * all) and promoting one delayed job. Every other change — adding jobs, editing job data, delay or priority,
 * removing or cleaning jobs, promoting all, emptying or obliterating a queue, concurrency and rate-limit
 * settings, job schedulers, and any action a later bull-board adds — is for ADMINS only. Reading is for both.
 */
const OPERATOR_BOARD_ACTIONS = new Set([
  'PUT /api/queues/pause',
  'PUT /api/queues/resume',
  'PUT /api/queues/:queueName/pause',
  'PUT /api/queues/:queueName/resume',
  'PUT /api/queues/:queueName/retry/:queueStatus',
  'PUT /api/queues/:queueName/:jobId/retry',
  'PUT /api/queues/:queueName/:jobId/promote',
]);

/** The role a bull-board request needs: `operator` to read and for the actions above, `admin` otherwise. */
export function boardRoleFor(method: string, route: string): 'operator' | 'admin' {
  if (method === 'GET' || method === 'HEAD') return 'operator';
  const local = route.startsWith(BOARD_PATH) ? route.slice(BOARD_PATH.length) : route;
  return OPERATOR_BOARD_ACTIONS.has(`${method} ${local}`) ? 'operator' : 'admin';
}

type Deny = (request: FastifyRequest, reply: FastifyReply, status: 401 | 403, message: string) => unknown;

/**
 * Mounts bull-board for every queue baton creates (today: `runs`) at /admin/queues. Authentication, CSRF and
 * security headers come from the enclosing admin plugin; the admin-only actions are refused to operators here.
 *
 * Actions on run jobs keep the run records in step: retrying a failed job first resets its failed run for a
 * retry that reuses the journal (as `POST /v1/runs/:id/retry` does), and removing a job that has not finished
 * cancels its run. Retrying completed jobs is switched off (a finished run does not run again).
 */
export async function mountBoard(app: FastifyInstance, deps: ApiDeps, deny: Deny): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  // `allowCompletedRetries` is read by the base adapter but missing from the BullMQ adapter's option type.
  const runsOptions: Partial<QueueAdapterOptions> & { allowCompletedRetries: boolean } = {
    allowRetries: true,
    allowCompletedRetries: false,
    description: 'Runs: one job per run, job id = run id.',
  };
  createBullBoard({
    queues: [new BullMQAdapter(deps.queue, runsOptions)],
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'baton',
        miscLinks: [
          { text: 'Operator console', url: '/admin' },
          { text: 'Fleet', url: '/admin/fleet' },
        ],
      },
    },
  });
  // bull-board's own handler answers every error, even a 401 or 403 thrown by a hook, with a 500: errors of its
  // routes get the API's envelope and status instead.
  serverAdapter.setErrorHandler((error: Error & { statusCode?: number }) => {
    const status = error instanceof ApiError ? error.status : (error.statusCode ?? 500);
    if (status >= 500) deps.log.error({ err: error }, 'queue dashboard request failed');
    return {
      status: status as 500,
      body:
        status >= 500
          ? { error: { code: 'INTERNAL', message: 'The server could not handle the request.' } }
          : {
              error: { code: error instanceof ApiError ? error.code : 'BAD_REQUEST', message: error.message },
            },
    };
  });

  app.addHook('preHandler', async (request, reply) => {
    const route = request.routeOptions.url ?? '';
    if (!route.startsWith(BOARD_PATH)) return;
    const caller = request.caller as Caller | undefined;
    if (caller && caller.role !== 'admin' && boardRoleFor(request.method, route) === 'admin') {
      request.log.warn(
        { keyId: caller.keyId, route, method: request.method },
        'admin-only dashboard action refused',
      );
      return deny(
        request,
        reply,
        403,
        'Only an admin may do this on the queue dashboard (operators may pause, resume and retry).',
      );
    }
    if (request.method !== 'PUT') return;
    const params = request.params as { queueName?: string; jobId?: string; queueStatus?: string };
    if (params.queueName !== RUNS_QUEUE) return;
    // Errors are answered here: bull-board's own error handler would turn them into 500s.
    const runId = params.jobId !== undefined && isRunId(params.jobId) ? params.jobId : undefined;
    if (route.endsWith('/:jobId/retry') && runId) {
      if ((await deps.lifecycle.prepareJobRetry(runId)) === 'completed') return refuseCompleted(reply);
    } else if (route.endsWith('/retry/:queueStatus') && params.queueStatus !== 'failed') {
      return refuseCompleted(reply);
    } else if (route.endsWith('/retry/:queueStatus')) {
      const failed = await deps.queue.getJobs(['failed']);
      for (const job of failed) if (job?.id && isRunId(job.id)) await deps.lifecycle.prepareJobRetry(job.id);
    } else if (route.endsWith('/:jobId/clean') && runId) {
      if (await deps.lifecycle.jobRemoved(runId)) {
        request.log.warn({ runId }, 'job removed from the queue dashboard: run cancelled');
      }
    }
  });

  // The adapter's plugin is typed against its own copy of fastify's types.
  await app.register(serverAdapter.registerPlugin() as Parameters<FastifyInstance['register']>[0], {
    prefix: BOARD_PATH,
  });
}

const refuseCompleted = (reply: FastifyReply) =>
  reply.code(409).send({
    error: {
      code: 'RUN_FINISHED',
      message: 'A completed run job is not retried: only failed runs can be retried.',
    },
  });
