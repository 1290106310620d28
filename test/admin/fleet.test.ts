import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runsActiveListKey, runsWaitListKey } from '../../src/queue/names.js';
import type { RunRecord } from '../../src/runs/schema.js';
import { CLIENT_KEY, client, OPERATOR_KEY, startWorker } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startTcpGate } from '../support/tcp-gate.js';
import { ADMIN_KEY, type Console, callsTo, FAIL_MARKER, HANG_MARKER, startConsole } from './harness.js';

interface Worker {
  id: string;
  host: string;
  pid: number;
  version: string;
  concurrency: number;
  activeJobs: number;
  activeRuns: string[];
  draining: boolean;
  ttlMs: number;
  intervalMs: number;
  breakers: { agent: string; state: string; lastFailure?: { code: string } }[];
}
interface Agent {
  team: string;
  name: string;
  fleet: string;
  workers?: { worker: string; state: string; lastFailure?: { code: string; message: string } }[];
}
interface QueueStats {
  paused: boolean;
  counts: { waiting: number; active: number; delayed: number; failed: number; completed: number };
  oldestWaitingAgeMs: number | null;
  throughput: {
    windowSeconds: number;
    finished: number;
    succeeded: number;
    failed: number;
    cancelled: number;
  };
}

let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const run = (input: string, team = 'news-desk') => ({
  team,
  pattern: team === 'news-desk' ? 'sequential' : 'handoff',
  input,
});

describe('worker heartbeats (worker processes)', () => {
  let c: Console;
  beforeAll(async () => {
    c = await startConsole(redis, { workers: 0 });
  });
  afterAll(async () => {
    await c?.stop();
  });

  const workers = async () =>
    ((await client(c.url, OPERATOR_KEY).call('GET', '/v1/workers')).body as { items: Worker[] }).items;

  it('a worker appears with its identity, and disappears after the TTL once it dies', async () => {
    const proc = startWorker(redis.url, c.config.redisPrefix, {
      BATON_HEARTBEAT_INTERVAL_MS: '200',
      BATON_HEARTBEAT_TTL_MS: '1000',
      BATON_WORKER_CONCURRENCY: '3',
    });
    try {
      await proc.waitFor(/worker ready/);
      const pid = proc.child.pid;
      const mine = await until('the heartbeat', async () => (await workers()).find((w) => w.pid === pid));
      expect(mine).toMatchObject({
        pid,
        version: '0.1.0',
        concurrency: 3,
        activeJobs: 0,
        activeRuns: [],
        draining: false,
        intervalMs: 200,
        ttlMs: 1000,
      });
      expect(mine.id).toContain(`:${pid}:`);
      expect(mine.host.length).toBeGreaterThan(0);
      // Beats keep it alive well past one TTL.
      await sleep(1500);
      expect((await workers()).some((w) => w.pid === pid)).toBe(true);
      // SIGKILL: no clean-up runs, the key simply expires.
      await proc.kill('SIGKILL');
      // What removes it is the key's TTL, set by the last beat (not a wall-clock wait a loaded machine can miss).
      const admin = new Redis(redis.url);
      try {
        const ttl = await admin.pttl(`${c.config.redisPrefix}:worker:${mine.id}`);
        // -2: already expired; -1 would be a key that never expires.
        expect(ttl).not.toBe(-1);
        expect(ttl).toBeLessThanOrEqual(1000);
      } finally {
        admin.disconnect();
      }
      await until('the dead worker to leave', async () =>
        (await workers()).some((w) => w.pid === pid) ? undefined : true,
      );
    } finally {
      await proc.kill('SIGKILL');
    }
  });

  it('a worker that shuts down cleanly leaves at once, without waiting for the TTL', async () => {
    const proc = startWorker(redis.url, c.config.redisPrefix, {
      BATON_HEARTBEAT_INTERVAL_MS: '200',
      BATON_HEARTBEAT_TTL_MS: '60000',
    });
    try {
      await proc.waitFor(/worker ready/);
      const pid = proc.child.pid;
      await until('the heartbeat', async () => (await workers()).find((w) => w.pid === pid));
      expect(await proc.kill('SIGTERM')).toBe(0);
      expect((await workers()).some((w) => w.pid === pid)).toBe(false);
    } finally {
      await proc.kill('SIGKILL');
    }
  });

  it('a SIGTERM during start-up closes what started once start-up ends (exit 0, no heartbeat left)', async () => {
    // Redis answers nothing until the gate opens: the worker is inside start-up when the signal lands.
    const gate = await startTcpGate(redis.url);
    const proc = startWorker(gate.url, c.config.redisPrefix, {
      BATON_HEARTBEAT_INTERVAL_MS: '200',
      BATON_HEARTBEAT_TTL_MS: '60000',
    });
    try {
      await proc.waitFor(/"msg":"starting"/);
      await until('a connection to Redis', async () => (gate.connections() > 0 ? true : undefined));
      const pid = proc.child.pid;
      proc.child.kill('SIGTERM');
      await proc.waitFor(/shutting down/);
      gate.open();
      expect(await proc.exited).toBe(0);
      expect(proc.output()).toContain('worker ready');
      expect((await workers()).some((w) => w.pid === pid)).toBe(false);
    } finally {
      await proc.kill('SIGKILL');
      await gate.close();
    }
  });

  it('is for operators only', async () => {
    expect((await client(c.url, CLIENT_KEY).call('GET', '/v1/workers')).status).toBe(403);
    expect((await client(c.url, CLIENT_KEY).call('GET', '/v1/queue')).status).toBe(403);
  });
});

