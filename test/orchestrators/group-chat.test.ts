import { describe, expect, it } from 'vitest';
import { newsDeskOutputSchema } from '../../evals/news-desk-output.js';
import type { RunEvent } from '../../src/core/events.js';
import type { RunRequest } from '../../src/runs/schema.js';
import type { Skill } from '../../src/simulation/skill.js';
import { createTestEngine } from '../support/engine.js';
import { agentsRequested, businessArticle, teams, testTeam } from './helpers.js';

const request: RunRequest = {
  team: 'news-desk',
  pattern: 'group-chat',
  input: businessArticle,
  options: { stream: false },
};
const desk = ['summarizer', 'classifier', 'extractor', 'analyst', 'editor'];

const speakers = (events: readonly RunEvent[]) =>
  events.flatMap((e) => (e.type === 'speaker.selected' ? [e.speaker] : []));

/** news-desk with its group-chat wiring changed. */
function chatTeam(change: Record<string, unknown>) {
  return teams(
    testTeam('news-desk', {
      change: (t) => ({
        ...t,
        patterns: { ...t.patterns, 'group-chat': { ...t.patterns['group-chat'], ...change } },
      }),
    }),
  );
}

describe('group chat, round-robin', () => {
  it('lets the participants speak in order on one conversation and ends with the team’s report', async () => {
    const engine = createTestEngine();
    const out = await engine.run(request);
    expect(out.status).toBe('succeeded');
    expect(speakers(out.events.events)).toEqual(desk);
    expect(agentsRequested(engine.model.requests)).toEqual(desk);
    // Each speaker sees the conversation so far.
    const editorPrompt = engine.model.requests.at(-1)?.messages.at(-1)?.content ?? '';
    for (const earlier of desk.slice(0, -1)) expect(editorPrompt).toContain(`## ${earlier}`);
    const report = newsDeskOutputSchema.parse(out.output?.structured);
    expect(report.companies.map((c) => c.name)).toEqual(['Contoso Motors', 'Fabrikam Industries']);
    expect(out.steps.map((s) => s.key)).toEqual(desk.map((a, i) => `gc/turn:${i + 1}/agent:${a}`));
    expect(out.details).toMatchObject({ mode: 'round-robin', turns: 5, stopReason: 'MAX_TURNS' });
  });

  it('stops at maxTurns, cycling through the participants', async () => {
    const engine = createTestEngine();
    const out = await engine.run({ ...request, options: { stream: false, maxTurns: 7 } });
    expect(speakers(out.events.events)).toEqual([...desk, 'summarizer', 'classifier']);
    expect(out.details).toMatchObject({ turns: 7, stopReason: 'MAX_TURNS' });
    // The last speaker's answer is not the report: the finalizer (editor) is asked for it.
    expect(engine.model.requests.at(-1)?.agent).toBe('editor');
    expect(out.steps.at(-1)?.key).toBe('gc/final');
    expect(newsDeskOutputSchema.safeParse(out.output?.structured).success).toBe(true);
  });

  it('stops when a speaker says the termination phrase', async () => {
    const engine = createTestEngine({
      teams: chatTeam({ terminationPhrase: 'enough said' }),
      skills: {
        'news.classify': () => ({ json: { isBusiness: true, reason: 'It is business news. Enough said.' } }),
      },
    });
    const out = await engine.run(request);
    expect(out.status).toBe('succeeded');
    expect(speakers(out.events.events)).toEqual(['summarizer', 'classifier']);
    expect(out.details).toMatchObject({ stopReason: 'TERMINATION_PHRASE', turns: 2 });
  });

  it('goes on without a participant that fails, and says so', async () => {
    const engine = createTestEngine({
      teams: chatTeam({}),
      faults: (r) => (r.agent === 'classifier' ? 'permanent' : undefined),
    });
    const out = await engine.run(request);
    expect(out.status).toBe('succeeded');
    expect(out.partial).toBe(true);
    expect(out.failedAgents).toEqual(['classifier']);
  });
});

