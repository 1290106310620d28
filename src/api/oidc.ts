import { createHash } from 'node:crypto';
import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { Logger } from 'pino';
import { type ApiRole, apiRoles, type OidcConfig } from '../config/index.js';
import { ApiError } from './errors.js';

/** Signature algorithms accepted: asymmetric only (an `HS*` token would need a shared secret, `none` is unsigned). */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface OidcSettings extends OidcConfig {
  /**
   * How long `jose` waits before fetching the JWKS again for a key id it does not know (a rotation): 30 s by
   * default, so a flood of tokens with made-up key ids cannot make the API hammer the issuer.
   */
  jwksCooldownMs?: number;
  /** How long one JWKS or discovery fetch may take. */
  fetchTimeoutMs?: number;
}

export interface OidcIdentity {
  role: ApiRole;
  /** The run owner for this caller: a hash of the issuer and tenant claim, like a key's id. */
  keyId: string;
  tenant: string;
}

const unauthorized = (message: string) => new ApiError(401, 'UNAUTHORIZED', message);

/** Whether a presented bearer credential is shaped like a JWT (three base64url parts) rather than an API key. */
export function looksLikeJwt(credential: string): boolean {
  return /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(credential);
}

/**
 * Verifies JWT bearer tokens from one OpenID Connect issuer (Entra ID or any other): signature against the
 * issuer's published keys (JWKS, found through its discovery document unless configured), `iss`, `aud`, `exp` and
 * `nbf` with the configured clock skew. The role comes from the role claim through the role map (the highest role
 * any claim value maps to); the tenant — who owns the runs the caller creates — from the tenant claim.
 */
export class OidcVerifier {
  private keys: Promise<JWTVerifyGetKey> | undefined;

  constructor(
    private readonly settings: OidcSettings,
    private readonly log: Logger,
  ) {}

  async verify(token: string): Promise<OidcIdentity> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.jwks(), {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        clockTolerance: this.settings.clockSkewSeconds,
        algorithms: ALGORITHMS,
      }));
    } catch (err) {
      throw this.refusal(err);
    }
    const role = this.roleOf(payload[this.settings.roleClaim]);
    if (!role) {
      throw new ApiError(
        403,
        'FORBIDDEN',
        `The token carries no role this API knows (claim "${this.settings.roleClaim}").`,
      );
    }
    const tenant = payload[this.settings.tenantClaim];
    if (typeof tenant !== 'string' || tenant.length === 0) {
      throw unauthorized(
        `The token has no "${this.settings.tenantClaim}" claim to say whose runs it may see.`,
      );
    }
    const keyId = createHash('sha256')
      .update(`oidc\n${this.settings.issuer}\n${tenant}`)
      .digest('hex')
      .slice(0, 16);
    return { role, keyId, tenant };
  }

  /** The highest role any value of the claim maps to. */
  private roleOf(claim: unknown): ApiRole | undefined {
    const values = Array.isArray(claim) ? claim : [claim];
    let best = -1;
    for (const value of values) {
      if (typeof value !== 'string' || !Object.hasOwn(this.settings.roleMap, value)) continue;
      best = Math.max(best, apiRoles.indexOf(this.settings.roleMap[value] as ApiRole));
    }
    return best >= 0 ? apiRoles[best] : undefined;
  }

  /** 401 for a token that is not good; 503 when the issuer's keys cannot be had (nobody's token can be checked). */
  private refusal(err: unknown): ApiError {
    if (err instanceof ApiError) return err;
    if (err instanceof errors.JWTExpired) return unauthorized('The token has expired.');
    if (err instanceof errors.JWTClaimValidationFailed) {
      return unauthorized(`The token is not valid for this API (claim "${err.claim}" ${err.reason}).`);
    }
    if (err instanceof errors.JWKSNoMatchingKey) {
      return unauthorized('The token is signed by a key the issuer does not publish.');
    }
    if (
      err instanceof errors.JWSSignatureVerificationFailed ||
      err instanceof errors.JWSInvalid ||
      err instanceof errors.JWTInvalid ||
      err instanceof errors.JOSEAlgNotAllowed ||
      err instanceof errors.JOSENotSupported ||
      err instanceof errors.JWKSMultipleMatchingKeys
    ) {
      return unauthorized('The token is not valid.');
    }
    this.keys = undefined; // discovery or key download failed: try again on the next token
    this.log.warn({ err: (err as Error).message }, 'the OIDC issuer keys could not be fetched');
    return new ApiError(503, 'AUTH_UNAVAILABLE', 'Tokens cannot be checked right now; try again shortly.');
  }

  private jwks(): Promise<JWTVerifyGetKey> {
    this.keys ??= this.discover();
    return this.keys;
  }

  private async discover(): Promise<JWTVerifyGetKey> {
    const timeout = this.settings.fetchTimeoutMs ?? 5_000;
    let uri = this.settings.jwksUri;
    if (!uri) {
      const url = `${this.settings.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const res = await fetch(url, { signal: AbortSignal.timeout(timeout) });
      if (!res.ok) throw new Error(`discovery document: HTTP ${res.status}`);
      const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (doc.issuer !== this.settings.issuer) {
        throw new Error(`discovery document names issuer "${String(doc.issuer)}"`);
      }
      if (typeof doc.jwks_uri !== 'string') throw new Error('discovery document has no jwks_uri');
      uri = doc.jwks_uri;
    }
    return createRemoteJWKSet(new URL(uri), {
      timeoutDuration: timeout,
      ...(this.settings.jwksCooldownMs !== undefined
        ? { cooldownDuration: this.settings.jwksCooldownMs }
        : {}),
    });
  }
}
