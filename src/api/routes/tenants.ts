import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type Caller, requireRole } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { errorEnvelopeSchema } from '../errors.js';

const limit = z.number().int().nullable().describe('null: no limit.');

const tenantSchema = z.object({
  keyId: z.string().describe('First 16 hex digits of the SHA-256 of the API key: the owner of its runs.'),
  role: z.enum(['client', 'operator', 'admin']).optional().describe('Absent for a key no longer configured.'),
  limits: z.object({ inflight: limit, perMinute: limit, tokensPerDay: limit }),
  usage: z.object({
    inflight: z.number().int().describe('Runs queued or running.'),
    lastMinute: z.number().int().describe('Runs created in the last 60 s.'),
    tokensToday: z.number().int().describe('Tokens of the runs that finished this UTC day.'),
  }),
});

/** The per-tenant view of limits and usage (BATON_TENANT_LIMITS). Operator or admin. */
export const tenantRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/tenants',
      {
        preValidation: async (request) => requireRole(request.caller as Caller, ['operator', 'admin']),
        schema: {
          operationId: 'listTenants',
          summary: 'Tenants: limits and usage',
          description:
            'Every API key id (configured, or that has created runs) with its limits (BATON_TENANT_LIMITS) and its usage: runs in flight, runs created in the last minute, tokens of runs finished today (UTC). Operator or admin.',
          tags: ['operations'],
          response: {
            200: z.object({ items: z.array(tenantSchema) }),
            401: errorEnvelopeSchema,
            403: errorEnvelopeSchema,
          },
        },
      },
      async () => {
        const callers = deps.keys.callers();
        const roles = new Map(callers.map((c) => [c.keyId, c.role]));
        const views = await deps.lifecycle.tenants(callers.map((c) => c.keyId));
        return {
          items: views.map((v) => {
            const role = roles.get(v.keyId);
            const l = v.limits;
            return {
              keyId: v.keyId,
              ...(role ? { role } : {}),
              limits: {
                inflight: l.inflight ?? null,
                perMinute: l.perMinute ?? null,
                tokensPerDay: l.tokensPerDay ?? null,
              },
              usage: v.usage,
            };
          }),
        };
      },
    );
  };
