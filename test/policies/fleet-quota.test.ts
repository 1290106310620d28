import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisCoordination } from '../../src/fleet-redis.js';
import type { Coordination } from '../../src/policies/coordination.js';
import { FleetQuota } from '../../src/policies/fleet-quota.js';
import { quotaAcquireScript } from '../../src/policies/fleet-quota-scripts.js';
import { QuotaManager } from '../../src/policies/quota.js';
import { maxInWindow } from '../support/providers.js';
import { startRedis, subPrefix, type TestRedis } from '../support/redis.js';

/**
 * The fleet quota against a real Redis: several FleetQuota instances (as several workers) share one window,
 * a pause, and tenants' fair shares; when Redis does not answer they fall back to the per-process quota.
 */
let redis: TestRedis;
const ports: ReturnType<typeof redisCoordination>[] = [];
const log = pino({ level: 'silent' });

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(ports.map((p) => p.close()));
  await redis?.stop();
});

function coordination(prefix: string): Coordination {
  const port = redisCoordination({ url: redis.url, cluster: false }, prefix, 500, log);
  ports.push(port);
  return port;
}

/** `count` workers' quotas over one Redis prefix; `tenant.current` is the tenant of the next acquire. */
function fleet(
  count: number,
  limits: Record<string, { rpm?: number; tpm?: number }>,
  windowMs: number,
  weights: Record<string, number> = {},
) {
  const prefix = subPrefix(redis.prefix, Math.random().toString(36).slice(2, 8));
  const tenant = { current: undefined as string | undefined };
  const workers = Array.from(
    { length: count },
    () =>
      new FleetQuota({
        coordination: coordination(prefix),
        local: new QuotaManager({ limits, windowMs }),
        tenantOf: () => tenant.current,
        weightOf: (t) => weights[t] ?? 1,
      }),
  );
  return { workers, tenant };
}

