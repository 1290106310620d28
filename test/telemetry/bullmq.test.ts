/**
 * API → queue → worker in one trace, in a child process started with the preload, over a real Redis:
 * BullMQ's producer and consumer spans (bullmq-otel), the run span continuing the carrier with a link,
 * ioredis spans patched through the ESM loader hook — and none of BullMQ's polling.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CollectedSpan, type OtlpCollector, startOtlpCollector } from '../support/otlp-collector.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { buildTelemetry, cleanEnv, runNode, type TelemetryBuild } from './helpers/child.js';

let build: TelemetryBuild;
let collector: OtlpCollector;
let redis: TestRedis;

beforeAll(async () => {
  build = buildTelemetry();
  [collector, redis] = await Promise.all([startOtlpCollector(), startRedis()]);
}, 60_000);

afterAll(async () => {
  await Promise.all([collector?.close(), redis?.stop()]);
  build?.remove();
});

function byName(spans: CollectedSpan[], name: string): CollectedSpan {
  const span = spans.find((s) => s.name === name);
  if (!span) throw new Error(`no span "${name}" among: ${spans.map((s) => s.name).join(', ')}`);
  return span;
}

describe('BullMQ through the preload', () => {
  it('puts enqueue, job, run and Redis spans in the request’s trace and traces no polling', async () => {
    const result = await runNode({
      preload: build.preload,
      script: build.fixture('bullmq'),
      args: ['dev'],
      env: cleanEnv({
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        REDIS_URL: redis.url,
        FIXTURE_PREFIX: redis.prefix,
      }),
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);

    await collector.waitForSpans((s) => s.name === 'baton.run sequential');
    const spans = collector.spans;
    const request = byName(spans, 'POST /v1/runs');
    const trace = spans.filter((s) => s.traceId === request.traceId);

    const add = byName(trace, 'add runs.run');
    expect(add.kind).toBe('producer');
    expect(add.parentSpanId).toBe(request.spanId);
    expect(add.attributes['baton.run.id']).toBe('fixture-job-1');

    const process = byName(trace, 'process runs');
    expect(process.kind).toBe('consumer');
    expect(process.parentSpanId).toBe(add.spanId);
    expect(process.attributes['bullmq.job.id']).toBe('fixture-job-1');
    expect(process.attributes['baton.run.id']).toBe('fixture-job-1');

    const run = byName(trace, 'baton.run sequential');
    expect(run.parentSpanId).toBe(process.spanId);
    expect(run.attributes['baton.run.id']).toBe('fixture-job-1');
    expect(run.links).toEqual([
      expect.objectContaining({ traceId: request.traceId, spanId: request.spanId }),
    ]);

    // ioredis (ESM import through BullMQ's and the fixture's imports) is patched via the loader hook.
    const set = byName(trace, 'set');
    expect(set.kind).toBe('client');
    expect(set.parentSpanId).toBe(run.spanId);
    expect(set.attributes['baton.run.id']).toBe('fixture-job-1');
    expect(set.attributes['db.system.name']).toBe('redis');
    expect(set.attributes['db.query.text']).toBe(
      `set ${redis.prefix}:journal:fixture-job-1 [1 other arguments]`,
    );

    // BullMQ scripts are traced without their ARGV (job data = run input).
    const scripts = trace.filter((s) => s.name === 'evalsha');
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts)
      expect(String(script.attributes['db.query.text'])).not.toContain('sequential');

    // No polling, lock renewal or stalled-check spans anywhere, and no Redis span outside a trace that
    // baton started (requireParentSpan).
    const names = spans.map((s) => s.name);
    for (const noisy of ['getNextJob runs', 'extendLocks runs', 'moveStalledJobsToWait runs', 'bzpopmin']) {
      expect(names).not.toContain(noisy);
    }
    const roots = spans.filter((s) => s.parentSpanId === undefined).map((s) => s.name);
    expect(roots.sort()).toEqual(['POST /v1/runs', 'close runs', 'close runs'].sort());
  });
});
