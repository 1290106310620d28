import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/core/events.js';
import { CLIENT_KEY, client, startApi, startWorker } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { startRedis, type TestRedis } from '../support/redis.js';

/**
 * Durability across real processes: an API process, worker processes and a real Redis. Workers are killed
 * (SIGKILL), stopped (SIGTERM) and told to cancel, and the journal must keep every completed step exactly once.
 */
let redis: TestRedis;
let api: Awaited<ReturnType<typeof startApi>>;

beforeAll(async () => {
  redis = await startRedis();
  api = await startApi(redis.url, redis.prefix);
});
afterAll(async () => {
  await api?.kill();
  await redis?.stop();
});

const fastRecovery = { BATON_JOB_LOCK_MS: '1000', BATON_STALLED_INTERVAL_MS: '500' };

function startedAfterResume(events: { event: RunEvent }[]) {
  const starts = events.map((e, i) => ({ e: e.event, i })).filter(({ e }) => e.type === 'run.started');
  const resumeAt = starts[1]?.i ?? Number.POSITIVE_INFINITY;
  const completedBefore = new Set(
    events
      .slice(0, resumeAt)
      .map((e) => e.event)
      .filter((e) => e.type === 'agent.completed')
      .map((e) => (e as { step: string }).step),
  );
  const restartedAfter = events
    .slice(resumeAt)
    .map((e) => e.event)
    .filter((e) => e.type === 'agent.started')
    .map((e) => (e as { step: string }).step);
  return { starts, completedBefore, restartedAfter };
}

function completedPerStep(events: { event: RunEvent }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { event } of events) {
    if (event.type === 'agent.completed') counts.set(event.step, (counts.get(event.step) ?? 0) + 1);
  }
  return counts;
}

describe('a worker killed mid-run', () => {
  it('resumes on a second worker from the journal, calling no completed step twice', async () => {
    const prefix = redis.prefix;
    const first = startWorker(redis.url, prefix, { BATON_SIMULATED_LATENCY_MS: '250', ...fastRecovery });
    await first.waitFor(/worker ready/);
    const c = client(api.url, CLIENT_KEY);
    const { run } = await c.createRun({ team: 'news-desk', pattern: 'sequential', input: sampleArticle });

    let completed = 0;
    await c.events(run.id, { until: (e) => e.type === 'agent.completed' && ++completed === 2 });
    await first.kill('SIGKILL');

    const second = startWorker(redis.url, prefix, { BATON_SIMULATED_LATENCY_MS: '250', ...fastRecovery });
    try {
      const finished = await c.waitForStatus(run.id, ['succeeded', 'failed', 'cancelled'], 30_000);
      expect(finished.status).toBe('succeeded');
      expect(finished.attempt).toBe(2);
      expect(finished.steps.map((s) => s.agent)).toEqual([
        'summarizer',
        'classifier',
        'extractor',
        'analyst',
        'editor',
      ]);
      expect(finished.usage.modelCalls).toBe(5);

      const events = await c.events(run.id);
      const { starts, completedBefore, restartedAfter } = startedAfterResume(events);
      expect(starts).toHaveLength(2);
      expect(starts[1]?.e).toMatchObject({ type: 'run.started', resumed: true, attempt: 2 });
      expect(completedBefore.size).toBeGreaterThanOrEqual(2);
      for (const step of completedBefore) expect(restartedAfter).not.toContain(step);
      for (const [, count] of completedPerStep(events)) expect(count).toBe(1);
      expect(events.at(-1)?.event.type).toBe('run.completed');
    } finally {
      await second.kill();
    }
  }, 60_000);
});

