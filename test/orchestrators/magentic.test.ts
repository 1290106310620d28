import { describe, expect, it } from 'vitest';
import { newsDeskOutputSchema } from '../../evals/news-desk-output.js';
import { supportDeskOutputSchema } from '../../evals/support-desk-output.js';
import { RunInterruptedError } from '../../src/core/errors.js';
import type { RunEvent } from '../../src/core/events.js';
import type { ChatRequest } from '../../src/core/model.js';
import { memoryJournal } from '../../src/runs/journal.js';
import type { RunRequest } from '../../src/runs/schema.js';
import { managerSkill, newsManagerPlaybook } from '../../src/simulation/manager-skills.js';
import type { Skill } from '../../src/simulation/skill.js';
import { createTestEngine } from '../support/engine.js';
import {
  agentKeys,
  agentsRequested,
  businessArticle,
  cancelController,
  expectEachKeyOnce,
  hang,
  patternEvents,
  sportsArticle,
  startedKeys,
  teams,
  testTeam,
  trace,
} from './helpers.js';

const request: RunRequest = {
  team: 'news-desk',
  pattern: 'magentic',
  input: businessArticle,
  options: { stream: false },
};
const participants = ['summarizer', 'classifier', 'extractor', 'analyst'];
const manager = managerSkill(newsManagerPlaybook);

const isProgressLedger = (request: ChatRequest) =>
  JSON.stringify(request.responseFormat?.schema ?? {}).includes('is_request_satisfied');

/** The real manager, with some progress-ledger answers forced (a manager that misjudges the situation). */
function forcing(overrides: Record<string, unknown>): Skill {
  return (input) => {
    const out = manager(input);
    if (!isProgressLedger(input.request)) return out;
    const ledger = out.json as Record<string, { reason: string; answer: unknown }>;
    const forced = Object.fromEntries(
      Object.entries(overrides).map(([k, answer]) => [k, { reason: 'forced by the test', answer }]),
    );
    return { json: { ...ledger, ...forced } };
  };
}

function ledgers(events: readonly RunEvent[]) {
  return events.flatMap((e) => (e.type === 'ledger.updated' ? [e] : []));
}

