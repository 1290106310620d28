import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { tenantLimitsFor } from '../../src/config/tenant-limits.js';
import { runKeys, tenantKeys } from '../../src/runs/keys.js';
import { CLIENT_KEY, client, OPERATOR_KEY, OTHER_CLIENT_KEY } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startService } from '../support/service.js';

/**
 * Per-tenant (API key id) limits: runs in flight, runs per minute, tokens per day. Over a limit a run is refused
 * with 429, `Retry-After` and the error envelope; other tenants are not affected; operators see every tenant's
 * limits and usage.
 */
const keyId = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 16);

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const body = (n: number | string) => ({
  team: 'news-desk',
  pattern: 'sequential',
  input: `${sampleArticle} (${n})`,
});
type Envelope = { error: { code: string; message: string; details?: { limit?: string } } };

async function withService(
  env: Record<string, string>,
  fn: (s: Awaited<ReturnType<typeof startService>>) => Promise<void>,
) {
  const service = await startService(redis, { BATON_RATE_LIMIT_PER_MINUTE: '0', ...env });
  try {
    await fn(service);
  } finally {
    await service.stop();
  }
}

describe('runs in flight per tenant', () => {
  it('refuses a run over the limit with 429 and Retry-After, and admits again once one is cancelled', async () => {
    await withService(
      { BATON_TENANT_LIMITS: `inflight=2; ${keyId(OPERATOR_KEY)}:inflight=none` },
      async (service) => {
        const mine = client(service.url, CLIENT_KEY);
        const other = client(service.url, OTHER_CLIENT_KEY);
        const operator = client(service.url, OPERATOR_KEY);
        await operator.call('POST', '/v1/queue/pause');
        const key = { 'idempotency-key': 'first' };
        const a = await mine.createRun(body(1), key);
        const b = await mine.createRun(body(2));
        expect([a.status, b.status]).toEqual([202, 202]);
        const refused = await mine.createRun(body(3));
        expect(refused.status).toBe(429);
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
        const envelope = refused.body as unknown as Envelope;
        expect(envelope.error.code).toBe('TENANT_LIMIT');
        expect(envelope.error.details?.limit).toBe('inflight');
        // An idempotent repeat of an accepted run is answered, not refused.
        const repeated = await mine.createRun(body(1), key);
        expect(repeated.status).toBe(200);
        expect(repeated.run.id).toBe(a.run.id);

        // Other tenants have limits of their own.
        expect((await other.createRun(body(5))).status).toBe(202);
        for (let i = 0; i < 3; i++) expect((await operator.createRun(body(`op ${i}`))).status).toBe(202);

        // A cancelled run no longer counts.
        expect((await mine.call('POST', `/v1/runs/${b.run.id}/cancel`)).status).toBe(202);
        expect((await mine.createRun(body(6))).status).toBe(202);
        expect((await mine.createRun(body(7))).status).toBe(429);
        await operator.call('POST', '/v1/queue/resume');
      },
    );
  });
});

describe('runs in flight per tenant, when a write stopped half-way', () => {
  it('stops counting a run that finished without leaving the set, but still counts one being created', async () => {
    await withService({ BATON_TENANT_LIMITS: 'inflight=2' }, async (service) => {
      const mine = client(service.url, CLIENT_KEY);
      await client(service.url, OPERATOR_KEY).call('POST', '/v1/queue/pause');
      const { redis: conn } = service.services;
      const prefix = service.config.redisPrefix;
      const live = tenantKeys(prefix, keyId(CLIENT_KEY)).live;
      const a = await mine.createRun(body('half-finished'));
      expect(a.status).toBe(202);
      // The run's own half of a finish was written, the indexes' half never was.
      await conn.hset(runKeys(prefix, a.run.id).record, 'status', JSON.stringify('succeeded'));
      // A run admitted a moment ago whose record is not written yet.
      await conn.zadd(live, Date.now(), 'being-created');

      expect((await mine.createRun(body('b'))).status).toBe(202);
      expect(await conn.zscore(live, a.run.id)).toBeNull();
      expect((await mine.createRun(body('c'))).status).toBe(429);
      // Past the grace its creator died: it no longer counts.
      await conn.zadd(live, Date.now() - 61_000, 'being-created');
      expect((await mine.createRun(body('d'))).status).toBe(202);
      expect(await conn.zscore(live, 'being-created')).toBeNull();
    });
  });
});

