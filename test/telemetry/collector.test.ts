import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { logs, metrics, resources, tracing } from '@opentelemetry/sdk-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpCollector, startOtlpCollector } from '../support/otlp-collector.js';

let collector: OtlpCollector;

beforeAll(async () => {
  collector = await startOtlpCollector();
});

afterAll(async () => {
  await collector.close();
});

afterEach(() => {
  collector.failWith(undefined);
  collector.reset();
});

const resource = resources.resourceFromAttributes({
  'service.name': 'collector-test',
  'service.version': '9.9.9',
});

function tracerProvider(compression?: 'gzip') {
  const exporter = new OTLPTraceExporter({
    url: `${collector.url}/v1/traces`,
    ...(compression ? { compression: 'gzip' as never } : {}),
  });
  return new tracing.BasicTracerProvider({
    resource,
    spanProcessors: [new tracing.SimpleSpanProcessor(exporter)],
  });
}

describe('OTLP/HTTP collector (http/json)', () => {
  it('decodes spans sent by the SDK exporter: ids, parent, kind, attributes, resource, links, events, status', async () => {
    const provider = tracerProvider();
    const tracer = provider.getTracer('collector-test-scope', '1.2.3');
    const linked = tracer.startSpan('linked');
    linked.end();
    const parent = tracer.startSpan('parent op', { kind: SpanKind.SERVER });
    const child = tracer.startSpan(
      'child op',
      {
        kind: SpanKind.CLIENT,
        attributes: { 'a.string': 'x', 'a.int': 42, 'a.double': 1.5, 'a.bool': true, 'a.list': ['p', 'q'] },
        links: [{ context: linked.spanContext(), attributes: { why: 'because' } }],
      },
      trace.setSpan(ROOT_CONTEXT, parent),
    );
    child.addEvent('something happened', { detail: 'yes' });
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'it broke' });
    child.end();
    parent.end();
    await provider.forceFlush();

    const [got] = await collector.waitForSpans((s) => s.name === 'child op');
    const [gotParent] = await collector.waitForSpans((s) => s.name === 'parent op');
    expect(got).toBeDefined();
    expect(gotParent).toBeDefined();
    if (!got || !gotParent) return;
    expect(got.traceId).toBe(child.spanContext().traceId);
    expect(got.spanId).toBe(child.spanContext().spanId);
    expect(got.parentSpanId).toBe(parent.spanContext().spanId);
    expect(gotParent.parentSpanId).toBeUndefined();
    expect(got.kind).toBe('client');
    expect(gotParent.kind).toBe('server');
    expect(got.attributes).toEqual({
      'a.string': 'x',
      'a.int': 42,
      'a.double': 1.5,
      'a.bool': true,
      'a.list': ['p', 'q'],
    });
    expect(got.resource['service.name']).toBe('collector-test');
    expect(got.resource['service.version']).toBe('9.9.9');
    expect(got.scope).toEqual({ name: 'collector-test-scope', version: '1.2.3' });
    expect(got.links).toEqual([
      {
        traceId: linked.spanContext().traceId,
        spanId: linked.spanContext().spanId,
        attributes: { why: 'because' },
      },
    ]);
    expect(got.events.map((e) => [e.name, e.attributes])).toEqual([
      ['something happened', { detail: 'yes' }],
    ]);
    expect(got.status).toEqual({ code: 'error', message: 'it broke' });
    expect(got.durationMs).toBeGreaterThanOrEqual(0);
    expect(
      collector.requests.every((r) => r.path === '/v1/traces' && r.contentType === 'application/json'),
    ).toBe(true);
    await provider.shutdown();
  });

  it('accepts gzip-compressed exports', async () => {
    const provider = tracerProvider('gzip');
    provider.getTracer('t').startSpan('compressed').end();
    await provider.forceFlush();
    const spans = await collector.waitForSpans((s) => s.name === 'compressed');
    expect(spans).toHaveLength(1);
    await provider.shutdown();
  });

  it('decodes metrics: counters and histograms with attributes', async () => {
    const exporter = new OTLPMetricExporter({ url: `${collector.url}/v1/metrics` });
    const reader = new metrics.PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const provider = new metrics.MeterProvider({ resource, readers: [reader] });
    const meter = provider.getMeter('m');
    meter.createCounter('test.count', { unit: '{thing}' }).add(3, { colour: 'red' });
    meter.createHistogram('test.duration', { unit: 's' }).record(0.25, { op: 'x' });
    await provider.forceFlush();

    const [count] = await collector.waitForMetrics((m) => m.name === 'test.count');
    const [duration] = await collector.waitForMetrics((m) => m.name === 'test.duration');
    expect(count?.type).toBe('sum');
    expect(count?.unit).toBe('{thing}');
    expect(count?.dataPoints).toEqual([expect.objectContaining({ attributes: { colour: 'red' }, value: 3 })]);
    expect(duration?.type).toBe('histogram');
    expect(duration?.dataPoints[0]).toEqual(
      expect.objectContaining({ attributes: { op: 'x' }, count: 1, sum: 0.25 }),
    );
    expect(duration?.resource['service.name']).toBe('collector-test');
    await provider.shutdown();
  });

  it('decodes log records with trace correlation', async () => {
    const exporter = new OTLPLogExporter({ url: `${collector.url}/v1/logs` });
    const provider = new logs.LoggerProvider({
      resource,
      processors: [new logs.SimpleLogRecordProcessor(exporter)],
    });
    const span = tracerProvider().getTracer('t').startSpan('around the log');
    provider.getLogger('l').emit({
      body: 'hello collector',
      severityNumber: SeverityNumber.WARN,
      severityText: 'WARN',
      attributes: { 'baton.run.id': 'run-1' },
      context: trace.setSpan(ROOT_CONTEXT, span),
    });
    await provider.forceFlush();
    const [record] = await collector.waitForLogs((l) => l.body === 'hello collector');
    expect(record?.severityNumber).toBe(SeverityNumber.WARN);
    expect(record?.severityText).toBe('WARN');
    expect(record?.attributes).toEqual({ 'baton.run.id': 'run-1' });
    expect(record?.traceId).toBe(span.spanContext().traceId);
    expect(record?.spanId).toBe(span.spanContext().spanId);
    await provider.shutdown();
  });

  it('refuses protobuf bodies (415) and unknown paths (404)', async () => {
    const proto = await fetch(`${collector.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([1, 2, 3]),
    });
    expect(proto.status).toBe(415);
    const unknown = await fetch(`${collector.url}/v1/profiles`, { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
    expect(collector.spans).toHaveLength(0);
  });

  it('can fail exports on purpose, and the exporter reports the failure', async () => {
    collector.failWith(400);
    const exporter = new OTLPTraceExporter({ url: `${collector.url}/v1/traces` });
    const provider = new tracing.BasicTracerProvider({ resource });
    const span = provider.getTracer('t').startSpan('doomed');
    span.end();
    const result = await new Promise<{ code: number }>((resolve) =>
      exporter.export([span as unknown as tracing.ReadableSpan], resolve),
    );
    expect(result.code).not.toBe(0);
    expect(collector.requests.at(-1)?.status).toBe(400);
    expect(collector.spans).toHaveLength(0);
    await exporter.shutdown();
  });

  it('waitForSpans times out naming what arrived', async () => {
    await expect(collector.waitForSpans((s) => s.name === 'never', 100)).rejects.toThrow(
      /timed out after 100 ms/,
    );
  });
});
