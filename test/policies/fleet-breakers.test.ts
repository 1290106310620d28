import { BrokenCircuitError } from 'cockatiel';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransientModelError } from '../../src/core/errors.js';
import { redisCoordination } from '../../src/fleet-redis.js';
import { CircuitBreakers } from '../../src/policies/breakers.js';
import type { Coordination } from '../../src/policies/coordination.js';
import { startRedis, subPrefix, type TestRedis } from '../support/redis.js';

/** Circuit breakers shared through a real Redis by several processes' `CircuitBreakers` (here: instances). */
let redis: TestRedis;
const ports: ReturnType<typeof redisCoordination>[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(ports.map((p) => p.close()));
  await redis?.stop();
});

const target = { agent: 'summarizer', provider: 'azure-openai', model: 'gpt-4o-mini' };

function workers(count: number): CircuitBreakers[] {
  const prefix = subPrefix(redis.prefix, Math.random().toString(36).slice(2, 8));
  return Array.from({ length: count }, () => {
    const port = redisCoordination(
      { url: redis.url, cluster: false },
      prefix,
      500,
      pino({ level: 'silent' }),
    );
    ports.push(port);
    return new CircuitBreakers({ coordination: port, probeLeaseMs: 5_000 });
  });
}

const failing = () => Promise.reject(new TransientModelError('HTTP 500'));

describe('fleet circuit breakers', () => {
  it('failures on any worker count toward one breaker that opens for every worker', async () => {
    const fleet = workers(3);
    const policy = { failureThreshold: 4, halfOpenAfterMs: 60_000 };
    let calls = 0;
    const call = () => {
      calls++;
      return failing();
    };
    const outcomes: string[] = [];
    for (let i = 0; i < 12; i++) {
      const breaker = (fleet[i % 3] as CircuitBreakers).circuitBreakerFor(target, policy);
      outcomes.push(
        await breaker.execute(call).then(
          () => 'ok',
          (err: unknown) => (err instanceof BrokenCircuitError ? 'refused' : 'failed'),
        ),
      );
    }
    expect(calls).toBe(4);
    expect(outcomes.slice(0, 4)).toEqual(['failed', 'failed', 'failed', 'failed']);
    expect(outcomes.slice(4).every((o) => o === 'refused')).toBe(true);
    for (const w of fleet) expect(w.state(target)).toBe('open');
    expect(fleet[2]?.snapshot()[0]?.lastFailure?.code).toBe('MODEL_TRANSIENT');
  });

  it("records each outcome whole: a worker that never called the agent sees the breaker open, the one that did keeps the fleet's limits", async () => {
    const prefix = subPrefix(redis.prefix, Math.random().toString(36).slice(2, 8));
    const degraded: string[] = [];
    const events = { degraded: (what: string) => degraded.push(what), recovered: () => {} };
    const [caller, bystander] = [0, 1].map(() => {
      const port = redisCoordination(
        { url: redis.url, cluster: false },
        prefix,
        500,
        pino({ level: 'silent' }),
      );
      ports.push(port);
      return new CircuitBreakers({ coordination: port, probeLeaseMs: 5_000, events });
    }) as [CircuitBreakers, CircuitBreakers];
    const breaker = caller.circuitBreakerFor(target, { failureThreshold: 2, halfOpenAfterMs: 60_000 });
    for (let i = 0; i < 2; i++) await expect(breaker.execute(failing)).rejects.toThrow('HTTP 500');
    // Writing the outcome never failed, so the fleet's limits never fell back to the worker's own.
    expect(degraded).toEqual([]);
    expect(caller.state(target)).toBe('open');
    await bystander.refresh();
    expect(bystander.snapshot()).toEqual([
      expect.objectContaining({ ...target, configured: true, state: 'open' }),
    ]);
    // The breaker of a model the agent is not configured with says so in the fleet's view.
    const other = { ...target, model: 'gpt-4o' };
    await expect(
      caller
        .circuitBreakerFor(other, { failureThreshold: 1, halfOpenAfterMs: 60_000 }, false)
        .execute(failing),
    ).rejects.toThrow('HTTP 500');
    await bystander.refresh();
    expect(bystander.snapshot().find((b) => b.model === 'gpt-4o')?.configured).toBe(false);
  });

  it('lets one half-open probe through fleet-wide; its success closes the breaker for all', async () => {
    const fleet = workers(3);
    const policy = { failureThreshold: 1, halfOpenAfterMs: 200 };
    const breakers = fleet.map((w) => w.circuitBreakerFor(target, policy));
    await expect(breakers[0]?.execute(failing)).rejects.toThrow('HTTP 500');
    await new Promise((r) => setTimeout(r, 250));
    let release: () => void = () => {};
    const slow = new Promise<string>((resolve) => {
      release = () => resolve('probe ok');
    });
    let probes = 0;
    const probe = breakers[1]?.execute(() => {
      probes++;
      return slow;
    });
    // While the probe is out, the other workers are refused.
    await expect(breakers[2]?.execute(() => Promise.resolve('x'))).rejects.toBeInstanceOf(BrokenCircuitError);
    await expect(breakers[0]?.execute(() => Promise.resolve('x'))).rejects.toBeInstanceOf(BrokenCircuitError);
    release();
    expect(await probe).toBe('probe ok');
    expect(probes).toBe(1);
    expect(await breakers[2]?.execute(() => Promise.resolve('after'))).toBe('after');
  });

  it("falls back to each worker's own breaker while Redis does not answer", async () => {
    const unreachable: Coordination = { prefix: 'x', run: () => Promise.reject(new Error('timeout')) };
    const breakers = new CircuitBreakers({ coordination: unreachable });
    const breaker = breakers.circuitBreakerFor(target, { failureThreshold: 2, halfOpenAfterMs: 60_000 });
    await expect(breaker.execute(failing)).rejects.toThrow('HTTP 500');
    await expect(breaker.execute(failing)).rejects.toThrow('HTTP 500');
    await expect(breaker.execute(failing)).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(breakers.state(target)).toBe('open');
  });
});
