import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import { closeServer, listen, sleep } from './azure-openai-server.js';
import {
  type CountedFault,
  FaultCounter,
  type FixtureRequest,
  guarded,
  handleControl,
  RequestLog,
  readInto,
  sendJson,
  serveFromCommandLine,
  type WaitOptions,
} from './fixture-http.js';

/**
 * A local OpenID Connect issuer for testing JWT bearer auth, with keys made by `jose` at start.
 *
 * - `GET {path}/.well-known/openid-configuration` — the discovery document (`issuer`, `jwks_uri`,
 *   `token_endpoint`, supported algorithms, …). The issuer is `{url}{path}` (`path` default '', e.g.
 *   `/tenant-a/v2.0` to look like Entra ID).
 * - `GET {path}/keys` — the JWKS: the public keys currently published (`kid`, `alg`, `use: 'sig'`).
 * - `POST {path}/token` — OAuth 2.0 client credentials (`grant_type=client_credentials`, form-encoded, client id
 *   and secret in the body or HTTP Basic): `{ access_token, token_type: 'Bearer', expires_in }`, the token minted
 *   like `issue({ sub: client_id, azp: client_id, scp: scope })`. Any client is accepted unless `clients` is set.
 *
 * Tokens are minted in-process with `issue(claims, options)`; `rotateKeys()` publishes a new signing key (and by
 * default withdraws the previous one), `issueWithUnknownKey()` signs with a key the JWKS never publishes and
 * `issueUnsigned()` makes an `alg: none` token. Every request is recorded; `jwksFetches` counts JWKS downloads.
 * Faults (`setBehaviour`) apply to JWKS fetches only, for the next `count` (default all): `hang`, `fail` (status,
 * default 503); `latencyMs` delays every JWKS answer.
 *
 * Note for verifiers built on `jose`'s `createRemoteJWKSet`: it refetches on an unknown `kid` only after its
 * `cooldownDuration` (30 s by default); tests of key rotation set it to 0.
 *
 * From another process: `node --import tsx test/support/oidc-issuer.ts [port]` prints `{"url": …, "issuer": …}`
 * and mints tokens on `POST /_control/issue` (JSON `{ claims, options }` → `{ token }`); `PUT /_control/behaviour`,
 * `GET /_control/requests`.
 */

export type SigningAlgorithm = 'RS256' | 'PS256' | 'ES256';

export interface OidcBehaviour {
  hang?: CountedFault;
  fail?: CountedFault & { status?: number };
  latencyMs?: number;
}

export interface OidcIssuerOptions {
  port?: number;
  /** Path of the issuer under the server's origin (default ''). */
  path?: string;
  /** Default `aud` of minted tokens (default `api://baton`). */
  audience?: string;
  /** Algorithm of the first signing key (default RS256). */
  alg?: SigningAlgorithm;
  /** Client credentials accepted by the token endpoint (default: any client id, any secret). */
  clients?: Record<string, string>;
  behaviour?: OidcBehaviour;
}

export interface IssueOptions {
  /** Lifetime in seconds from now (negative: already expired), or a `jose` time span like '2h'. Default 3600. */
  expiresIn?: number | string;
  /** `nbf` as seconds from now (positive: not yet valid). Omitted by default. */
  notBefore?: number;
  /** `aud` (default the issuer's audience). */
  audience?: string | string[];
  /** `iss` (default the issuer). */
  issuer?: string;
  /** Sign with this key (any key this issuer made, published or withdrawn); default the newest key of `alg`. */
  kid?: string;
  /** Sign with the newest key of this algorithm, making and publishing one if there is none yet. */
  alg?: SigningAlgorithm;
  /** Leave `kid` out of the header. */
  omitKid?: boolean;
  /** `typ` header (default `JWT`; Entra access tokens also say `JWT`, RFC 9068 says `at+jwt`). */
  typ?: string;
}

