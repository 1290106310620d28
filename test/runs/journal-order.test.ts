import { describe, expect, it } from 'vitest';
import { type JournalEntry, stepsFromJournal } from '../../src/runs/journal.js';

const entry = (agent: string, order: number | undefined): JournalEntry => ({
  kind: 'agent',
  ok: true,
  result: {
    key: agent,
    agent,
    text: '',
    toolCalls: [],
    usage: { inputTokens: 1, outputTokens: 1 },
    attempts: 1,
    durationMs: 0,
    model: 'm',
  },
  usage: { inputTokens: 1, outputTokens: 1 },
  modelCalls: 1,
  startedAt: '2026-01-01T00:00:00.000Z',
  completedAt: '2026-01-01T00:00:00.000Z',
  ...(order !== undefined ? { order } : {}),
});

describe('the run record’s steps', () => {
  it('keep the order in which steps completed within the same millisecond, whatever their keys', () => {
    const steps = stepsFromJournal([
      ['map/reduce/agent:editor', entry('editor', 1_700_000_000_000.7)],
      ['map/split/agent:extractor', entry('extractor', 1_700_000_000_000.2)],
    ]);
    expect(steps.map((s) => s.agent)).toEqual(['extractor', 'editor']);
  });

  it('fall back to the key for entries journaled without a precise completion time', () => {
    const steps = stepsFromJournal([
      ['b', entry('second', undefined)],
      ['a', entry('first', undefined)],
    ]);
    expect(steps.map((s) => s.agent)).toEqual(['first', 'second']);
  });
});
