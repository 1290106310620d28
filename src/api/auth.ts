import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { ApiRole } from '../config/index.js';
import { ApiError } from './errors.js';
import { looksLikeJwt, type OidcVerifier } from './oidc.js';

/**
 * Who called: the role, and `keyId`, the owner of the runs it creates — a hash of the API key (never the key),
 * or for an OIDC token a hash of the issuer and the tenant claim.
 */
export interface Caller {
  role: ApiRole;
  keyId: string;
  /** How the caller proved who it is. */
  via?: 'key' | 'token';
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

const digest = (key: string) => createHash('sha256').update(key).digest();

/**
 * The configured API keys, held as SHA-256 digests. A presented key is hashed and compared with every digest
 * in constant time, so neither timing nor an early exit tells how close a guess was.
 */
export class ApiKeys {
  private readonly entries: { digest: Buffer; role: ApiRole; keyId: string }[];

  constructor(keys: readonly { key: string; role: ApiRole }[]) {
    this.entries = keys.map(({ key, role }) => {
      const d = digest(key);
      return { digest: d, role, keyId: d.toString('hex').slice(0, 16) };
    });
  }

  /** The configured keys as callers (key id and role), never the keys. */
  callers(): Caller[] {
    return this.entries.map(({ role, keyId }) => ({ role, keyId }));
  }

  identify(presented: string): Caller | undefined {
    const d = digest(presented);
    let found: Caller | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(d, entry.digest) && !found)
        found = { role: entry.role, keyId: entry.keyId, via: 'key' };
    }
    return found;
  }

  /** The role of a configured key by its id (a console session re-checks it on every request). */
  roleOf(keyId: string): ApiRole | undefined {
    return this.entries.find((e) => e.keyId === keyId)?.role;
  }
}

/**
 * Counts failed authentications (a wrong key or token, not a missing one) per client address in fixed one-minute
 * windows. An address over the limit gets 429 for the rest of its window on EVERY request, whatever it presents:
 * answering a right guess differently from a wrong one would still let a guesser learn keys at full speed.
 * Counts are per API process (like the request rate limit), kept for at most `maxAddresses` addresses.
 */
export class AuthFailureThrottle {
  private readonly windows = new Map<string, { failures: number; resetAt: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly maxAddresses = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws 429 (with the seconds to wait) when `address` used up its failures for this window. */
  check(address: string): void {
    if (this.perMinute <= 0) return;
    const window = this.windows.get(address);
    if (!window) return;
    const now = this.now();
    if (window.resetAt <= now) {
      this.windows.delete(address);
      return;
    }
    if (window.failures >= this.perMinute) {
      throw new ApiError(
        429,
        'TOO_MANY_AUTH_FAILURES',
        `Too many failed authentications from this address: at most ${this.perMinute} a minute. Try again later.`,
        { retryAfterSeconds: Math.ceil((window.resetAt - now) / 1000) },
      );
    }
  }

  fail(address: string): void {
    if (this.perMinute <= 0) return;
    const now = this.now();
    let window = this.windows.get(address);
    if (!window || window.resetAt <= now) {
      if (this.windows.size >= this.maxAddresses) this.prune(now);
      window = { failures: 0, resetAt: now + 60_000 };
      this.windows.set(address, window);
    }
    window.failures += 1;
  }

  private prune(now: number): void {
    for (const [address, window] of this.windows) if (window.resetAt <= now) this.windows.delete(address);
    // Still full: forget the oldest windows (Map keeps insertion order).
    for (const address of this.windows.keys()) {
      if (this.windows.size < this.maxAddresses) break;
      this.windows.delete(address);
    }
  }
}

/** The credential of `Authorization: Bearer <credential>`, or undefined when the header is missing or not bearer. */
export function bearerCredential(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/**
 * Authenticates callers: `Authorization: Bearer <API key>`, or a JWT from the configured OIDC issuer. Every
 * presented credential that fails counts against the caller's address (see `AuthFailureThrottle`), and an address
 * over its limit is refused before its credential is even looked at.
 */
export class Authenticator {
  constructor(
    readonly keys: ApiKeys,
    private readonly throttle: AuthFailureThrottle,
    private readonly oidc?: OidcVerifier,
  ) {}

  /** The caller of a request; 401 when the credential is missing or wrong, 429 when its address is throttled. */
  async authenticate(request: FastifyRequest): Promise<Caller> {
    this.throttle.check(request.ip);
    const credential = bearerCredential(request);
    if (!credential) {
      throw new ApiError(
        401,
        'UNAUTHORIZED',
        this.oidc
          ? 'Send an API key or an access token as "Authorization: Bearer <credential>".'
          : 'Send an API key as "Authorization: Bearer <key>".',
      );
    }
    const caller = this.keys.identify(credential);
    if (caller) return caller;
    if (this.oidc && looksLikeJwt(credential)) {
      try {
        const identity = await this.oidc.verify(credential);
        return { role: identity.role, keyId: identity.keyId, via: 'token' };
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) this.throttle.fail(request.ip);
        throw err;
      }
    }
    this.throttle.fail(request.ip);
    throw new ApiError(401, 'UNAUTHORIZED', 'The API key is not valid.');
  }

  /** A key typed into the console's sign-in form: counted like a bearer key. */
  identifyKey(request: FastifyRequest, key: string): Caller | undefined {
    this.throttle.check(request.ip);
    const caller = this.keys.identify(key);
    if (!caller) this.throttle.fail(request.ip);
    return caller;
  }
}

/** Operators and admins see every run; a client sees only the runs created with its own key. */
export function seesAllRuns(caller: Caller): boolean {
  return caller.role === 'operator' || caller.role === 'admin';
}

export function requireRole(caller: Caller, roles: readonly ApiRole[]): void {
  if (!roles.includes(caller.role)) {
    throw new ApiError(403, 'FORBIDDEN', `This needs one of the roles: ${roles.join(', ')}.`);
  }
}
