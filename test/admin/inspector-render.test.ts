import { describe, expect, it } from 'vitest';
import { lineDiff, runLive } from '../../src/api/admin/inspector.js';
import { buildTimeline, type LooseEvent } from '../../src/api/admin/timeline.js';
import type { RunRecord } from '../../src/runs/schema.js';

/** The run inspector's picture of a run, from a record and its events as the stream stores them. */

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function record(fields: Partial<RunRecord> = {}): RunRecord {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    status: 'succeeded',
    team: 'news-desk',
    pattern: 'sequential',
    input: 'x',
    options: {},
    usage: { inputTokens: 10, outputTokens: 5, modelCalls: 2 },
    steps: [],
    attempt: 1,
    definitionVersion: 'abc123',
    createdAt: at(0),
    startedAt: at(20),
    finishedAt: at(400),
    ...fields,
  };
}

const ev = (type: string, ms: number, fields: Record<string, unknown> = {}): LooseEvent => ({
  type,
  at: at(ms),
  runId: 'r',
  ...fields,
});

describe('run timeline', () => {
  it('shows event kinds it does not know: start/end pairs as bars, anything else as points', () => {
    const events = [
      ev('run.started', 20, { attempt: 1, resumed: false }),
      ev('tool.called', 50, { tool: 'web-search', step: 'seq/0/tool:web-search#1' }),
      ev('tool.completed', 120, { tool: 'web-search', step: 'seq/0/tool:web-search#1', durationMs: 70 }),
      ev('input.requested', 130, { requestId: 'q1', question: 'Publish?' }),
      ev('input.received', 300, { requestId: 'q1', answer: 'yes' }),
      ev('guardrail.triggered', 310, { guardrail: 'pii' }),
    ];
    const t = buildTimeline(record(), events, T0 + 400);
    expect(t.queueWaitMs).toBe(20);
    expect(t.bars.map((b) => [b.kind, b.label, b.start, b.end, b.state])).toEqual([
      ['tool', 'web-search', 50, 120, 'succeeded'],
      ['input', 'Publish?', 130, 300, 'succeeded'],
    ]);
    expect(t.points.map((p) => p.type)).toEqual(['guardrail.triggered']);
    const page = runLive(record(), events, undefined, T0 + 400).value;
    expect(page).toContain('tool: web-search ✓');
    expect(page).toContain('input: Publish? ✓');
    expect(page).toContain('guardrail.triggered');
  });

  it("shows the run's online evaluations, each scorer's score, its judge and rubric, escaped", () => {
    const page = runLive(
      record({
        evaluations: [
          {
            scorer: 'judge',
            score: 0.75,
            judgeModel: 'gpt-4o-mini',
            rubric: 'Faithful <and> brief',
            at: at(900),
          },
          { scorer: 'schema', score: 1, at: at(901) },
        ],
      }),
      [],
      undefined,
      T0 + 1_000,
    ).value;
    const section = page.slice(page.indexOf('id="evaluations-h"'), page.indexOf('id="events-h"'));
    expect(section).toContain('Evaluations');
    expect(section).toContain('<code>judge</code></td><td class="num">0.75</td><td>gpt-4o-mini</td>');
    expect(section).toContain('Faithful &lt;and&gt; brief');
    expect(section).toContain('<code>schema</code></td><td class="num">1.00</td><td>—</td>');
    expect(runLive(record(), [], undefined).value).not.toContain('id="evaluations-h"');
  });

  it('puts a step that began while another was still running in its own lane, though the duration ends sooner', () => {
    // The first step's duration is timed from its model call (2.5 ms), but it was journaled at 5 ms: the second,
    // started at 3 ms, overlapped it.
    const step = (key: string, agent: string, start: number, durationMs: number, completed: number) => ({
      key,
      kind: 'agent' as const,
      agent,
      status: 'succeeded' as const,
      attempts: 1,
      startedAt: at(start),
      completedAt: at(completed),
      durationMs,
      usage: { inputTokens: 1, outputTokens: 1 },
    });
    const t = buildTimeline(
      record({
        pattern: 'concurrent',
        steps: [step('c/a', 'a', 100, 2.5, 105), step('c/b', 'b', 103, 1, 104)],
      }),
      [],
      T0 + 400,
    );
    expect(t.lanes).toBe(2);
    expect(t.bars.map((b) => [b.label, b.lane])).toEqual([
      ['a', 0],
      ['b', 1],
    ]);
  });

  it('marks breaker rejections, retries and overlapping calls as lanes', () => {
    const step = (key: string, agent: string, start: number, ms: number, extra: object = {}) => ({
      key,
      agent,
      status: 'succeeded' as const,
      attempts: 1,
      startedAt: at(start),
      durationMs: ms,
      usage: { inputTokens: 1, outputTokens: 1 },
      ...extra,
    });
    const r = record({
      pattern: 'concurrent',
      steps: [
        step('c/a', 'a', 30, 100),
        step('c/b', 'b', 30, 100, { attempts: 3 }),
        step('c/c', 'c', 40, 0, {
          status: 'failed',
          error: { code: 'CIRCUIT_OPEN', message: 'Agent "c" is unavailable: its circuit breaker is open.' },
        }),
        step('c/merge', 'merge', 200, 10),
      ],
    });
    const t = buildTimeline(r, [], T0 + 400);
    expect(t.lanes).toBe(3);
    expect(t.bars.find((b) => b.key === 'c/c')?.state).toBe('rejected');
    const page = runLive(r, [], undefined, T0 + 400).value;
    expect(page).toContain('b ✓ ↻3');
    expect(page).toContain('c ⊘ breaker open');
    expect(page).toContain('data-lanes="3"');
  });

  it('links the trace through the configured template', () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const page = runLive(record({ traceId }), [], 'https://jaeger.example/trace/{traceId}').value;
    expect(page).toContain(`href="https://jaeger.example/trace/${traceId}"`);
    expect(runLive(record({ traceId }), [], undefined).value).not.toContain('id="trace-link"');
  });
});

describe('output diff', () => {
  it('keeps common lines and marks the rest', () => {
    expect(lineDiff('a\nb\nc', 'a\nx\nc')).toEqual([
      { op: ' ', line: 'a' },
      { op: '-', line: 'b' },
      { op: '+', line: 'x' },
      { op: ' ', line: 'c' },
    ]);
  });
});