export interface OidcIssuer {
  /** The server origin (`http://127.0.0.1:port`). */
  url: string;
  /** `{url}{path}`: the `iss` of minted tokens. */
  issuer: string;
  discoveryUrl: string;
  jwksUri: string;
  tokenEndpoint: string;
  /** The default audience of minted tokens. */
  audience: string;
  /** The kid of the newest published key. */
  readonly currentKid: string;
  requests: FixtureRequest[];
  /** How many times the JWKS was downloaded (faulted fetches included). */
  readonly jwksFetches: number;
  /** Mints a signed JWT: `{ iss, aud, sub: 'user-1', iat, exp, ...claims }` (a claim set to undefined is left out). */
  issue(claims?: JWTPayload, options?: IssueOptions): Promise<string>;
  /** Mints a JWT signed by a key the JWKS never publishes; its header `kid` is `options.kid` or a fresh one. */
  issueWithUnknownKey(claims?: JWTPayload, options?: IssueOptions): Promise<string>;
  /** Mints an unsecured `alg: none` JWT with the same claims. */
  issueUnsigned(claims?: JWTPayload, options?: IssueOptions): string;
  /** Makes a new signing key and publishes it; withdraws the previous ones unless `keepPrevious`. Returns its kid. */
  rotateKeys(options?: { keepPrevious?: boolean; alg?: SigningAlgorithm }): Promise<string>;
  /** The JWKS as currently served. */
  jwks(): { keys: JWK[] };
  setBehaviour(behaviour: OidcBehaviour): void;
  waitForRequest(
    predicate: (request: FixtureRequest) => boolean,
    options?: WaitOptions,
  ): Promise<FixtureRequest[]>;
  close(): Promise<void>;
}

interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: CryptoKey;
  publicJwk: JWK;
  published: boolean;
}

async function makeKey(alg: SigningAlgorithm, kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk, published: true };
}

