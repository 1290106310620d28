import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiRole } from '../../config/index.js';

/**
 * Operator console sessions: a signed, stateless cookie holding the session id, the key id (a hash of the
 * API key, never the key) and the role, with an expiry inside the signed payload. Logout revokes the session
 * id in Redis until it would have expired anyway.
 *
 * CSRF: every state-changing request authenticated by the cookie must (1) come from this origin (`Origin`, or
 * `Sec-Fetch-Site: same-origin` when a browser sends no Origin) and (2) carry the session's CSRF token — a
 * hidden `_csrf` form field, or the `X-XSRF-TOKEN` header that bull-board's HTTP client copies from the
 * readable `XSRF-TOKEN` cookie (double submit). The token is an HMAC of the session id, so it needs no
 * storage and cannot be derived without the secret. Both cookies are `SameSite=Strict`, so a cross-site
 * request does not even carry them. Requests with `Authorization: Bearer` are not subject to CSRF checks:
 * browsers never attach that header on their own.
 */

export const SESSION_COOKIE = 'baton_session';
/** Read by bull-board's axios (`xsrfCookieName` default) and echoed as `X-XSRF-TOKEN`. */
export const XSRF_COOKIE = 'XSRF-TOKEN';
export const XSRF_HEADER = 'x-xsrf-token';
/** Double-submit token of the login form (there is no session yet to derive one from). */
export const LOGIN_COOKIE = 'baton_login';
export const COOKIE_PATH = '/admin';
const LOGIN_COOKIE_PATH = '/admin/login';
const LOGIN_FORM_TTL_SECONDS = 3600;

export interface Session {
  sid: string;
  keyId: string;
  role: ApiRole;
  /** Issued and expiry times, ms since epoch. */
  iat: number;
  exp: number;
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

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class SessionManager {
  constructor(
    private readonly secret: string,
    private readonly ttlSeconds: number,
  ) {}

  /** The CSRF token of a session: HMAC(secret, "csrf:" + sid). */
  csrfToken(session: Pick<Session, 'sid'>): string {
    return createHmac('sha256', this.secret).update(`csrf:${session.sid}`).digest('base64url');
  }

  checkCsrfToken(session: Pick<Session, 'sid'>, presented: string | undefined): boolean {
    return presented !== undefined && safeEqual(presented, this.csrfToken(session));
  }

  /** Starts a session: the signed session cookie and the readable XSRF cookie, with the same lifetime. */
  start(request: FastifyRequest, reply: FastifyReply, who: { keyId: string; role: ApiRole }): Session {
    const now = Date.now();
    const session: Session = {
      sid: randomBytes(18).toString('base64url'),
      keyId: who.keyId,
      role: who.role,
      iat: now,
      exp: now + this.ttlSeconds * 1000,
    };
    const payload = Buffer.from(JSON.stringify(session)).toString('base64url');
    const common = {
      path: COOKIE_PATH,
      sameSite: 'strict' as const,
      secure: overTls(request),
      maxAge: this.ttlSeconds,
      expires: new Date(session.exp),
    };
    reply.setCookie(SESSION_COOKIE, payload, { ...common, httpOnly: true, signed: true });
    reply.setCookie(XSRF_COOKIE, this.csrfToken(session), { ...common, httpOnly: false });
    return session;
  }

  /** (Re)sets the readable XSRF cookie of a live session, e.g. when a page is served. */
  refreshXsrfCookie(request: FastifyRequest, reply: FastifyReply, session: Session): void {
    if (request.cookies[XSRF_COOKIE] === this.csrfToken(session)) return;
    reply.setCookie(XSRF_COOKIE, this.csrfToken(session), {
      path: COOKIE_PATH,
      sameSite: 'strict',
      secure: overTls(request),
      httpOnly: false,
      maxAge: Math.max(1, Math.floor((session.exp - Date.now()) / 1000)),
      expires: new Date(session.exp),
    });
  }

  /** The session in the request's cookie if its signature verifies and it has not expired. */
  read(request: FastifyRequest): Session | undefined {
    const raw = request.cookies[SESSION_COOKIE];
    if (!raw) return undefined;
    const unsigned = request.unsignCookie(raw);
    if (!unsigned.valid || unsigned.value === null) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(unsigned.value, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (!isSession(parsed) || parsed.exp <= Date.now()) return undefined;
    return parsed;
  }

  /** Clears the session and XSRF cookies (same attributes, so the browser replaces them). */
  clear(request: FastifyRequest, reply: FastifyReply): void {
    const common = { path: COOKIE_PATH, sameSite: 'strict' as const, secure: overTls(request) };
    reply.clearCookie(SESSION_COOKIE, { ...common, httpOnly: true });
    reply.clearCookie(XSRF_COOKIE, { ...common, httpOnly: false });
  }

  /** A fresh login-form token: set as a signed cookie scoped to the login path and put in the form. */
  issueLoginToken(request: FastifyRequest, reply: FastifyReply): string {
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

  checkLoginToken(request: FastifyRequest, presented: string | undefined): boolean {
    const raw = request.cookies[LOGIN_COOKIE];
    if (!raw || presented === undefined) return false;
    const unsigned = request.unsignCookie(raw);
    return unsigned.valid && unsigned.value !== null && safeEqual(unsigned.value, presented);
  }

  clearLoginToken(request: FastifyRequest, reply: FastifyReply): void {
    reply.clearCookie(LOGIN_COOKIE, {
      path: LOGIN_COOKIE_PATH,
      sameSite: 'strict',
      secure: overTls(request),
    });
  }
}

function isSession(value: unknown): value is Session {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.sid === 'string' &&
    typeof v.keyId === 'string' &&
    (v.role === 'client' || v.role === 'operator' || v.role === 'admin') &&
    typeof v.iat === 'number' &&
    typeof v.exp === 'number'
  );
}
