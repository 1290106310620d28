import { describe, expect, it } from 'vitest';
import { newsDeskOutputSchema } from '../../evals/news-desk-output.js';
import { supportDeskOutputSchema } from '../../evals/support-desk-output.js';
import { RunInterruptedError } from '../../src/core/errors.js';
import { memoryJournal } from '../../src/runs/journal.js';
import type { RunRequest } from '../../src/runs/schema.js';
import { offeredTransfers, transferTo } from '../../src/simulation/handoff-skills.js';
import type { Skill } from '../../src/simulation/skill.js';
import { resolve } from '../../src/simulation/support-skills.js';
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
  pattern: 'handoff',
  input: businessArticle,
  options: { stream: false },
};
const specialists = ['summarizer', 'classifier', 'extractor', 'analyst'];

const ticket = (input: string, options: RunRequest['options'] = {}): RunRequest => ({
  team: 'support-desk',
  pattern: 'handoff',
  input,
  options: { stream: false, ...options },
});

/** Misbehaving models for the loop guard: triage always routes to billing, billing always hands back. */
const alwaysBilling: Skill = ({ request }) =>
  offeredTransfers(request).includes('billing')
    ? transferTo('billing', 'Looks like billing.')
    : { json: resolve('refund', 'billing') };
const bounceBack: Skill = ({ request }) =>
  offeredTransfers(request).includes('triage')
    ? transferTo('triage', 'Not mine.')
    : { json: resolve('refund', 'billing') };

