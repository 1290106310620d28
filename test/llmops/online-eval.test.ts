import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVALS_QUEUE, RUNS_QUEUE } from '../../src/queue/names.js';
import type { RunRecord } from '../../src/runs/schema.js';
import { CLIENT_KEY, client, startApi, startWorker } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { type OtlpCollector, startOtlpCollector } from '../support/otlp-collector.js';
import { freePort, startRedis, type TestRedis } from '../support/redis.js';

/**
 * Online evaluation across processes: the API, a worker that samples finished runs onto the `evals` queue and
 * grades them, Redis, and an OTLP receiver that sees the scores as the `baton.eval.score` metric.
 */
let redis: TestRedis;
let collector: OtlpCollector;
let api: Awaited<ReturnType<typeof startApi>>;
let connection: Redis;
let runsQueue: Queue;
let evalsQueue: Queue;

const otel = (url: string) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: url,
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  OTEL_METRIC_EXPORT_INTERVAL: '300',
  OTEL_TRACES_EXPORTER: 'none',
  OTEL_LOGS_EXPORTER: 'none',
});

beforeAll(async () => {
  redis = await startRedis();
  collector = await startOtlpCollector();
  api = await startApi(redis.url, redis.prefix);
  connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  runsQueue = new Queue(RUNS_QUEUE, { connection, prefix: redis.prefix });
  evalsQueue = new Queue(EVALS_QUEUE, { connection, prefix: redis.prefix });
});
afterAll(async () => {
  await runsQueue?.close();
  await evalsQueue?.close();
  connection?.disconnect();
  await api?.kill();
  await collector?.close();
  await redis?.stop();
});

const c = () => client(api.url, CLIENT_KEY);

async function runsOn(env: Record<string, string>, count: number): Promise<RunRecord[]> {
  const worker = startWorker(redis.url, redis.prefix, env);
  try {
    await worker.waitFor(/worker ready/);
    const created = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        c().createRun({ team: 'news-desk', pattern: 'sequential', input: `${sampleArticle}\n(${i})` }),
      ),
    );
    const done = await Promise.all(
      created.map(({ run }) => c().waitForStatus(run.id, ['succeeded', 'failed'])),
    );
    // The run's job completes after the worker has sampled it: from then on its evaluation job exists or never will.
    for (const run of done) await waitFor(async () => (await runsQueue.getJobState(run.id)) === 'completed');
    return done;
  } finally {
    await worker.kill();
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('online evaluation', () => {
  it('at rate 1.0 every finished run gets a judge score, stored on the run and exported as baton.eval.score', async () => {
    const worker = startWorker(redis.url, redis.prefix, {
      ...otel(collector.url),
      BATON_ONLINE_EVAL_RATE: '1',
    });
    try {
      await worker.waitFor(/worker ready/);
      const created = await Promise.all(
        [0, 1, 2].map((i) =>
          c().createRun({ team: 'news-desk', pattern: 'sequential', input: `${sampleArticle}\n[${i}]` }),
        ),
      );
      for (const { run } of created) {
        expect((await c().waitForStatus(run.id, ['succeeded', 'failed'])).status).toBe('succeeded');
        let graded: RunRecord | undefined;
        await waitFor(async () => {
          graded = await c().getRun(run.id);
          return (graded.evaluations ?? []).some((e) => e.scorer === 'judge');
        });
        const judge = graded?.evaluations?.find((e) => e.scorer === 'judge');
        expect(judge?.score).toBeGreaterThanOrEqual(0);
        expect(judge?.score).toBeLessThanOrEqual(1);
        expect(judge?.judgeModel).toBe('simulated');
        expect(graded?.evaluations?.find((e) => e.scorer === 'schema')?.score).toBe(1);
      }
      const [metric] = await collector.waitForMetrics(
        (m) =>
          m.name === 'baton.eval.score' &&
          m.dataPoints.some((p) => p.attributes['baton.eval.scorer'] === 'judge' && (p.count ?? 0) > 0),
        15_000,
      );
      const point = metric?.dataPoints.find((p) => p.attributes['baton.eval.scorer'] === 'judge');
      expect(point?.attributes).toMatchObject({
        'baton.team': 'news-desk',
        'baton.pattern': 'sequential',
        'baton.variant': 'base',
      });
    } finally {
      await worker.kill();
    }
  });

  it('at rate 0 no run is graded', async () => {
    const runs = await runsOn({ BATON_ONLINE_EVAL_RATE: '0' }, 3);
    for (const run of runs) {
      expect(run.status).toBe('succeeded');
      expect(await evalsQueue.getJob(run.id)).toBeUndefined();
      expect((await c().getRun(run.id)).evaluations).toBeUndefined();
    }
  });

  it('a judge outage never fails a run: the run succeeds and its evaluation job fails on its own', async () => {
    const deadJudge = `http://127.0.0.1:${await freePort()}/v1`;
    const worker = startWorker(redis.url, redis.prefix, {
      BATON_ONLINE_EVAL_RATE: '1',
      BATON_ONLINE_EVAL_MODEL: 'openai-compatible/judge',
      OPENAI_BASE_URL: deadJudge,
      OPENAI_API_KEY: 'unused',
      BATON_MODEL: 'judge',
      BATON_RETRY_MAX_ATTEMPTS: '1',
    });
    try {
      await worker.waitFor(/worker ready/);
      const { run } = await c().createRun({ team: 'news-desk', pattern: 'sequential', input: sampleArticle });
      const done = await c().waitForStatus(run.id, ['succeeded', 'failed']);
      expect(done.status).toBe('succeeded');
      await waitFor(async () => ((await evalsQueue.getJob(run.id))?.attemptsMade ?? 0) >= 1);
      const job = await evalsQueue.getJob(run.id);
      expect(job?.failedReason).toBeTruthy();
      const after = await c().getRun(run.id);
      expect(after.status).toBe('succeeded');
      expect(after.evaluations?.map((e) => e.scorer)).toEqual(['schema']);
    } finally {
      await worker.kill();
    }
  });
});