describe('circuit breakers across the fleet', () => {
  it('an agent whose breaker opened on one worker shows "open on some" in GET /v1/agents', async () => {
    const c = await startConsole(redis, {
      workers: 1,
      env: { BATON_HEARTBEAT_INTERVAL_MS: '100', BATON_HEARTBEAT_TTL_MS: '2000' },
    });
    try {
      const operator = client(c.url, OPERATOR_KEY);
      const first = c.workers[0];
      if (!first) throw new Error('no worker');
      // Five runs whose summarizer fails for real (threshold 5 consecutive failures) on the only worker.
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await operator.createRun(run(`${sampleArticle} ${FAIL_MARKER} ${i}`))).run.id);
      }
      for (const id of ids) await operator.waitForStatus(id, ['failed']);
      expect(first.breakers.state('summarizer')).toBe('open');

      const agents = async (key = OPERATOR_KEY) =>
        ((await client(c.url, key).call('GET', '/v1/agents')).body as { items: Agent[] }).items;
      const summarizer = async (key = OPERATOR_KEY) =>
        (await agents(key)).find((a) => a.name === 'summarizer');

      const allOpen = await until('open on all', async () => {
        const s = await summarizer();
        return s?.fleet === 'open on all' ? s : undefined;
      });
      expect(allOpen.workers).toEqual([
        {
          worker: first.worker.id,
          state: 'open',
          lastFailure: expect.objectContaining({ code: 'MODEL_PERMANENT' }),
        },
      ]);

      // A second worker has not called the summarizer: its breaker is closed, so the fleet is split.
      const second = await c.addWorker();
      const some = await until('open on some', async () => {
        const s = await summarizer();
        return s?.fleet === 'open on some' ? s : undefined;
      });
      expect(some.workers).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ worker: first.worker.id, state: 'open' }),
          { worker: second.worker.id, state: 'closed' },
        ]),
      );
      // Other agents are closed everywhere; clients see the summary without per-worker detail.
      const editor = (await agents()).find((a) => a.name === 'editor');
      expect(editor?.fleet).toBe('closed on all');
      const asClient = await summarizer(CLIENT_KEY);
      expect(asClient?.fleet).toBe('open on some');
      expect(asClient?.workers).toBeUndefined();

      // The fleet page renders the same state.
      const page = await (
        await fetch(`${c.url}/admin/fleet`, { headers: { authorization: `Bearer ${OPERATOR_KEY}` } })
      ).text();
      expect(page).toContain(first.worker.id);
      expect(page).toContain(second.worker.id);
      expect(page).toMatch(
        /<code>summarizer<\/code><\/th><td>news-desk<\/td><td class="bad nowrap">open on some<\/td>/,
      );
    } finally {
      await c.stop();
    }
  });
});