describe('handoff', () => {
  it('news-desk: the chief hands the article to each specialist in turn and writes the report', async () => {
    const engine = createTestEngine();
    const out = await engine.run(request);

    expect(out.status).toBe('succeeded');
    expect(trace(out.events.events)).toEqual([
      'run.started',
      'agent.started(desk-chief)',
      'agent.completed(desk-chief)',
      ...specialists.flatMap((s) => [
        `handoff(desk-chief>${s})`,
        `agent.started(${s})`,
        `agent.completed(${s})`,
        `handoff(${s}>desk-chief)`,
        'agent.started(desk-chief)',
        'agent.completed(desk-chief)',
      ]),
    ]);
    const report = newsDeskOutputSchema.parse(out.output?.structured);
    expect(report.companies.map((c) => [c.name, c.direction])).toEqual([
      ['Contoso Motors', 'increase'],
      ['Fabrikam Industries', 'decrease'],
    ]);
    expect(out.partial).toBeUndefined();
    expect(out.details).toMatchObject({ owner: 'desk-chief', transfers: 4 });
    // Transfer turns offer one tool per declared handoff, one transfer at a time.
    const first = engine.model.requests[0];
    expect(first?.tools?.map((t) => t.name)).toEqual(specialists.map((s) => `transfer_to_${s}`));
    expect(first?.parallelToolCalls).toBe(false);
  });

  it('passes the conversation on per options.context; the owner always sees all of it', async () => {
    const engine = createTestEngine();
    const out = await engine.run({ ...request, options: { stream: false, context: 'last' } });
    expect(out.status).toBe('succeeded');
    const prompt = (agent: string) =>
      engine.model.requests
        .filter((r) => r.agent === agent)
        .at(-1)
        ?.messages.at(-1)?.content ?? '';
    expect(prompt('analyst')).toContain('## desk-chief\nTransferred to analyst');
    expect(prompt('analyst')).not.toContain('## extractor');
    for (const s of specialists) expect(prompt('desk-chief')).toContain(`## ${s}`);
  });

  it('news-desk: a non-business article needs no company work', async () => {
    const engine = createTestEngine();
    const out = await engine.run({ ...request, input: sportsArticle });
    expect(out.status).toBe('succeeded');
    expect(agentsRequested(engine.model.requests)).toEqual([
      'desk-chief',
      'summarizer',
      'desk-chief',
      'classifier',
      'desk-chief',
    ]);
    expect(newsDeskOutputSchema.parse(out.output?.structured)).toMatchObject({
      isBusiness: false,
      companies: [],
    });
  });

  it.each([
    ['I cancelled last week but was billed again; please refund me.', 'billing', 'refund'],
    ['The dashboard is down and shows a 503 error.', 'technical', 'outage'],
    ['I forgot my password and the reset link never arrived.', 'account', 'password-reset'],
  ])('support-desk: triage routes "%s" to %s', async (input, specialist, category) => {
    const engine = createTestEngine();
    const out = await engine.run(ticket(input));

    expect(out.status).toBe('succeeded');
    expect(trace(out.events.events).filter((t) => t.startsWith('handoff'))).toEqual([
      `handoff(triage>${specialist})`,
      `handoff(${specialist}>triage)`,
    ]);
    expect(supportDeskOutputSchema.parse(out.output?.structured)).toMatchObject({ specialist, category });
  });

  it('support-desk: options.entryAgent starts elsewhere; a specialist hands a ticket that is not theirs back', async () => {
    const engine = createTestEngine();
    const out = await engine.run(
      ticket('I cannot log in: I am locked out after 2FA.', { entryAgent: 'billing' }),
    );

    expect(out.status).toBe('succeeded');
    expect(trace(out.events.events).filter((t) => t.startsWith('handoff'))).toEqual([
      'handoff(billing>triage)',
      'handoff(triage>account)',
      'handoff(account>billing)',
    ]);
    expect(out.output?.structured).toMatchObject({ specialist: 'account', category: 'login' });
    expect(out.details).toMatchObject({ owner: 'billing', transfers: 2 });
  });

  it('routes to the fallback agent when a specialist times out, and does not offer it again', async () => {
    const engine = createTestEngine({ teams: teams(testTeam('news-desk')), faults: hang('summarizer') });
    const out = await engine.run(request);

    expect(out.status).toBe('succeeded');
    expect(out.partial).toBe(true);
    expect(out.failedAgents).toEqual(['summarizer']);
    expect(
      trace(out.events.events)
        .filter((t) => t.startsWith('handoff'))
        .slice(0, 3),
    ).toEqual(['handoff(desk-chief>summarizer)', 'handoff(summarizer>editor)', 'handoff(editor>desk-chief)']);
    expect(agentsRequested(engine.model.requests).filter((a) => a === 'summarizer')).toHaveLength(1);
    const later = engine.model.requests.filter((r) => r.agent === 'desk-chief').slice(1);
    for (const r of later) expect(r.tools?.map((t) => t.name) ?? []).not.toContain('transfer_to_summarizer');
    expect(newsDeskOutputSchema.safeParse(out.output?.structured).success).toBe(true);
  });

  it('fails with AGENT_FAILED when an agent fails and the team declares no fallback', async () => {
    const noFallback = testTeam('news-desk', {
      change: (t) => ({ ...t, patterns: { ...t.patterns, handoff: { entry: 'desk-chief' } } }),
    });
    const engine = createTestEngine({ teams: teams(noFallback), faults: hang('summarizer') });
    const out = await engine.run(request);
    expect(out.status).toBe('failed');
    expect(out.error?.code).toBe('AGENT_FAILED');
  });

  it('skips an agent whose breaker is open in favour of the fallback, without calling it', async () => {
    const engine = createTestEngine({
      teams: teams(testTeam('support-desk', { failureThreshold: 1 })),
      faults: hang('billing'),
    });
    const refund = ticket('Please refund the duplicate payment on my invoice.');
    const first = await engine.run(refund);
    expect(first.failedAgents).toEqual(['billing']);
    expect(engine.breakers.state('billing')).toBe('open');
    const before = engine.model.requests.length;

    const out = await engine.run(refund);
    expect(agentsRequested(engine.model.requests.slice(before))).toEqual(['triage', 'generalist', 'triage']);
    expect(out.status).toBe('succeeded');
    expect(out.partial).toBe(true);
    expect(out.details).toMatchObject({ skipped: ['billing'] });
    const reroute = out.events.events.find((e) => e.type === 'handoff' && e.from === 'billing');
    expect(reroute).toMatchObject({
      to: 'generalist',
      reason: expect.stringContaining('circuit breaker open'),
    });
    expect(out.output?.structured).toMatchObject({ specialist: 'billing', category: 'refund' });
  });

  it('stops a ping-pong with HANDOFF_LOOP after the same A→B→A cycle is seen twice (no answer yet: failed)', async () => {
    const engine = createTestEngine({
      skills: { 'support.triage': alwaysBilling, 'support.specialist': bounceBack },
    });
    const out = await engine.run(ticket('Something is wrong with my account.'));

    expect(out.status).toBe('failed');
    expect(out.error?.code).toBe('HANDOFF_LOOP');
    expect(out.error?.details).toMatchObject({ loop: { cycle: ['triage', 'billing', 'triage'], seen: 2 } });
    // triage→billing, billing→triage, triage→billing, billing→triage: four turns, then the guard stops it.
    expect(agentsRequested(engine.model.requests)).toEqual(['triage', 'billing', 'triage', 'billing']);
    expect(patternEvents(out.events.events)).toEqual([
      'run.started',
      'handoff',
      'handoff',
      'handoff',
      'handoff',
    ]);
  });

  it('stops a ping-pong with HANDOFF_LOOP and returns the best answer so far (succeeded, partial)', async () => {
    const triage: Skill = ({ request, prompt }) =>
      prompt.prior.some((p) => p.agent === 'technical')
        ? alwaysBilling({ request, prompt, random: Math.random })
        : transferTo('technical', 'Technical first.');
    const specialist: Skill = (input) =>
      input.request.agent === 'technical'
        ? { json: resolve('the app crashes', 'technical') }
        : bounceBack(input);
    const engine = createTestEngine({
      skills: { 'support.triage': triage, 'support.specialist': specialist },
    });
    const out = await engine.run(ticket('The app crashes when I pay.'));

    expect(out.status).toBe('succeeded');
    expect(out.partial).toBe(true);
    expect(out.details).toMatchObject({ stopReason: 'HANDOFF_LOOP', bestFrom: 'technical' });
    expect(out.output?.structured).toMatchObject({ specialist: 'technical', category: 'bug' });
    expect(agentsRequested(engine.model.requests)).toEqual([
      'triage',
      'technical',
      'triage',
      'billing',
      'triage',
      'billing',
    ]);
  });

  it('refuses transfers beyond maxHandoffs: the agent answers itself and the run is partial', async () => {
    const engine = createTestEngine();
    const out = await engine.run({ ...request, options: { stream: false, maxHandoffs: 2 } });

    expect(out.status).toBe('succeeded');
    expect(out.partial).toBe(true);
    expect(out.details).toMatchObject({ stopReason: 'MAX_HANDOFFS', transfers: 2 });
    expect(agentsRequested(engine.model.requests)).toEqual([
      'desk-chief',
      'summarizer',
      'desk-chief',
      'classifier',
      'desk-chief',
      'desk-chief',
    ]);
    expect(engine.model.requests.at(-1)?.tools).toBeUndefined();
    expect(startedKeys(out.events.events).at(-1)).toBe('handoff/5/answer:desk-chief');
    expect(newsDeskOutputSchema.safeParse(out.output?.structured).success).toBe(true);
  });

  it('is cancelled while a specialist’s model call is in flight', async () => {
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
  });

  it('resumes from the journal without repeating model calls or handoff events', async () => {
    const reference = await createTestEngine().run(request);
    const drain = new AbortController();
    const engine = createTestEngine({
      faults: (_request, call) => {
        if (call === 4) drain.abort();
        return undefined;
      },
    });
    const journal = memoryJournal();
    await expect(engine.run(request, { journal, drain: drain.signal })).rejects.toBeInstanceOf(
      RunInterruptedError,
    );
    const interrupted = agentKeys(journal);
    expect(interrupted).toHaveLength(4);

    const resumed = await engine.run(request, { journal, attempt: 2 });
    expect(resumed.status).toBe('succeeded');
    expect(resumed.output).toEqual(reference.output);
    expect(engine.model.requests).toHaveLength(reference.steps.length);
    expectEachKeyOnce(
      [interrupted, startedKeys(resumed.events.events)],
      reference.steps.map((s) => s.key),
    );
    // The first attempt emitted the handoffs of its first turns; the resumed one emits only the rest.
    const resumedHandoffs = resumed.events.events.filter((e) => e.type === 'handoff').length;
    expect(resumedHandoffs).toBeLessThan(8);
    expect(resumedHandoffs).toBe(8 - 3);
  });

  it('stops at a spent budget with the best answer so far, partial', async () => {
    const engine = createTestEngine();
    const out = await engine.run({ ...request, options: { stream: false, maxModelCalls: 3 } });

    expect(out.status).toBe('succeeded');
    expect(out.partial).toBe(true);
    expect(out.details).toMatchObject({ stopReason: 'BUDGET_EXCEEDED', bestFrom: 'summarizer' });
    expect(JSON.parse(out.output?.text ?? '{}')).toHaveProperty('title');
    expect(patternEvents(out.events.events)).toContain('budget.exceeded');
    expect(engine.model.requests).toHaveLength(3);
  });

  it('fails with BUDGET_EXCEEDED when the budget runs out before any agent answered', async () => {
    const engine = createTestEngine();
    const out = await engine.run({ ...request, options: { stream: false, maxModelCalls: 1 } });
    expect(out.status).toBe('failed');
    expect(out.error?.code).toBe('BUDGET_EXCEEDED');
    expect(patternEvents(out.events.events)).toEqual(['run.started', 'handoff', 'budget.exceeded']);
  });
});
