import { describe, expect, it } from 'vitest';
import { memoryJournal } from '../../src/runs/journal.js';
import { createTestEngine, sampleArticle } from '../support/engine.js';

describe('engine accounting', () => {
  it('journals each concurrent branch with its own usage, so a replay reproduces the run’s totals', async () => {
    const engine = createTestEngine({ latencyMs: [5, 20] });
    const journal = memoryJournal();
    const first = await engine.run(
      { team: 'news-desk', pattern: 'concurrent', input: sampleArticle },
      { journal },
    );
    expect(first.status).toBe('succeeded');
    const agentEntries = journal.entries().filter(([, e]) => e.kind === 'agent');
    expect(agentEntries).toHaveLength(4);
    for (const [, entry] of agentEntries) {
      // Overlapping branches must not count each other's calls.
      expect(entry.kind === 'agent' && entry.modelCalls).toBe(1);
    }
    const sum = (f: (u: { inputTokens: number; outputTokens: number }) => number) =>
      agentEntries.reduce((n, [, e]) => n + (e.kind === 'agent' ? f(e.usage) : 0), 0);
    expect(sum((u) => u.inputTokens)).toBe(first.usage.inputTokens);
    expect(sum((u) => u.outputTokens)).toBe(first.usage.outputTokens);

    const calls = engine.model.requests.length;
    const replay = await engine.run(
      { team: 'news-desk', pattern: 'concurrent', input: sampleArticle },
      { journal, attempt: 2 },
    );
    expect(engine.model.requests.length).toBe(calls); // nothing called again
    expect(replay.usage).toEqual(first.usage);
    expect(replay.output).toEqual(first.output);
  });

  it('counts every attempt of a retried call in the step and the run', async () => {
    let failures = 1;
    const engine = createTestEngine({
      faults: (request) => (request.agent === 'summarizer' && failures-- > 0 ? 'transient' : undefined),
    });
    const out = await engine.run({ team: 'news-desk', pattern: 'sequential', input: sampleArticle });
    expect(out.status).toBe('succeeded');
    const summarizer = out.steps.find((s) => s.agent === 'summarizer');
    expect(summarizer?.attempts).toBe(2);
    expect(out.usage.modelCalls).toBe(6); // 5 agents + 1 retry
  });
});
