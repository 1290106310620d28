import { describe, expect, it } from 'vitest';
import { newsDeskOutputSchema } from '../../evals/news-desk-output.js';
import { RunInterruptedError } from '../../src/core/errors.js';
import { memoryJournal } from '../../src/runs/journal.js';
import type { RunRequest } from '../../src/runs/schema.js';
import { createTestEngine } from '../support/engine.js';
import {
  agentKeys,
  agentsRequested,
  businessArticle,
  cancelController,
  expectEachKeyOnce,
  hang,
  patternEvents,
  startedKeys,
  teams,
  testTeam,
  trace,
} from './helpers.js';

const request: RunRequest = {
  team: 'news-desk',
  pattern: 'sequential',
  input: businessArticle,
  options: { stream: false },
};
const order = ['summarizer', 'classifier', 'extractor', 'analyst', 'editor'];

const withFallback = (failureThreshold = 5) =>
  testTeam('news-desk', {
    failureThreshold,
    change: (t) => ({ ...t, patterns: { ...t.patterns, sequential: { order, fallback: 'editor' } } }),
  });

describe('sequential', () => {
  it('runs the agents in order, each once, and returns the last agent’s structured answer', async () => {
    const engine = createTestEngine();
    const out = await engine.run(request);

    expect(out.status).toBe('succeeded');
    expect(trace(out.events.events)).toEqual([
      'run.started',
      ...order.flatMap((a) => [`agent.started(${a})`, `agent.completed(${a})`]),
    ]);
    expect(agentsRequested(engine.model.requests)).toEqual(order);
    const report = newsDeskOutputSchema.parse(out.output?.structured);
    expect(report.isBusiness).toBe(true);
    expect(report.companies.map((c) => [c.name, c.direction])).toEqual([
      ['Contoso Motors', 'increase'],
      ['Fabrikam Industries', 'decrease'],
    ]);
    expect(out.partial).toBeUndefined();
    expect(out.steps.map((s) => s.key)).toEqual(order.map((a, i) => `seq/${i}/agent:${a}`));
  });

  it('passes only the last piece of work on under context "last"', async () => {
    const engine = createTestEngine();
    await engine.run({ ...request, options: { stream: false, context: 'last' } });
    const editorPrompt = engine.model.requests.at(-1)?.messages.at(-1)?.content ?? '';
    expect(editorPrompt).toContain('## analyst');
    expect(editorPrompt).not.toContain('## summarizer');
  });

  it('fails the run with AGENT_FAILED when an agent times out and the team has no fallback', async () => {
    const engine = createTestEngine({ teams: teams(testTeam('news-desk')), faults: hang('extractor') });
    const out = await engine.run(request);

    expect(out.status).toBe('failed');
    expect(out.error?.code).toBe('AGENT_FAILED');
    expect(out.error?.message).toContain('extractor');
    // Nothing runs after the failed agent.
    expect(agentsRequested(engine.model.requests)).toEqual(['summarizer', 'classifier', 'extractor']);
    expect(trace(out.events.events)).toContain('agent.failed(extractor)');
  });

  it('gives a failed agent’s work to the declared fallback agent and marks the run partial', async () => {
    const engine = createTestEngine({ teams: teams(withFallback()), faults: hang('extractor') });
    const out = await engine.run(request);

    expect(out.status).toBe('succeeded');
    expect(out.partial).toBe(true);
    expect(out.failedAgents).toEqual(['extractor']);
    expect(startedKeys(out.events.events)).toContain('seq/2/fallback:editor');
    expect(newsDeskOutputSchema.safeParse(out.output?.structured).success).toBe(true);
  });

  it('does not call an agent whose breaker is open; the fallback does its work', async () => {
    const engine = createTestEngine({ teams: teams(withFallback(1)), faults: hang('extractor') });
    await engine.run(request); // opens extractor's breaker
    expect(engine.breakers.state('extractor')).toBe('open');
    const before = engine.model.requests.length;

    const out = await engine.run(request);
    expect(agentsRequested(engine.model.requests.slice(before))).not.toContain('extractor');
    expect(out.status).toBe('succeeded');
    expect(out.failedAgents).toEqual(['extractor']);
    expect(out.steps.find((s) => s.agent === 'extractor')?.error?.code).toBe('CIRCUIT_OPEN');
  });

  it('is cancelled while a model call is in flight and makes no further calls', async () => {
    const { controller, cancel } = cancelController();
    const engine = createTestEngine({
      latencyMs: [40, 40],
      faults: (_request, call) => {
        if (call === 2) setTimeout(cancel, 10);
        return undefined;
      },
    });
    const out = await engine.run(request, { signal: controller.signal });

    expect(out.status).toBe('cancelled');
    expect(out.error?.code).toBe('RUN_CANCELLED');
    expect(engine.model.requests).toHaveLength(2);
    expect(trace(out.events.events)).not.toContain('agent.completed(classifier)');
  });

  it('resumes from the journal after an interruption without calling any model twice', async () => {
    const reference = await createTestEngine().run(request);
    const drain = new AbortController();
    const engine = createTestEngine({
      faults: (_request, call) => {
        if (call === 3) drain.abort();
        return undefined;
      },
    });
    const journal = memoryJournal();
    await expect(engine.run(request, { journal, drain: drain.signal })).rejects.toBeInstanceOf(
      RunInterruptedError,
    );
    const interrupted = agentKeys(journal);
    expect(interrupted).toEqual(order.slice(0, 3).map((a, i) => `seq/${i}/agent:${a}`));
    expect(engine.model.requests).toHaveLength(3);

    const resumed = await engine.run(request, { journal, attempt: 2 });
    expect(resumed.status).toBe('succeeded');
    expect(resumed.output).toEqual(reference.output);
    expect(engine.model.requests).toHaveLength(reference.steps.length);
    expectEachKeyOnce(
      [interrupted, startedKeys(resumed.events.events)],
      reference.steps.map((s) => s.key),
    );
    expect(resumed.usage.modelCalls).toBe(reference.usage.modelCalls);
  });

  it('stops at a spent model-call budget with the last output, partial', async () => {
    const engine = createTestEngine();
    const out = await engine.run({ ...request, options: { stream: false, maxModelCalls: 2 } });

    expect(out.status).toBe('succeeded');
    expect(out.partial).toBe(true);
    expect(out.details).toMatchObject({ stoppedBefore: 'extractor', reason: 'BUDGET_EXCEEDED' });
    expect(engine.model.requests).toHaveLength(2);
    expect(patternEvents(out.events.events)).toEqual(['run.started', 'budget.exceeded']);
    expect(out.output?.text).toContain('isBusiness');
  });

  it('fails with BUDGET_EXCEEDED when the budget allows no call at all', async () => {
    const engine = createTestEngine();
    const out = await engine.run({ ...request, options: { stream: false, maxTokens: 20 } });
    expect(out.status).toBe('failed');
    expect(out.error?.code).toBe('BUDGET_EXCEEDED');
    expect(engine.model.requests).toHaveLength(0);
  });
});
