/**
 * In-memory telemetry for tests (DESIGN §6: "tests use an in-memory exporter"). Registers real SDK
 * providers globally — spans, metrics and log records stay in memory — so code under test that uses
 * `@opentelemetry/api` (through `tracing.ts`, `metrics.ts`, the logger) is observed as in production.
 *
 * ```ts
 * const telemetry = startTestTelemetry();
 * await engine.execute(...);
 * expect(telemetry.spans().map((s) => s.name)).toContain('invoke_agent writer');
 * await telemetry.shutdown();
 * ```
 * One per test file (vitest runs files in separate processes); `reset()` between tests.
 */
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { logs as logsApi } from '@opentelemetry/api-logs';
import { logs, node, resources, metrics as sdkMetrics, tracing } from '@opentelemetry/sdk-node';
import { RunContextSpanProcessor } from './processors.js';
import { resetTelemetryState, telemetryState } from './state.js';

export type TestSpan = tracing.ReadableSpan;
export type TestLogRecord = logs.ReadableLogRecord;

export interface TestTelemetry {
  /** Finished spans, in the order they ended. */
  spans(): TestSpan[];
  /** Emitted log records (from the logger's OpenTelemetry bridge). */
  logRecords(): TestLogRecord[];
  /**
   * Collects metrics now (observable callbacks run) and returns them by name, with delta temporality:
   * only what was recorded or observed since the previous call.
   */
  collectMetrics(): Promise<Map<string, sdkMetrics.MetricData>>;
  /** Forgets recorded spans and log records. */
  reset(): void;
  /** Unregisters the global providers. */
  shutdown(): Promise<void>;
}

/** Delta temporality: each `collectMetrics()` returns what was recorded or observed since the last one. */
class CollectingReader extends sdkMetrics.MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => sdkMetrics.AggregationTemporality.DELTA });
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

export function startTestTelemetry(serviceName = 'baton-test'): TestTelemetry {
  const resource = resources.resourceFromAttributes({ 'service.name': serviceName });
  const spanExporter = new tracing.InMemorySpanExporter();
  const tracerProvider = new node.NodeTracerProvider({
    resource,
    spanProcessors: [new RunContextSpanProcessor(), new tracing.SimpleSpanProcessor(spanExporter)],
  });
  // Sets the global tracer provider, the AsyncLocalStorage context manager and the W3C propagators.
  tracerProvider.register();

  const reader = new CollectingReader();
  const meterProvider = new sdkMetrics.MeterProvider({ resource, readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);

  const logExporter = new logs.InMemoryLogRecordExporter();
  const loggerProvider = new logs.LoggerProvider({
    resource,
    processors: [new logs.SimpleLogRecordProcessor(logExporter)],
  });
  logsApi.setGlobalLoggerProvider(loggerProvider);

  const state = telemetryState();
  state.started = true;
  state.serviceName = serviceName;
  state.signals = { traces: true, metrics: true, logs: true };

  return {
    spans: () => spanExporter.getFinishedSpans(),
    logRecords: () => logExporter.getFinishedLogRecords(),
    async collectMetrics() {
      const { resourceMetrics } = await reader.collect();
      const byName = new Map<string, sdkMetrics.MetricData>();
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
      }
      return byName;
    },
    reset() {
      spanExporter.reset();
      logExporter.reset();
    },
    async shutdown() {
      await Promise.allSettled([
        tracerProvider.shutdown(),
        meterProvider.shutdown(),
        loggerProvider.shutdown(),
      ]);
      trace.disable();
      context.disable();
      propagation.disable();
      metrics.disable();
      logsApi.disable();
      resetTelemetryState();
    },
  };
}
