import { randomBytes } from 'node:crypto';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ApiRole } from '../../config/index.js';
import { RefusedError } from '../../core/errors.js';
import { collectQueueStats } from '../../queue/stats.js';
import { inputAnswerSchema, type RunRecord, runIdSchema } from '../../runs/schema.js';
import { listWorkers } from '../../worker/heartbeat.js';
import type { Authenticator, Caller } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, errorHandler } from '../errors.js';
import type { StreamSlots } from '../streams.js';
import { mountBoard } from './board.js';
import { CONSOLE_CSS } from './html.js';
import { inspectorRoutes } from './inspector-routes.js';
import {
  fleetPage,
  loginPage,
  messagePage,
  overviewPage,
  type PendingRow,
  pendingPage,
  type Who,
} from './pages.js';
import {
  type ConsoleUser,
  checkLoginToken,
  clearLoginToken,
  endSession,
  issueLoginToken,
  pageCsrfToken,
  registerConsoleSessions,
  sameOrigin,
  sessionUser,
  startSession,
} from './session.js';

/**
 * The operator console under /admin: a login form that starts a server-side session, an overview page, the
 * fleet page and bull-board (/admin/queues). Every route needs an operator or admin key, by session cookie or
 * `Authorization: Bearer` (an API key or an access token). Without credentials, pages redirect to the login form
 * and API paths answer 401; client keys get 403. Cookie-authenticated state changes pass the CSRF checks
 * described in session.ts. Helmet's security headers (with a CSP that bull-board's UI works under) apply to
 * everything here.
 */

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when an /admin request is authenticated by a session cookie (not a bearer credential). */
    adminSession?: ConsoleUser;
  }
}

const OPERATOR_ROLES: readonly ApiRole[] = ['operator', 'admin'];
/** Reachable without a session. */
const PUBLIC_PATHS = new Set(['/admin/login', '/admin/console.css']);
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const CSRF_REFUSED =
  'The request was refused: it did not come from a page of this console (missing or wrong CSRF token, or another origin). Reload the page and try again.';

function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0] ?? '';
}

/** A page navigation (gets HTML answers and redirects) rather than an API call (gets the JSON envelope). */
function wantsHtml(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  if (/\/api(\/|$)/.test(pathOf(request))) return false;
  return (request.headers.accept ?? '').includes('text/html');
}

function isFormPost(request: FastifyRequest): boolean {
  return (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
}

/** A local console path to return to after login; anything else becomes /admin (no open redirects). */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string') return '/admin';
  return /^\/admin(\/[A-Za-z0-9._~:@%/-]*)?(\?[A-Za-z0-9._~:@%/=&+-]*)?$/.test(next) && !next.startsWith('//')
    ? next
    : '/admin';
}

