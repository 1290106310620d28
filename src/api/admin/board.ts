import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { QueueAdapterOptions } from '@bull-board/api/dist/types.js';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { RUNS_QUEUE } from '../../queue/names.js';
import type { ApiDeps } from '../deps.js';

export const BOARD_PATH = '/admin/queues';

/**
 * Mounts bull-board for every queue baton creates (today: `runs`) at /admin/queues. Authentication, roles,
 * CSRF and security headers come from the enclosing admin plugin.
 *
 * Actions on run jobs keep the run records in step: retrying a failed job first resets its failed run for a
 * retry that reuses the journal (as `POST /v1/runs/:id/retry` does), and removing a job that has not finished
 * cancels its run. Retrying completed jobs is switched off (a finished run does not run again).
 */
export async function mountBoard(app: FastifyInstance, deps: ApiDeps): Promise<void> {
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

  // Errors are answered here: bull-board's own error handler would turn them into 500s.
  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'PUT') return;
    const route = request.routeOptions.url ?? '';
    if (!route.startsWith(`${BOARD_PATH}/api/queues/`)) return;
    const params = request.params as { queueName?: string; jobId?: string; queueStatus?: string };
    if (params.queueName !== RUNS_QUEUE) return;
    if (route.endsWith('/:jobId/retry') && params.jobId) {
      if ((await deps.lifecycle.prepareJobRetry(params.jobId)) === 'completed') return refuseCompleted(reply);
    } else if (route.endsWith('/retry/:queueStatus') && params.queueStatus !== 'failed') {
      return refuseCompleted(reply);
    } else if (route.endsWith('/retry/:queueStatus')) {
      const failed = await deps.queue.getJobs(['failed']);
      for (const job of failed) if (job?.id) await deps.lifecycle.prepareJobRetry(job.id);
    } else if (route.endsWith('/:jobId/clean') && params.jobId) {
      if (await deps.lifecycle.jobRemoved(params.jobId)) {
        request.log.warn({ runId: params.jobId }, 'job removed from the queue dashboard: run cancelled');
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
