import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/runs/schema.js';
import { ADMIN_KEY, KEYS } from '../admin/harness.js';
import { signIn } from '../admin/session.js';
import { CLIENT_KEY, client, OPERATOR_KEY, OTHER_CLIENT_KEY } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startService } from '../support/service.js';

/**
 * The authorization matrix: every registered route × every kind of caller × whose run it is about. The table
 * below says who may use each route; the test reads the routes the API actually registered, so a new route with
 * no entry here fails it (and so does an entry for a route that no longer exists).
 *
 * Who may do what:
 * - public          anyone, no credentials (probes, API reference)
 * - caller          any API key or access token (bearer; console cookies do not count on /v1)
 * - owner           about one run: its owner (the key or tenant that created it), operators and admins;
 *                   another client gets 404, never 403, so it cannot learn the run exists
 * - operator        operators and admins (clients: 403)
 * - admin           admins only, by bearer credential (clients and operators: 403)
 * - console         the operator console: operators and admins, by bearer key or session cookie; a
 *                   cookie-authenticated state change needs the CSRF token (403 without)
 * - console-admin   console actions for admins only (operators: 403)
 * - console-public  the sign-in form's page and stylesheet
 * - sign-in         posting the sign-in form: refused (403) to everyone without the form's own token
 */
type Access =
  | 'public'
  | 'caller'
  | 'owner'
  | 'operator'
  | 'admin'
  | 'console'
  | 'console-admin'
  | 'console-public'
  | 'sign-in';

