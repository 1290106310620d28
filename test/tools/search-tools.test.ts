import { describe, expect, it } from 'vitest';
import { defaultTeamsDir } from '../../src/teams/files.js';
import { ToolRuntime } from '../../src/tools/runtime.js';
import { articleIndex, articlesOf, filesMatching, searchSource } from '../../src/tools/search.js';
import { createTestEngine } from '../support/engine.js';

const root = defaultTeamsDir();

describe('the embedded search index', () => {
  it('indexes the support-desk knowledge base (at least 30 articles) and ranks the matching article first', () => {
    const articles = filesMatching(root, 'kb/support-desk/*.md').flatMap(articlesOf);
    expect(articles.length).toBeGreaterThanOrEqual(30);
    const index = articleIndex(articles);
    expect(index.search('my card was declined and the payment failed', 3)[0]?.id).toBe(
      'billing-payment-declined',
    );
    expect(index.search('reset password email never arrives', 3).map((h) => h.id)).toContain(
      'account-password-reset-email',
    );
  });

  it('refuses a source outside the teams folder', () => {
    expect(() => filesMatching(root, '../src/*.ts')).toThrow(/outside the teams folder/);
  });
});

describe('support-desk grounded on its knowledge base', () => {
  it('a specialist searches the knowledge base and its reply cites an article id', async () => {
    const tools = new ToolRuntime({
      secrets: new Map(),
      maxResultChars: 16_000,
      sources: { search: searchSource(root, new Map()) },
    });
    const engine = createTestEngine({ tools });
    const out = await engine.run({
      team: 'support-desk',
      pattern: 'handoff',
      input: 'My card was declined when paying the invoice and the payment failed twice.',
    });
    expect(out.status).toBe('succeeded');
    const search = out.steps.filter((s) => s.kind === 'tool');
    expect(search.length).toBeGreaterThanOrEqual(1);
    expect(search[0]).toMatchObject({ tool: 'kb', status: 'succeeded' });
    const specialistAnswers = out.journal
      .entries()
      .flatMap(([, e]) =>
        e.kind === 'agent' && e.ok && e.result.agent === search[0]?.agent ? [e.result] : [],
      )
      .filter((r) => r.toolCalls.length === 0);
    const reply = (JSON.parse(specialistAnswers[0]?.text ?? '{}') as { reply: string }).reply;
    expect(reply).toMatch(/"id":"billing-[a-z0-9-]+"/);
  });
});
