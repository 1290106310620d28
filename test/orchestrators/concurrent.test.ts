import { describe, expect, it } from 'vitest';
import { newsDeskOutputSchema } from '../../evals/news-desk-output.js';
import { supportDeskOutputSchema } from '../../evals/support-desk-output.js';
import { RunInterruptedError } from '../../src/core/errors.js';
import type { RunEvent } from '../../src/core/events.js';
import { normaliseAnswer } from '../../src/orchestrators/concurrent.js';
import { memoryJournal } from '../../src/runs/journal.js';
import type { RunRequest } from '../../src/runs/schema.js';
import type { Skill } from '../../src/simulation/skill.js';
import { teamDefinitionSchema } from '../../src/teams/schema.js';
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
  pattern: 'concurrent',
  input: businessArticle,
  options: { stream: false },
};
const branches = ['summarizer', 'classifier', 'extractor', 'analyst'];

/** Most agent calls in flight at once, from the event stream. */
function maxInFlight(events: readonly RunEvent[]): number {
  let now = 0;
  let max = 0;
  for (const e of events) {
    if (e.type === 'agent.started') max = Math.max(max, ++now);
    if (e.type === 'agent.completed' || e.type === 'agent.failed') now -= 1;
  }
  return max;
}

/** A team of voters: each agent answers the classification question with the given skill. */
function votingTeam(skills: string[], aggregator: 'vote' | 'merge' = 'vote') {
  return teamDefinitionSchema.parse({
    name: 'voters',
    description: 'Agents answering the same question.',
    agents: skills.map((skill, i) => ({
      name: `voter-${i + 1}`,
      description: 'Answers whether an article is about business.',
      instructions: 'Answer JSON {"isBusiness","reason"}.',
      simulation: { skill },
    })),
    patterns: { concurrent: { agents: skills.map((_, i) => `voter-${i + 1}`), aggregator } },
  });
}

const dissent: Skill = () => ({ json: { isBusiness: false, reason: 'It reads like a sports story.' } });
const shouting: Skill = () => ({
  text: '{ "reason": "  THE ARTICLE DISCUSSES COMPANIES,   MARKETS OR FINANCIAL RESULTS ",  "isBusiness": true }',
});

