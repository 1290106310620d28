import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEYS, CLIENT_KEY, client, OPERATOR_KEY, startApi, startWorker } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { type CollectedSpan, type OtlpCollector, startOtlpCollector } from '../support/otlp-collector.js';
import { startRedis, type TestRedis } from '../support/redis.js';

/**
 * One distributed trace per run across real processes: `baton api` and `baton worker` export OTLP http/json to
 * a collector in this test, and every span of the run must share the run record's trace id.
 */
let redis: TestRedis;
let collector: OtlpCollector;
let api: Awaited<ReturnType<typeof startApi>>;

const otel = (collectorUrl: string) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  OTEL_BSP_SCHEDULE_DELAY: '100',
  OTEL_METRIC_EXPORT_INTERVAL: '500',
  LOG_LEVEL: 'debug',
});

beforeAll(async () => {
  redis = await startRedis();
  collector = await startOtlpCollector();
  api = await startApi(redis.url, redis.prefix, otel(collector.url));
});
afterAll(async () => {
  await api?.kill();
  await collector?.close();
  await redis?.stop();
});

const ofRun = (runId: string) => (s: CollectedSpan) => s.attributes['baton.run.id'] === runId;

describe('a run’s trace across the API and worker processes', () => {
  it('links the request, the enqueue, the job and every agent and model call by trace id and run id', async () => {
    const worker = startWorker(redis.url, redis.prefix, {
      ...otel(collector.url),
      BATON_SIMULATED_LATENCY_MS: '5',
    });
    try {
      await worker.waitFor(/worker ready/);
      const c = client(api.url, CLIENT_KEY);
      const { run } = await c.createRun({ team: 'news-desk', pattern: 'sequential', input: sampleArticle });
      const done = await c.waitForStatus(run.id, ['succeeded', 'failed']);
      expect(done.status).toBe('succeeded');
      expect(done.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(run.traceId).toBe(done.traceId);

      const chats = await collector.waitForSpans(
        (s) => ofRun(run.id)(s) && s.name.startsWith('chat '),
        15_000,
        5,
      );
      // Spans end (and are exported) after the record is final: wait for each kind before reading them.
      const inTrace = (pred: (s: CollectedSpan) => boolean) => (s: CollectedSpan) =>
        s.traceId === done.traceId && pred(s);
      await collector.waitForSpans(
        inTrace((s) => s.kind === 'consumer'),
        15_000,
      );
      await collector.waitForSpans(
        inTrace((s) => s.kind === 'server' && s.name.includes('/v1/runs')),
        15_000,
      );
      await collector.waitForSpans(
        inTrace((s) => s.name.startsWith('invoke_agent ')),
        15_000,
        5,
      );
      const spans = collector.spans.filter((s) => s.traceId === done.traceId);
      const find = (pred: (s: CollectedSpan) => boolean, what: string) => {
        const found = spans.filter(pred);
        expect(found.length, `${what} in the run's trace`).toBeGreaterThan(0);
        return found;
      };
      const [server] = find((s) => s.kind === 'server' && s.name.includes('/v1/runs'), 'the API server span');
      const [producer] = find((s) => s.kind === 'producer', 'the enqueue producer span');
      const [consumer] = find((s) => s.kind === 'consumer', 'the worker consumer span');
      const agents = find((s) => s.name.startsWith('invoke_agent '), 'invoke_agent spans');
      expect(server?.resource['service.name']).toBe('baton-api');
      expect(producer?.resource['service.name']).toBe('baton-api');
      expect(consumer?.resource['service.name']).toBe('baton-worker');
      expect(server?.parentSpanId).toBeUndefined(); // the request span is the root
      expect(agents.map((s) => s.attributes['gen_ai.agent.name']).sort()).toEqual([
        'analyst',
        'classifier',
        'editor',
        'extractor',
        'summarizer',
      ]);
      expect(chats.every((s) => s.traceId === done.traceId)).toBe(true);

      for (const s of [server, producer, consumer, ...agents, ...chats]) {
        expect(s?.attributes['baton.run.id'], `${s?.name} carries baton.run.id`).toBe(run.id);
      }
      const tokens = (key: string) => chats.reduce((n, s) => n + Number(s.attributes[key] ?? 0), 0);
      expect(tokens('gen_ai.usage.input_tokens')).toBe(done.usage.inputTokens);
      expect(tokens('gen_ai.usage.output_tokens')).toBe(done.usage.outputTokens);
      expect(chats[0]?.attributes['gen_ai.provider.name']).toBe('baton.simulated');
      // Content is not recorded unless BATON_CAPTURE_CONTENT=true.
      expect(chats.some((s) => 'gen_ai.input.messages' in s.attributes)).toBe(false);

      // Logs carry ids but never the key or the authorization header the request carried.
      for (const out of [api.output(), worker.output()]) {
        for (const key of API_KEYS.split(',').map((e) => e.split(':')[0] ?? ''))
          expect(out).not.toContain(key);
        expect(out).not.toMatch(/Bearer /i);
      }
      expect(worker.output()).toMatch(new RegExp(`"runId":"${run.id}"[^\\n]*"traceId":"${done.traceId}"`));

      // Feedback joins the run's trace: a span and a log line carrying the run's trace id.
      const fb = await c.call('POST', `/v1/runs/${run.id}/feedback`, {
        score: 0.5,
        step: done.steps[0]?.key,
      });
      expect(fb.status).toBe(201);
      const [feedback] = await collector.waitForSpans(
        (s) => s.name === 'baton.feedback' && ofRun(run.id)(s),
        15_000,
      );
      expect(feedback?.traceId).toBe(done.traceId);
      expect(feedback?.attributes['baton.feedback.score']).toBe(0.5);
      await api.waitFor(new RegExp(`"traceId":"${done.traceId}"[^\\n]*"msg":"feedback received"`), 5_000);
    } finally {
      await worker.kill();
    }
  }, 60_000);

  it('shows the attempt that resumes a run after a worker crash in the same trace, marked as a resumption', async () => {
    const env = {
      ...otel(collector.url),
      BATON_SIMULATED_LATENCY_MS: '250',
      BATON_JOB_LOCK_MS: '1000',
      BATON_STALLED_INTERVAL_MS: '500',
    };
    const first = startWorker(redis.url, redis.prefix, env);
    await first.waitFor(/worker ready/);
    const c = client(api.url, CLIENT_KEY);
    const { run } = await c.createRun({
      team: 'news-desk',
      pattern: 'sequential',
      input: `${sampleArticle} (trace)`,
    });
    let completed = 0;
    await c.events(run.id, { until: (e) => e.type === 'agent.completed' && ++completed === 2 });
    await first.kill('SIGKILL');
    const second = startWorker(redis.url, redis.prefix, env);
    try {
      const done = await c.waitForStatus(run.id, ['succeeded', 'failed'], 30_000);
      expect(done.status).toBe('succeeded');
      const [resumed] = await collector.waitForSpans(
        (s) => ofRun(run.id)(s) && s.kind === 'consumer' && s.attributes['baton.run.resumed'] === true,
        15_000,
      );
      expect(resumed?.traceId).toBe(done.traceId);
      expect(resumed?.attributes['baton.run.attempt']).toBe(2);
      expect(resumed?.links.some((l) => l.traceId === done.traceId)).toBe(true);
      const [runSpan] = await collector.waitForSpans(
        (s) =>
          ofRun(run.id)(s) && s.name === 'baton.run sequential' && s.attributes['baton.run.attempt'] === 2,
        15_000,
      );
      expect(runSpan?.attributes['baton.run.resumed']).toBe(true);
    } finally {
      await second.kill();
    }
  }, 60_000);

  it("keeps a retried run in its own trace: the retry's job continues it and links to the operator's request", async () => {
    const failing = startWorker(redis.url, redis.prefix, {
      ...otel(collector.url),
      BATON_SIMULATED_FAILURE_RATE: '1',
      BATON_RETRY_MAX_ATTEMPTS: '1',
    });
    const c = client(api.url, CLIENT_KEY);
    const operator = client(api.url, OPERATOR_KEY);
    let healthy: ReturnType<typeof startWorker> | undefined;
    try {
      await failing.waitFor(/worker ready/);
      const { run } = await c.createRun({
        team: 'news-desk',
        pattern: 'sequential',
        input: `${sampleArticle} (r)`,
      });
      const failed = await c.waitForStatus(run.id, ['failed', 'succeeded']);
      expect(failed.status).toBe('failed');
      await failing.kill();

      healthy = startWorker(redis.url, redis.prefix, {
        ...otel(collector.url),
        BATON_SIMULATED_LATENCY_MS: '5',
      });
      await healthy.waitFor(/worker ready/);
      const retried = await operator.call('POST', `/v1/runs/${run.id}/retry`);
      expect(retried.status).toBe(202);
      const done = await c.waitForStatus(run.id, ['succeeded', 'failed']);
      expect(done.status).toBe('succeeded');
      // One trace for the whole run: the record's trace id does not change.
      expect(done.traceId).toBe(failed.traceId);
      expect(done.traceId).toBe(run.traceId);

      const [retryRequest] = await collector.waitForSpans(
        (s) =>
          s.kind === 'server' &&
          s.name.includes('/retry') &&
          s.attributes['http.response.status_code'] === 202,
        15_000,
      );
      expect(retryRequest?.traceId).not.toBe(done.traceId);
      const [consumer] = await collector.waitForSpans(
        (s) => ofRun(run.id)(s) && s.kind === 'consumer' && s.attributes['baton.run.attempt'] === 2,
        15_000,
      );
      expect(consumer?.traceId).toBe(done.traceId);
      expect(consumer?.links.some((l) => l.traceId === retryRequest?.traceId)).toBe(true);
      // Feedback on the retried run joins the same trace as everything else.
      await c.call('POST', `/v1/runs/${run.id}/feedback`, { score: 1 });
      const [feedback] = await collector.waitForSpans(
        (s) => s.name === 'baton.feedback' && ofRun(run.id)(s),
        15_000,
      );
      expect(feedback?.traceId).toBe(done.traceId);
    } finally {
      await failing.kill();
      await healthy?.kill();
    }
  }, 60_000);
});