describe('fleet quota', () => {
  it('three workers together never exceed the requests per window', async () => {
    const WINDOW = 1_000;
    const { workers } = fleet(3, { d: { rpm: 5 } }, WINDOW);
    const granted: number[] = [];
    await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        (workers[i % 3] as FleetQuota).acquire('d', 10).then((g) => {
          granted.push(Date.now());
          g.settle(10);
        }),
      ),
    );
    expect(granted).toHaveLength(15);
    // Grants are stamped by Redis's clock; the resolve here lags it by a round trip, longer on a loaded host:
    // counting over half the window tolerates that and still tells the fleet's quota (5) from a quota per worker
    // (15 at once).
    expect(maxInWindow(granted, WINDOW / 2)).toBeLessThanOrEqual(5);
  });

  it('settles the estimate to the real usage for every worker', async () => {
    const { workers } = fleet(2, { d: { tpm: 1_000 } }, 60_000);
    const [a, b] = workers as [FleetQuota, FleetQuota];
    const first = await a.acquire('d', 900);
    let second = false;
    const pending = b.acquire('d', 500).then((g) => {
      second = true;
      return g;
    });
    first.settle(100);
    (await pending).settle(500);
    expect(second).toBe(true);
  });

  it("a 429's pause on one worker holds every worker", async () => {
    const { workers } = fleet(2, { d: { rpm: 100 } }, 60_000);
    const [a, b] = workers as [FleetQuota, FleetQuota];
    (await a.acquire('d', 1)).settle(1);
    a.pause('d', 400);
    // The pause is written off the call's path; the next grant from it comes after its end.
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await b.acquire('d', 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('waiting is abortable', async () => {
    const { workers } = fleet(1, { d: { rpm: 1 } }, 60_000);
    const [a] = workers as [FleetQuota];
    await a.acquire('d', 1);
    const controller = new AbortController();
    const waiting = a.acquire('d', 1, controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
  });

  it('a small tenant is served by fair share, not behind a big tenant’s backlog', async () => {
    const WINDOW = 500;
    const { workers, tenant } = fleet(2, { d: { rpm: 10 } }, WINDOW);
    const order: string[] = [];
    const all: Promise<void>[] = [];
    const take = (who: string, worker: FleetQuota) => {
      tenant.current = who;
      all.push(
        worker.acquire('d', 100).then((g) => {
          order.push(who);
          g.settle(100);
        }),
      );
    };
    for (let i = 0; i < 60; i++) take('big', workers[i % 2] as FleetQuota);
    for (let i = 0; i < 6; i++) take('small', workers[i % 2] as FleetQuota);
    await Promise.all(all);
    // Equal weights: once both wait, they alternate; the small tenant's six are done within the first 10 + 2·6
    // grants (the first window may go to the big tenant, which asked first), not after the big tenant's 60.
    const lastSmall = order.lastIndexOf('small');
    expect(lastSmall).toBeLessThan(10 + 12);
    // First come, first served within a tenant is kept by each worker's queue.
    expect(order.filter((w) => w === 'small')).toHaveLength(6);
  });

  it('shares by weight: a tenant of weight 3 gets three grants for each of a tenant of weight 1', async () => {
    const { workers, tenant } = fleet(2, { d: { rpm: 20 } }, 1_000, { heavy: 3, light: 1 });
    const order: string[] = [];
    const all: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      for (const who of ['heavy', 'light']) {
        tenant.current = who;
        all.push(
          (workers[i % 2] as FleetQuota).acquire('d', 100).then((g) => {
            order.push(who);
            g.settle(100);
          }),
        );
      }
    }
    await Promise.all(all);
    // Among the first 40 grants (both tenants waiting throughout): about 30 heavy and 10 light.
    const heavy = order.slice(0, 40).filter((w) => w === 'heavy').length;
    expect(heavy).toBeGreaterThanOrEqual(27);
    expect(heavy).toBeLessThanOrEqual(33);
  });

  it('a worker that has served its own waiters of a tenant does not withdraw the tenant for the others', async () => {
    const prefix = subPrefix(redis.prefix, Math.random().toString(36).slice(2, 8));
    const port = coordination(prefix);
    const keys = ['grants', 'tokens', 'meta', 'pause', 'vt', 'waiting'].map(
      (part) => `${prefix}:fleet:quota:{d}:${part}`,
    );
    // windowMs, rpm, tpm, tokens, grant id, tenant, weight, more, claimMs, maxSleepMs, worker.
    const ask = async (tenant: string, more: boolean, worker: string, weight = 1) =>
      (await port.run(quotaAcquireScript, keys, [
        60_000,
        0,
        0,
        100,
        randomUUID(),
        tenant,
        weight,
        more ? 1 : 0,
        60_000,
        250,
        worker,
      ])) as [number, number];
    // Light (weight 1) has three grants; heavy (weight 3) starts at the floor and takes two, staying behind light.
    for (let i = 0; i < 3; i++) expect((await ask('light', false, 'A'))[0]).toBe(1);
    // Worker B holds more heavy waiters; worker A serves its last one.
    expect((await ask('heavy', true, 'B', 3))[0]).toBe(1);
    expect((await ask('heavy', false, 'A', 3))[0]).toBe(1);
    // Heavy, still waiting on B and behind in virtual time, goes first: light yields.
    expect(await ask('light', true, 'A')).toEqual([0, -1]);
  });

  it('falls back to the per-process quota when Redis does not answer, never to none', async () => {
    const unreachable: Coordination = {
      prefix: 'x',
      run: () => Promise.reject(new Error('Connection is closed.')),
    };
    const local = new QuotaManager({ limits: { d: { rpm: 2 } }, windowMs: 60_000 });
    const quota = new FleetQuota({ coordination: unreachable, local });
    await quota.acquire('d', 1);
    await quota.acquire('d', 1);
    expect(quota.degraded).toBe(true);
    const controller = new AbortController();
    const third = quota.acquire('d', 1, controller.signal);
    let granted = false;
    void third.then(
      () => {
        granted = true;
      },
      () => {},
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(granted).toBe(false);
    expect(local.usage('d')).toMatchObject({ requests: 2, waiting: 1 });
    controller.abort(new Error('done'));
    await expect(third).rejects.toThrow('done');
  });
});
