import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEvalCommand } from '../../evals/runner.js';
import { EVALS_QUEUE, RUNS_QUEUE } from '../../src/queue/names.js';
import type { RunRecord } from '../../src/runs/schema.js';
import { CLIENT_KEY, client, OPERATOR_KEY, ROOT, startApi, startWorker } from '../support/baton.js';
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

/** The news desk with a 50/50 rollout over base and `concise`, for the API and every worker. */
function rolloutTeamsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-online-teams-'));
  const news = readFileSync(join(ROOT, 'teams/news-desk.yaml'), 'utf8');
  writeFileSync(join(dir, 'news-desk.yaml'), `${news}\nrollout: { base: 50, concise: 50 }\n`);
  return dir;
}
const teams = { BATON_TEAMS_DIR: rolloutTeamsDir() };

beforeAll(async () => {
  redis = await startRedis();
  collector = await startOtlpCollector();
  api = await startApi(redis.url, redis.prefix, teams);
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
  const worker = startWorker(redis.url, redis.prefix, { ...teams, ...env });
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
        // Operators see the scores on the run inspector's page.
        const page = await fetch(`${api.url}/admin/runs/${run.id}`, {
          headers: { authorization: `Bearer ${OPERATOR_KEY}` },
        });
        expect(page.status).toBe(200);
        const text = await page.text();
        const section = text.slice(text.indexOf('id="evaluations-h"'));
        expect(section).toContain(`<code>judge</code></td><td class="num">${judge?.score.toFixed(2)}</td>`);
        expect(section).toContain('<code>schema</code></td><td class="num">1.00</td>');
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
      });
      expect(['base', 'concise']).toContain(point?.attributes['baton.variant']);
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
      ...teams,
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
      // Its retry (after the backoff) would be graded by the next worker's judge: not in the next test's figures.
      await job?.remove();
    } finally {
      await worker.kill();
    }
  });

  it('baton eval --from-production compares the variants on online scores and feedback, paired by subject', async () => {
    const since = new Date().toISOString();
    const worker = startWorker(redis.url, redis.prefix, { ...teams, BATON_ONLINE_EVAL_RATE: '1' });
    try {
      await worker.waitFor(/worker ready/);
      // Six subjects each see both arms (an explicit options.variant wins over the rollout).
      const created = await Promise.all(
        ['base', 'concise'].flatMap((variant) =>
          [0, 1, 2, 3, 4, 5].map((s) =>
            c().createRun({
              team: 'news-desk',
              pattern: 'sequential',
              input: `${sampleArticle}\n{${s}}`,
              options: { variant },
              metadata: { subject: `subject-${s}` },
            }),
          ),
        ),
      );
      for (const { run } of created) {
        await c().waitForStatus(run.id, ['succeeded', 'failed']);
        await waitFor(async () =>
          ((await c().getRun(run.id)).evaluations ?? []).some((e) => e.scorer === 'judge'),
        );
        await c().call('POST', `/v1/runs/${run.id}/feedback`, { score: run.variant === 'base' ? 1 : 0 });
      }
    } finally {
      await worker.kill();
    }
    const outDir = mkdtempSync(join(tmpdir(), 'baton-production-'));
    let text = '';
    const out = new PassThrough();
    out.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const code = await runEvalCommand(
      { fromProduction: true, team: 'news-desk', since, api: api.url, key: CLIENT_KEY, out: outDir },
      { stdout: out, stderr: out },
    );
    expect(code, text).toBe(0);
    expect(text).toMatch(/online judge score:\n\s+base: .* over 6 runs\n\s+concise: .* over 6 runs/);
    expect(text).toMatch(/feedback score:\n\s+base: 1\.000 .* over 6 runs/);
    expect(text).toContain('base vs concise: Δ 1.000 [1.000, 1.000] — base better');
    expect(text).toContain('paired over 6 subjects who saw both');
    const report = JSON.parse(readFileSync(join(outDir, 'production.json'), 'utf8')) as {
      signals: { signal: string; comparisons: { paired: { subjects: number } | null }[] }[];
    };
    expect(report.signals.map((s) => s.signal)).toEqual(['judge', 'feedback']);
    expect(report.signals[0]?.comparisons[0]?.paired?.subjects).toBe(6);
  });
});
