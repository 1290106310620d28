import { sign } from '@fastify/cookie';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KEY, OPERATOR_KEY } from '../support/baton.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { ADMIN_KEY, type Console, startConsole } from './harness.js';
import { cookieNamed, form, openLoginForm, signIn, submitLogin } from './session.js';

const SECRET = 'test-session-secret-0123456789abcdefghij';
let redis: TestRedis;
let c: Console;

beforeAll(async () => {
  redis = await startRedis();
  c = await startConsole(redis, { env: { BATON_SESSION_SECRET: SECRET, BATON_SESSION_TTL_SECONDS: '3600' } });
});
afterAll(async () => {
  await c?.stop();
  await redis?.stop();
});

const PAGES = ['/admin', '/admin/fleet', '/admin/queues', '/admin/queues/queue/runs'];
const BOARD_API = [
  '/admin/queues/api/queues',
  '/admin/queues/api/redis/stats',
  '/admin/queues/api/queues/runs/workers',
  '/admin/queues/api/queues/runs/metrics',
];
const POSTS = ['/admin/queue/pause', '/admin/queue/resume', '/admin/logout', '/admin/runs/nope/retry'];
const BOARD_PUTS = ['/admin/queues/api/queues/runs/pause', '/admin/queues/api/queues/runs/resume'];

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${c.url}${path}`, { headers, redirect: 'manual' });
const send = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
  fetch(`${c.url}${path}`, { method, headers, redirect: 'manual', ...(body !== undefined ? { body } : {}) });
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe('without credentials', () => {
  it('redirects page navigations to the login form, keeping where they were going', async () => {
    for (const path of PAGES) {
      const res = await get(path, { accept: 'text/html,application/xhtml+xml' });
      expect(res.status, path).toBe(302);
      expect(res.headers.get('location')).toBe(`/admin/login?next=${encodeURIComponent(path)}`);
    }
  });

  it('answers 401 with the error envelope on API paths (bull-board JSON API) and non-HTML requests', async () => {
    for (const path of [...BOARD_API, ...PAGES]) {
      const res = await get(path, { accept: 'application/json' });
      expect(res.status, path).toBe(401);
      expect(await errorCode(res)).toBe('UNAUTHORIZED');
    }
    // Even a browser navigation to an API path gets 401, not a redirect.
    expect((await get('/admin/queues/api/queues', { accept: 'text/html' })).status).toBe(401);
    for (const path of POSTS) expect((await send('POST', path)).status, path).toBe(401);
    for (const path of BOARD_PUTS) expect((await send('PUT', path)).status, path).toBe(401);
    expect((await get('/admin', { authorization: 'Bearer not-a-key-at-all-xxxxxx' })).status).toBe(401);
  });

  it('serves the login form and its stylesheet', async () => {
    const res = await get('/admin/login', { accept: 'text/html' });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<label for="key">');
    expect(html).toMatch(/<main id="main">/);
    expect((await get('/admin/console.css')).status).toBe(200);
  });
});

describe('client keys', () => {
  it('get 403 on every admin route', async () => {
    for (const path of [...PAGES, ...BOARD_API]) {
      const res = await get(path, { ...bearer(CLIENT_KEY), accept: 'application/json' });
      expect(res.status, path).toBe(403);
      expect(await errorCode(res)).toBe('FORBIDDEN');
    }
    for (const path of PAGES) {
      const res = await get(path, { ...bearer(CLIENT_KEY), accept: 'text/html' });
      expect(res.status, path).toBe(403);
      expect(await res.text()).toContain('client keys cannot use it');
    }
    for (const path of POSTS) expect((await send('POST', path, bearer(CLIENT_KEY))).status, path).toBe(403);
    for (const path of BOARD_PUTS)
      expect((await send('PUT', path, bearer(CLIENT_KEY))).status, path).toBe(403);
    expect(await c.deps.queue.isPaused()).toBe(false);
  });

  it('cannot sign in: the form says why and no session starts', async () => {
    const res = await submitLogin(c.url, CLIENT_KEY);
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(
      /This is a client key: the operator console needs an operator or admin key/,
    );
    expect(cookieNamed(res, 'baton_session')).toBeUndefined();
  });

  it('an unknown key is refused at sign-in', async () => {
    const res = await submitLogin(c.url, 'not-a-key-at-all-xxxxxxxxx');
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('That key is not valid.');
    expect(cookieNamed(res, 'baton_session')).toBeUndefined();
  });
});

describe('operator and admin keys', () => {
  it('get 200 on every admin page and bull-board API route with a bearer key', async () => {
    for (const key of [OPERATOR_KEY, ADMIN_KEY]) {
      for (const path of [...PAGES, ...BOARD_API]) {
        const res = await get(path, { ...bearer(key), accept: 'text/html' });
        expect(res.status, path).toBe(200);
      }
    }
    const board = await (await get('/admin/queues/api/queues', bearer(OPERATOR_KEY))).json();
    expect((board as { queues: { name: string }[] }).queues.map((q) => q.name)).toEqual(['runs']);
  });

  it('scripts can act with a bearer key (no CSRF token: browsers never send that header by themselves)', async () => {
    const pause = await send('POST', '/admin/queue/pause', bearer(OPERATOR_KEY));
    expect(pause.status).toBe(303);
    expect(pause.headers.get('location')).toBe('/admin?done=paused');
    expect(await c.deps.queue.isPaused()).toBe(true);
    expect((await send('PUT', '/admin/queues/api/queues/runs/resume', bearer(OPERATOR_KEY))).status).toBe(
      200,
    );
    expect(await c.deps.queue.isPaused()).toBe(false);
  });

  it('get the same pages with a session cookie after signing in', async () => {
    const s = await signIn(c.url, OPERATOR_KEY);
    for (const path of [...PAGES, ...BOARD_API]) {
      const res = await get(path, { cookie: s.cookie, accept: 'text/html' });
      expect(res.status, path).toBe(200);
    }
    const page = await (await get('/admin', { cookie: s.cookie, accept: 'text/html' })).text();
    expect(page).toContain('Signed in: operator');
    expect(page).toContain('href="/admin/queues"');
    expect(page).toContain('href="/admin/fleet"');
    expect(page).toContain('href="/docs"');
  });
});

describe('the session cookie', () => {
  it('is HttpOnly, SameSite=Strict, signed, scoped to /admin, with Max-Age and Expires; never holds the key', async () => {
    const res = await submitLogin(c.url, OPERATOR_KEY, { next: '/admin/fleet' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/fleet');
    const session = cookieNamed(res, 'baton_session');
    if (!session) throw new Error('no session cookie');
    expect(session.attributes.httponly).toBe(true);
    expect(session.attributes.samesite).toBe('Strict');
    expect(session.attributes.path).toBe('/admin');
    expect(session.attributes['max-age']).toBe('3600');
    const expires = Date.parse(String(session.attributes.expires));
    expect(expires - Date.now()).toBeGreaterThan(3500_000);
    expect(expires - Date.now()).toBeLessThan(3700_000);
    expect(session.attributes.secure).toBeUndefined(); // plain http, no proxy saying otherwise
    // Signed: payload.signature, and the payload names the key id and role only.
    const value = decodeURIComponent(session.value);
    const [payload, signature] = value.split('.');
    expect(signature?.length).toBeGreaterThan(20);
    const decoded = Buffer.from(payload ?? '', 'base64url').toString();
    expect(JSON.parse(decoded)).toMatchObject({
      role: 'operator',
      keyId: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(decoded).not.toContain(OPERATOR_KEY);
    expect(res.headers.getSetCookie().join('\n')).not.toContain(OPERATOR_KEY);
    // The double-submit token cookie is readable by the page's scripts (bull-board's HTTP client copies it).
    const xsrf = cookieNamed(res, 'XSRF-TOKEN');
    expect(xsrf?.attributes.httponly).toBeUndefined();
    expect(xsrf?.attributes.samesite).toBe('Strict');
  });

  it('is Secure when the request came over TLS at a proxy (X-Forwarded-Proto: https)', async () => {
    const res = await submitLogin(c.url, OPERATOR_KEY, { headers: { 'x-forwarded-proto': 'https' } });
    expect(res.status).toBe(303);
    expect(cookieNamed(res, 'baton_session')?.attributes.secure).toBe(true);
    expect(cookieNamed(res, 'XSRF-TOKEN')?.attributes.secure).toBe(true);
  });

  it('is refused when tampered with, expired, or for a key that is not configured', async () => {
    const s = await signIn(c.url, OPERATOR_KEY);
    const value = decodeURIComponent(s.sessionValue);
    const [payload = '', signature = ''] = value.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forge = (patch: Record<string, unknown>) =>
      Buffer.from(JSON.stringify({ ...claims, ...patch })).toString('base64url');
    const tries = {
      // an admin role written into the payload without re-signing
      tampered: `${forge({ role: 'admin' })}.${signature}`,
      // correctly signed, but expired
      expired: sign(forge({ exp: Date.now() - 1000 }), SECRET),
      // correctly signed, for a key id no configured key has
      unknownKey: sign(forge({ keyId: '0000000000000000' }), SECRET),
      garbage: 'not-a-session',
    };
    for (const [name, cookieValue] of Object.entries(tries)) {
      const res = await get('/admin', {
        cookie: `baton_session=${encodeURIComponent(cookieValue)}`,
        accept: 'text/html',
      });
      expect(res.status, name).toBe(302);
      expect(res.headers.get('location')).toMatch(/^\/admin\/login/);
    }
    // The genuine cookie still works, and a correctly signed one with the secret does too (control).
    expect((await get('/admin', { cookie: s.cookie, accept: 'text/html' })).status).toBe(200);
    const resigned = sign(forge({}), SECRET);
    expect((await get('/admin', { cookie: `baton_session=${encodeURIComponent(resigned)}` })).status).toBe(
      200,
    );
  });

  it('ends at sign-out: the cookie is cleared and the old value no longer works', async () => {
    const s = await signIn(c.url, OPERATOR_KEY);
    const res = await send(
      'POST',
      '/admin/logout',
      { cookie: s.cookie, origin: c.url, 'content-type': 'application/x-www-form-urlencoded' },
      form({ _csrf: s.csrf }),
    );
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/login?signedOut=1');
    const cleared = cookieNamed(res, 'baton_session');
    expect(cleared?.value).toBe('');
    expect(Date.parse(String(cleared?.attributes.expires))).toBeLessThan(Date.now());
    const again = await get('/admin', { cookie: s.cookie, accept: 'text/html' });
    expect(again.status).toBe(302);
  });
});

describe('CSRF protection', () => {
  const formHeaders = (cookie: string, extra: Record<string, string> = {}) => ({
    cookie,
    'content-type': 'application/x-www-form-urlencoded',
    ...extra,
  });

  it('refuses a cookie-authenticated POST from another origin, even with the right token', async () => {
    const s = await signIn(c.url, OPERATOR_KEY);
    const res = await send(
      'POST',
      '/admin/queue/pause',
      formHeaders(s.cookie, { origin: 'https://evil.example' }),
      form({ _csrf: s.csrf }),
    );
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('did not come from a page of this console');
    expect(await c.deps.queue.isPaused()).toBe(false);
  });

  it('refuses a cross-site request that sends no Origin (Sec-Fetch-Site: cross-site)', async () => {
    const s = await signIn(c.url, OPERATOR_KEY);
    const res = await send(
      'POST',
      '/admin/queue/pause',
      formHeaders(s.cookie, { 'sec-fetch-site': 'cross-site' }),
      form({ _csrf: s.csrf }),
    );
    expect(res.status).toBe(403);
    expect(await c.deps.queue.isPaused()).toBe(false);
  });

  it('refuses a same-origin POST with a missing or wrong token', async () => {
    const s = await signIn(c.url, OPERATOR_KEY);
    for (const body of [form({}), form({ _csrf: 'x'.repeat(43) })]) {
      const res = await send('POST', '/admin/queue/pause', formHeaders(s.cookie, { origin: c.url }), body);
      expect(res.status).toBe(403);
    }
    // Another session's token is wrong too.
    const other = await signIn(c.url, ADMIN_KEY);
    const res = await send(
      'POST',
      '/admin/queue/pause',
      formHeaders(s.cookie, { origin: c.url }),
      form({ _csrf: other.csrf }),
    );
    expect(res.status).toBe(403);
    expect(await c.deps.queue.isPaused()).toBe(false);
  });

  it('accepts a same-origin form post with the session token', async () => {
    const s = await signIn(c.url, OPERATOR_KEY);
    const page = await (await get('/admin', { cookie: s.cookie, accept: 'text/html' })).text();
    expect(page).toContain(`name="_csrf" value="${s.csrf}"`);
    const pause = await send(
      'POST',
      '/admin/queue/pause',
      formHeaders(s.cookie, { origin: c.url }),
      form({ _csrf: s.csrf }),
    );
    expect(pause.status).toBe(303);
    expect(await c.deps.queue.isPaused()).toBe(true);
    const resume = await send(
      'POST',
      '/admin/queue/resume',
      formHeaders(s.cookie, { origin: c.url }),
      form({ _csrf: s.csrf }),
    );
    expect(resume.status).toBe(303);
    expect(await c.deps.queue.isPaused()).toBe(false);
  });

  it("guards bull-board's actions with the X-XSRF-TOKEN header (double submit)", async () => {
    const s = await signIn(c.url, OPERATOR_KEY);
    const put = (extra: Record<string, string>) =>
      send('PUT', '/admin/queues/api/queues/runs/pause', { cookie: s.cookie, origin: c.url, ...extra });
    expect((await put({})).status).toBe(403);
    expect((await put({ 'x-xsrf-token': 'wrong' })).status).toBe(403);
    expect(await c.deps.queue.isPaused()).toBe(false);
    expect((await put({ 'x-xsrf-token': s.csrf, origin: 'https://evil.example' })).status).toBe(403);
    expect((await put({ 'x-xsrf-token': s.csrf })).status).toBe(200);
    expect(await c.deps.queue.isPaused()).toBe(true);
    await c.deps.queue.resume();
  });

  it('refuses a login form posted from another site or without its token', async () => {
    const login = await openLoginForm(c.url);
    const post = (headers: Record<string, string>, fields: Record<string, string>) =>
      send(
        'POST',
        '/admin/login',
        { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        form(fields),
      );
    const crossSite = await post(
      { cookie: login.cookie, origin: 'https://evil.example' },
      { _csrf: login.csrf, key: OPERATOR_KEY },
    );
    expect(crossSite.status).toBe(403);
    expect(cookieNamed(crossSite, 'baton_session')).toBeUndefined();
    const noToken = await post({ cookie: login.cookie, origin: c.url }, { key: OPERATOR_KEY });
    expect(noToken.status).toBe(403);
    const noCookie = await post({ origin: c.url }, { _csrf: login.csrf, key: OPERATOR_KEY });
    expect(noCookie.status).toBe(403);
  });

  it('only redirects to console paths after login', async () => {
    for (const next of ['https://evil.example/', '//evil.example/x', '/v1/runs', 'javascript:alert(1)']) {
      const res = await submitLogin(c.url, OPERATOR_KEY, { next });
      expect(res.status).toBe(303);
      expect(res.headers.get('location'), next).toBe('/admin');
    }
  });
});

describe('security headers', () => {
  it('sends helmet headers with a CSP on console pages, and not on the JSON API', async () => {
    const res = await get('/admin/queues', { ...bearer(OPERATOR_KEY), accept: 'text/html' });
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const api = await get('/v1/teams', bearer(OPERATOR_KEY));
    expect(api.headers.get('content-security-policy')).toBeNull();
  });
});
