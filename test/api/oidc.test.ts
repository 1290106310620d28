import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcVerifier } from '../../src/api/oidc.js';
import { ADMIN_KEY, KEYS } from '../admin/harness.js';
import { CLIENT_KEY } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { type OidcIssuer, startOidcIssuer } from '../support/oidc-issuer.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startService } from '../support/service.js';

/** JWT bearer tokens from an OpenID Connect issuer (as Entra ID issues them), beside the API keys. */

let redis: TestRedis;
let issuer: OidcIssuer;
let service: Awaited<ReturnType<typeof startService>>;

const ROLE_MAP = 'Baton.Client=client,Baton.Operator=operator,Baton.Admin=admin';

beforeAll(async () => {
  redis = await startRedis();
  issuer = await startOidcIssuer({ path: '/tenant-a/v2.0', audience: 'api://baton' });
  service = await startService(
    redis,
    {
      BATON_API_KEYS: KEYS,
      BATON_RATE_LIMIT_PER_MINUTE: '0',
      BATON_AUTH_FAILURES_PER_MINUTE: '0',
      BATON_OIDC_ISSUER: issuer.issuer,
      BATON_OIDC_AUDIENCE: 'api://baton',
      BATON_OIDC_CLOCK_SKEW_SECONDS: '60',
      BATON_OIDC_ROLE_MAP: ROLE_MAP,
      BATON_OIDC_TENANT_CLAIM: 'tid',
    },
    true,
    // jose waits 30 s before refetching the JWKS for an unknown key id; rotation tests need it at once.
    (deps) => ({
      ...deps,
      oidc: new OidcVerifier(
        { ...(deps.config.oidc as NonNullable<typeof deps.config.oidc>), jwksCooldownMs: 0 },
        pino({ level: 'silent' }),
      ),
    }),
  );
});
afterAll(async () => {
  await service?.stop();
  await issuer?.close();
  await redis?.stop();
});

const token = (claims: Record<string, unknown> = {}, options: Parameters<OidcIssuer['issue']>[1] = {}) =>
  issuer.issue({ tid: 'tenant-a', roles: ['Baton.Client'], ...claims }, options);

async function call(credential: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${service.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${credential}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown> & {
      error?: { code: string; message: string };
    },
  };
}

const run = { team: 'news-desk', pattern: 'sequential', input: sampleArticle };