export async function startOidcIssuer(options: OidcIssuerOptions = {}): Promise<OidcIssuer> {
  const path = (options.path ?? '').replace(/\/$/, '');
  const audience = options.audience ?? 'api://baton';
  const log = new RequestLog();
  const keys: SigningKey[] = [];
  let keyCounter = 0;
  let jwksFetches = 0;
  let behaviour = options.behaviour ?? {};
  let faults = new FaultCounter();
  let issuer = '';

  const addKey = async (alg: SigningAlgorithm): Promise<SigningKey> => {
    keyCounter += 1;
    const key = await makeKey(alg, `key-${keyCounter}-${alg.toLowerCase()}`);
    keys.push(key);
    return key;
  };
  await addKey(options.alg ?? 'RS256');

  const newest = (alg?: SigningAlgorithm) =>
    [...keys].reverse().find((k) => k.published && (alg === undefined || k.alg === alg));

  const payloadFor = (claims: JWTPayload, opts: IssueOptions): JWTPayload => {
    const iat = Math.floor(Date.now() / 1000);
    const payload: JWTPayload = {
      iss: opts.issuer ?? issuer,
      aud: opts.audience ?? audience,
      sub: 'user-1',
      iat,
      ...(typeof opts.expiresIn === 'string' ? {} : { exp: iat + (opts.expiresIn ?? 3600) }),
      ...(opts.notBefore !== undefined ? { nbf: iat + opts.notBefore } : {}),
      ...claims,
    };
    for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
    return payload;
  };

  const sign = (
    key: { kid: string; alg: SigningAlgorithm; privateKey: CryptoKey },
    claims: JWTPayload,
    opts: IssueOptions,
  ) => {
    const jwt = new SignJWT(payloadFor(claims, opts)).setProtectedHeader({
      alg: key.alg,
      typ: opts.typ ?? 'JWT',
      ...(opts.omitKid ? {} : { kid: key.kid }),
    });
    if (typeof opts.expiresIn === 'string') jwt.setExpirationTime(opts.expiresIn);
    return jwt.sign(key.privateKey);
  };

  const issue = async (claims: JWTPayload = {}, opts: IssueOptions = {}): Promise<string> => {
    let key: SigningKey | undefined;
    if (opts.kid) {
      key = keys.find((k) => k.kid === opts.kid);
      if (!key)
        throw new Error(`no key with kid '${opts.kid}' (known: ${keys.map((k) => k.kid).join(', ')})`);
    } else {
      key = newest(opts.alg) ?? (await addKey(opts.alg ?? 'RS256'));
    }
    return sign(key, claims, opts);
  };

  const jwks = () => ({ keys: keys.filter((k) => k.published).map((k) => k.publicJwk) });

  const discovery = () => ({
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/keys`,
    response_types_supported: ['code', 'id_token', 'code id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...new Set(keys.map((k) => k.alg))],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    grant_types_supported: ['client_credentials'],
    scopes_supported: ['openid', 'profile', 'email'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'name', 'email', 'roles', 'scp'],
  });

  async function token(req: IncomingMessage, res: ServerResponse, record: FixtureRequest) {
    const form = new URLSearchParams(record.rawBody);
    let clientId = form.get('client_id') ?? undefined;
    let secret = form.get('client_secret') ?? undefined;
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (basic) {
      const [id, pass] = Buffer.from(basic, 'base64').toString('utf8').split(':');
      clientId = decodeURIComponent(id ?? '');
      secret = decodeURIComponent(pass ?? '');
    }
    if (form.get('grant_type') !== 'client_credentials') {
      return sendJson(res, record, 400, {
        error: 'unsupported_grant_type',
        error_description: 'Only client_credentials is supported by this issuer.',
      });
    }
    if (!clientId || (options.clients && options.clients[clientId] !== secret)) {
      return sendJson(res, record, 401, {
        error: 'invalid_client',
        error_description: 'Unknown client or wrong secret.',
      });
    }
    const scope = form.get('scope') ?? undefined;
    const accessToken = await issue({ sub: clientId, azp: clientId, ...(scope ? { scp: scope } : {}) });
    sendJson(res, record, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: 3600 });
  }

  async function serveJwks(res: ServerResponse, record: FixtureRequest) {
    jwksFetches += 1;
    const b = behaviour;
    const counter = faults;
    if (counter.take('hang', b.hang)) {
      record.fault = 'hang';
      log.notify();
      return;
    }
    await sleep(b.latencyMs ?? 0);
    if (res.destroyed) return;
    if (counter.take('fail', b.fail)) {
      record.fault = 'fail';
      return sendJson(res, record, b.fail?.status ?? 503, { error: 'temporarily_unavailable' });
    }
    sendJson(res, record, 200, jwks(), { 'cache-control': 'public, max-age=300' });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/_control/issue' && req.method === 'POST') {
      const record = { rawBody: '', body: undefined } as FixtureRequest;
      await readInto(req, record);
      const { claims, options: issueOptions } = (record.body ?? {}) as {
        claims?: JWTPayload;
        options?: IssueOptions;
      };
      return sendJson(res, undefined, 200, { token: await issue(claims, issueOptions) });
    }
    const controlled = await handleControl(req, res, url, {
      setBehaviour: (next: OidcBehaviour) => {
        behaviour = next;
        faults = new FaultCounter();
      },
      requests: () => log.items,
    });
    if (controlled) return;
    const record = log.start(req, res, url, {});
    await readInto(req, record);
    const route = url.pathname.startsWith(path) ? url.pathname.slice(path.length) : undefined;
    if (req.method === 'GET' && route === '/.well-known/openid-configuration') {
      return sendJson(res, record, 200, discovery());
    }
    if (req.method === 'GET' && route === '/keys') return serveJwks(res, record);
    if (req.method === 'POST' && route === '/token') return token(req, res, record);
    sendJson(res, record, 404, { error: 'not_found' });
  }

  const server: Server = createServer(guarded(handle));
  return listen(server, options.port ?? 0, (url) => {
    issuer = `${url}${path}`;
    return {
      url,
      issuer,
      discoveryUrl: `${issuer}/.well-known/openid-configuration`,
      jwksUri: `${issuer}/keys`,
      tokenEndpoint: `${issuer}/token`,
      audience,
      get currentKid() {
        return newest()?.kid ?? '';
      },
      requests: log.items,
      get jwksFetches() {
        return jwksFetches;
      },
      issue,
      async issueWithUnknownKey(claims = {}, opts = {}) {
        const alg = opts.alg ?? 'RS256';
        const { privateKey } = await generateKeyPair(alg);
        return sign({ kid: opts.kid ?? `unknown-${randomUUID()}`, alg, privateKey }, claims, opts);
      },
      issueUnsigned(claims = {}, opts = {}) {
        const jwt = new UnsecuredJWT(payloadFor(claims, opts));
        if (typeof opts.expiresIn === 'string') jwt.setExpirationTime(opts.expiresIn);
        return jwt.encode();
      },
      async rotateKeys(rotateOptions = {}) {
        if (!rotateOptions.keepPrevious) for (const key of keys) key.published = false;
        return (await addKey(rotateOptions.alg ?? newest()?.alg ?? keys.at(-1)?.alg ?? 'RS256')).kid;
      },
      jwks,
      setBehaviour(next) {
        behaviour = next;
        faults = new FaultCounter();
      },
      waitForRequest: (predicate, waitOptions) => log.waitFor(predicate, waitOptions),
      close: () => closeServer(server),
    };
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  serveFromCommandLine(
    (port) => startOidcIssuer({ port }),
    (oidc) => ({ url: oidc.url, issuer: oidc.issuer }),
  );
}
