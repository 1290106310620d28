import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../evals/datasets/schema.js';
import { feedbackExportCommand } from '../../evals/feedback-export.js';
import { runEvalCommand } from '../../evals/runner.js';
import type { LoggedFeedback } from '../../src/runs/feedback-log.js';
import type { RunRecord } from '../../src/runs/schema.js';
import {
  CLIENT_KEY,
  client,
  OPERATOR_KEY,
  OTHER_CLIENT_KEY,
  startApi,
  startWorker,
} from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { startRedis, type TestRedis } from '../support/redis.js';

/** Runs kept 3 s, feedback for a year: the feedback log outlives the runs it is about. */
const env = { BATON_RETENTION_SECONDS: '3', BATON_FEEDBACK_CONTENT: 'true' };

let redis: TestRedis;
let api: Awaited<ReturnType<typeof startApi>>;
let worker: ReturnType<typeof startWorker>;

beforeAll(async () => {
  redis = await startRedis();
  api = await startApi(redis.url, redis.prefix, env);
  worker = startWorker(redis.url, redis.prefix, env);
  await worker.waitFor(/worker ready/);
});
afterAll(async () => {
  await worker?.kill();
  await api?.kill();
  await redis?.stop();
});

type Listed = {
  items: LoggedFeedback[];
  aggregates: { team: string; variant: string; n: number; meanScore: number }[];
};

describe('feedback that becomes data', () => {
  const since = new Date().toISOString();
  const runs: RunRecord[] = [];

  it('feedback on a run is still listed after the run itself has expired', async () => {
    const c = client(api.url, CLIENT_KEY);
    for (const [i, text] of [sampleArticle, `${sampleArticle}\nA second report.`].entries()) {
      const { run } = await c.createRun({ team: 'news-desk', pattern: 'sequential', input: text });
      const done = await c.waitForStatus(run.id, ['succeeded', 'failed']);
      expect(done.status).toBe('succeeded');
      runs.push(done);
      const structured = done.output?.structured as Record<string, unknown>;
      // The first answer is accepted as it is; the second corrected: the article is not business after all.
      const body =
        i === 0
          ? { score: 1 }
          : {
              score: 0,
              comment: 'not business',
              correction: { ...structured, isBusiness: false, companies: [] },
            };
      expect((await c.call('POST', `/v1/runs/${run.id}/feedback`, body)).status).toBe(201);
    }
    // The runs expire (retention 3 s) ...
    for (const run of runs) {
      const deadline = Date.now() + 20_000;
      while ((await c.call('GET', `/v1/runs/${run.id}`)).status !== 404) {
        if (Date.now() > deadline) throw new Error('the run did not expire');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    // ... and their feedback is still listed, with the run's versions, variant and content, and aggregated.
    const listed = (await c.call('GET', `/v1/feedback?team=news-desk&since=${encodeURIComponent(since)}`))
      .body as unknown as Listed;
    expect(listed.items.map((f) => f.runId).sort()).toEqual(runs.map((r) => r.id).sort());
    const first = listed.items.find((f) => f.runId === runs[0]?.id);
    expect(first).toMatchObject({
      team: 'news-desk',
      pattern: 'sequential',
      variant: 'base',
      definitionVersion: runs[0]?.definitionVersion,
      input: sampleArticle,
      score: 1,
    });
    expect(listed.aggregates).toEqual([
      expect.objectContaining({
        team: 'news-desk',
        variant: 'base',
        pattern: 'sequential',
        n: 2,
        meanScore: 0.5,
      }),
    ]);
    // A client sees only feedback on its own runs; an operator sees all.
    const other = (await client(api.url, OTHER_CLIENT_KEY).call('GET', '/v1/feedback'))
      .body as unknown as Listed;
    expect(other.items).toEqual([]);
    const operator = (await client(api.url, OPERATOR_KEY).call('GET', '/v1/feedback'))
      .body as unknown as Listed;
    expect(operator.items).toHaveLength(2);
    expect((await c.call('GET', '/v1/feedback?since=yesterday')).status).toBe(400);
  });

  it('baton feedback export writes a dataset that baton eval runs unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-feedback-'));
    const out = join(dir, 'cases.jsonl');
    const grades = join(dir, 'grades.jsonl');
    const said = new PassThrough();
    let text = '';
    said.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const code = await feedbackExportCommand(
      { team: 'news-desk', since, api: api.url, key: CLIENT_KEY, out, grades },
      { stdout: said, stderr: said },
    );
    expect(text).toContain(`wrote 2 cases to ${out}`);
    expect(code).toBe(0);
    const dataset = await loadDataset(out);
    expect(dataset.team).toBe('news-desk');
    const corrected = dataset.cases.find((c) => c.text !== sampleArticle);
    expect(corrected?.expected).toMatchObject({ isBusiness: false, companies: [] });
    expect(readFileSync(grades, 'utf8').trim().split('\n')).toHaveLength(2);

    const evalOut = mkdtempSync(join(tmpdir(), 'baton-feedback-eval-'));
    const evalCode = await runEvalCommand(
      { dataset: out, patterns: 'sequential', out: evalOut },
      {
        env: { BATON_SIMULATED_LATENCY_MS: '0' },
        stderr: new PassThrough().resume(),
        stdout: new PassThrough().resume(),
      },
    );
    expect(evalCode).toBe(0);
    const results = JSON.parse(readFileSync(join(evalOut, 'results.json'), 'utf8')) as { cases: unknown[] };
    expect(results.cases).toHaveLength(2);
  });
});
