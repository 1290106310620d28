import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type OidcIssuer, startOidcIssuer } from './oidc-issuer.js';

describe('local OIDC issuer', () => {
  let oidc: OidcIssuer;
  beforeAll(async () => {
    oidc = await startOidcIssuer({ path: '/tenant-a/v2.0', clients: { 'baton-worker': 's3cret' } });
  });
  afterEach(() => oidc.setBehaviour({}));
  afterAll(() => oidc.close());

  /** What a resource server does: discovery, then a remote JWKS that refetches on an unknown kid at once. */
  const verifier = async (timeoutDuration = 5_000) => {
    const config = (await (await fetch(oidc.discoveryUrl)).json()) as { issuer: string; jwks_uri: string };
    const keys = createRemoteJWKSet(new URL(config.jwks_uri), { cooldownDuration: 0, timeoutDuration });
    return (token: string, audience = oidc.audience) =>
      jwtVerify(token, keys, { issuer: config.issuer, audience });
  };

  it('serves a discovery document whose issuer and jwks_uri match', async () => {
    const res = await fetch(oidc.discoveryUrl);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      issuer: `${oidc.url}/tenant-a/v2.0`,
      jwks_uri: oidc.jwksUri,
      token_endpoint: oidc.tokenEndpoint,
      id_token_signing_alg_values_supported: ['RS256'],
      subject_types_supported: ['public'],
    });
    const jwks = (await (await fetch(oidc.jwksUri)).json()) as {
      keys: { kid: string; kty: string; use: string }[];
    };
    expect(jwks.keys).toEqual([
      expect.objectContaining({ kid: oidc.currentKid, kty: 'RSA', use: 'sig', alg: 'RS256' }),
    ]);
    expect(JSON.stringify(jwks)).not.toMatch(/"d":/);
  });

  it('mints tokens a jose verifier accepts, and records the JWKS fetch', async () => {
    const before = oidc.jwksFetches;
    const verify = await verifier();
    const token = await oidc.issue({ sub: 'alice', roles: ['runs.write'] });
    const { payload, protectedHeader } = await verify(token);
    expect(payload).toMatchObject({
      iss: oidc.issuer,
      aud: 'api://baton',
      sub: 'alice',
      roles: ['runs.write'],
    });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
    expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'JWT', kid: oidc.currentKid });
    await verify(await oidc.issue());
    expect(oidc.jwksFetches - before).toBe(1);
    expect(oidc.requests.filter((r) => r.path.endsWith('/keys')).length).toBe(oidc.jwksFetches);
  });

  it('mints tokens that fail verification for each classic reason', async () => {
    const verify = await verifier();
    await expect(verify(await oidc.issue({}, { expiresIn: -60 }))).rejects.toBeInstanceOf(errors.JWTExpired);
    await expect(verify(await oidc.issue({}, { notBefore: 600 }))).rejects.toBeInstanceOf(
      errors.JWTClaimValidationFailed,
    );
    await expect(verify(await oidc.issue({}, { audience: 'api://other' }))).rejects.toThrow(/aud/);
    await expect(verify(await oidc.issue({}, { issuer: 'https://evil.example' }))).rejects.toThrow(/iss/);
    await expect(verify(await oidc.issueWithUnknownKey())).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    await expect(verify(await oidc.issueWithUnknownKey({}, { kid: oidc.currentKid }))).rejects.toBeInstanceOf(
      errors.JWSSignatureVerificationFailed,
    );
    const unsigned = oidc.issueUnsigned({ sub: 'mallory' });
    expect(decodeProtectedHeader(unsigned).alg).toBe('none');
    await expect(verify(unsigned)).rejects.toThrow();
    const noExp = await oidc.issue({ exp: undefined });
    expect((await verify(noExp)).payload.exp).toBeUndefined();
  });

  it('rotates keys: new tokens carry the new kid, tokens of a withdrawn key stop verifying', async () => {
    const verify = await verifier();
    const oldKid = oidc.currentKid;
    const oldToken = await oidc.issue();
    await verify(oldToken);
    const fetches = oidc.jwksFetches;
    const newKid = await oidc.rotateKeys();
    expect(newKid).not.toBe(oldKid);
    const newToken = await oidc.issue();
    expect(decodeProtectedHeader(newToken).kid).toBe(newKid);
    await verify(newToken);
    expect(oidc.jwksFetches).toBeGreaterThan(fetches);
    await expect(verify(oldToken)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    await expect(verify(await oidc.issue({}, { kid: oldKid }))).rejects.toBeInstanceOf(
      errors.JWKSNoMatchingKey,
    );

    const kept = await oidc.rotateKeys({ keepPrevious: true, alg: 'ES256' });
    expect(oidc.jwks().keys.map((k) => k.kid)).toEqual([newKid, kept]);
    const es = await oidc.issue({}, { alg: 'ES256' });
    expect(decodeProtectedHeader(es)).toMatchObject({ alg: 'ES256', kid: kept });
    await verify(es);
    await verify(await oidc.issue({}, { kid: newKid }));
  });

  it('issues client-credentials tokens at the token endpoint', async () => {
    const verify = await verifier();
    const res = await fetch(oidc.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'baton-worker',
        client_secret: 's3cret',
        scope: 'api://baton/.default',
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect((await verify(body.access_token)).payload).toMatchObject({
      sub: 'baton-worker',
      scp: 'api://baton/.default',
    });

    const basic = Buffer.from('baton-worker:wrong').toString('base64');
    const denied = await fetch(oidc.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      body: 'grant_type=client_credentials',
    });
    expect(denied.status).toBe(401);
  });

  it('fails and hangs JWKS fetches when scripted, recording the client giving up', async () => {
    oidc.setBehaviour({ fail: { status: 500, count: 1 } });
    const failing = await verifier();
    await expect(failing(await oidc.issue())).rejects.toThrow();
    await failing(await oidc.issue());

    oidc.setBehaviour({ hang: { count: 1 } });
    const hanging = await verifier(200);
    await expect(hanging(await oidc.issue())).rejects.toBeInstanceOf(errors.JWKSTimeout);
    await oidc.waitForRequest((r) => r.fault === 'hang' && r.clientClosed);
  });
});

describe('local OIDC issuer started from another process', () => {
  let child: ChildProcess;
  let started: { url: string; issuer: string };
  beforeAll(async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'test/support/oidc-issuer.ts', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    started = await new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`issuer exited with ${code}`)));
      lines.once('line', (line) => resolve(JSON.parse(line) as { url: string; issuer: string }));
    });
  });
  afterAll(() => {
    child.kill('SIGTERM');
  });

  it('mints tokens over HTTP that verify against its JWKS', async () => {
    const res = await fetch(`${started.url}/_control/issue`, {
      method: 'POST',
      body: JSON.stringify({ claims: { sub: 'bob' }, options: { audience: 'api://x' } }),
    });
    const { token } = (await res.json()) as { token: string };
    const keys = createRemoteJWKSet(new URL(`${started.issuer}/keys`));
    const { payload } = await jwtVerify(token, keys, { issuer: started.issuer, audience: 'api://x' });
    expect(payload.sub).toBe('bob');
  });
});
