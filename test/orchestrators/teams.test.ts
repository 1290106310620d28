import { describe, expect, it } from 'vitest';
import { newsDeskOutputSchema } from '../../evals/news-desk-output.js';
import { supportDeskOutputSchema } from '../../evals/support-desk-output.js';
import { patternNames as patterns } from '../../src/orchestrators/index.js';
import { describeTeam } from '../../src/teams/describe.js';
import { shippedTeams } from '../../src/teams/files.js';
import { createTestEngine } from '../support/engine.js';
import { businessArticle, catalogTeam, sportsArticle } from './helpers.js';

const catalog = shippedTeams();

describe('catalog teams', () => {
  it.each(patterns)('news-desk produces its output schema under %s', async (pattern) => {
    const engine = createTestEngine();
    for (const input of [businessArticle, sportsArticle]) {
      const out = await engine.run({ team: 'news-desk', pattern, input, options: { stream: false } });
      expect(out.status).toBe('succeeded');
      expect(out.partial).toBeUndefined();
      const report = newsDeskOutputSchema.parse(out.output?.structured);
      expect(report.isBusiness).toBe(input === businessArticle);
    }
  });

  it.each(['concurrent', 'handoff', 'magentic'] as const)(
    'support-desk resolves a ticket under %s',
    async (pattern) => {
      const engine = createTestEngine();
      const out = await engine.run({
        team: 'support-desk',
        pattern,
        input: 'Please send me an invoice with our VAT number for last month.',
        options: { stream: false },
      });
      expect(out.status).toBe('succeeded');
      expect(supportDeskOutputSchema.parse(out.output?.structured)).toMatchObject({
        specialist: 'billing',
        category: 'invoice',
      });
    },
  );

  it('support-desk is not wired for sequential', async () => {
    const out = await createTestEngine().run({ team: 'support-desk', pattern: 'sequential', input: 'hello' });
    expect(out.status).toBe('failed');
    expect(out.error?.code).toBe('INVALID_RUN');
  });

  it('describeTeam lists each wired pattern with the options that apply and their defaults', () => {
    const news = describeTeam(catalogTeam('news-desk'));
    expect(news.agents.map((a) => a.name)).toEqual(catalogTeam('news-desk').agents.map((a) => a.name));
    expect(news.patterns.map((p) => p.pattern)).toEqual([
      'sequential',
      'concurrent',
      'handoff',
      'magentic',
      'group-chat',
      'map',
    ]);
    const byPattern = Object.fromEntries(news.patterns.map((p) => [p.pattern, p.options]));
    expect(byPattern.concurrent).toMatchObject({ aggregator: 'merge', concurrency: 4, minSuccessful: 1 });
    expect(byPattern.handoff).toMatchObject({ entryAgent: 'desk-chief', maxHandoffs: 8, context: 'full' });
    expect(byPattern.magentic).toMatchObject({ maxRounds: 20, maxStalls: 3, maxResets: 3 });
    expect(byPattern.sequential).toMatchObject({ context: 'full', maxModelCalls: null, seed: 0 });
    expect(byPattern.sequential).not.toHaveProperty('maxHandoffs');
    expect(byPattern['group-chat']).toMatchObject({ chatMode: 'round-robin', maxTurns: 5, maxIterations: 3 });
    expect(byPattern.map).toMatchObject({ concurrency: 4, minSuccessful: 1, maxItems: 50 });

    const support = describeTeam(catalogTeam('support-desk'));
    expect(support.patterns.map((p) => p.pattern)).toEqual(['concurrent', 'handoff', 'magentic']);
    expect(support.patterns[0]?.options).toMatchObject({ aggregator: 'agent' });
    expect(JSON.parse(JSON.stringify(support))).toEqual(support);
  });

  it('every catalog team is registered by its name', () => {
    expect([...catalog.keys()]).toEqual(['news-desk', 'support-desk']);
  });
});
