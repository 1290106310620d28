import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_KEY } from '../support/baton.js';
import { startRedis, subPrefix, type TestRedis } from '../support/redis.js';
import { type Console, startConsole } from './harness.js';
import { form, signIn } from './session.js';

/** Console sessions live in Redis (@fastify/session): sign-out revokes them server-side, on every replica. */

const SECRET = 'sessions-test-secret-0123456789abcdefghij';
let redis: TestRedis;
let a: Console;
let b: Console;
let probe: Redis;

beforeAll(async () => {
  redis = await startRedis();
  const prefix = subPrefix(redis.prefix, 'shared');
  // Two API replicas over the same Redis, with the same secret and key prefix.
  a = await startConsole(redis, {
    env: { BATON_SESSION_SECRET: SECRET, BATON_REDIS_PREFIX: prefix },
    workers: 0,
  });
  b = await startConsole(redis, {
    env: { BATON_SESSION_SECRET: SECRET, BATON_REDIS_PREFIX: prefix },
    workers: 0,
  });
  probe = new Redis(redis.url);
});
afterAll(async () => {
  probe?.disconnect();
  await a?.stop();
  await b?.stop();
  await redis?.stop();
});

const sessionKeys = async () => (await probe.keys(`${a.config.redisPrefix}:admin:session:*`)).sort();

describe('console sessions', () => {
  it('are stored in Redis only once someone signs in, work on every replica, and are deleted at sign-out', async () => {
    expect(await sessionKeys()).toEqual([]);
    await fetch(`${a.url}/admin/login`, { headers: { accept: 'text/html' } });
    expect(await sessionKeys()).toEqual([]); // the sign-in form stores nothing

    const s = await signIn(a.url, OPERATOR_KEY);
    const [key] = await sessionKeys();
    expect(key).toBeDefined();
    const stored = JSON.parse((await probe.get(key as string)) ?? '{}') as Record<string, unknown>;
    expect(stored.user).toMatchObject({ role: 'operator', keyId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(JSON.stringify(stored)).not.toContain(OPERATOR_KEY);
    const ttl = await probe.pttl(key as string);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(8 * 3600 * 1000);

    const page = (base: string) =>
      fetch(`${base}/admin`, { headers: { cookie: s.cookie, accept: 'text/html' }, redirect: 'manual' });
    expect((await page(a.url)).status).toBe(200);
    expect((await page(b.url)).status).toBe(200);

    // Signing out on replica B ends the session everywhere.
    const out = await fetch(`${b.url}/admin/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: s.cookie, origin: b.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ _csrf: s.csrf }),
    });
    expect(out.status).toBe(303);
    expect(await sessionKeys()).toEqual([]);
    expect((await page(a.url)).status).toBe(302);
    expect((await page(b.url)).status).toBe(302);
  });
});