describe('magentic', () => {
  it('news-desk: plans, asks each missing participant in turn, and synthesises the report', async () => {
    const engine = createTestEngine();
    const out = await engine.run(request);

    expect(out.status).toBe('succeeded');
    const round = (speaker?: string) => [
      'agent.started(desk-manager)',
      'agent.completed(desk-manager)',
      'ledger.updated',
      ...(speaker ? [`agent.started(${speaker})`, `agent.completed(${speaker})`] : []),
    ];
    expect(trace(out.events.events)).toEqual([
      'run.started',
      'agent.started(desk-manager)',
      'agent.completed(desk-manager)',
      'plan.created',
      ...participants.flatMap((p) => round(p)),
      ...round(),
      'agent.started(desk-manager)',
      'agent.completed(desk-manager)',
    ]);
    const last = ledgers(out.events.events).at(-1);
    expect(last?.round).toBe(5);
    expect(last?.ledger).toMatchObject({ is_request_satisfied: { answer: true } });
    expect(out.details).toMatchObject({
      taskLedger: {
        facts: { given_or_verified: expect.any(Array), to_look_up: expect.any(Array) },
        plan: participants.map((agent) => ({ agent, step: expect.any(String) })),
      },
      progressLedger: { is_request_satisfied: { answer: true } },
      rounds: 5,
      resets: 0,
      stalls: 0,
    });
    const report = newsDeskOutputSchema.parse(out.output?.structured);
    expect(report.companies.map((c) => c.direction)).toEqual(['increase', 'decrease']);
    expect(out.partial).toBeUndefined();
    // The participant got the manager's instruction.
    const extractor = engine.model.requests.find((r) => r.agent === 'extractor');
    expect(extractor?.messages.at(-1)?.content).toContain(
      '# Instruction\nList the companies the article names.',
    );
  });

  it('news-desk: a non-business article is done after summary and classification', async () => {
    const engine = createTestEngine();
    const out = await engine.run({ ...request, input: sportsArticle });
    expect(out.status).toBe('succeeded');
    expect(agentsRequested(engine.model.requests).filter((a) => a !== 'desk-manager')).toEqual([
      'summarizer',
      'classifier',
    ]);
    expect(out.details).toMatchObject({ rounds: 3 });
    expect(newsDeskOutputSchema.parse(out.output?.structured)).toMatchObject({
      isBusiness: false,
      companies: [],
    });
  });

  it('support-desk: the manager asks the specialist the ticket is about', async () => {
    const engine = createTestEngine();
    const out = await engine.run({
      team: 'support-desk',
      pattern: 'magentic',
      input: 'Everything is slow today: pages time out and the API has huge latency.',
      options: { stream: false },
    });
    expect(out.status).toBe('succeeded');
    expect(agentsRequested(engine.model.requests)).toEqual([
      'support-manager',
      'support-manager',
      'technical',
      'support-manager',
      'support-manager',
    ]);
    expect(supportDeskOutputSchema.parse(out.output?.structured)).toMatchObject({
      specialist: 'technical',
      category: 'performance',
    });
  });

  it('replans without a participant that times out and never asks it again', async () => {
    const engine = createTestEngine({ teams: teams(testTeam('news-desk')), faults: hang('summarizer') });
    const out = await engine.run(request);

    expect(out.status).toBe('succeeded');
    expect(out.partial).toBe(true);
    expect(out.failedAgents).toEqual(['summarizer']);
    expect(patternEvents(out.events.events).slice(0, 5)).toEqual([
      'run.started',
      'plan.created',
      'ledger.updated',
      'replanned',
      'ledger.updated',
    ]);
    const replanned = out.events.events.find((e) => e.type === 'replanned');
    expect(replanned).toMatchObject({
      reset: 1,
      ledger: { reason: 'agent-failed', excluded: ['summarizer'] },
    });
    const plan = (replanned?.type === 'replanned' ? replanned.ledger.plan : []) as { agent: string }[];
    expect(plan.map((s) => s.agent)).not.toContain('summarizer');
    expect(agentsRequested(engine.model.requests).filter((a) => a === 'summarizer')).toHaveLength(1);
    for (const l of ledgers(out.events.events).slice(1)) {
      expect((l.ledger as { next_speaker: { answer: string } }).next_speaker.answer).not.toBe('summarizer');
    }
    // The manager writes the title and summary itself from the article.
    expect(newsDeskOutputSchema.parse(out.output?.structured).title).toBe(
      'Contoso Motors raises guidance after record quarter',
    );
    expect(out.details).toMatchObject({ excluded: ['summarizer'] });
  });

  it('treats a participant with an open breaker as failed without calling it', async () => {
    const engine = createTestEngine({
      teams: teams(testTeam('news-desk', { failureThreshold: 1 })),
      faults: hang('summarizer'),
    });
    await engine.run(request);
    expect(engine.breakers.state('summarizer')).toBe('open');
    const before = engine.model.requests.length;

    const out = await engine.run(request);
    expect(agentsRequested(engine.model.requests.slice(before))).not.toContain('summarizer');
    expect(out.status).toBe('succeeded');
    expect(out.failedAgents).toEqual(['summarizer']);
    expect(out.steps.find((s) => s.agent === 'summarizer')?.error?.code).toBe('CIRCUIT_OPEN');
  });

  it('resets after more than maxStalls stalled rounds and stops when maxResets are used up', async () => {
    const engine = createTestEngine({
      skills: { 'news.manager': forcing({ is_progress_being_made: false }) },
    });
    const out = await engine.run({ ...request, options: { stream: false, maxStalls: 1, maxResets: 1 } });

    expect(out.status).toBe('succeeded');
    expect(out.partial).toBe(true);
    // Round 1: 1 stall, speaker. Round 2: 2 stalls > 1 → reset. Round 3: 1 stall, speaker. Round 4: resets used up.
    expect(patternEvents(out.events.events)).toEqual([
      'run.started',
      'plan.created',
      'ledger.updated',
      'ledger.updated',
      'replanned',
      'ledger.updated',
      'ledger.updated',
    ]);
    expect(out.events.events.find((e) => e.type === 'replanned')).toMatchObject({
      reset: 1,
      ledger: { reason: 'stalled' },
    });
    expect(out.details).toMatchObject({ rounds: 4, resets: 1, stalls: 2, stopReason: 'MAX_RESETS' });
    // plan + 4 ledgers + replan + final = 7 manager calls; 2 speaker turns.
    expect(agentsRequested(engine.model.requests)).toEqual([
      'desk-manager',
      'desk-manager',
      'summarizer',
      'desk-manager',
      'desk-manager',
      'desk-manager',
      'summarizer',
      'desk-manager',
      'desk-manager',
    ]);
    // The reset cleared the team's context: round 3's ledger no longer sees the summarizer's first answer.
    const ledgerPrompts = engine.model.requests
      .filter(isProgressLedger)
      .map((r) => r.messages.at(-1)?.content);
    expect(ledgerPrompts[1]).toContain('## summarizer');
    expect(ledgerPrompts[2]).not.toContain('## summarizer');
    expect(newsDeskOutputSchema.safeParse(out.output?.structured).success).toBe(true);
  });

  it('a loop reported by the manager counts as a stall', async () => {
    const engine = createTestEngine({ skills: { 'news.manager': forcing({ is_in_loop: true }) } });
    const out = await engine.run({ ...request, options: { stream: false, maxStalls: 0, maxResets: 0 } });
    expect(out.details).toMatchObject({ rounds: 1, resets: 0, stopReason: 'MAX_RESETS' });
    expect(agentsRequested(engine.model.requests)).toEqual(['desk-manager', 'desk-manager', 'desk-manager']);
  });

  it('stops after maxRounds progress ledgers and still synthesises an answer, partial', async () => {
    const engine = createTestEngine({ skills: { 'news.manager': forcing({ is_request_satisfied: false }) } });
    const out = await engine.run({ ...request, options: { stream: false, maxRounds: 3 } });

    expect(out.status).toBe('succeeded');
    expect(out.partial).toBe(true);
    expect(out.details).toMatchObject({ rounds: 3, stopReason: 'MAX_ROUNDS' });
    expect(ledgers(out.events.events)).toHaveLength(3);
    // plan, 3 × (ledger + speaker), final.
    expect(engine.model.requests).toHaveLength(8);
    expect(newsDeskOutputSchema.safeParse(out.output?.structured).success).toBe(true);
  });

  it('retries an invalid ledger under its own key and goes on when the retry is valid', async () => {
    let broken = 0;
    const flaky: Skill = (input) => {
      if (isProgressLedger(input.request) && broken === 0) {
        broken += 1;
        return { text: '{"is_request_satisfied": "not sure"}' };
      }
      return manager(input);
    };
    const engine = createTestEngine({ skills: { 'news.manager': flaky } });
    const out = await engine.run(request);

    expect(out.status).toBe('succeeded');
    expect(out.steps.filter((s) => s.status === 'failed').map((s) => s.key)).toEqual(['mag/round:1/ledger']);
    expect(startedKeys(out.events.events)).toContain('mag/round:1/ledger/retry:1');
    const retry = engine.model.requests[2];
    expect(retry?.messages.at(-1)?.content).toContain('Your previous ledger was rejected');
  });

  it('fails with LEDGER_INVALID after the bounded retries, keeping the raw answers (also on replay)', async () => {
    const garbled: Skill = (input) =>
      isProgressLedger(input.request) ? { text: '{"is_request_satisfied": "not sure"}' } : manager(input);
    const engine = createTestEngine({ skills: { 'news.manager': garbled } });
    const journal = memoryJournal();
    const out = await engine.run(request, { journal });

    expect(out.status).toBe('failed');
    expect(out.error?.code).toBe('LEDGER_INVALID');
    const attempts = (out.error?.details?.attempts ?? []) as { key: string; raw: string }[];
    expect(attempts.map((a) => a.key)).toEqual([
      'mag/round:1/ledger',
      'mag/round:1/ledger/retry:1',
      'mag/round:1/ledger/retry:2',
    ]);
    for (const a of attempts) expect(a.raw).toContain('not sure');
    // The task ledger, then 1 + 2 progress-ledger attempts: nobody else was called.
    expect(agentsRequested(engine.model.requests)).toEqual(Array(4).fill('desk-manager'));

    const replayed = await engine.run(request, { journal, attempt: 2 });
    expect(engine.model.requests).toHaveLength(4);
    expect(replayed.error).toEqual(out.error);
  });

  it('is cancelled while a participant’s model call is in flight', async () => {
    const { controller, cancel } = cancelController();
    const engine = createTestEngine({
      latencyMs: [40, 40],
      faults: (req) => {
        if (req.agent === 'classifier') setTimeout(cancel, 10);
        return undefined;
      },
    });
    const out = await engine.run(request, { signal: controller.signal });
    expect(out.status).toBe('cancelled');
    expect(out.error?.code).toBe('RUN_CANCELLED');
    expect(agentsRequested(engine.model.requests).at(-1)).toBe('classifier');
    expect(engine.model.requests).toHaveLength(5);
  });

  it('resumes from the journal without repeating model calls or ledger events', async () => {
    const reference = await createTestEngine().run(request);
    const drain = new AbortController();
    const engine = createTestEngine({
      faults: (_request, call) => {
        if (call === 5) drain.abort();
        return undefined;
      },
    });
    const journal = memoryJournal();
    await expect(engine.run(request, { journal, drain: drain.signal })).rejects.toBeInstanceOf(
      RunInterruptedError,
    );
    const interrupted = agentKeys(journal);
    expect(interrupted).toEqual([
      'mag/plan',
      'mag/round:1/ledger',
      'mag/round:1/agent:summarizer',
      'mag/round:2/ledger',
      'mag/round:2/agent:classifier',
    ]);

    const resumed = await engine.run(request, { journal, attempt: 2 });
    expect(resumed.status).toBe('succeeded');
    expect(resumed.output).toEqual(reference.output);
    expect(resumed.details).toEqual(reference.details);
    expect(engine.model.requests).toHaveLength(reference.steps.length);
    expectEachKeyOnce(
      [interrupted, startedKeys(resumed.events.events)],
      reference.steps.map((s) => s.key),
    );
    // plan.created and the ledgers of rounds 1–2 went out in the first attempt; they are not sent again.
    expect(patternEvents(resumed.events.events)).toEqual([
      'run.started',
      'ledger.updated',
      'ledger.updated',
      'ledger.updated',
    ]);
    expect(ledgers(resumed.events.events).map((l) => l.round)).toEqual([3, 4, 5]);
  });

  it('stops at a spent budget with the last participant’s answer, partial', async () => {
    const engine = createTestEngine();
    const out = await engine.run({ ...request, options: { stream: false, maxModelCalls: 4 } });

    expect(out.status).toBe('succeeded');
    expect(out.partial).toBe(true);
    expect(out.details).toMatchObject({ stopReason: 'BUDGET_EXCEEDED', rounds: 2 });
    expect(JSON.parse(out.output?.text ?? '{}')).toHaveProperty('title');
    expect(patternEvents(out.events.events)).toEqual([
      'run.started',
      'plan.created',
      'ledger.updated',
      'ledger.updated',
      'budget.exceeded',
    ]);
  });

  it('fails with BUDGET_EXCEEDED when the budget runs out before any participant answered', async () => {
    const engine = createTestEngine();
    const out = await engine.run({ ...request, options: { stream: false, maxModelCalls: 2 } });
    expect(out.status).toBe('failed');
    expect(out.error?.code).toBe('BUDGET_EXCEEDED');
  });
});
