import type { Span } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES, recordModelCall, recordRun } from '../../src/telemetry/metrics.js';
import { startTestTelemetry } from '../../src/telemetry/testing.js';
import { tracingOn, withSpan } from '../../src/telemetry/tracing.js';

/**
 * With no SDK registered (telemetry off) the engine's spans and metrics cost nothing: `withSpan` starts no span
 * and the hot metric functions build no attributes. An SDK that registers later is used from its first call on.
 */
describe('telemetry off', () => {
  it('runs the work with a non-recording span, returning and rethrowing as with telemetry on', async () => {
    expect(tracingOn()).toBe(false);
    const seen: Span[] = [];
    expect(
      withSpan('sync', {}, (span) => {
        seen.push(span);
        return 42;
      }),
    ).toBe(42);
    expect(seen[0]?.isRecording()).toBe(false);
    await expect(
      withSpan('async', {}, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    recordRun({ pattern: 'sequential', status: 'succeeded', durationMs: 1 });
  });

  it('records spans and metrics from the first call after an SDK registers, and stops once it is gone', async () => {
    const telemetry = startTestTelemetry();
    try {
      expect(tracingOn()).toBe(true);
      await withSpan('after-register', {}, async (span) => expect(span.isRecording()).toBe(true));
      expect(telemetry.spans().map((s) => s.name)).toEqual(['after-register']);
      recordRun({ pattern: 'sequential', status: 'succeeded', durationMs: 5 });
      recordModelCall({ provider: 'baton.simulated', requestModel: 'm', durationMs: 3, inputTokens: 2 });
      const collected = await telemetry.collectMetrics();
      expect(collected.get(METRIC_NAMES.runs)?.dataPoints).toHaveLength(1);
      expect(collected.get(METRIC_NAMES.tokenUsage)?.dataPoints).toHaveLength(1);
    } finally {
      await telemetry.shutdown();
    }
    expect(tracingOn()).toBe(false);
  });
});