const table: Record<string, Access> = {
  'GET /docs': 'public',
  'HEAD /docs/': 'public',
  'GET /docs/static/index.html': 'public',
  'GET /docs/static/swagger-initializer.js': 'public',
  'GET /docs/json': 'public',
  'GET /docs/yaml': 'public',
  'GET /docs/static/*': 'public',
  'GET /openapi.json': 'public',
  'GET /healthz': 'public',
  'GET /readyz': 'public',

  'POST /v1/runs': 'caller',
  'GET /v1/runs': 'caller',
  // Filtered like GET /v1/runs: a client sees entries of its own runs, operators and admins all.
  'GET /v1/feedback': 'caller',
  'GET /v1/evaluations': 'caller',
  'GET /v1/runs/:id': 'owner',
  'POST /v1/runs/:id/cancel': 'owner',
  'POST /v1/runs/:id/feedback': 'owner',
  'POST /v1/runs/:id/input': 'owner',
  'GET /v1/runs/:id/events': 'owner',
  'GET /v1/teams': 'caller',
  'GET /v1/teams/:name': 'caller',
  'GET /v1/teams/:name/versions/:version': 'caller',
  'PUT /v1/teams/:name': 'admin',
  'DELETE /v1/teams/:name': 'admin',
  'GET /v1/agents': 'caller',
  'GET /v1/workers': 'operator',
  'GET /v1/queue': 'operator',
  'GET /v1/tenants': 'operator',
  'POST /v1/queue/pause': 'operator',
  'POST /v1/queue/resume': 'operator',
  'POST /v1/runs/:id/retry': 'operator',
  'POST /v1/teams/:team/cancel': 'operator',

  'GET /admin/console.css': 'console-public',
  'GET /admin/login': 'console-public',
  'POST /admin/login': 'sign-in',
  'POST /admin/logout': 'console',
  'GET /admin': 'console',
  'GET /admin/fleet': 'console',
  'GET /admin/pending': 'console',
  'POST /admin/runs/:id/input': 'console',
  'POST /admin/queue/pause': 'console',
  'POST /admin/queue/resume': 'console',
  'POST /admin/runs/:id/retry': 'console',
  'GET /admin/inspector.js': 'console',
  'GET /admin/runs': 'console',
  'GET /admin/runs/:id': 'console',
  'GET /admin/runs/:id/events': 'console',
  'GET /admin/compare': 'console',

  'GET /admin/queues': 'console',
  'HEAD /admin/queues/': 'console',
  'GET /admin/queues/metrics-history': 'console',
  'GET /admin/queues/job-schedulers': 'console',
  'GET /admin/queues/queue/:queueName': 'console',
  'GET /admin/queues/queue/:queueName/:jobId': 'console',
  'GET /admin/queues/static/*': 'console',
  'GET /admin/queues/api/redis/stats': 'console',
  'GET /admin/queues/api/queues': 'console',
  'GET /admin/queues/api/job-schedulers': 'console',
  'GET /admin/queues/api/queues/:queueName/metrics': 'console',
  'GET /admin/queues/api/queues/:queueName/default-job-options': 'console',
  'GET /admin/queues/api/queues/:queueName/workers': 'console',
  'GET /admin/queues/api/queues/:queueName/rate-limit': 'console',
  'GET /admin/queues/api/queues/:queueName/job-data-schema': 'console',
  'GET /admin/queues/api/queues/:queueName/:jobId/logs': 'console',
  'GET /admin/queues/api/queues/:queueName/:jobId/flow': 'console',
  'GET /admin/queues/api/queues/:queueName/:jobId': 'console',
  'PUT /admin/queues/api/queues/pause': 'console',
  'PUT /admin/queues/api/queues/resume': 'console',
  'PUT /admin/queues/api/queues/:queueName/pause': 'console',
  'PUT /admin/queues/api/queues/:queueName/resume': 'console',
  'PUT /admin/queues/api/queues/:queueName/retry/:queueStatus': 'console',
  'PUT /admin/queues/api/queues/:queueName/:jobId/retry': 'console',
  'PUT /admin/queues/api/queues/:queueName/:jobId/promote': 'console',
  'POST /admin/queues/api/queues/:queueName/add': 'console-admin',
  'PUT /admin/queues/api/queues/:queueName/promote': 'console-admin',
  'PUT /admin/queues/api/queues/:queueName/clean/:queueStatus': 'console-admin',
  'PUT /admin/queues/api/queues/:queueName/concurrency': 'console-admin',
  'PUT /admin/queues/api/queues/:queueName/rate-limit': 'console-admin',
  'PUT /admin/queues/api/queues/:queueName/rate-limit/release': 'console-admin',
  'PUT /admin/queues/api/queues/:queueName/empty': 'console-admin',
  'PUT /admin/queues/api/queues/:queueName/obliterate': 'console-admin',
  'PUT /admin/queues/api/queues/:queueName/job-schedulers/:schedulerId/remove': 'console-admin',
  'PATCH /admin/queues/api/queues/:queueName/job-schedulers/:schedulerId': 'console-admin',
  'PUT /admin/queues/api/queues/:queueName/job-schedulers/:schedulerId/run': 'console-admin',
  'PUT /admin/queues/api/queues/:queueName/:jobId/clean': 'console-admin',
  'PATCH /admin/queues/api/queues/:queueName/:jobId/update-data': 'console-admin',
  'PATCH /admin/queues/api/queues/:queueName/:jobId/delay': 'console-admin',
  'PATCH /admin/queues/api/queues/:queueName/:jobId/priority': 'console-admin',
  'PUT /admin/queues/api/queues/:queueName/:jobId/remove-unprocessed-children': 'console-admin',
};

type Role =
  | 'anonymous'
  | 'client A'
  | 'client B'
  | 'operator'
  | 'admin'
  | 'operator session'
  | 'admin session'
  | 'admin session, no CSRF token';
const ROLES: Role[] = [
  'anonymous',
  'client A',
  'client B',
  'operator',
  'admin',
  'operator session',
  'admin session',
  'admin session, no CSRF token',
];
type Tenant = 'own run' | 'other tenant’s run';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** What must happen: `allowed` (past authentication and authorization), or the refusal's status. */
type Expected = 'allowed' | 401 | 403 | 404;