describe('a worker killed in the middle of a map', () => {
  it('resumes with exactly one worker call for each item not journaled yet', async () => {
    const prefix = redis.prefix;
    const env = { BATON_SIMULATED_LATENCY_MS: '200', ...fastRecovery };
    const first = startWorker(redis.url, prefix, env);
    await first.waitFor(/worker ready/);
    const c = client(api.url, CLIENT_KEY);
    const input = `Suppliers rally as Contoso Motors raises guidance

Contoso Motors raised its full-year guidance on Tuesday and its shares rose. Its suppliers Fabrikam Industries, Northwind Motors and Tailspin Industries expect higher orders. Woodgrove Industries warned that its profit will fall after a recall.`;
    const { run } = await c.createRun({
      team: 'news-desk',
      pattern: 'map',
      input,
      options: { concurrency: 1 },
    });

    let items = 0;
    await c.events(run.id, {
      until: (e) => e.type === 'agent.completed' && e.step.startsWith('map/item:') && ++items === 2,
    });
    await first.kill('SIGKILL');

    const second = startWorker(redis.url, prefix, env);
    try {
      const finished = await c.waitForStatus(run.id, ['succeeded', 'failed', 'cancelled'], 30_000);
      expect(finished.status).toBe('succeeded');
      const n = (finished.details as { items: number }).items;
      expect(n).toBeGreaterThanOrEqual(4);
      expect(finished.steps).toHaveLength(1 + n + 1);

      const events = await c.events(run.id);
      const { starts, completedBefore, restartedAfter } = startedAfterResume(events);
      expect(starts).toHaveLength(2);
      const itemsBefore = [...completedBefore].filter((k) => k.startsWith('map/item:'));
      const itemsAfter = restartedAfter.filter((k) => k.startsWith('map/item:'));
      expect(itemsBefore.length).toBeGreaterThanOrEqual(2);
      expect(itemsAfter).toHaveLength(n - itemsBefore.length);
      for (const step of completedBefore) expect(restartedAfter).not.toContain(step);
      for (const [, count] of completedPerStep(events)) expect(count).toBe(1);
    } finally {
      await second.kill();
    }
  }, 60_000);
});

describe('a worker stopped with SIGTERM', () => {
  it('finishes the step in flight, hands the run back, exits, and another worker completes it', async () => {
    const prefix = redis.prefix;
    const first = startWorker(redis.url, prefix, { BATON_SIMULATED_LATENCY_MS: '300' });
    await first.waitFor(/worker ready/);
    const c = client(api.url, CLIENT_KEY);
    const { run } = await c.createRun({
      team: 'news-desk',
      pattern: 'sequential',
      input: `${sampleArticle} (drain)`,
    });
    await c.events(run.id, { until: (e) => e.type === 'agent.completed' });

    const stopping = Date.now();
    const code = await first.kill('SIGTERM');
    expect(code).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(5_000);
    expect(first.output()).toMatch(/handing the run back to the queue/);

    const second = startWorker(redis.url, prefix, { BATON_SIMULATED_LATENCY_MS: '0' });
    try {
      const finished = await c.waitForStatus(run.id, ['succeeded', 'failed'], 30_000);
      expect(finished.status).toBe('succeeded');
      expect(finished.attempt).toBe(2);
      const events = await c.events(run.id);
      for (const [, count] of completedPerStep(events)) expect(count).toBe(1);
      const { completedBefore, restartedAfter } = startedAfterResume(events);
      // The step in flight at SIGTERM was completed by the first worker, not repeated by the second.
      expect(completedBefore.size).toBeGreaterThanOrEqual(2);
      for (const step of completedBefore) expect(restartedAfter).not.toContain(step);
    } finally {
      await second.kill();
    }
  }, 60_000);
});

describe('cancellation from another process', () => {
  it('reaches the worker within a second and aborts the in-flight model call', async () => {
    const prefix = redis.prefix;
    // Every model call hangs until aborted: only a real abort can end this run.
    const worker = startWorker(redis.url, prefix, { BATON_SIMULATED_HANG_RATE: '1' });
    await worker.waitFor(/worker ready/);
    const c = client(api.url, CLIENT_KEY);
    try {
      const { run } = await c.createRun({
        team: 'news-desk',
        pattern: 'sequential',
        input: `${sampleArticle} (cancel)`,
      });
      await c.events(run.id, { until: (e) => e.type === 'agent.started' });

      const cancelledAt = Date.now();
      const res = await c.call('POST', `/v1/runs/${run.id}/cancel`);
      expect(res.status).toBe(202);
      const events = await c.events(run.id, { until: (e) => e.type === 'run.cancelled', timeoutMs: 5_000 });
      expect(Date.now() - cancelledAt).toBeLessThan(1_000);
      expect(events.at(-1)?.event.type).toBe('run.cancelled');

      const record = await c.getRun(run.id);
      expect(record.status).toBe('cancelled');
      expect(record.steps).toHaveLength(0); // the aborted call was not journaled as a result
      expect(worker.output()).toMatch(/cancel received; aborting the run/);

      const again = await c.call('POST', `/v1/runs/${run.id}/cancel`);
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ error: { code: 'RUN_FINISHED' } });
    } finally {
      await worker.kill();
    }
  }, 60_000);
});
