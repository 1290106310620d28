import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexKeys } from '../../src/runs/keys.js';
import { RunStore } from '../../src/runs/store.js';
import { startRedis, type TestRedis } from '../support/redis.js';

let redis: TestRedis;
let conn: Redis;
beforeAll(async () => {
  redis = await startRedis();
  conn = new Redis(redis.url);
});
afterAll(async () => {
  conn.disconnect();
  await redis.stop();
});

describe('listing runs', () => {
  it('keeps the index entry of a run created a moment ago (its record follows), and drops an old one without a record', async () => {
    const store = new RunStore(conn, redis.prefix, 3600);
    const all = indexKeys(redis.prefix).all;
    await conn.zadd(all, Date.now(), 'being-created', Date.now() - 3_600_000, 'expired');
    expect((await store.list({ limit: 10 })).items).toEqual([]);
    expect(await conn.zscore(all, 'being-created')).not.toBeNull();
    expect(await conn.zscore(all, 'expired')).toBeNull();
  });
});
