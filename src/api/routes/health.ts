import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../deps.js';
import { LIVENESS_PATH, READINESS_PATH } from '../probes.js';

const READY_TIMEOUT_MS = 1_000;

export const healthRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      LIVENESS_PATH,
      {
        config: { rateLimit: false, public: true },
        schema: {
          operationId: 'liveness',
          summary: 'Liveness',
          tags: ['health'],
          response: { 200: z.object({ status: z.literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    );

    app.get(
      READINESS_PATH,
      {
        config: { rateLimit: false, public: true },
        schema: {
          operationId: 'readiness',
          summary: 'Readiness (Redis reachable)',
          tags: ['health'],
          response: {
            200: z.object({ status: z.literal('ready') }),
            503: z.object({ status: z.literal('unavailable'), reason: z.string() }),
          },
        },
      },
      async (_request, reply) => {
        try {
          await Promise.race([
            deps.redis.ping(),
            new Promise((_, reject) =>
              setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS).unref(),
            ),
          ]);
          return { status: 'ready' as const };
        } catch {
          return reply.code(503).send({ status: 'unavailable' as const, reason: 'Redis is not reachable.' });
        }
      },
    );
  };