describe('concurrent', () => {
  it('fans the task out to every agent and merges their structured answers into the team schema', async () => {
    const engine = createTestEngine({ latencyMs: [20, 20] });
    const out = await engine.run(request);

    expect(out.status).toBe('succeeded');
    expect(trace(out.events.events)).toEqual([
      'run.started',
      ...branches.map((a) => `agent.started(${a})`),
      ...branches.map((a) => `agent.completed(${a})`),
    ]);
    const report = newsDeskOutputSchema.parse(out.output?.structured);
    expect(report.title).toBe('Contoso Motors raises guidance after record quarter');
    expect(report.isBusiness).toBe(true);
    // The analyst comes after the extractor: its company objects win over the extractor's names.
    expect(report.companies.map((c) => c.direction)).toEqual(['increase', 'decrease']);
    expect(out.details).toMatchObject({ aggregator: 'merge' });
    // Every branch got the bare task: no earlier work, no instruction.
    for (const r of engine.model.requests) expect(r.messages.at(-1)?.content).not.toContain('# Work so far');
  });

  it('keeps at most options.concurrency branches in flight; without a limit all four run at once', async () => {
    const limited = createTestEngine({ latencyMs: [60, 60] });
    const serial = await limited.run({ ...request, options: { stream: false, concurrency: 2 } });
    expect(maxInFlight(serial.events.events)).toBe(2);

    // All four started before any finished (read from the events, not from a wall-clock bound a loaded host
    // could miss).
    const open = createTestEngine({ latencyMs: [60, 60] });
    const all = await open.run(request);
    expect(maxInFlight(all.events.events)).toBe(4);
  });

  it('succeeds with the other branches, partial, when one branch times out', async () => {
    const engine = createTestEngine({ teams: teams(testTeam('news-desk')), faults: hang('extractor') });
    const out = await engine.run(request);

    expect(out.status).toBe('succeeded');
    expect(out.partial).toBe(true);
    expect(out.failedAgents).toEqual(['extractor']);
    // The analyst found the companies itself, so the merge still fills the team schema.
    expect(newsDeskOutputSchema.safeParse(out.output?.structured).success).toBe(true);
    expect(out.details?.branches).toContainEqual(
      expect.objectContaining({
        agent: 'extractor',
        status: 'failed',
        error: expect.objectContaining({ code: 'AGENT_FAILED' }),
      }),
    );
  });

  it('keeps the merged text but no structured output when the failed branch leaves the team schema unfilled', async () => {
    const engine = createTestEngine({ teams: teams(testTeam('news-desk')), faults: hang('summarizer') });
    const out = await engine.run(request);

    expect(out.status).toBe('succeeded');
    expect(out.partial).toBe(true);
    expect(out.output?.structured).toBeUndefined();
    expect(JSON.parse(out.output?.text ?? '{}')).toMatchObject({ isBusiness: true });
    expect(out.details?.outputProblems).toContain('title');
  });

  it('fails with TOO_FEW_BRANCHES when fewer than minSuccessful branches succeed', async () => {
    const engine = createTestEngine({ teams: teams(testTeam('news-desk')), faults: hang('extractor') });
    const three = await engine.run({ ...request, options: { stream: false, minSuccessful: 3 } });
    expect(three.status).toBe('succeeded');

    const four = await engine.run({ ...request, options: { stream: false, minSuccessful: 4 } });
    expect(four.status).toBe('failed');
    expect(four.error).toMatchObject({
      code: 'TOO_FEW_BRANCHES',
      details: { required: 4, failedAgents: ['extractor'] },
    });
  });

  it('fails with TOO_FEW_BRANCHES when every branch fails', async () => {
    const engine = createTestEngine({ teams: teams(testTeam('news-desk')), faults: hang(...branches) });
    const out = await engine.run(request);
    expect(out.status).toBe('failed');
    expect(out.error?.code).toBe('TOO_FEW_BRANCHES');
    expect(out.error?.details?.failedAgents).toEqual(branches);
  });

  it('does not reach the model for a branch whose breaker is open', async () => {
    const engine = createTestEngine({
      teams: teams(testTeam('news-desk', { failureThreshold: 1 })),
      faults: hang('extractor'),
    });
    await engine.run(request);
    expect(engine.breakers.state('extractor')).toBe('open');
    const before = engine.model.requests.length;

    const out = await engine.run(request);
    expect(agentsRequested(engine.model.requests.slice(before)).sort()).toEqual([
      'analyst',
      'classifier',
      'summarizer',
    ]);
    expect(out.status).toBe('succeeded');
    expect(out.failedAgents).toEqual(['extractor']);
    expect(out.steps.find((s) => s.agent === 'extractor')?.error?.code).toBe('CIRCUIT_OPEN');
  });

  it('votes: the majority of normalised answers wins', async () => {
    const engine = createTestEngine({
      teams: teams(votingTeam(['test.dissent', 'news.classify', 'test.shouting'])),
      skills: { 'test.dissent': dissent, 'test.shouting': shouting },
    });
    const out = await engine.run({ team: 'voters', pattern: 'concurrent', input: businessArticle });

    expect(out.status).toBe('succeeded');
    expect(out.details).toMatchObject({
      aggregator: 'vote',
      winner: 'voter-2',
      votes: [
        { agents: ['voter-2', 'voter-3'], count: 2 },
        { agents: ['voter-1'], count: 1 },
      ],
    });
    expect(JSON.parse(out.output?.text ?? '{}')).toMatchObject({ isBusiness: true });
  });

  it('votes: a tie goes to the agent listed first', async () => {
    const engine = createTestEngine({
      teams: teams(votingTeam(['test.dissent', 'news.classify'])),
      skills: { 'test.dissent': dissent },
    });
    const out = await engine.run({ team: 'voters', pattern: 'concurrent', input: businessArticle });
    expect(out.details).toMatchObject({ winner: 'voter-1' });
    expect(JSON.parse(out.output?.text ?? '{}')).toMatchObject({ isBusiness: false });

    const reversed = createTestEngine({
      teams: teams(votingTeam(['news.classify', 'test.dissent'])),
      skills: { 'test.dissent': dissent },
    });
    const other = await reversed.run({ team: 'voters', pattern: 'concurrent', input: businessArticle });
    expect(other.details).toMatchObject({ winner: 'voter-1' });
    expect(JSON.parse(other.output?.text ?? '{}')).toMatchObject({ isBusiness: true });
  });

  it('normalises text and JSON answers before comparing them', () => {
    expect(normaliseAnswer('  Increase. ')).toEqual(normaliseAnswer('increase'));
    expect(normaliseAnswer('{"b": 1, "a": "X  Y"}')).toEqual(normaliseAnswer({ a: 'x y', b: 1 }));
    expect(normaliseAnswer('stay')).not.toEqual(normaliseAnswer('increase'));
  });

  it('options.aggregator overrides the team’s aggregator', async () => {
    const engine = createTestEngine({
      teams: teams(
        votingTeam(['test.dissent', 'news.classify', 'news.classify'], 'merge'),
        testTeam('news-desk'),
      ),
      skills: { 'test.dissent': dissent },
    });
    const merged = await engine.run({ team: 'voters', pattern: 'concurrent', input: businessArticle });
    expect(merged.details).toMatchObject({ aggregator: 'merge' });
    const voted = await engine.run({
      team: 'voters',
      pattern: 'concurrent',
      input: businessArticle,
      options: { aggregator: 'vote' },
    });
    expect(voted.details).toMatchObject({ aggregator: 'vote', winner: 'voter-2' });

    const invalid = await engine.run({ ...request, options: { stream: false, aggregator: 'agent' } });
    expect(invalid.status).toBe('failed');
    expect(invalid.error?.code).toBe('INVALID_RUN');
  });

  it('an aggregator agent sees every branch’s answer as earlier work and writes the final answer', async () => {
    const editorAggregates = testTeam('news-desk', {
      change: (t) => ({
        ...t,
        patterns: { ...t.patterns, concurrent: { agents: branches, aggregator: { agent: 'editor' } } },
      }),
    });
    const engine = createTestEngine({ teams: teams(editorAggregates) });
    const out = await engine.run(request);

    expect(out.status).toBe('succeeded');
    expect(trace(out.events.events).slice(-2)).toEqual(['agent.started(editor)', 'agent.completed(editor)']);
    const prompt = engine.model.requests.at(-1)?.messages.at(-1)?.content ?? '';
    for (const b of branches) expect(prompt).toContain(`## ${b}`);
    expect(newsDeskOutputSchema.parse(out.output?.structured).companies).toHaveLength(2);
  });

  it('merges the branches when the aggregator agent fails, partial', async () => {
    const editorAggregates = testTeam('news-desk', {
      change: (t) => ({
        ...t,
        patterns: { ...t.patterns, concurrent: { agents: branches, aggregator: { agent: 'editor' } } },
      }),
    });
    const engine = createTestEngine({ teams: teams(editorAggregates), faults: hang('editor') });
    const out = await engine.run(request);

    expect(out.status).toBe('succeeded');
    expect(out.partial).toBe(true);
    expect(out.failedAgents).toEqual(['editor']);
    expect(out.details).toMatchObject({ aggregatedBy: 'merge' });
    expect(newsDeskOutputSchema.safeParse(out.output?.structured).success).toBe(true);
  });

  it('support-desk: every specialist answers and triage picks the one the ticket is about', async () => {
    const engine = createTestEngine();
    const out = await engine.run({
      team: 'support-desk',
      pattern: 'concurrent',
      input: 'Our webhook integration fails: the API endpoint returns errors since this morning.',
      options: { stream: false },
    });
    expect(out.status).toBe('succeeded');
    expect(supportDeskOutputSchema.parse(out.output?.structured)).toMatchObject({
      specialist: 'technical',
      category: 'integration',
    });
    expect(agentsRequested(engine.model.requests).at(-1)).toBe('triage');
  });

  it('is cancelled while the branches are in flight', async () => {
    const { controller, cancel } = cancelController();
    const engine = createTestEngine({
      latencyMs: [50, 50],
      faults: (_request, call) => {
        if (call === 1) setTimeout(cancel, 10);
        return undefined;
      },
    });
    const out = await engine.run(request, { signal: controller.signal });

    expect(out.status).toBe('cancelled');
    expect(out.error?.code).toBe('RUN_CANCELLED');
    expect(trace(out.events.events).filter((t) => t.startsWith('agent.completed'))).toEqual([]);
    expect(out.steps).toEqual([]);
  });

  it('resumes from the journal after an interruption without calling any branch twice', async () => {
    const options = { stream: false, concurrency: 1 };
    const reference = await createTestEngine().run({ ...request, options });
    const drain = new AbortController();
    const engine = createTestEngine({
      faults: (_request, call) => {
        if (call === 2) drain.abort();
        return undefined;
      },
    });
    const journal = memoryJournal();
    await expect(
      engine.run({ ...request, options }, { journal, drain: drain.signal }),
    ).rejects.toBeInstanceOf(RunInterruptedError);
    const interrupted = agentKeys(journal);
    expect(interrupted).toEqual(['conc/0/agent:summarizer', 'conc/1/agent:classifier']);

    const resumed = await engine.run({ ...request, options }, { journal, attempt: 2 });
    expect(resumed.status).toBe('succeeded');
    expect(resumed.output).toEqual(reference.output);
    expect(engine.model.requests).toHaveLength(4);
    expectEachKeyOnce(
      [interrupted, startedKeys(resumed.events.events)],
      branches.map((a, i) => `conc/${i}/agent:${a}`),
    );
  });

  it('keeps what finished when the model-call budget runs out, partial', async () => {
    const engine = createTestEngine();
    const out = await engine.run({
      ...request,
      options: { stream: false, concurrency: 1, maxModelCalls: 2 },
    });

    expect(out.status).toBe('succeeded');
    expect(out.partial).toBe(true);
    expect(engine.model.requests).toHaveLength(2);
    expect(patternEvents(out.events.events)).toEqual(['run.started', 'budget.exceeded']);
    expect(out.details).toMatchObject({ stopReason: 'BUDGET_EXCEEDED', notRun: ['extractor', 'analyst'] });
    expect(JSON.parse(out.output?.text ?? '{}')).toMatchObject({
      isBusiness: true,
      title: expect.any(String),
    });
  });

  it('fails with BUDGET_EXCEEDED when the budget leaves fewer than minSuccessful branches', async () => {
    const engine = createTestEngine();
    const out = await engine.run({
      ...request,
      options: { stream: false, concurrency: 1, maxModelCalls: 2, minSuccessful: 3 },
    });
    expect(out.status).toBe('failed');
    expect(out.error?.code).toBe('BUDGET_EXCEEDED');
  });
});
