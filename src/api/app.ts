import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import rateLimit from '@fastify/rate-limit';
import { fastifySSE } from '@fastify/sse';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  createJsonSchemaTransform,
  createJsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { nestedDeeperThan } from '../core/json.js';
import { EvaluationLog } from '../runs/evaluation-log.js';
import { FeedbackLog } from '../runs/feedback-log.js';
import { fastifyOtelPlugin } from '../telemetry/sdk.js';
import { adminPlugin } from './admin/plugin.js';
import { Authenticator, AuthFailureThrottle } from './auth.js';
import type { ApiDeps } from './deps.js';
import { ApiError, errorHandler } from './errors.js';
import {
  apiTags,
  openApiSchemas,
  webhookDocs,
  withCommonErrors,
  withoutUnusedComponents,
} from './openapi.js';
import { catalogRoutes } from './routes/catalog.js';
import { feedbackRoutes } from './routes/feedback.js';
import { fleetRoutes } from './routes/fleet.js';
import { healthRoutes } from './routes/health.js';
import { runRoutes } from './routes/runs.js';
import { teamRoutes } from './routes/teams.js';
import { tenantRoutes } from './routes/tenants.js';
import { StreamSlots } from './streams.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without an API key (health, docs). */
    public?: boolean;
  }
  interface FastifyInstance {
    /** Every route this API serves (method and URL pattern), as registered: the authorization matrix test reads it. */
    registeredRoutes: readonly RegisteredRoute[];
  }
}

export interface RegisteredRoute {
  method: string;
  url: string;
}

/** Route patterns served without credentials besides the routes marked `public`: the API reference. */
const PUBLIC_ROUTE_PREFIXES = ['/docs', '/openapi.json'];
/** How deep any JSON body may nest objects and arrays; deeper bodies are refused before validation. */
export const MAX_BODY_DEPTH = 64;

/** Whether a request was routed to the operator console, which authenticates by session cookie as well. */
export function routedToConsole(request: FastifyRequest): boolean {
  const route = request.routeOptions.url ?? '';
  return route === '/admin' || route.startsWith('/admin/');
}

/** Fastify's router errors, answered with the error envelope like every other error. */
function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  if (error.code === 'FST_ERR_BAD_URL') {
    return reply
      .code(400)
      .send({ error: { code: 'BAD_URL', message: 'The URL is not validly percent-encoded.' } });
  }
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return reply.code(414).send({
      error: {
        code: 'URI_TOO_LONG',
        message: 'A path parameter is longer than the API accepts (100 characters).',
      },
    });
  }
  return reply
    .code(500)
    .send({ error: { code: 'INTERNAL', message: 'The server could not handle the request.' } });
}

const HEADER_LIMIT = 16 * 1024;
const PARSER_HEADER_LIMIT = 64 * 1024;

