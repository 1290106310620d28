import { describe, expect, it } from 'vitest';
import type { RunRequest } from '../../src/runs/schema.js';
import type { Skill } from '../../src/simulation/skill.js';
import { createTestEngine } from '../support/engine.js';
import { businessArticle, teams, testTeam } from './helpers.js';

/** The summarizer's answer padded to well over the 600 characters beyond which work is summarised. */
const longSummary: Skill = () => ({
  json: {
    title: 'Contoso Motors raises guidance',
    summary: `Contoso Motors raised guidance. ${'Details. '.repeat(150)}`,
  },
});

const request = (context: 'summary' | 'truncate' | 'full'): RunRequest => ({
  team: 'news-desk',
  pattern: 'sequential',
  input: businessArticle,
  options: { stream: false, context },
});

const promptOf = (engine: ReturnType<typeof createTestEngine>, agent: string) =>
  engine.model.requests.find((r) => r.agent === agent)?.messages.at(-1)?.content ?? '';

describe('options.context', () => {
  it('summary: a long piece of work is summarised once by a journaled model call that counts in usage', async () => {
    const engine = createTestEngine({ skills: { 'news.summarize': longSummary } });
    const out = await engine.run(request('summary'));
    expect(out.status).toBe('succeeded');
    const summaries = engine.model.requests.filter((r) => r.agent === 'context-summarizer');
    // Four later agents see the summarizer's work; it is summarised once.
    expect(summaries).toHaveLength(1);
    expect(summaries[0]?.messages.at(-1)?.content).toContain('Details. Details.');
    const summaryStep = out.steps.find((s) => s.key.startsWith('summary/summarizer/'));
    expect(summaryStep?.agent).toBe('context-summarizer');
    expect(out.usage.modelCalls).toBe(6); // five agents and one summary
    // The classifier is shown the summary, not the padded work.
    expect(promptOf(engine, 'classifier')).not.toContain('Details. Details. Details.');
    expect(promptOf(engine, 'classifier')).toContain('## summarizer');

    // A replay of the journal makes no summary call again.
    const replay = createTestEngine({ skills: { 'news.summarize': longSummary } });
    const again = await replay.run(request('summary'), { journal: out.journal, attempt: 2 });
    expect(again.status).toBe('succeeded');
    expect(replay.model.requests).toHaveLength(0);
  });

  it('summary: short work is shown as it is, with no call', async () => {
    const engine = createTestEngine();
    await engine.run(request('summary'));
    expect(engine.model.requests.map((r) => r.agent)).not.toContain('context-summarizer');
  });

  it('summary: a team’s declared summarizer does the summaries', async () => {
    const team = teams(testTeam('news-desk', { change: (t) => ({ ...t, summarizer: 'editor' }) }));
    const editorAsSummarizer: Skill = ({ prompt }) =>
      prompt.instruction?.startsWith('Summarise')
        ? { text: 'Contoso Motors raised guidance (summary).' }
        : ({ json: { title: 't', summary: 's', isBusiness: true, companies: [] } } as const);
    const engine = createTestEngine({
      teams: team,
      skills: { 'news.summarize': longSummary, 'news.edit': editorAsSummarizer },
    });
    const out = await engine.run(request('summary'));
    expect(out.status).toBe('succeeded');
    expect(engine.model.requests.map((r) => r.agent)).not.toContain('context-summarizer');
    expect(out.steps.find((s) => s.key.startsWith('summary/'))?.agent).toBe('editor');
    expect(promptOf(engine, 'classifier')).toContain('Contoso Motors raised guidance (summary).');
  });

  it('summary: summary calls count against the model-call budget', async () => {
    const engine = createTestEngine({ skills: { 'news.summarize': longSummary } });
    const out = await engine.run({
      ...request('summary'),
      options: { stream: false, context: 'summary', maxModelCalls: 2 },
    });
    // The summarizer's call and its summary use the budget: the classifier cannot start.
    expect(out.usage.modelCalls).toBe(2);
    expect(out.steps.map((s) => s.agent)).toEqual(['summarizer', 'context-summarizer']);
  });

  it('truncate: long work is cut to 600 characters, with no call', async () => {
    const engine = createTestEngine({ skills: { 'news.summarize': longSummary } });
    await engine.run(request('truncate'));
    expect(engine.model.requests.map((r) => r.agent)).not.toContain('context-summarizer');
    const shown = promptOf(engine, 'classifier');
    expect(shown).toContain('…');
    expect(shown).not.toContain('Details. '.repeat(100));
  });
});
