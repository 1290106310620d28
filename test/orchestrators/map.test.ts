import { describe, expect, it } from 'vitest';
import { newsDeskOutputSchema } from '../../evals/news-desk-output.js';
import { memoryJournal } from '../../src/runs/journal.js';
import type { RunRequest } from '../../src/runs/schema.js';
import { createTestEngine } from '../support/engine.js';
import { agentKeys, agentsRequested, businessArticle, startedKeys, teams, testTeam } from './helpers.js';

/** An article naming five companies, so a map over them has something to fan out. */
const fiveCompanies = `Suppliers rally as Contoso Motors raises guidance

Contoso Motors raised its full-year guidance on Tuesday and its shares rose. Its suppliers Fabrikam Industries, Northwind Motors and Tailspin Industries expect higher orders. Woodgrove Industries warned that its profit will fall after a recall.`;

const request: RunRequest = {
  team: 'news-desk',
  pattern: 'map',
  input: businessArticle,
  options: { stream: false },
};

describe('map', () => {
  it('splits, works on each item once, and reduces into the team’s report: 1 + N + 1 steps', async () => {
    const engine = createTestEngine();
    const out = await engine.run({ ...request, input: fiveCompanies });
    expect(out.status).toBe('succeeded');
    const companies = (out.details as { items: number }).items;
    expect(companies).toBeGreaterThanOrEqual(4);
    expect(out.steps).toHaveLength(1 + companies + 1);
    expect(out.steps[0]?.key).toBe('map/split/agent:extractor');
    expect(out.steps.at(-1)?.key).toBe('map/reduce/agent:editor');
    expect(agentsRequested(engine.model.requests).filter((a) => a === 'analyst')).toHaveLength(companies);
    const report = newsDeskOutputSchema.parse(out.output?.structured);
    expect(report.companies).toHaveLength(companies);
    // Each worker was asked about its own item only.
    const asked = engine.model.requests
      .filter((r) => r.agent === 'analyst')
      .map((r) => /Work on this item only: (.+)$/m.exec(r.messages.at(-1)?.content ?? '')?.[1]);
    expect(new Set(asked).size).toBe(companies);
    expect(report.companies.map((c) => c.name).sort()).toEqual([...asked].sort());
  });

  it('runs the items concurrently, at most options.concurrency at once', async () => {
    const engine = createTestEngine({ latencyMs: [20, 20] });
    let inFlight = 0;
    let peak = 0;
    const model = engine.model;
    const complete = model.complete.bind(model);
    model.complete = async (req, opts) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      try {
        return await complete(req, opts);
      } finally {
        inFlight -= 1;
      }
    };
    const out = await engine.run({
      ...request,
      input: fiveCompanies,
      options: { stream: false, concurrency: 2 },
    });
    expect(out.status).toBe('succeeded');
    expect(peak).toBe(2);
  });

  it('resumes after a crash calling the worker only for the items not journaled yet', async () => {
    const journal = memoryJournal();
    let workerCalls = 0;
    const crashing = createTestEngine();
    const complete = crashing.model.complete.bind(crashing.model);
    // From the third item on, the process is gone: nothing after it reaches the model.
    crashing.model.complete = async (req, opts) => {
      if (req.agent === 'analyst' && ++workerCalls >= 3) throw new Error('the worker process died');
      return complete(req, opts);
    };
    const options = { stream: false, concurrency: 1 };
    await expect(crashing.run({ ...request, input: fiveCompanies, options }, { journal })).rejects.toThrow(
      'the worker process died',
    );
    const done = agentKeys(journal).filter((k) => k.startsWith('map/item:'));
    expect(done).toHaveLength(2);

    const resumed = createTestEngine();
    const out = await resumed.run({ ...request, input: fiveCompanies, options }, { journal, attempt: 2 });
    expect(out.status).toBe('succeeded');
    const items = (out.details as { items: number }).items;
    const redone = startedKeys(out.events.events).filter((k) => k.startsWith('map/item:'));
    expect(redone).toHaveLength(items - done.length);
    for (const key of done) expect(redone).not.toContain(key);
    expect(startedKeys(out.events.events)).not.toContain('map/split/agent:extractor');
  });

  it('follows the concurrent rule when items fail: partial, or TOO_FEW_BRANCHES below minSuccessful', async () => {
    let calls = 0;
    const faults = (r: { agent: string }) =>
      r.agent === 'analyst' && ++calls % 2 === 0 ? ('permanent' as const) : undefined;
    const team = teams(testTeam('news-desk'));
    const partial = await createTestEngine({ teams: team, faults }).run({ ...request, input: fiveCompanies });
    expect(partial.status).toBe('succeeded');
    expect(partial.partial).toBe(true);
    expect(partial.failedAgents).toEqual(['analyst']);

    calls = 0;
    const strict = await createTestEngine({ teams: team, faults }).run({
      ...request,
      input: fiveCompanies,
      options: { stream: false, minSuccessful: 5 },
    });
    expect(strict.status).toBe('failed');
    expect(strict.error?.code).toBe('TOO_FEW_BRANCHES');
  });

  it('bounds the fan-out by options.maxItems', async () => {
    const engine = createTestEngine();
    const out = await engine.run({
      ...request,
      input: fiveCompanies,
      options: { stream: false, maxItems: 2 },
    });
    expect(out.status).toBe('succeeded');
    expect(out.partial).toBe(true);
    expect(agentsRequested(engine.model.requests).filter((a) => a === 'analyst')).toHaveLength(2);
    expect((out.details as { droppedItems: number }).droppedItems).toBeGreaterThan(0);
  });

  it('answers for no items when the splitter finds none', async () => {
    const engine = createTestEngine({ skills: { 'news.extract': () => ({ json: { companies: [] } }) } });
    const out = await engine.run(request);
    expect(out.status).toBe('succeeded');
    expect(out.steps.map((s) => s.agent)).toEqual(['extractor', 'editor']);
  });

  it('fails with MAP_NO_ITEMS when the splitter answers no list', async () => {
    const team = teams(
      testTeam('news-desk', {
        change: (t) => ({
          ...t,
          patterns: {
            ...t.patterns,
            map: { splitter: 'summarizer', worker: 'analyst', reducer: { agent: 'editor' } },
          },
        }),
      }),
    );
    const out = await createTestEngine({ teams: team }).run(request);
    expect(out.status).toBe('failed');
    expect(out.error?.code).toBe('MAP_NO_ITEMS');
  });
});