/** The bytes of a request's request line and headers, as they came. */
function requestHeadBytes(raw: IncomingMessage): number {
  let bytes = (raw.method?.length ?? 0) + (raw.url?.length ?? 0) + 11;
  for (const part of raw.rawHeaders) bytes += part.length + 2;
  return bytes;
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (headers over 16 KB, a malformed request line, a
 * client too slow to send its request), answered with the error envelope too.
 */
function clientError(err: NodeJS.ErrnoException, socket: Socket) {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, code, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'REQUEST_TIMEOUT', 'The request did not arrive in time.']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [
            431,
            'Request Header Fields Too Large',
            'HEADERS_TOO_LARGE',
            'The request line and headers exceed 64 KB.',
          ]
        : [400, 'Bad Request', 'BAD_REQUEST', 'The request is not valid HTTP.'];
  const body = JSON.stringify({ error: { code, message } });
  // The answer to a HEAD request has no body (the client would take one for the next answer).
  const head = (err as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${head ? '' : body}`,
    );
  }
  socket.destroy(err);
}

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
    // Behind N proxies (X-Forwarded-For), the client address is the one the Nth proxy saw.
    ...(config.http.trustProxy > 0
      ? { trustProxy: (_address: string, hop: number) => hop < config.http.trustProxy }
      : {}),
    frameworkErrors,
    clientErrorHandler: clientError,
    // Node's parser takes up to 64 KB of request line and headers; the API's own 16 KB limit is checked in a hook,
    // where the request's method is known (a HEAD answer must not carry the envelope's body).
    http: { maxHeaderSize: PARSER_HEADER_LIMIT },
  }).withTypeProvider<ZodTypeProvider>();

  app.addHook('onRequest', async (request) => {
    if (requestHeadBytes(request.raw) > HEADER_LIMIT) {
      throw new ApiError(431, 'HEADERS_TOO_LARGE', 'The request line and headers exceed 16 KB.');
    }
  });

  const routes: RegisteredRoute[] = [];
  app.decorate('registeredRoutes', routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });

  // JSON only: a text/plain body is refused with 415 instead of reaching validation as a string.
  app.removeContentTypeParser('text/plain');
  // Fastify's JSON parser (prototype poisoning refused), then a depth limit: a body nested thousands of levels
  // deep would overflow the stack of whatever walks it next.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parseJson(request, body as string, (err: Error | null, value?: unknown) => {
      if (err) return done(err, undefined);
      if (nestedDeeperThan(value, MAX_BODY_DEPTH)) {
        return done(
          new ApiError(
            400,
            'JSON_TOO_DEEP',
            `The JSON body nests objects or arrays more than ${MAX_BODY_DEPTH} levels deep.`,
          ),
          undefined,
        );
      }
      done(null, value);
    });
  });
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

  app.addHook('onRoute', withCommonErrors);
  const schemaRegistry = openApiSchemas();
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'baton',
        description:
          'Queue-native, durable multi-agent orchestration: create runs, follow their events, compare patterns.',
        version: '1',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [{ url: config.http.publicUrl, description: 'This baton API (BATON_PUBLIC_URL).' }],
      tags: apiTags,
      webhooks: webhookDocs(),
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: config.oidc
              ? `An API key from BATON_API_KEYS, or an access token from ${config.oidc.issuer}.`
              : 'An API key from BATON_API_KEYS.',
          },
        },
      },
      security: [{ bearer: [] }],
    },
    transform: createJsonSchemaTransform({ schemaRegistry }),
    transformObject: withoutUnusedComponents(createJsonSchemaTransformObject({ schemaRegistry })),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());

  if (config.http.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      max: config.http.rateLimitPerMinute,
      timeWindow: '1 minute',
      // Counted after authentication, per caller; failed authentications are throttled per address before it.
      keyGenerator: (request) => request.caller?.keyId ?? request.ip,
      errorResponseBuilder: (_request, context) => ({
        statusCode: 429,
        code: 'RATE_LIMITED',
        message: `Too many requests: at most ${context.max} per ${context.after}.`,
      }),
    });
  }
  await app.register(fastifySSE, { heartbeatInterval: 15_000 });

  // Every answer names its request, so a client can quote it (the client's errors carry it).
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  const auth = new Authenticator(
    deps.keys,
    new AuthFailureThrottle(config.http.authFailuresPerMinute),
    deps.oidc,
  );
  app.addHook('onRequest', async (request) => {
    if (request.is404) return;
    const route = request.routeOptions.url ?? '';
    if (request.routeOptions.config.public || PUBLIC_ROUTE_PREFIXES.some((p) => route.startsWith(p))) return;
    // The operator console authenticates by session cookie or bearer credential itself. Decided by the route the
    // request matched, not its raw path: `/%61dmin/...` routes to the console too.
    if (routedToConsole(request)) return;
    request.caller = await auth.authenticate(request);
  });
  app.addHook('onClose', async () => {
    await deps.eventHub.close();
  });

  const streams = new StreamSlots(config.http.sse.maxStreams, config.http.sse.maxStreamsPerKey);
  await app.register(healthRoutes(deps));
  const feedbackLog = new FeedbackLog(deps.redis, config.redisPrefix, {
    retentionSeconds: config.llmops.retentionSeconds,
    keepContent: config.llmops.feedbackContent,
  });
  await app.register(runRoutes(deps, streams, feedbackLog));
  await app.register(
    feedbackRoutes(
      feedbackLog,
      new EvaluationLog(deps.redis, config.redisPrefix, config.llmops.retentionSeconds),
    ),
  );
  await app.register(catalogRoutes(deps));
  await app.register(teamRoutes(deps));
  await app.register(fleetRoutes(deps));
  await app.register(tenantRoutes(deps));
  await app.register(adminPlugin(deps, auth, streams));
  return app;
}