function field(body: unknown, name: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

const isCsrfError = (error: FastifyError) =>
  error.code === 'FST_CSRF_INVALID_TOKEN' || error.code === 'FST_CSRF_MISSING_SECRET';

const NOTICES: Record<string, string> = {
  paused: 'The queue is paused: workers finish what they have and take no new runs. New runs wait.',
  resumed: 'The queue is running again.',
  retried: 'The run was put back in the queue; successful steps will be replayed from its journal.',
};

const ERRORS: Record<string, string> = {
  RUN_NOT_FAILED: 'Only a failed run can be retried; that run is not failed (retried already?).',
  RUN_STILL_QUEUED: "The run's job has not ended yet; retry it once it has.",
  NOT_FOUND: 'That run no longer exists (its retention period has passed).',
};

export const adminPlugin =
  (deps: ApiDeps, auth: Authenticator, streams: StreamSlots) => async (app: FastifyInstance) => {
    const { config, log } = deps;
    const secret = config.admin.sessionSecret ?? randomBytes(32).toString('base64url');
    if (!config.admin.sessionSecret) {
      log.warn(
        'BATON_SESSION_SECRET is not set: operator console sessions are signed with a random per-process secret, so they end when this process restarts and are not valid on other API replicas',
      );
    }
    const ttlSeconds = config.admin.sessionTtlSeconds;
    await registerConsoleSessions(app, { secret, ttlSeconds, redis: deps.redis, prefix: config.redisPrefix });
    await app.register(formbody, { bodyLimit: 16_384 });
    await app.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          baseUri: ["'self'"],
          scriptSrc: ["'self'"],
          scriptSrcAttr: ["'none'"],
          // bull-board's page and React components set inline styles; scripts stay same-origin only.
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          objectSrc: ["'none'"],
        },
      },
      frameguard: { action: 'deny' },
      referrerPolicy: { policy: 'same-origin' },
    });

    const deny = (request: FastifyRequest, reply: FastifyReply, status: 401 | 403, message: string) => {
      if (status === 401 && wantsHtml(request)) {
        const next = encodeURIComponent(safeNext(request.url));
        return reply.redirect(`/admin/login?next=${next}`, 302);
      }
      if (wantsHtml(request) || (isFormPost(request) && status === 403)) {
        return reply
          .code(status)
          .type('text/html; charset=utf-8')
          .send(messagePage(status === 401 ? 'Sign in required' : 'Not allowed', message));
      }
      return reply
        .code(status)
        .send({ error: { code: status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', message } });
    };

    // Errors of console routes: a refused CSRF token is answered like every other refusal here.
    app.setErrorHandler((error: FastifyError, request, reply) =>
      isCsrfError(error) ? deny(request, reply, 403, CSRF_REFUSED) : errorHandler(error, request, reply),
    );

    app.addHook('onRequest', async (request, reply) => {
      reply.header('cache-control', 'no-store');
      if (PUBLIC_PATHS.has(request.routeOptions.url ?? '')) return;
      let caller: Caller;
      if (request.headers.authorization !== undefined) {
        try {
          caller = await auth.authenticate(request);
        } catch (err) {
          if (err instanceof ApiError && err.status === 429) {
            const wait = err.details?.retryAfterSeconds;
            if (typeof wait === 'number') reply.header('retry-after', String(wait));
            return reply.code(429).send({ error: err.toJSON() });
          }
          if (err instanceof ApiError && err.status === 403) return deny(request, reply, 403, err.message);
          return deny(
            request,
            reply,
            401,
            err instanceof ApiError ? err.message : 'The API key is not valid.',
          );
        }
      } else {
        const user = sessionUser(request);
        // The role is the key's role now: a session of a key that was removed or demoted ends.
        const role = user ? deps.keys.roleOf(user.keyId) : undefined;
        if (!user || !role) {
          return deny(
            request,
            reply,
            401,
            'Sign in at /admin/login, or send "Authorization: Bearer <key>" with an operator or admin key.',
          );
        }
        caller = { role, keyId: user.keyId, via: 'key' };
        request.adminSession = { keyId: user.keyId, role };
      }
      if (!OPERATOR_ROLES.includes(caller.role)) {
        return deny(
          request,
          reply,
          403,
          'The operator console needs an operator or admin key; client keys cannot use it.',
        );
      }
      request.caller = caller;
    });

    // CSRF: cookie-authenticated state changes must come from this origin and carry the session's token.
    app.addHook('preHandler', (request, reply, done) => {
      if (!request.adminSession || !UNSAFE_METHODS.has(request.method)) return done();
      if (!sameOrigin(request)) {
        request.log.warn(
          { route: request.routeOptions.url, keyId: request.adminSession.keyId },
          'cross-site admin request refused',
        );
        deny(request, reply, 403, CSRF_REFUSED);
        return;
      }
      app.csrfProtection(request, reply, done);
    });

    const who = (request: FastifyRequest, reply: FastifyReply): Who => {
      const caller = request.caller as Caller;
      return {
        role: caller.role,
        keyId: caller.keyId,
        csrf: request.adminSession ? pageCsrfToken(request, reply) : '',
      };
    };
    const sendHtml = (reply: FastifyReply, body: string, status = 200) =>
      reply.code(status).type('text/html; charset=utf-8').send(body);

    app.get('/admin/console.css', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(CONSOLE_CSS),
    );

    app.get('/admin/login', { schema: { hide: true } }, async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      const csrf = issueLoginToken(request, reply);
      return sendHtml(
        reply,
        loginPage({
          csrf,
          next: safeNext(query.next),
          ...(query.signedOut !== undefined ? { notice: 'You are signed out.' } : {}),
        }),
      );
    });

    app.post('/admin/login', { schema: { hide: true } }, async (request, reply) => {
      const next = safeNext(field(request.body, 'next'));
      const again = (status: number, error: string) =>
        sendHtml(reply, loginPage({ csrf: issueLoginToken(request, reply), next, error }), status);
      if (!sameOrigin(request) || !checkLoginToken(request, field(request.body, '_csrf'))) {
        request.log.warn('cross-site or stale login form refused');
        return again(403, 'The sign-in form expired or came from another site. Try again.');
      }
      const key = field(request.body, 'key')?.trim();
      let caller: Caller | undefined;
      try {
        caller = key ? auth.identifyKey(request, key) : undefined;
      } catch (err) {
        if (err instanceof ApiError && err.status === 429) return again(429, err.message);
        throw err;
      }
      if (!caller) return again(401, 'That key is not valid.');
      if (!OPERATOR_ROLES.includes(caller.role)) {
        request.log.warn({ keyId: caller.keyId }, 'client key refused at the operator console');
        return again(
          403,
          'This is a client key: the operator console needs an operator or admin key. Client keys work with the /v1 API only.',
        );
      }
      clearLoginToken(request, reply);
      await startSession(request, reply, { keyId: caller.keyId, role: caller.role }, ttlSeconds);
      request.log.info({ keyId: caller.keyId, role: caller.role }, 'operator console sign-in');
      return reply.redirect(next, 303);
    });

    app.post('/admin/logout', { schema: { hide: true } }, async (request, reply) => {
      const user = request.adminSession;
      if (user) request.log.info({ keyId: user.keyId }, 'operator console sign-out');
      await endSession(request, reply);
      return reply.redirect('/admin/login?signedOut=1', 303);
    });

    const runsOf = async (ids: readonly (string | undefined)[]): Promise<RunRecord[]> => {
      const runs = await deps.store.getMany(ids.filter((id): id is string => !!id));
      return runs.map((r) => r.record);
    };

    app.get('/admin', { schema: { hide: true } }, async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      const [stats, workers, active, waiting, failed] = await Promise.all([
        collectQueueStats(deps.queue, deps.redis, deps.config.redisPrefix),
        listWorkers(deps.redis, deps.config.redisPrefix),
        deps.queue.getJobs(['active'], 0, 49),
        deps.queue.getJobs(['wait'], 0, 19, true),
        deps.queue.getJobs(['failed'], 0, 19),
      ]);
      const running = (await runsOf(active.map((j) => j?.id))).sort((a, b) =>
        (a.startedAt ?? '') < (b.startedAt ?? '') ? -1 : 1,
      );
      const notice = typeof query.done === 'string' ? NOTICES[query.done] : undefined;
      // Only known codes are shown: a crafted link cannot put arbitrary text on the page.
      const error =
        typeof query.error === 'string' && /^[A-Z_]{1,40}$/.test(query.error)
          ? (ERRORS[query.error] ?? `The action failed (${query.error}).`)
          : undefined;
      return sendHtml(
        reply,
        overviewPage({
          who: who(request, reply),
          stats,
          workers: workers.length,
          running,
          waiting: await runsOf(waiting.map((j) => j?.id)),
          failed: (await runsOf(failed.map((j) => j?.id))).filter((r) => r.status === 'failed'),
          ...(notice ? { notice } : {}),
          ...(error ? { error } : {}),
        }),
      );
    });

    app.get('/admin/fleet', { schema: { hide: true } }, async (request, reply) =>
      sendHtml(
        reply,
        fleetPage({
          who: who(request, reply),
          workers: await listWorkers(deps.redis, deps.config.redisPrefix),
          teams: new Map((await deps.teams.list()).map((t) => [t.team.name, t.team])),
        }),
      ),
    );

    /** Form actions answer with a redirect to the overview (post/redirect/get), errors shown there. */
    const action = async (reply: FastifyReply, run: () => Promise<string>) => {
      try {
        const done = await run();
        return reply.redirect(`/admin?done=${done}`, 303);
      } catch (err) {
        if (err instanceof RefusedError && err.refusal !== 'unavailable') {
          return reply.redirect(`/admin?error=${encodeURIComponent(err.code)}`, 303);
        }
        throw err;
      }
    };

    app.post('/admin/queue/pause', { schema: { hide: true } }, async (request, reply) =>
      action(reply, async () => {
        await deps.queue.pause();
        request.log.warn({ keyId: request.caller?.keyId }, 'queue paused from the operator console');
        return 'paused';
      }),
    );
    app.post('/admin/queue/resume', { schema: { hide: true } }, async (request, reply) =>
      action(reply, async () => {
        await deps.queue.resume();
        request.log.warn({ keyId: request.caller?.keyId }, 'queue resumed from the operator console');
        return 'resumed';
      }),
    );
    app.post(
      '/admin/runs/:id/retry',
      { schema: { hide: true, params: z.object({ id: runIdSchema }) } },
      async (request, reply) =>
        action(reply, async () => {
          await deps.lifecycle.retry((request.params as { id: string }).id);
          return 'retried';
        }),
    );

    inspectorRoutes(
      app,
      deps,
      {
        who,
        send: sendHtml,
        notFound: (request, reply, message) =>
          wantsHtml(request)
            ? sendHtml(reply, messagePage('Not found', message, who(request, reply)), 404)
            : reply.code(404).send({ error: { code: 'NOT_FOUND', message } }),
      },
      streams,
    );

    /** Waiting runs' open requests: their jobs are the delayed ones (the newest 500). */
    app.get('/admin/pending', { schema: { hide: true } }, async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      const team = typeof query.team === 'string' && query.team ? query.team : undefined;
      const delayed = await deps.queue.getJobs(['delayed'], 0, 499);
      const waiting = (await runsOf(delayed.map((j) => j?.id))).filter((r) => r.status === 'waiting');
      const rows: PendingRow[] = waiting
        .filter((r) => team === undefined || r.team === team)
        .flatMap((run) => (run.pending ?? []).map((req) => ({ run, request: req })))
        .sort((a, b) => (a.request.createdAt < b.request.createdAt ? -1 : 1));
      const error =
        typeof query.error === 'string' && /^[A-Z_]{1,40}$/.test(query.error)
          ? (PENDING_ERRORS[query.error] ?? `The answer was refused (${query.error}).`)
          : undefined;
      return sendHtml(
        reply,
        pendingPage({
          who: who(request, reply),
          rows,
          teams: [...new Set(waiting.map((r) => r.team))].sort(),
          team,
          notice: query.done === 'answered' ? 'The answer was recorded; the run resumes.' : undefined,
          error,
        }),
      );
    });

    app.post(
      '/admin/runs/:id/input',
      { schema: { hide: true, params: z.object({ id: runIdSchema }) } },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        const body = request.body;
        const decision = field(body, 'decision');
        const comment = field(body, 'comment')?.trim();
        const answer = field(body, 'answer');
        const parsed = inputAnswerSchema.safeParse({
          requestId: field(body, 'requestId'),
          ...(decision !== undefined ? { decision, ...(comment ? { comment } : {}) } : { answer }),
        });
        if (!parsed.success) return reply.redirect('/admin/pending?error=VALIDATION_ERROR', 303);
        try {
          const run = await deps.store.get(id);
          if (!run) throw new RefusedError('not-found', 'NOT_FOUND', `Run "${id}" was not found.`);
          await deps.lifecycle.inputs.answer(run, parsed.data, { keyId: request.caller?.keyId ?? '' });
          return reply.redirect('/admin/pending?done=answered', 303);
        } catch (err) {
          if (err instanceof RefusedError && err.refusal !== 'unavailable') {
            return reply.redirect(`/admin/pending?error=${encodeURIComponent(err.code)}`, 303);
          }
          throw err;
        }
      },
    );

    await mountBoard(app, deps, deny);
  };

const PENDING_ERRORS: Record<string, string> = {
  INPUT_NOT_PENDING: 'That request is no longer pending: it was answered or has expired.',
  RUN_FINISHED: 'That run has already finished.',
  VALIDATION_ERROR: 'The answer was incomplete: a question needs an answer, an approval a decision.',
  NOT_FOUND: 'That run no longer exists.',
};
