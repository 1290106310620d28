import { randomBytes } from 'node:crypto';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiRole } from '../../config/index.js';
import { RefusedError } from '../../core/errors.js';
import { collectQueueStats } from '../../queue/stats.js';
import type { RunRecord } from '../../runs/schema.js';
import { listWorkers } from '../../worker/heartbeat.js';
import type { Caller } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { mountBoard } from './board.js';
import { CONSOLE_CSS } from './html.js';
import { fleetPage, loginPage, messagePage, overviewPage, type Who } from './pages.js';
import { type Session, SessionManager, sameOrigin, XSRF_HEADER } from './session.js';

/**
 * The operator console under /admin: a login form that starts a signed cookie session, an overview page, the
 * fleet page and bull-board (/admin/queues). Every route needs an operator or admin key, by session cookie or
 * `Authorization: Bearer`. Without credentials, pages redirect to the login form and API paths answer 401;
 * client keys get 403. Cookie-authenticated state changes pass the CSRF checks described in session.ts.
 * Helmet's security headers (with a CSP that bull-board's UI works under) apply to everything here.
 */

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when an /admin request is authenticated by a session cookie (not a bearer key). */
    adminSession?: Session;
  }
}

const OPERATOR_ROLES: readonly ApiRole[] = ['operator', 'admin'];
/** Reachable without a session. */
const PUBLIC_PATHS = new Set(['/admin/login', '/admin/console.css']);
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Whether `path` belongs to the console (the API's bearer-only auth hook leaves these to it). */
export function isAdminPath(path: string): boolean {
  return path === '/admin' || path.startsWith('/admin/');
}

const revokedKey = (prefix: string, sid: string) => `${prefix}:admin:revoked:${sid}`;

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

export const adminPlugin = (deps: ApiDeps) => async (app: FastifyInstance) => {
  const { config, log } = deps;
  const secret = config.admin.sessionSecret ?? randomBytes(32).toString('base64url');
  if (!config.admin.sessionSecret) {
    log.warn(
      'BATON_SESSION_SECRET is not set: operator console sessions are signed with a random per-process secret, so they end when this process restarts and are not valid on other API replicas',
    );
  }
  const sessions = new SessionManager(secret, config.admin.sessionTtlSeconds);
  /** Roles by key id, from the configured keys: a session of a key that was removed or demoted ends. */
  const roleOfKey = new Map<string, ApiRole>();
  for (const { key } of config.apiKeys ?? []) {
    const caller = deps.keys.identify(key);
    if (caller) roleOfKey.set(caller.keyId, caller.role);
  }

  await app.register(cookie, { secret, hook: 'onRequest' });
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

  app.addHook('onRequest', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    if (PUBLIC_PATHS.has(pathOf(request))) return;
    let caller: Caller;
    if (request.headers.authorization !== undefined) {
      try {
        caller = deps.keys.authenticate(request);
      } catch (err) {
        return deny(request, reply, 401, err instanceof ApiError ? err.message : 'The API key is not valid.');
      }
    } else {
      const session = sessions.read(request);
      const role = session ? roleOfKey.get(session.keyId) : undefined;
      if (!session || !role) {
        return deny(
          request,
          reply,
          401,
          'Sign in at /admin/login, or send "Authorization: Bearer <key>" with an operator or admin key.',
        );
      }
      if ((await deps.redis.exists(revokedKey(config.redisPrefix, session.sid))) === 1) {
        return deny(request, reply, 401, 'This session has ended; sign in again.');
      }
      caller = { role, keyId: session.keyId };
      request.adminSession = { ...session, role };
      if (wantsHtml(request)) sessions.refreshXsrfCookie(request, reply, session);
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
  app.addHook('preHandler', async (request, reply) => {
    const session = request.adminSession;
    if (!session || !UNSAFE_METHODS.has(request.method)) return;
    const headerToken = request.headers[XSRF_HEADER];
    const token = (Array.isArray(headerToken) ? headerToken[0] : headerToken) ?? field(request.body, '_csrf');
    if (!sameOrigin(request) || !sessions.checkCsrfToken(session, token)) {
      request.log.warn({ path: pathOf(request), keyId: session.keyId }, 'cross-site admin request refused');
      return deny(
        request,
        reply,
        403,
        'The request was refused: it did not come from a page of this console (missing or wrong CSRF token, or another origin). Reload the page and try again.',
      );
    }
  });

  const who = (request: FastifyRequest): Who => {
    const caller = request.caller as Caller;
    return {
      role: caller.role,
      keyId: caller.keyId,
      csrf: request.adminSession ? sessions.csrfToken(request.adminSession) : '',
    };
  };
  const sendHtml = (reply: FastifyReply, body: string, status = 200) =>
    reply.code(status).type('text/html; charset=utf-8').send(body);

  app.get('/admin/console.css', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(CONSOLE_CSS),
  );

  app.get('/admin/login', { schema: { hide: true } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const csrf = sessions.issueLoginToken(request, reply);
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
      sendHtml(reply, loginPage({ csrf: sessions.issueLoginToken(request, reply), next, error }), status);
    if (!sameOrigin(request) || !sessions.checkLoginToken(request, field(request.body, '_csrf'))) {
      request.log.warn('cross-site or stale login form refused');
      return again(403, 'The sign-in form expired or came from another site. Try again.');
    }
    const key = field(request.body, 'key')?.trim();
    const caller = key ? deps.keys.identify(key) : undefined;
    if (!caller) return again(401, 'That key is not valid.');
    if (!OPERATOR_ROLES.includes(caller.role)) {
      request.log.warn({ keyId: caller.keyId }, 'client key refused at the operator console');
      return again(
        403,
        'This is a client key: the operator console needs an operator or admin key. Client keys work with the /v1 API only.',
      );
    }
    sessions.clearLoginToken(request, reply);
    const session = sessions.start(request, reply, caller);
    request.log.info({ keyId: session.keyId, role: session.role }, 'operator console sign-in');
    return reply.redirect(next, 303);
  });

  app.post('/admin/logout', { schema: { hide: true } }, async (request, reply) => {
    const session = request.adminSession;
    if (session) {
      const ttl = session.exp - Date.now();
      if (ttl > 0) await deps.redis.set(revokedKey(config.redisPrefix, session.sid), '1', 'PX', ttl);
      request.log.info({ keyId: session.keyId }, 'operator console sign-out');
    }
    sessions.clear(request, reply);
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
        who: who(request),
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
        who: who(request),
        workers: await listWorkers(deps.redis, deps.config.redisPrefix),
        teams: deps.teams,
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
  app.post('/admin/runs/:id/retry', { schema: { hide: true } }, async (request, reply) =>
    action(reply, async () => {
      await deps.lifecycle.retry((request.params as { id: string }).id);
      return 'retried';
    }),
  );

  await mountBoard(app, deps);
};