describe('group chat, manager-selected', () => {
  it('lets the manager pick each speaker until it says the task is done; the manager answers last', async () => {
    const engine = createTestEngine();
    const out = await engine.run({ ...request, options: { stream: false, chatMode: 'manager' } });
    expect(out.status).toBe('succeeded');
    // The desk manager asks for the work still missing, then says it is done.
    expect(speakers(out.events.events)).toEqual(['summarizer', 'classifier', 'extractor', 'analyst']);
    expect(out.details).toMatchObject({ mode: 'manager', stopReason: 'MANAGER_DONE' });
    const managerCalls = engine.model.requests.filter((r) => r.agent === 'desk-manager');
    expect(managerCalls).toHaveLength(5); // one choice per turn, and the one that says done
    expect(newsDeskOutputSchema.safeParse(out.output?.structured).success).toBe(true);
  });

  it('stops at maxTurns even when the manager never says done', async () => {
    const neverDone: Skill = ({ request }) => {
      const names = ((
        request.responseFormat?.schema as { properties?: { next_speaker?: { enum?: string[] } } }
      )?.properties?.next_speaker?.enum ?? ['summarizer']) as string[];
      return { json: { done: false, next_speaker: names[0], reason: 'again', instruction: 'Go on.' } };
    };
    const engine = createTestEngine({ skills: { 'news.manager': neverDone } });
    const out = await engine.run({
      ...request,
      options: { stream: false, chatMode: 'manager', maxTurns: 3 },
    });
    expect(speakers(out.events.events)).toEqual(['summarizer', 'summarizer', 'summarizer']);
    expect(out.details).toMatchObject({ stopReason: 'MAX_TURNS', turns: 3 });
  });

  it('refuses a mode the team is not wired for', async () => {
    const engine = createTestEngine({ teams: chatTeam({ manager: undefined }) });
    const out = await engine.run({ ...request, options: { stream: false, chatMode: 'manager' } });
    expect(out.status).toBe('failed');
    expect(out.error?.code).toBe('INVALID_RUN');
  });
});

describe('group chat, maker-checker', () => {
  const makerChecker = chatTeam({ mode: 'maker-checker', maker: 'editor', checker: 'classifier' });
  const review =
    (approveAt: number): Skill =>
    ({ prompt }) => {
      const drafts = prompt.prior.filter((p) => p.agent === 'editor').length;
      return {
        json: { approved: drafts >= approveAt, feedback: drafts >= approveAt ? 'Good.' : 'Add the reasons.' },
      };
    };

  it('revises until the checker approves', async () => {
    const engine = createTestEngine({ teams: makerChecker, skills: { 'news.classify': review(2) } });
    const out = await engine.run(request);
    expect(out.status).toBe('succeeded');
    expect(agentsRequested(engine.model.requests)).toEqual(['editor', 'classifier', 'editor', 'classifier']);
    expect(out.details).toMatchObject({ approved: true, iterations: 2, stopReason: 'APPROVED' });
    expect(out.partial).toBeUndefined();
    // The second draft was asked to address the review.
    expect(engine.model.requests[2]?.messages.at(-1)?.content).toContain(
      'Changes requested: Add the reasons.',
    );
  });

  it('stops at maxIterations with the last draft, partial', async () => {
    const engine = createTestEngine({ teams: makerChecker, skills: { 'news.classify': review(99) } });
    const out = await engine.run({ ...request, options: { stream: false, maxIterations: 2 } });
    expect(out.status).toBe('succeeded');
    expect(agentsRequested(engine.model.requests)).toHaveLength(4);
    expect(out.partial).toBe(true);
    expect(out.details).toMatchObject({ approved: false, iterations: 2, stopReason: 'MAX_ITERATIONS' });
    expect(newsDeskOutputSchema.safeParse(out.output?.structured).success).toBe(true);
  });
});
