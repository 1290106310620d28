import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ATTR_BATON_RUN_ID, ATTR_ERROR_TYPE } from '../../src/telemetry/attributes.js';
import { bullmqTelemetry } from '../../src/telemetry/sdk.js';
import { startTestTelemetry, type TestTelemetry } from '../../src/telemetry/testing.js';
import {
  continueTrace,
  currentSpanId,
  currentTraceId,
  errorType,
  extractTraceContext,
  injectTraceContext,
  linkFromCarrier,
  runContextOf,
  spanNames,
  tracer,
  withAgentContext,
  withoutTracing,
  withRunContext,
  withSpan,
} from '../../src/telemetry/tracing.js';

let telemetry: TestTelemetry;

beforeAll(() => {
  telemetry = startTestTelemetry();
});

afterAll(async () => {
  await telemetry.shutdown();
});

beforeEach(() => {
  telemetry.reset();
});

class RateLimited extends Error {
  readonly code = 'RATE_LIMITED';
}

function finished(name: string) {
  const span = telemetry.spans().find((s) => s.name === name);
  if (!span) throw new Error(`no finished span ${name}; have ${telemetry.spans().map((s) => s.name)}`);
  return span;
}

describe('withSpan', () => {
  it('runs fn inside an active span, passes attributes, kind and links, and ends it', async () => {
    const other = tracer().startSpan('other');
    other.end();
    const value = await withSpan(
      spanNames.invokeAgent('writer'),
      {
        kind: SpanKind.CLIENT,
        attributes: { 'gen_ai.agent.name': 'writer' },
        links: [{ context: other.spanContext() }],
      },
      async (span) => {
        expect(trace.getActiveSpan()).toBe(span);
        expect(currentTraceId()).toBe(span.spanContext().traceId);
        expect(currentSpanId()).toBe(span.spanContext().spanId);
        await new Promise((r) => setTimeout(r, 5));
        expect(trace.getActiveSpan()).toBe(span); // the context survives awaits
        return 'done';
      },
    );
    expect(value).toBe('done');
    const span = finished('invoke_agent writer');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes['gen_ai.agent.name']).toBe('writer');
    expect(span.links.map((l) => l.context.spanId)).toEqual([other.spanContext().spanId]);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.ended).toBe(true);
  });

  it('records a rejected promise: exception event, ERROR status with message, error.type = code; rethrows', async () => {
    const error = new RateLimited('slow down');
    await expect(
      withSpan('chat gpt-x', {}, async () => {
        throw error;
      }),
    ).rejects.toBe(error);
    const span = finished('chat gpt-x');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'slow down' });
    expect(span.attributes[ATTR_ERROR_TYPE]).toBe('RATE_LIMITED');
    expect(span.events.map((e) => e.name)).toEqual(['exception']);
    expect(span.events[0]?.attributes?.['exception.message']).toBe('slow down');
  });

  it('records a synchronous throw the same way and returns sync values synchronously', () => {
    expect(withSpan('sync ok', {}, () => 7)).toBe(7);
    expect(() =>
      withSpan('sync bad', {}, () => {
        throw new TypeError('nope');
      }),
    ).toThrow(TypeError);
    expect(finished('sync ok').status.code).toBe(SpanStatusCode.UNSET);
    const bad = finished('sync bad');
    expect(bad.status.code).toBe(SpanStatusCode.ERROR);
    expect(bad.attributes[ATTR_ERROR_TYPE]).toBe('TypeError');
  });

  it('nests: a span started inside is a child; an explicit parent wins over the active context', async () => {
    const detached = tracer().startSpan('detached');
    await withSpan('outer', {}, async () => {
      await withSpan('inner', {}, async () => {});
      await withSpan('elsewhere', { parent: trace.setSpan(ROOT_CONTEXT, detached) }, async () => {});
    });
    detached.end();
    const outer = finished('outer');
    expect(finished('inner').parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
    expect(finished('inner').spanContext().traceId).toBe(outer.spanContext().traceId);
    expect(finished('elsewhere').parentSpanContext?.spanId).toBe(detached.spanContext().spanId);
  });

  it('errorType falls back to the class name, then _OTHER', () => {
    expect(errorType(new RateLimited('x'))).toBe('RATE_LIMITED');
    expect(errorType(new RangeError('x'))).toBe('RangeError');
    expect(errorType(new Error('x'))).toBe('_OTHER');
    expect(errorType('a string')).toBe('_OTHER');
  });
});