function expected(access: Access, role: Role, method: string, tenant: Tenant | undefined): Expected {
  const bearer = !role.includes('session') && role !== 'anonymous';
  const session = role.includes('session');
  const isClient = role === 'client A' || role === 'client B';
  const isAdmin = role === 'admin' || role.startsWith('admin session');
  switch (access) {
    case 'public':
    case 'console-public':
      return 'allowed';
    case 'sign-in':
      return 403;
    case 'caller':
      return bearer ? 'allowed' : 401;
    case 'owner':
      if (!bearer) return 401;
      return isClient && tenant !== 'own run' ? 404 : 'allowed';
    case 'operator':
      if (!bearer) return 401;
      return isClient ? 403 : 'allowed';
    case 'admin':
      if (!bearer) return 401;
      return isAdmin ? 'allowed' : 403;
    case 'console':
    case 'console-admin':
      if (role === 'anonymous') return 401;
      if (isClient) return 403;
      if (session && UNSAFE.has(method) && role.endsWith('no CSRF token')) return 403;
      if (access === 'console-admin' && !isAdmin) return 403;
      return 'allowed';
  }
}

let redis: TestRedis;
let service: Awaited<ReturnType<typeof startService>>;
let runs: Record<'A' | 'B', RunRecord>;
let sessions: Record<'operator' | 'admin' | 'noCsrf', Awaited<ReturnType<typeof signIn>>>;

beforeAll(async () => {
  redis = await startRedis();
  service = await startService(redis, {
    BATON_API_KEYS: KEYS,
    BATON_RATE_LIMIT_PER_MINUTE: '0',
    BATON_AUTH_FAILURES_PER_MINUTE: '0',
  });
  const run = { team: 'news-desk', pattern: 'sequential', input: sampleArticle };
  const a = client(service.url, CLIENT_KEY);
  const b = client(service.url, OTHER_CLIENT_KEY);
  const [ra, rb] = await Promise.all([a.createRun(run), b.createRun(run)]);
  runs = {
    A: await a.waitForStatus(ra.run.id, ['succeeded']),
    B: await b.waitForStatus(rb.run.id, ['succeeded']),
  };
  sessions = {
    operator: await signIn(service.url, OPERATOR_KEY),
    admin: await signIn(service.url, ADMIN_KEY),
    noCsrf: await signIn(service.url, ADMIN_KEY),
  };
});
afterAll(async () => {
  await service?.stop();
  await redis?.stop();
});

/** The table entry of a route: a HEAD route is its GET route's twin (the table lists a HEAD only without one). */
function tableKey(method: string, url: string): string {
  const isTwin =
    method === 'HEAD' && service.app.registeredRoutes.some((r) => r.method === 'GET' && r.url === url);
  return `${isTwin ? 'GET' : method} ${url}`;
}

/** A concrete path for a route pattern: the run of the tenant asked for; harmless names for the rest. */
function pathFor(url: string, role: Role, tenant: Tenant | undefined): string {
  const callerIsB = role === 'client B';
  const own = callerIsB ? runs.B : runs.A;
  const other = callerIsB ? runs.A : runs.B;
  return url
    .replace(':id', (tenant === 'other tenant’s run' ? other : own).id)
    .replace(':team', 'news-desk')
    .replace(':name', 'news-desk')
    .replace(':version', '000000000000')
    .replace(':queueName', 'no-such-queue') // actions reach bull-board without touching the runs queue
    .replace(':jobId', 'no-such-job')
    .replace(':queueStatus', 'failed')
    .replace(':schedulerId', 'no-such-scheduler')
    .replace('*', 'no-such-file.js');
}

const BODIES: Record<string, unknown> = {
  'POST /v1/runs': { team: 'news-desk', pattern: 'sequential', input: 'A short note for the matrix.' },
  'POST /v1/runs/:id/feedback': { score: 1 },
  'POST /v1/runs/:id/input': { requestId: 'no-such-request', answer: 'An answer for the matrix.' },
};

