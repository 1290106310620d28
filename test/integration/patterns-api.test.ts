import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEventType } from '../../src/core/events.js';
import { CLIENT_KEY, client } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startService } from '../support/service.js';

/** Every pattern through the real API, queue and worker, with the events each promises on the SSE stream. */
let redis: TestRedis;
let service: Awaited<ReturnType<typeof startService>>;

beforeAll(async () => {
  redis = await startRedis();
  service = await startService(redis);
});
afterAll(async () => {
  await service?.stop();
  await redis?.stop();
});

const promised: Record<string, RunEventType[]> = {
  sequential: ['run.started', 'agent.started', 'agent.delta', 'agent.completed', 'run.completed'],
  concurrent: ['run.started', 'agent.started', 'agent.completed', 'run.completed'],
  handoff: ['run.started', 'agent.started', 'handoff', 'agent.completed', 'run.completed'],
  magentic: ['run.started', 'plan.created', 'ledger.updated', 'agent.completed', 'run.completed'],
  'group-chat': ['run.started', 'speaker.selected', 'agent.completed', 'run.completed'],
  map: ['run.started', 'agent.started', 'agent.completed', 'run.completed'],
};

describe('news-desk under every pattern, through the API', () => {
  for (const pattern of ['sequential', 'concurrent', 'handoff', 'magentic', 'group-chat', 'map'] as const) {
    it(`${pattern}: succeeds with the team's output schema and the pattern's events`, async () => {
      const c = client(service.url, CLIENT_KEY);
      const { run, status } = await c.createRun({ team: 'news-desk', pattern, input: sampleArticle });
      expect(status).toBe(202);
      const events = await c.events(run.id);
      const types = new Set(events.map((e) => e.event.type));
      for (const t of promised[pattern] ?? []) expect(types, `${pattern} should emit ${t}`).toContain(t);
      const done = await c.getRun(run.id);
      expect(done.status).toBe('succeeded');
      expect(done.output?.structured).toMatchObject({
        isBusiness: true,
        companies: expect.arrayContaining([expect.objectContaining({ name: 'Contoso Motors' })]),
      });
      expect(done.steps.length).toBe(done.usage.modelCalls);
      if (pattern === 'magentic') expect(done.details).toHaveProperty('taskLedger');
      if (pattern === 'map')
        expect(done.steps.map((s) => s.agent)).toEqual(['extractor', 'analyst', 'analyst', 'editor']);
    });
  }

  it('group-chat with the manager choosing speakers (options.chatMode)', async () => {
    const c = client(service.url, CLIENT_KEY);
    const { run } = await c.createRun({
      team: 'news-desk',
      pattern: 'group-chat',
      input: sampleArticle,
      options: { chatMode: 'manager' },
    });
    const events = await c.events(run.id);
    const chosen = events
      .map((e) => e.event)
      .flatMap((e) => (e.type === 'speaker.selected' ? [e.speaker] : []));
    expect(chosen).toEqual(['summarizer', 'classifier', 'extractor', 'analyst']);
    const done = await c.getRun(run.id);
    expect(done.status).toBe('succeeded');
    expect(done.details).toMatchObject({ mode: 'manager', stopReason: 'MANAGER_DONE' });
    expect(done.output?.structured).toMatchObject({ isBusiness: true });
  });
});

describe('support-desk under handoff, through the API', () => {
  it('triage hands the ticket to the billing specialist, who resolves it', async () => {
    const c = client(service.url, CLIENT_KEY);
    const { run } = await c.createRun({
      team: 'support-desk',
      pattern: 'handoff',
      input:
        'I cancelled before the renewal date but the annual plan renewed anyway. Please refund the renewal and send my money back.',
    });
    const events = await c.events(run.id);
    const handoffs = events.map((e) => e.event).filter((e) => e.type === 'handoff');
    expect(handoffs[0]).toMatchObject({ from: 'triage', to: 'billing' });
    const done = await c.getRun(run.id);
    expect(done.status).toBe('succeeded');
    expect(done.output?.structured).toMatchObject({ specialist: 'billing', category: 'refund' });
  });
});
