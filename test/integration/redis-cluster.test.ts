import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/runs/schema.js';
import { humanTeamDir } from '../human/support.js';
import { CLIENT_KEY, client, startApi, startWorker } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { startRedisCluster, type TestRedisCluster } from '../support/redis-cluster.js';

/**
 * baton on a Redis Cluster of three masters with a replica each: runs spread over the shards, a load of runs
 * goes through while the master of the slot that holds the queue and the indexes is killed, a replica takes
 * over, and every run the API accepted finishes.
 */
let cluster: TestRedisCluster;
const prefix = 'clustered';
const env = {
  BATON_REDIS_CLUSTER: 'true',
  // The API accepts a run once a replica holds it and its job: the failover cannot take it back.
  BATON_REDIS_WAIT_REPLICAS: '1',
  // After the failover the queue's new master has no replica left: each accept then waits this long, in vain.
  BATON_REDIS_WAIT_TIMEOUT_MS: '100',
  BATON_SIMULATED_LATENCY_MS: '20',
  // A job whose worker lost its master mid-run is taken over within a second or two.
  BATON_JOB_LOCK_MS: '1000',
  BATON_STALLED_INTERVAL_MS: '500',
};

beforeAll(async () => {
  cluster = await startRedisCluster(3, 1);
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('on a Redis Cluster', () => {
  it('pauses a run for a person and resumes it with the answer, and cancels waiting and running runs', async () => {
    // The simulated model calls each tool an agent offers once (here `ask_human`), then answers.
    const humanEnv = { ...env, BATON_TEAMS_DIR: await humanTeamDir() };
    const api = await startApi(cluster.urls, 'clustered-human', humanEnv);
    const workers = [startWorker(cluster.urls, 'clustered-human', humanEnv)];
    try {
      await workers[0]?.waitFor(/worker ready/);
      const c = client(api.url, CLIENT_KEY);
      const ask = { team: 'helpdesk', pattern: 'sequential', input: 'Where is my parcel?' };
      const answered = (await c.createRun(ask)).run.id;
      const abandoned = (await c.createRun(ask)).run.id;
      const waiting = await c.waitForStatus(answered, ['waiting'], 30_000);
      const request = waiting.pending?.[0];
      expect(request).toMatchObject({ kind: 'question', agent: 'clerk' });
      const answer = await c.call('POST', `/v1/runs/${answered}/input`, {
        requestId: request?.id,
        answer: 'Order 4711',
      });
      expect(answer.status).toBe(202);
      const done = await c.waitForStatus(answered, ['succeeded', 'failed', 'cancelled'], 30_000);
      expect([done.status, done.error]).toEqual(['succeeded', undefined]);
      const types = (await c.events(answered)).map((e) => e.event.type);
      expect(types.indexOf('input.requested')).toBeGreaterThanOrEqual(0);
      expect(types.indexOf('input.received')).toBeGreaterThan(types.indexOf('input.requested'));
      expect(types.at(-1)).toBe('run.completed');

      // A waiting run (its job delayed, in the queue's slot) is cancelled from its own slot.
      await c.waitForStatus(abandoned, ['waiting'], 30_000);
      expect((await c.call('POST', `/v1/runs/${abandoned}/cancel`)).status).toBe(202);
      expect((await c.waitForStatus(abandoned, ['cancelled', 'succeeded', 'failed'])).status).toBe(
        'cancelled',
      );

      // A running run, on a worker whose model calls hang until aborted: the cancel reaches the worker (the
      // channel, or its poll of the record) and stops the call; the worker ends the run.
      await workers[0]?.kill();
      workers.push(
        startWorker(cluster.urls, 'clustered-human', { ...humanEnv, BATON_SIMULATED_HANG_RATE: '1' }),
      );
      await workers[1]?.waitFor(/worker ready/);
      const running = (await c.createRun({ team: 'plain', pattern: 'sequential', input: 'Hello' })).run.id;
      // In its model call once its agent has started (status `running` comes earlier, with the attempt's start).
      const startedAgent = await c.events(running, { until: (e) => e.type === 'agent.started' });
      expect(startedAgent.at(-1)?.event.type).toBe('agent.started');
      expect((await c.call('POST', `/v1/runs/${running}/cancel`)).status).toBe(202);
      const cancelled = await c.waitForStatus(running, ['cancelled', 'succeeded', 'failed'], 30_000);
      expect(cancelled.status).toBe('cancelled');
      const ran = (await c.events(running)).map((e) => e.event.type);
      expect(ran).not.toContain('agent.completed');
      expect(ran.at(-1)).toBe('run.cancelled');
    } finally {
      await Promise.all([api.kill(), ...workers.map((w) => w.kill())]);
    }
  }, 120_000);

  it('keeps every accepted run through the failover of the master that holds the queue', async () => {
    const api = await startApi(cluster.urls, prefix, env);
    const workers = [startWorker(cluster.urls, prefix, env), startWorker(cluster.urls, prefix, env)];
    try {
      await Promise.all(workers.map((w) => w.waitFor(/worker ready/)));
      const c = client(api.url, CLIENT_KEY);
      const accepted: string[] = [];
      /** Creates one run, retrying with its idempotency key until the API accepts it. */
      const createOne = async (): Promise<string> => {
        const key = randomUUID();
        let last: unknown;
        for (let attempt = 0; attempt < 100; attempt++) {
          const res = await c
            .createRun(
              { team: 'news-desk', pattern: 'concurrent', input: sampleArticle },
              { 'idempotency-key': key },
            )
            .catch((err: unknown) => {
              last = err;
              return undefined;
            });
          last = res ? [res.status, res.body] : last;
          if (res?.status === 202 || res?.status === 200) {
            accepted.push(res.run.id);
            return res.run.id;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`a run was never accepted: ${JSON.stringify(last)}\n${api.output().slice(-3000)}`);
      };
      const load = async (n: number) => {
        for (let i = 0; i < n; i++) await createOne();
      };

      // Before the failover: runs spread over the masters.
      await Promise.all([load(10), load(10)]);
      const early = await Promise.all(
        accepted.map((id) => c.waitForStatus(id, ['succeeded', 'failed'], 30_000)),
      );
      expect(early.every((r) => r.status === 'succeeded')).toBe(true);
      // Each accept asked the masters it wrote to for a replica (WAIT): the run's, and the queue's.
      expect(await cluster.commandCalls('wait')).toBeGreaterThanOrEqual(2 * accepted.length);
      // A run followed live over SSE (the API reads each run's stream on its own node).
      const followed = await createOne();
      const events = await c.events(followed, { until: (e) => e.type === 'run.completed' });
      expect(events.map((e) => e.event.type)).toContain('agent.completed');
      expect(events.at(-1)?.event.type).toBe('run.completed');
      const shards = new Set(
        await Promise.all(accepted.map(async (id) => (await cluster.masterOf(`x{${id}}`)).port)),
      );
      expect(shards.size).toBeGreaterThan(1);

      // The failover, with runs being created and run around it.
      const queueMaster = await cluster.masterOf(`{${prefix}}`);
      const during = Promise.all([load(40), load(40)]);
      while (accepted.length < 40) await new Promise((r) => setTimeout(r, 20));
      queueMaster.child.kill('SIGKILL');
      await during;
      await cluster.waitUntilOk();
      expect(await cluster.masterOf(`{${prefix}}`)).not.toBe(queueMaster);

      const finished: RunRecord[] = await Promise.all(
        accepted.map((id) => c.waitForStatus(id, ['succeeded', 'failed', 'cancelled'], 60_000)),
      );
      expect(new Set(accepted).size).toBe(accepted.length);
      expect(finished.filter((r) => r.status !== 'succeeded').map((r) => [r.id, r.status, r.error])).toEqual(
        [],
      );
      // The listing (indexes in one slot, records in the runs' own) shows each of them once.
      const listed: string[] = [];
      for (let cursor: string | undefined, page = 0; page === 0 || cursor; page++) {
        const res = await c.call('GET', `/v1/runs?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
        listed.push(...(res.body.items as RunRecord[]).map((r) => r.id));
        cursor = res.body.nextCursor as string | undefined;
      }
      expect(listed.sort()).toEqual([...accepted].sort());
    } finally {
      await Promise.all([api.kill(), ...workers.map((w) => w.kill())]);
    }
  }, 180_000);
});