describe('queue statistics, pause and resume', () => {
  let c: Console;
  beforeAll(async () => {
    c = await startConsole(redis, { workers: 1 });
  });
  afterAll(async () => {
    await c?.stop();
  });

  it('GET /v1/queue counts jobs by state and the runs finished in the last minute', async () => {
    const operator = client(c.url, OPERATOR_KEY);
    const ok = await Promise.all(
      [1, 2].map(async (i) => (await operator.createRun(run(`${sampleArticle} ${i}`))).run),
    );
    const bad = (await operator.createRun(run(`${sampleArticle} ${FAIL_MARKER} stats`))).run;
    for (const r of ok) await operator.waitForStatus(r.id, ['succeeded']);
    await operator.waitForStatus(bad.id, ['failed']);
    const stats = await until('the counts', async () => {
      const s = (await operator.call('GET', '/v1/queue')).body as unknown as QueueStats;
      return s.counts.completed === 2 && s.counts.failed === 1 ? s : undefined;
    });
    expect(stats).toMatchObject({
      paused: false,
      counts: { waiting: 0, active: 0, delayed: 0, failed: 1, completed: 2 },
      oldestWaitingAgeMs: null,
      throughput: { windowSeconds: 60, finished: 3, succeeded: 2, failed: 1, cancelled: 0 },
    });
  });

  it('pause: new runs are accepted and wait, marked queuePaused; resume lets them run', async () => {
    const operator = client(c.url, OPERATOR_KEY);
    expect((await client(c.url, CLIENT_KEY).call('POST', '/v1/queue/pause')).status).toBe(403);
    const paused = await operator.call('POST', '/v1/queue/pause');
    expect(paused.status).toBe(200);
    expect((paused.body as unknown as QueueStats).paused).toBe(true);
    const { run: created, status } = await client(c.url, CLIENT_KEY).createRun(
      run(`${sampleArticle} paused`),
    );
    expect(status).toBe(202);
    expect(created.queuePaused).toBe(true);
    await sleep(600);
    expect((await operator.getRun(created.id)).status).toBe('queued');
    const stats = (await operator.call('GET', '/v1/queue')).body as unknown as QueueStats;
    expect(stats.paused).toBe(true);
    expect(stats.counts.waiting).toBe(1);
    expect(stats.oldestWaitingAgeMs).toBeGreaterThanOrEqual(500);
    const resumed = await operator.call('POST', '/v1/queue/resume');
    expect(resumed.status).toBe(200);
    expect((resumed.body as unknown as QueueStats).paused).toBe(false);
    const done = await operator.waitForStatus(created.id, ['succeeded']);
    expect(done.queuePaused).toBe(true);
  });

  it('POST /v1/teams/:team/cancel cancels queued and running runs of that team only', async () => {
    const operator = client(c.url, OPERATOR_KEY);
    const hanging = (await operator.createRun(run(`${sampleArticle} ${HANG_MARKER}`))).run;
    await operator.waitForStatus(hanging.id, ['running']);
    await operator.call('POST', '/v1/queue/pause');
    const queued = await Promise.all(
      [1, 2].map(async (i) => (await operator.createRun(run(`${sampleArticle} queued ${i}`))).run),
    );
    // The lists the KEDA rules watch (infra/terraform): runs in flight and runs waiting, as BullMQ keeps them.
    const conn = new Redis(redis.url);
    try {
      expect(await conn.llen(runsActiveListKey(c.config.redisPrefix))).toBe(1);
      expect(await conn.llen(runsWaitListKey(c.config.redisPrefix))).toBe(2);
    } finally {
      conn.disconnect();
    }
    const otherTeam = (await operator.createRun(run('My invoice was charged twice.', 'support-desk'))).run;
    expect((await operator.call('POST', '/v1/teams/no-such-team/cancel')).status).toBe(404);
    expect((await client(c.url, CLIENT_KEY).call('POST', '/v1/teams/news-desk/cancel')).status).toBe(403);
    const res = await operator.call('POST', '/v1/teams/news-desk/cancel');
    expect(res.status).toBe(202);
    const body = res.body as { team: string; cancelled: string[]; cancelling: string[] };
    expect(body.team).toBe('news-desk');
    expect(body.cancelled.sort()).toEqual(queued.map((r) => r.id).sort());
    expect(body.cancelling).toEqual([hanging.id]);
    for (const r of queued) expect((await operator.getRun(r.id)).status).toBe('cancelled');
    expect((await operator.waitForStatus(hanging.id, ['cancelled'])).status).toBe('cancelled');
    expect((await operator.getRun(otherTeam.id)).status).toBe('queued');
    await operator.call('POST', '/v1/queue/resume');
    await operator.waitForStatus(otherTeam.id, ['succeeded']);
  });
});