async function headersFor(role: Role, method: string, route: string): Promise<Record<string, string>> {
  const base: Record<string, string> = { accept: 'application/json' };
  const bearer = (key: string) => ({ ...base, authorization: `Bearer ${key}` });
  let s: Awaited<ReturnType<typeof signIn>> | undefined;
  switch (role) {
    case 'anonymous':
      return base;
    case 'client A':
      return bearer(CLIENT_KEY);
    case 'client B':
      return bearer(OTHER_CLIENT_KEY);
    case 'operator':
      return bearer(OPERATOR_KEY);
    case 'admin':
      return bearer(ADMIN_KEY);
    case 'operator session':
      s = route === 'POST /admin/logout' ? await signIn(service.url, OPERATOR_KEY) : sessions.operator;
      break;
    case 'admin session':
      s = route === 'POST /admin/logout' ? await signIn(service.url, ADMIN_KEY) : sessions.admin;
      break;
    case 'admin session, no CSRF token':
      return { ...base, cookie: sessions.noCsrf.cookie, origin: service.url };
  }
  return {
    ...base,
    cookie: s.cookie,
    origin: service.url,
    ...(UNSAFE.has(method) ? { 'x-xsrf-token': s.csrf } : {}),
  };
}

describe('authorization matrix', () => {
  it('has an entry for every registered route, and a route for every entry', () => {
    const registered = new Set(service.app.registeredRoutes.map((r) => tableKey(r.method, r.url)));
    expect([...registered].filter((route) => !(route in table))).toEqual([]);
    expect(Object.keys(table).filter((route) => !registered.has(route))).toEqual([]);
  });

  it('every route × role × tenant answers as the table says: no client reaches another’s runs or operator routes, no operator the admin-only actions', async () => {
    const routes = service.app.registeredRoutes.map((r) => ({
      method: r.method,
      url: r.url,
      key: tableKey(r.method, r.url),
    }));
    const failures: string[] = [];
    let cases = 0;
    for (const route of routes) {
      const access = table[route.key] as Access;
      const tenants: (Tenant | undefined)[] = route.url.includes(':id')
        ? ['own run', 'other tenant’s run']
        : [undefined];
      for (const role of ROLES) {
        for (const tenant of tenants) {
          cases += 1;
          const path = pathFor(route.url, role, tenant);
          const body = BODIES[route.key];
          const headers = await headersFor(role, route.method, route.key);
          const res = await fetch(`${service.url}${path}`, {
            method: route.method,
            redirect: 'manual',
            headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          });
          const text = route.method === 'HEAD' ? '' : await res.text();
          const want = expected(access, role, route.method, tenant);
          const label = `${route.method} ${path} as ${role}${tenant ? ` (${tenant})` : ''}: ${res.status}, expected ${want}`;
          const refused = res.status === 401 || res.status === 403;
          const ok =
            res.status < 500 &&
            (want === 'allowed'
              ? !refused && !(access === 'owner' && res.status === 404)
              : res.status === want);
          if (!ok) failures.push(`${label} ${text.slice(0, 120)}`);
          // A client's list holds its own runs only.
          if (
            route.key === 'GET /v1/runs' &&
            route.method === 'GET' &&
            (role === 'client A' || role === 'client B')
          ) {
            const ids = (JSON.parse(text) as { items: RunRecord[] }).items.map((r) => r.id);
            const [mine, theirs] = role === 'client A' ? [runs.A, runs.B] : [runs.B, runs.A];
            if (!ids.includes(mine.id) || ids.includes(theirs.id))
              failures.push(`${label}: lists ${ids.join(', ')}`);
          }
          // Keep the queue running for the cases after a pause.
          if (await service.deps.queue.isPaused()) await service.deps.queue.resume();
        }
      }
    }
    console.log(
      `authorization matrix: ${routes.length} routes × ${ROLES.length} roles (× 2 tenants on run routes) = ${cases} cases`,
    );
    expect(failures).toEqual([]);
    expect(cases).toBeGreaterThan(900);
  }, 120_000);
});
