import { randomBytes, timingSafeEqual } from 'node:crypto';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import session from '@fastify/session';
import type { FastifyInstance, FastifyReply, FastifyRequest, Session } from 'fastify';
import type { Redis } from 'ioredis';
import type { ApiRole } from '../../config/index.js';

/**
 * Operator console sessions and CSRF protection, from maintained libraries:
 *
 * - `@fastify/session` keeps each session server-side in Redis (`RedisSessionStore`) under a random id that the
 *   `baton_session` cookie carries, signed (HMAC-SHA256, `@fastify/cookie`) with `BATON_SESSION_SECRET`. The id
 *   also reads as the key id, role and expiry (base64url JSON around 18 random bytes) so an operator looking at a
 *   cookie can tell whose it is; what counts is the store entry. Sign-out deletes the entry: a copied cookie stops
 *   working at once, on every replica.
 * - `@fastify/csrf-protection` keeps a CSRF secret in the session; every cookie-authenticated state change must
 *   carry a token made from it — the hidden `_csrf` form field, or the `X-XSRF-TOKEN` header that bull-board's
 *   HTTP client copies from the readable `XSRF-TOKEN` cookie — and must come from this origin (`Origin`, or
 *   `Sec-Fetch-Site: same-origin`; `sameOrigin` below, which the library does not check). Both cookies are
 *   `SameSite=Strict`. Requests with `Authorization: Bearer` are not subject to CSRF checks: browsers never
 *   attach that header on their own.
 * - The sign-in form has no session yet. Its token is a double submit: a random value in a signed, HttpOnly
 *   `baton_login` cookie scoped to the form's path, repeated in the form. Keeping it out of the session store
 *   means anonymous visitors of the form create no server-side state (the CSRF plugin holds one mode per
 *   Fastify context, and the console's mode is the session).
 */

export const SESSION_COOKIE = 'baton_session';
/** Read by bull-board's axios (`xsrfCookieName` default) and echoed as `X-XSRF-TOKEN`. */
export const XSRF_COOKIE = 'XSRF-TOKEN';
export const XSRF_HEADER = 'x-xsrf-token';
/** Double-submit token of the login form (there is no session yet). */
export const LOGIN_COOKIE = 'baton_login';
export const COOKIE_PATH = '/admin';
const LOGIN_COOKIE_PATH = '/admin/login';
const LOGIN_FORM_TTL_SECONDS = 3600;

/** Who a console session belongs to: the key's id (a hash, never the key) and its role at sign-in. */
export interface ConsoleUser {
  keyId: string;
  role: ApiRole;
}

declare module 'fastify' {
  interface Session {
    user?: ConsoleUser;
    /** The session's token for the readable XSRF-TOKEN cookie and the pages' forms. */
    xsrf?: string;
    /** @fastify/csrf-protection's secret. */
    _csrf?: string;
  }
}

/** Whether the request arrived over TLS, directly or (as X-Forwarded-Proto says) at a TLS-terminating proxy. */
export function overTls(request: FastifyRequest): boolean {
  if (request.protocol === 'https') return true;
  const forwarded = request.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}

function firstHeader(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim() || undefined;
}

/**
 * Whether a state-changing request comes from a page of this origin. A browser sends `Origin` on every
 * cross-origin POST/PUT/PATCH/DELETE (and on same-origin ones too); when it is present its host must be the
 * host the request was sent to. Without `Origin`, a browser's `Sec-Fetch-Site` must say `same-origin`.
 * A request with neither (not a browser) is left to the token check.
 */
export function sameOrigin(request: FastifyRequest): boolean {
  const origin = firstHeader(request, 'origin');
  if (origin !== undefined) {
    if (origin === 'null') return false;
    let host: string;
    try {
      host = new URL(origin).host.toLowerCase();
    } catch {
      return false;
    }
    const expected = (
      firstHeader(request, 'x-forwarded-host') ?? firstHeader(request, 'host')
    )?.toLowerCase();
    return expected !== undefined && host === expected;
  }
  const site = firstHeader(request, 'sec-fetch-site');
  return site === undefined || site === 'same-origin';
}

type StoreCallback = (err?: unknown) => void;

/** The session store @fastify/session asks for (express-session's callback shape), over Redis with expiry. */
export class RedisSessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {}

  key(sessionId: string): string {
    return `${this.prefix}:admin:session:${sessionId}`;
  }

  set(sessionId: string, value: Session, callback: StoreCallback): void {
    const expires = value.cookie?.expires ? new Date(value.cookie.expires).getTime() : Number.NaN;
    const ttl = Number.isFinite(expires) ? Math.max(1, expires - Date.now()) : this.ttlMs;
    this.redis.set(this.key(sessionId), JSON.stringify(value), 'PX', ttl).then(() => callback(), callback);
  }

  get(sessionId: string, callback: (err: unknown, value?: Session | null) => void): void {
    this.redis.get(this.key(sessionId)).then((raw) => {
      let value: Session | null = null;
      try {
        value = raw ? (JSON.parse(raw) as Session) : null;
      } catch {
        value = null; // an unreadable entry is no session
      }
      callback(null, value);
    }, callback);
  }

  destroy(sessionId: string, callback: StoreCallback): void {
    this.redis.del(this.key(sessionId)).then(() => callback(), callback);
  }
}

export interface ConsoleSessionSettings {
  secret: string;
  ttlSeconds: number;
  redis: Redis;
  prefix: string;
}

/** Identity of a sign-in in progress, read by the session id generator. */
const signingIn = new WeakMap<FastifyRequest, ConsoleUser>();