describe('retrying a failed run', () => {
  let c: Console;
  beforeAll(async () => {
    c = await startConsole(redis, { workers: 1 });
  });
  afterAll(async () => {
    await c?.stop();
  });

  /** A run whose first agent (summarizer) succeeds and whose second (classifier) fails. */
  async function failedRun(marker: string): Promise<RunRecord> {
    c.failures.on = true;
    c.failures.agent = 'classifier';
    const operator = client(c.url, OPERATOR_KEY);
    const created = (await operator.createRun(run(`${sampleArticle} ${FAIL_MARKER} ${marker}`))).run;
    const failed = await operator.waitForStatus(created.id, ['failed']);
    expect(failed.steps.map((s) => [s.agent, s.status])).toEqual([
      ['summarizer', 'succeeded'],
      ['classifier', 'failed'],
    ]);
    expect(callsTo(c, 'summarizer', marker)).toBe(1);
    expect(callsTo(c, 'classifier', marker)).toBe(1);
    return failed;
  }

  it('POST /v1/runs/:id/retry reuses the journal: successful steps are replayed, the failed one runs again', async () => {
    const marker = 'retry-api';
    const failed = await failedRun(marker);
    expect(await (await c.deps.queue.getJob(failed.id))?.getState()).toBe('failed');
    const summarizerStep = failed.steps[0];
    c.failures.on = false;

    const operator = client(c.url, OPERATOR_KEY);
    expect((await client(c.url, CLIENT_KEY).call('POST', `/v1/runs/${failed.id}/retry`)).status).toBe(403);
    const res = await operator.call('POST', `/v1/runs/${failed.id}/retry`);
    expect(res.status).toBe(202);
    const queued = res.body as unknown as RunRecord;
    expect(queued.status).toBe('queued');
    expect(queued.error).toBeUndefined();
    expect(queued.finishedAt).toBeUndefined();
    // The failure left the journal; the successful step stayed.
    expect(queued.steps.map((s) => s.agent)).toEqual(['summarizer']);

    const done = await operator.waitForStatus(failed.id, ['succeeded', 'failed']);
    expect(done.status).toBe('succeeded');
    expect(done.id).toBe(failed.id);
    expect(done.attempt).toBe(2);
    expect(callsTo(c, 'summarizer', marker)).toBe(1); // replayed, not called again
    expect(callsTo(c, 'classifier', marker)).toBe(2);
    expect(done.steps.map((s) => [s.agent, s.status])).toEqual([
      ['summarizer', 'succeeded'],
      ['classifier', 'succeeded'],
      ['extractor', 'succeeded'],
      ['analyst', 'succeeded'],
      ['editor', 'succeeded'],
    ]);
    expect(done.steps[0]).toEqual(summarizerStep);
    expect(await (await c.deps.queue.getJob(failed.id))?.getState()).toBe('completed');

    // The event stream tells the whole story and ends with the new attempt's outcome.
    const events = await operator.events(failed.id);
    const types = events.map((e) => e.event.type);
    expect(types.filter((t) => t === 'run.failed')).toEqual([]);
    expect(types.at(-1)).toBe('run.completed');
    expect(types.filter((t) => t === 'agent.failed')).toHaveLength(1);

    // Only failed runs can be retried.
    const again = await operator.call('POST', `/v1/runs/${failed.id}/retry`);
    expect(again.status).toBe(409);
    expect((again.body as { error: { code: string } }).error.code).toBe('RUN_NOT_FAILED');
    expect((await operator.call('POST', '/v1/runs/00000000-0000-4000-8000-000000000000/retry')).status).toBe(
      404,
    );
    // Not a run id at all: refused before any lookup.
    expect((await operator.call('POST', '/v1/runs/no-such-run/retry')).status).toBe(400);
  });

  it("bull-board's retry of a failed job retries the run the same way", async () => {
    const marker = 'retry-board';
    const failed = await failedRun(marker);
    c.failures.on = false;
    const res = await fetch(`${c.url}/admin/queues/api/queues/runs/${failed.id}/retry`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${OPERATOR_KEY}` },
    });
    expect(res.status).toBe(204);
    const done = await client(c.url, OPERATOR_KEY).waitForStatus(failed.id, ['succeeded', 'failed']);
    expect(done.status).toBe('succeeded');
    expect(callsTo(c, 'summarizer', marker)).toBe(1);
    expect(callsTo(c, 'classifier', marker)).toBe(2);
    // A completed run's job is not retried.
    const completed = await fetch(`${c.url}/admin/queues/api/queues/runs/${failed.id}/retry`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${OPERATOR_KEY}` },
    });
    expect(completed.status).toBe(409);
  });

  it('the console lists the failed run with a Retry button that works', async () => {
    const marker = 'retry-console';
    const failed = await failedRun(marker);
    c.failures.on = false;
    const headers = { authorization: `Bearer ${OPERATOR_KEY}` };
    const page = await (await fetch(`${c.url}/admin`, { headers })).text();
    expect(page).toContain(`action="/admin/runs/${failed.id}/retry"`);
    const res = await fetch(`${c.url}/admin/runs/${failed.id}/retry`, {
      method: 'POST',
      headers,
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin?done=retried');
    const done = await client(c.url, OPERATOR_KEY).waitForStatus(failed.id, ['succeeded', 'failed']);
    expect(done.status).toBe('succeeded');
    expect(callsTo(c, 'summarizer', marker)).toBe(1);
    // Retrying it again from the console shows why it cannot.
    const again = await fetch(`${c.url}/admin/runs/${failed.id}/retry`, {
      method: 'POST',
      headers,
      redirect: 'manual',
    });
    expect(again.headers.get('location')).toBe('/admin?error=RUN_NOT_FAILED');
    const shown = await (await fetch(`${c.url}/admin?error=RUN_NOT_FAILED`, { headers })).text();
    expect(shown).toContain('Only a failed run can be retried');
  });

  it('removing a waiting job from bull-board (an admin action) cancels its run', async () => {
    const operator = client(c.url, OPERATOR_KEY);
    await operator.call('POST', '/v1/queue/pause');
    try {
      const created = (await operator.createRun(run(`${sampleArticle} removed`))).run;
      const remove = (key: string) =>
        fetch(`${c.url}/admin/queues/api/queues/runs/${created.id}/clean`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${key}` },
        });
      // Removing jobs is for admins: an operator is refused and the run stays queued.
      expect((await remove(OPERATOR_KEY)).status).toBe(403);
      expect((await operator.getRun(created.id)).status).toBe('queued');
      const res = await remove(ADMIN_KEY);
      expect(res.status).toBe(204);
      expect((await operator.getRun(created.id)).status).toBe('cancelled');
      expect(await c.deps.queue.getJob(created.id)).toBeUndefined();
    } finally {
      await operator.call('POST', '/v1/queue/resume');
    }
  });
});