describe('runs per minute per tenant', () => {
  it('refuses the run over the limit until the oldest leaves the 60 s window', async () => {
    await withService({ BATON_TENANT_LIMITS: 'perMinute=3' }, async (service) => {
      const mine = client(service.url, CLIENT_KEY);
      for (let i = 0; i < 3; i++) expect((await mine.createRun(body(i))).status).toBe(202);
      const refused = await mine.createRun(body(3));
      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect((refused.body as unknown as Envelope).error.details?.limit).toBe('perMinute');
      expect((await client(service.url, OTHER_CLIENT_KEY).createRun(body(4))).status).toBe(202);
    });
  });
});

describe('tokens per day per tenant', () => {
  it('counts the tokens of finished runs and refuses new runs once the day’s tokens are used', async () => {
    await withService({ BATON_TENANT_LIMITS: 'tokensPerDay=100' }, async (service) => {
      const mine = client(service.url, CLIENT_KEY);
      const operator = client(service.url, OPERATOR_KEY);
      const { run } = await mine.createRun(body('tokens'));
      const done = await mine.waitForStatus(run.id, ['succeeded', 'failed']);
      const used = done.usage.inputTokens + done.usage.outputTokens;
      expect(used).toBeGreaterThan(100);
      const refused = await mine.createRun(body('more'));
      expect(refused.status).toBe(429);
      expect((refused.body as unknown as Envelope).error.details?.limit).toBe('tokensPerDay');
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(24 * 3600);

      // The operators' view: every tenant's limits and usage.
      expect((await mine.call('GET', '/v1/tenants')).status).toBe(403);
      const view = (await operator.call('GET', '/v1/tenants')).body as {
        items: {
          keyId: string;
          role?: string;
          limits: Record<string, number | null>;
          usage: Record<string, number>;
        }[];
      };
      const me = view.items.find((t) => t.keyId === keyId(CLIENT_KEY));
      expect(me).toEqual({
        keyId: keyId(CLIENT_KEY),
        role: 'client',
        limits: { inflight: null, perMinute: null, tokensPerDay: 100 },
        usage: { inflight: 0, lastMinute: 1, tokensToday: used },
      });
      expect(view.items.map((t) => t.keyId)).toEqual(
        expect.arrayContaining([keyId(OTHER_CLIENT_KEY), keyId(OPERATOR_KEY)]),
      );
    });
  });
});

describe('BATON_TENANT_LIMITS', () => {
  it('reads a default and per-key-id overrides, as text or JSON', () => {
    const text = loadConfig({
      BATON_TENANT_LIMITS:
        'inflight=5,perMinute=30,tokensPerDay=200000; 3fa2b1c4d5e6f708:inflight=20,tokensPerDay=none',
    }).tenantLimits;
    expect(tenantLimitsFor(text, 'aaaaaaaaaaaaaaaa')).toEqual({
      inflight: 5,
      perMinute: 30,
      tokensPerDay: 200000,
    });
    expect(tenantLimitsFor(text, '3fa2b1c4d5e6f708')).toEqual({
      inflight: 20,
      perMinute: 30,
      tokensPerDay: undefined,
    });
    const json = loadConfig({
      BATON_TENANT_LIMITS: '{"*": {"inflight": 5}, "3fa2b1c4d5e6f708": {"inflight": null, "perMinute": 10}}',
    }).tenantLimits;
    expect(tenantLimitsFor(json, '3fa2b1c4d5e6f708')).toEqual({
      inflight: undefined,
      perMinute: 10,
      tokensPerDay: undefined,
    });
    expect(tenantLimitsFor(json, 'constructor')).toEqual({
      inflight: 5,
      perMinute: undefined,
      tokensPerDay: undefined,
    });
    expect(loadConfig({}).tenantLimits).toBeUndefined();
    expect(tenantLimitsFor(undefined, 'x')).toEqual({
      inflight: undefined,
      perMinute: undefined,
      tokensPerDay: undefined,
    });
  });

  it('refuses a bad entry with one sentence', () => {
    expect(() => loadConfig({ BATON_TENANT_LIMITS: 'inflight=0' })).toThrow(
      /BATON_TENANT_LIMITS entry "inflight=0"/,
    );
    expect(() => loadConfig({ BATON_TENANT_LIMITS: 'runs=5' })).toThrow(/BATON_TENANT_LIMITS/);
    expect(() => loadConfig({ BATON_TENANT_LIMITS: '{"*": {"inflight": -1}}' })).toThrow(
      /BATON_TENANT_LIMITS/,
    );
  });
});