describe('access tokens', () => {
  it('a valid token authenticates; its tenant owns the runs it creates, as a key owns its runs', async () => {
    const mine = await token();
    const created = await call(mine, 'POST', '/v1/runs', run);
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    // Another token of the same tenant (another user) sees the run; another tenant does not, nor does a key.
    expect((await call(await token({ sub: 'user-2' }), 'GET', `/v1/runs/${id}`)).status).toBe(200);
    expect((await call(await token({ tid: 'tenant-b' }), 'GET', `/v1/runs/${id}`)).status).toBe(404);
    expect((await call(CLIENT_KEY, 'GET', `/v1/runs/${id}`)).status).toBe(404);
    const list = await call(await token({ tid: 'tenant-b' }), 'GET', '/v1/runs');
    expect((list.body.items as { id: string }[]).map((r) => r.id)).not.toContain(id);
    // API keys keep working.
    expect((await call(CLIENT_KEY, 'GET', '/v1/teams')).status).toBe(200);
  });

  it('maps the role claim to client, operator and admin (the highest mapped value wins)', async () => {
    const client = await token();
    const operator = await token({ roles: ['Baton.Client', 'Baton.Operator'] });
    const admin = await token({ roles: 'Baton.Admin' });
    expect((await call(client, 'GET', '/v1/workers')).status).toBe(403);
    expect((await call(operator, 'GET', '/v1/workers')).status).toBe(200);
    expect((await call(admin, 'GET', '/v1/workers')).status).toBe(200);
    // The console's admin-only actions: an operator token is refused, an admin token gets through to the board.
    const obliterate = '/admin/queues/api/queues/no-such-queue/obliterate';
    expect((await call(operator, 'PUT', obliterate)).status).toBe(403);
    expect((await call(admin, 'PUT', obliterate)).status).toBe(404);
    expect(
      (await call(await token({ roles: ['Baton.Operator'] }), 'GET', '/admin/queues/api/queues')).status,
    ).toBe(200);
    expect((await call(client, 'GET', '/admin/queues/api/queues')).status).toBe(403);
    // A token with no role this API knows is authenticated but allowed nothing.
    const none = await call(await token({ roles: ['Something.Else'] }), 'GET', '/v1/teams');
    expect(none.status).toBe(403);
    expect(none.body.error?.code).toBe('FORBIDDEN');
  });

  it('refuses expired tokens (beyond the clock skew), wrong audience or issuer, unknown keys and unsigned tokens', async () => {
    const refused = async (credential: string, why: RegExp) => {
      const res = await call(credential, 'GET', '/v1/teams');
      expect(res.status, why.source).toBe(401);
      expect(res.body.error?.code).toBe('UNAUTHORIZED');
      expect(res.body.error?.message).toMatch(why);
    };
    await refused(await token({}, { expiresIn: -120 }), /expired/);
    // Expired 20 s ago, within the 60 s skew: still accepted; not valid for another 20 s: accepted too.
    expect((await call(await token({}, { expiresIn: -20 }), 'GET', '/v1/teams')).status).toBe(200);
    expect((await call(await token({}, { notBefore: 20 }), 'GET', '/v1/teams')).status).toBe(200);
    await refused(await token({}, { notBefore: 600 }), /nbf/);
    await refused(await token({}, { audience: 'api://someone-else' }), /aud/);
    await refused(await token({}, { issuer: `${issuer.url}/tenant-b/v2.0` }), /iss/);
    await refused(
      await issuer.issueWithUnknownKey({ tid: 'tenant-a', roles: ['Baton.Admin'] }),
      /key the issuer does not publish/,
    );
    await refused(issuer.issueUnsigned({ tid: 'tenant-a', roles: ['Baton.Admin'] }), /not valid/);
    await refused(`${(await token()).slice(0, -4)}AAAA`, /not valid/);
    await refused(await token({ tid: undefined }), /"tid"/);
    // Not a JWT and not a key.
    await refused('eyJhbGciOiJSUzI1NiJ9.e30.', /not valid/);
  });

  it('follows key rotation: a token signed with a new key is accepted once the issuer publishes it', async () => {
    const before = await token();
    expect((await call(before, 'GET', '/v1/teams')).status).toBe(200);
    const fetches = issuer.jwksFetches;
    await issuer.rotateKeys();
    const after = await token();
    expect((await call(after, 'GET', '/v1/teams')).status).toBe(200);
    expect(issuer.jwksFetches).toBeGreaterThan(fetches);
    // The withdrawn key is gone from the refreshed key set: tokens it signed are refused.
    expect((await call(before, 'GET', '/v1/teams')).status).toBe(401);
  });

  it('answers 503 while the issuer keys cannot be fetched, and recovers', async () => {
    const fresh = await startService(
      redis,
      {
        BATON_API_KEYS: `${ADMIN_KEY}:admin`,
        BATON_AUTH_FAILURES_PER_MINUTE: '0',
        BATON_OIDC_ISSUER: issuer.issuer,
        BATON_OIDC_AUDIENCE: 'api://baton',
        BATON_OIDC_ROLE_MAP: ROLE_MAP,
        BATON_OIDC_TENANT_CLAIM: 'tid',
      },
      false,
    );
    try {
      issuer.setBehaviour({ fail: { status: 503, count: 1 } });
      const t = await token();
      const down = await fetch(`${fresh.url}/v1/teams`, { headers: { authorization: `Bearer ${t}` } });
      expect(down.status).toBe(503);
      expect(((await down.json()) as { error: { code: string } }).error.code).toBe('AUTH_UNAVAILABLE');
      const up = await fetch(`${fresh.url}/v1/teams`, { headers: { authorization: `Bearer ${t}` } });
      expect(up.status).toBe(200);
    } finally {
      issuer.setBehaviour({});
      await fresh.stop();
    }
  });
});
