import rateLimit from '@fastify/rate-limit';
import { fastifySSE } from '@fastify/sse';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { fastifyOtelPlugin } from '../telemetry/sdk.js';
import { adminPlugin, isAdminPath } from './admin/plugin.js';
import type { ApiDeps } from './deps.js';
import { errorHandler } from './errors.js';
import { catalogRoutes } from './routes/catalog.js';
import { fleetRoutes } from './routes/fleet.js';
import { healthRoutes } from './routes/health.js';
import { runRoutes } from './routes/runs.js';
import { tenantRoutes } from './routes/tenants.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without an API key (health, docs). */
    public?: boolean;
  }
}

const PUBLIC_PREFIXES = ['/docs', '/openapi.json'];

/** The HTTP API: routes, auth, OpenAPI and docs. No business logic lives here. */
export async function buildApi(deps: ApiDeps) {
  const { config } = deps;
  const app = Fastify({
    loggerInstance: deps.log,
    bodyLimit: config.http.bodyLimit,
    requestTimeout: config.http.requestTimeoutMs,
    connectionTimeout: config.http.requestTimeoutMs,
    genReqId: () => crypto.randomUUID(),
    ajv: { customOptions: { removeAdditional: false } },
  }).withTypeProvider<ZodTypeProvider>();

  // JSON only: a text/plain body is refused with 415 instead of reaching validation as a string.
  app.removeContentTypeParser('text/plain');
  // The OpenTelemetry server span of every request (absent when telemetry is off): registered first.
  const otel = fastifyOtelPlugin();
  if (otel) await app.register(otel);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: {
        code: 'NOT_FOUND',
        message: `There is no route ${request.method} ${request.url.split('?')[0]}.`,
      },
    }),
  );

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'baton',
        description:
          'Queue-native, durable multi-agent orchestration: create runs, follow their events, compare patterns.',
        version: '1',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API key from BATON_API_KEYS.' },
        },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());

  if (config.http.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      max: config.http.rateLimitPerMinute,
      timeWindow: '1 minute',
      keyGenerator: (request) => request.caller?.keyId ?? request.ip,
      errorResponseBuilder: (_request, context) => ({
        statusCode: 429,
        code: 'RATE_LIMITED',
        message: `Too many requests: at most ${context.max} per ${context.after}.`,
      }),
    });
  }
  await app.register(fastifySSE, { heartbeatInterval: 15_000 });

  app.addHook('onRequest', async (request) => {
    const path = request.url.split('?')[0] ?? '';
    if (request.routeOptions.config.public || PUBLIC_PREFIXES.some((p) => path.startsWith(p))) return;
    if (request.is404) return;
    if (isAdminPath(path)) return; // the operator console authenticates by session cookie or bearer key
    request.caller = deps.keys.authenticate(request);
  });

  await app.register(healthRoutes(deps));
  await app.register(runRoutes(deps));
  await app.register(catalogRoutes(deps));
  await app.register(fleetRoutes(deps));
  await app.register(tenantRoutes(deps));
  await app.register(adminPlugin(deps));
  return app;
}