describe('trace context carriers', () => {
  it('inject/extract round-trips a W3C traceparent', () => {
    const span = tracer().startSpan('producer');
    const carrier = injectTraceContext(trace.setSpan(ROOT_CONTEXT, span));
    const { traceId, spanId } = span.spanContext();
    expect(carrier.traceparent).toBe(`00-${traceId}-${spanId}-01`);
    const extracted = trace.getSpanContext(extractTraceContext(carrier));
    expect(extracted).toEqual(expect.objectContaining({ traceId, spanId, isRemote: true }));
    expect(linkFromCarrier(carrier)?.context.spanId).toBe(spanId);
    span.end();
  });

  it('injects the active context by default and extracts nothing from empty or garbage carriers', () => {
    withSpan('active', {}, (span) => {
      expect(injectTraceContext().traceparent).toContain(span.spanContext().spanId);
    });
    expect(injectTraceContext(ROOT_CONTEXT)).toEqual({});
    expect(trace.getSpanContext(extractTraceContext(undefined))).toBeUndefined();
    expect(trace.getSpanContext(extractTraceContext({ traceparent: 'garbage' }))).toBeUndefined();
    expect(linkFromCarrier({})).toBeUndefined();
  });

  it('continueTrace: child of the carrier plus a link when nothing is active', async () => {
    const producer = tracer().startSpan('enqueue');
    const carrier = injectTraceContext(trace.setSpan(ROOT_CONTEXT, producer));
    producer.end();
    const { parent, links } = context.with(ROOT_CONTEXT, () => continueTrace(carrier));
    await withSpan(spanNames.run('sequential'), { parent, links }, async () => {});
    const run = finished('baton.run sequential');
    expect(run.spanContext().traceId).toBe(producer.spanContext().traceId);
    expect(run.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(run.links.map((l) => l.context.spanId)).toEqual([producer.spanContext().spanId]);
  });

  it("continueTrace: keeps an active span of the same trace (BullMQ's consumer span) as the parent", async () => {
    const producer = tracer().startSpan('enqueue');
    const carrier = injectTraceContext(trace.setSpan(ROOT_CONTEXT, producer));
    const consumer = tracer().startSpan('process runs', {}, trace.setSpan(ROOT_CONTEXT, producer));
    const { parent, links } = context.with(trace.setSpan(ROOT_CONTEXT, consumer), () =>
      continueTrace(carrier),
    );
    expect(trace.getSpanContext(parent)?.spanId).toBe(consumer.spanContext().spanId);
    expect(links[0]?.context.spanId).toBe(producer.spanContext().spanId);
    consumer.end();
    producer.end();
  });
});

describe('run context', () => {
  it('stamps baton.run.id on every span started inside, including nested and foreign spans', async () => {
    await withRunContext({ runId: 'run-42', pattern: 'sequential', team: 'news-desk' }, async () => {
      expect(runContextOf()).toEqual({ runId: 'run-42', pattern: 'sequential', team: 'news-desk' });
      await withSpan('baton.run sequential', {}, async () => {
        await withAgentContext('writer', async () => {
          expect(runContextOf()?.agent).toBe('writer');
          await withSpan('invoke_agent writer', {}, async () => {
            trace.getTracer('some-library').startSpan('library span').end();
          });
        });
      });
    });
    await withSpan('outside', {}, async () => {});
    for (const name of ['baton.run sequential', 'invoke_agent writer', 'library span']) {
      expect(finished(name).attributes[ATTR_BATON_RUN_ID]).toBe('run-42');
    }
    expect(finished('outside').attributes[ATTR_BATON_RUN_ID]).toBeUndefined();
    expect(runContextOf()).toBeUndefined();
  });

  it('withoutTracing records no span inside (but the outer span is kept)', async () => {
    await withSpan('kept', {}, async () => {
      await withoutTracing(async () => {
        await withSpan('dropped', {}, async (span) => {
          expect(span.isRecording()).toBe(false);
        });
      });
    });
    expect(telemetry.spans().map((s) => s.name)).toEqual(['kept']);
  });
});

describe('bullmqTelemetry', () => {
  it('suppresses polling operations and everything under them', () => {
    const telemetryForQueue = bullmqTelemetry();
    expect(telemetryForQueue).toBeDefined();
    if (!telemetryForQueue) return;
    for (const op of ['getNextJob runs', 'extendLocks runs', 'moveStalledJobsToWait runs']) {
      const span = telemetryForQueue.tracer.startSpan(op, { kind: SpanKind.INTERNAL });
      const ctx = span.setSpanOnContext(context.active());
      context.with(ctx, () => tracer().startSpan(`redis under ${op}`).end());
      span.end();
    }
    expect(telemetry.spans()).toEqual([]);
  });

  it('traces job spans and copies bullmq.job.id to baton.run.id', () => {
    const telemetryForQueue = bullmqTelemetry();
    if (!telemetryForQueue) throw new Error('expected telemetry');
    const span = telemetryForQueue.tracer.startSpan('process runs', { kind: SpanKind.CONSUMER });
    span.setAttributes({ 'bullmq.job.id': 'run-7', 'bullmq.job.name': 'run' });
    const ctx = span.setSpanOnContext(context.active());
    context.with(ctx, () => tracer().startSpan('inside job').end());
    span.end();
    const process = finished('process runs');
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.attributes['bullmq.job.id']).toBe('run-7');
    expect(process.attributes[ATTR_BATON_RUN_ID]).toBe('run-7');
    expect(finished('inside job').parentSpanContext?.spanId).toBe(process.spanContext().spanId);
  });
});