function sessionId(request: FastifyRequest, ttlSeconds: number): string {
  const sid = randomBytes(18).toString('base64url');
  const who = signingIn.get(request);
  if (!who) return sid;
  const iat = Date.now();
  const claims = { sid, keyId: who.keyId, role: who.role, iat, exp: iat + ttlSeconds * 1000 };
  return Buffer.from(JSON.stringify(claims)).toString('base64url');
}

/**
 * Registers cookies, sessions and CSRF protection on the console's Fastify context. Sessions live only under
 * /admin (the cookie's path); no session is stored until someone signs in.
 */
export async function registerConsoleSessions(app: FastifyInstance, settings: ConsoleSessionSettings) {
  const ttlMs = settings.ttlSeconds * 1000;
  await app.register(cookie, { secret: settings.secret, hook: 'onRequest' });
  await app.register(session, {
    secret: settings.secret,
    cookieName: SESSION_COOKIE,
    // `secure` is decided per sign-in (`overTls`, see startSession).
    cookie: { path: COOKIE_PATH, httpOnly: true, sameSite: 'strict', secure: false, maxAge: ttlMs },
    store: new RedisSessionStore(settings.redis, settings.prefix, ttlMs),
    idGenerator: (request) => sessionId(request as FastifyRequest, settings.ttlSeconds),
    saveUninitialized: false,
    rolling: false,
  });
  await app.register(csrf, {
    sessionPlugin: '@fastify/session',
    getToken: (request) => {
      const header = request.headers[XSRF_HEADER];
      return (Array.isArray(header) ? header[0] : header) ?? field(request.body, '_csrf');
    },
    // Tokens are `<4-char salt>-<HMAC-SHA-224>`: 43 URL-safe characters, as the console's tokens always were.
    csrfOpts: { algorithm: 'sha224', saltLength: 4, hmacKey: settings.secret },
  });
}

/** The signed-in user of the request's session, if any. */
export function sessionUser(request: FastifyRequest): ConsoleUser | undefined {
  const user = request.session?.get?.('user');
  return user && typeof user.keyId === 'string' ? user : undefined;
}

const xsrfCookieOptions = (request: FastifyRequest, expires: Date | null | undefined) => ({
  path: COOKIE_PATH,
  sameSite: 'strict' as const,
  secure: overTls(request),
  httpOnly: false,
  ...(expires
    ? { expires, maxAge: Math.max(1, Math.floor((new Date(expires).getTime() - Date.now()) / 1000)) }
    : {}),
});

/**
 * Starts a session for `who`: a new session id (any previous session of the request is destroyed), its CSRF
 * secret and token, the session cookie and the readable XSRF cookie with the same lifetime.
 */
export async function startSession(
  request: FastifyRequest,
  reply: FastifyReply,
  who: ConsoleUser,
  ttlSeconds: number,
): Promise<void> {
  signingIn.set(request, who);
  try {
    await request.session.regenerate();
  } finally {
    signingIn.delete(request);
  }
  request.session.options({ maxAge: ttlSeconds * 1000 });
  // The attributes the cookie is written with. @fastify/session writes Expires only: Max-Age is added. And it
  // decides Secure from `request.protocol`, skipping a Secure cookie on plain HTTP — but behind a TLS-terminating
  // proxy the request is plain HTTP and the browser's is not (X-Forwarded-Proto): Secure follows `overTls`.
  const secure = overTls(request);
  const sessionCookie = request.session.cookie as typeof request.session.cookie & { toJSON(): object };
  const plain = sessionCookie.toJSON.bind(sessionCookie);
  sessionCookie.toJSON = () => ({ ...plain(), maxAge: ttlSeconds, secure });
  request.session.set('user', { keyId: who.keyId, role: who.role });
  const token = reply.generateCsrf();
  request.session.set('xsrf', token);
  reply.setCookie(XSRF_COOKIE, token, xsrfCookieOptions(request, request.session.cookie.expires));
}

/** The session's CSRF token for a page's forms; (re)sets the readable XSRF cookie when the browser lacks it. */
export function pageCsrfToken(request: FastifyRequest, reply: FastifyReply): string {
  let token = request.session.get('xsrf');
  if (!token) {
    token = reply.generateCsrf();
    request.session.set('xsrf', token);
  }
  if (request.cookies[XSRF_COOKIE] !== token) {
    reply.setCookie(XSRF_COOKIE, token, xsrfCookieOptions(request, request.session.cookie.expires));
  }
  return token;
}

/** Ends the request's session: deleted from the store (revoked everywhere) and both cookies cleared. */
export async function endSession(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.session?.sessionId) await request.session.destroy();
  const common = { path: COOKIE_PATH, sameSite: 'strict' as const, secure: overTls(request) };
  reply.clearCookie(SESSION_COOKIE, { ...common, httpOnly: true });
  reply.clearCookie(XSRF_COOKIE, { ...common, httpOnly: false });
}

function field(body: unknown, name: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A fresh login-form token: set as a signed cookie scoped to the login path and put in the form. */
export function issueLoginToken(request: FastifyRequest, reply: FastifyReply): string {
  const token = randomBytes(18).toString('base64url');
  reply.setCookie(LOGIN_COOKIE, token, {
    path: LOGIN_COOKIE_PATH,
    sameSite: 'strict',
    secure: overTls(request),
    httpOnly: true,
    signed: true,
    maxAge: LOGIN_FORM_TTL_SECONDS,
  });
  return token;
}

export function checkLoginToken(request: FastifyRequest, presented: string | undefined): boolean {
  const raw = request.cookies[LOGIN_COOKIE];
  if (!raw || presented === undefined) return false;
  const unsigned = request.unsignCookie(raw);
  return unsigned.valid && unsigned.value !== null && safeEqual(unsigned.value, presented);
}

export function clearLoginToken(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(LOGIN_COOKIE, { path: LOGIN_COOKIE_PATH, sameSite: 'strict', secure: overTls(request) });
}
