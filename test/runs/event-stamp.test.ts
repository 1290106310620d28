import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RunEventInput } from '../../src/core/events.js';
import { encodeStoredEvent, MemoryEventLog, stampEvent } from '../../src/runs/events.js';

const runId = '3d1f6a0e-9b7c-4c55-8f0e-2a4b6c8d0e12';
const events: RunEventInput[] = [
  { type: 'run.started', attempt: 2, resumed: true },
  { type: 'agent.started', agent: 'writer', step: 'seq/0/agent:writer' },
  {
    type: 'agent.completed',
    agent: 'writer',
    step: 'seq/0/agent:writer',
    durationMs: 1.5,
    attempts: 1,
    usage: { inputTokens: 3, outputTokens: 4 },
    text: 'a "quoted" answer }',
  },
];

describe('event stamps', () => {
  afterEach(() => vi.useRealTimers());

  it('a stream entry is the event with the time it was written, and nothing else', () => {
    vi.useFakeTimers({ now: Date.parse('2026-12-01T10:20:30.456Z') });
    for (const event of events) {
      expect(JSON.parse(encodeStoredEvent(event))).toEqual({ ...event, at: '2026-12-01T10:20:30.456Z' });
    }
  });

  it('the time written wins over one the event carries', () => {
    vi.useFakeTimers({ now: Date.parse('2026-12-01T10:20:30.456Z') });
    // What an emitter may hand over: an object with more than its type says.
    const carried = {
      type: 'agent.started',
      agent: 'writer',
      step: 's',
      at: '1999-01-01T00:00:00.000Z',
    } as const;
    expect(JSON.parse(encodeStoredEvent(carried)).at).toBe('2026-12-01T10:20:30.456Z');
  });

  it("an in-memory event carries the log's run id and time, over any the event carries", async () => {
    vi.useFakeTimers({ now: Date.parse('2026-12-01T10:20:30.456Z') });
    const log = new MemoryEventLog();
    for (const event of events) await log.append(runId, event);
    expect(log.events).toEqual(events.map((e) => ({ ...e, runId, at: '2026-12-01T10:20:30.456Z' })));
    const carried = {
      type: 'run.started',
      attempt: 1,
      resumed: false,
      runId: 'another',
      at: '1999-01-01T00:00:00.000Z',
    } as const;
    expect(stampEvent(runId, carried)).toEqual({ ...carried, runId, at: '2026-12-01T10:20:30.456Z' });
  });
});
