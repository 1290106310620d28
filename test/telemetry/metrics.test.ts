import type { metrics as sdkMetrics } from '@opentelemetry/sdk-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  breakerStateValue,
  METRIC_NAMES,
  observeBreakers,
  observeQueue,
  recordAgentCall,
  recordModelCall,
  recordRun,
} from '../../src/telemetry/metrics.js';
import { startTestTelemetry, type TestTelemetry } from '../../src/telemetry/testing.js';

type Point = { attributes: Record<string, unknown>; value: unknown };

function points(metric: sdkMetrics.MetricData | undefined): Point[] {
  if (!metric) throw new Error('metric not collected');
  return metric.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value }));
}

function histogram(metric: sdkMetrics.MetricData | undefined, match: Record<string, unknown>) {
  const point = points(metric).find((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
  if (!point) throw new Error(`no point matching ${JSON.stringify(match)}`);
  return point.value as { count: number; sum: number; buckets: { boundaries: number[] } };
}

describe('metrics before telemetry starts', () => {
  it('are silent no-ops (nothing throws without an SDK)', () => {
    expect(() => recordRun({ pattern: 'sequential', status: 'succeeded', durationMs: 10 })).not.toThrow();
    expect(() => observeBreakers(() => [])()).not.toThrow();
  });
});

describe('baton metrics', () => {
  let telemetry: TestTelemetry;

  beforeAll(() => {
    // Started after the no-op calls above: instruments must follow the new global meter provider.
    telemetry = startTestTelemetry();
  });

  afterAll(async () => {
    await telemetry.shutdown();
  });

  it('recordModelCall: operation duration in seconds and token usage by token type', async () => {
    recordModelCall({
      provider: 'azure.ai.openai',
      requestModel: 'gpt-4o-mini',
      responseModel: 'gpt-4o-mini-2024-07-18',
      durationMs: 1500,
      inputTokens: 120,
      outputTokens: 30,
    });
    recordModelCall({
      provider: 'azure.ai.openai',
      requestModel: 'gpt-4o-mini',
      durationMs: 200,
      errorType: 'TIMEOUT',
    });
    const m = await telemetry.collectMetrics();

    const duration = m.get(METRIC_NAMES.operationDuration);
    expect(duration?.descriptor.unit).toBe('s');
    const ok = histogram(duration, { 'gen_ai.response.model': 'gpt-4o-mini-2024-07-18' });
    expect(ok.count).toBe(1);
    expect(ok.sum).toBeCloseTo(1.5);
    expect(ok.buckets.boundaries).toContain(0.64);
    const failed = histogram(duration, { 'error.type': 'TIMEOUT' });
    expect(failed.sum).toBeCloseTo(0.2);

    const tokens = m.get(METRIC_NAMES.tokenUsage);
    expect(tokens?.descriptor.unit).toBe('{token}');
    const input = histogram(tokens, { 'gen_ai.token.type': 'input' });
    const output = histogram(tokens, { 'gen_ai.token.type': 'output' });
    expect([input.sum, output.sum]).toEqual([120, 30]);
    expect(points(tokens)[0]?.attributes).toEqual(
      expect.objectContaining({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'azure.ai.openai',
        'gen_ai.request.model': 'gpt-4o-mini',
      }),
    );
  });

  it('recordAgentCall and recordRun', async () => {
    recordAgentCall({ agent: 'writer', outcome: 'success', durationMs: 800, pattern: 'sequential' });
    recordAgentCall({ agent: 'writer', outcome: 'timeout', durationMs: 30_000, errorType: 'TIMEOUT' });
    recordRun({ pattern: 'sequential', team: 'news-desk', status: 'succeeded', durationMs: 4000 });
    recordRun({ pattern: 'sequential', team: 'news-desk', status: 'succeeded', durationMs: 6000 });
    recordRun({
      pattern: 'handoff',
      team: 'support-desk',
      status: 'failed',
      durationMs: 100,
      errorType: 'BUDGET',
    });
    const m = await telemetry.collectMetrics();

    const calls = m.get(METRIC_NAMES.agentCallDuration);
    expect(
      histogram(calls, { 'baton.agent.outcome': 'success', 'gen_ai.agent.name': 'writer' }).sum,
    ).toBeCloseTo(0.8);
    expect(histogram(calls, { 'baton.agent.outcome': 'timeout' }).count).toBe(1);

    const runs = points(m.get(METRIC_NAMES.runs));
    expect(runs).toContainEqual({
      attributes: {
        'baton.pattern': 'sequential',
        'baton.team': 'news-desk',
        'baton.run.status': 'succeeded',
      },
      value: 2,
    });
    expect(runs).toContainEqual({
      attributes: {
        'baton.pattern': 'handoff',
        'baton.team': 'support-desk',
        'baton.run.status': 'failed',
        'error.type': 'BUDGET',
      },
      value: 1,
    });
    expect(histogram(m.get(METRIC_NAMES.runDuration), { 'baton.run.status': 'succeeded' }).sum).toBeCloseTo(
      10,
    );
  });

  it('observeBreakers reports 0 / 0.5 / 1 per agent at each collection until stopped', async () => {
    let states: { agent: string; state: 'closed' | 'half-open' | 'open' }[] = [
      { agent: 'a', state: 'closed' },
      { agent: 'b', state: 'open' },
    ];
    const stop = observeBreakers(() => states);
    let m = await telemetry.collectMetrics();
    expect(points(m.get(METRIC_NAMES.breakerState))).toEqual(
      expect.arrayContaining([
        { attributes: { 'gen_ai.agent.name': 'a' }, value: 0 },
        { attributes: { 'gen_ai.agent.name': 'b' }, value: 1 },
      ]),
    );
    states = [{ agent: 'b', state: 'half-open' }];
    m = await telemetry.collectMetrics();
    expect(points(m.get(METRIC_NAMES.breakerState))).toContainEqual({
      attributes: { 'gen_ai.agent.name': 'b' },
      value: 0.5,
    });
    stop();
    m = await telemetry.collectMetrics();
    expect(m.get(METRIC_NAMES.breakerState)?.dataPoints ?? []).toHaveLength(0);
    expect(breakerStateValue('half-open')).toBe(0.5);
  });

  it('observeQueue reports the four gauges from one async snapshot, and skips a failing one', async () => {
    let calls = 0;
    let fail = false;
    const stop = observeQueue(async () => {
      calls++;
      if (fail) throw new Error('redis down');
      return { waiting: 5, active: 2, failed: 1, oldestWaitMs: 1234 };
    });
    let m = await telemetry.collectMetrics();
    expect(calls).toBe(1);
    const attrs = { 'baton.queue': 'runs' };
    expect(points(m.get(METRIC_NAMES.queueWaiting))).toEqual([{ attributes: attrs, value: 5 }]);
    expect(points(m.get(METRIC_NAMES.queueActive))).toEqual([{ attributes: attrs, value: 2 }]);
    expect(points(m.get(METRIC_NAMES.queueFailed))).toEqual([{ attributes: attrs, value: 1 }]);
    expect(points(m.get(METRIC_NAMES.queueOldestWait))).toEqual([{ attributes: attrs, value: 1234 }]);
    expect(m.get(METRIC_NAMES.queueOldestWait)?.descriptor.unit).toBe('ms');

    fail = true;
    m = await telemetry.collectMetrics();
    expect(m.get(METRIC_NAMES.queueWaiting)?.dataPoints ?? []).toHaveLength(0);
    stop();
    fail = false;
    await telemetry.collectMetrics();
    expect(calls).toBe(2);
  });
});
