import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AgentResult } from '../../src/core/agent.js';
import { PermanentModelError } from '../../src/core/errors.js';
import type { ChatRequest } from '../../src/core/model.js';
import { patternNames } from '../../src/orchestrators/index.js';
import { renderPrompt } from '../../src/orchestrators/prompt.js';
import type { RunJournal } from '../../src/runs/journal.js';
import { skillPlayer } from '../../src/simulation/index.js';
import { type TeamDefinition, teamDefinitionSchema } from '../../src/teams/schema.js';
import { sportsArticle, trace } from '../orchestrators/helpers.js';
import { ajvProblems, jsonOutputSchema } from '../support/ajv.js';
import { createTestEngine } from '../support/engine.js';

/**
 * A team the simulated model has never seen: no agent names a skill, so the generic player plays all of them.
 * The three specialists declare their output as JSON Schema documents (as team files do) or in zod; the team's
 * own output schema (also the editor's, which ends the sequence) uses `$defs`/`$ref`, enums, formats and nested
 * arrays.
 */
const scoutSchema = {
  type: 'object',
  properties: {
    destinations: {
      type: 'array',
      minItems: 1,
      maxItems: 3,
      items: {
        type: 'object',
        properties: {
          city: { type: 'string', minLength: 2 },
          season: { enum: ['spring', 'summer', 'autumn', 'winter'] },
          reason: { type: 'string', minLength: 1 },
        },
        required: ['city', 'season', 'reason'],
        additionalProperties: false,
      },
    },
    budget: {
      type: 'object',
      properties: { currency: { enum: ['EUR', 'USD', 'NOK'] }, amount: { type: 'number', minimum: 0 } },
      required: ['currency', 'amount'],
      additionalProperties: false,
    },
  },
  required: ['destinations', 'budget'],
  additionalProperties: false,
};

const plannerSchema = z.object({
  startDate: z.iso.date(),
  days: z
    .array(z.object({ day: z.number().int().min(1).max(14), activities: z.array(z.string().min(1)).min(1) }))
    .min(1)
    .max(5),
});

const criticSchema = {
  type: 'object',
  properties: {
    verdict: { enum: ['approve', 'revise'] },
    issues: {
      type: 'array',
      items: {
        type: 'object',
        properties: { severity: { enum: ['low', 'medium', 'high'] }, note: { type: 'string' } },
        required: ['severity', 'note'],
        additionalProperties: false,
      },
    },
    contact: { type: ['string', 'null'], format: 'email' },
  },
  required: ['verdict', 'issues', 'contact'],
  additionalProperties: false,
};

const tripSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $defs: {
    stop: {
      type: 'object',
      properties: { city: { type: 'string' }, nights: { type: 'integer', minimum: 1, maximum: 7 } },
      required: ['city', 'nights'],
      additionalProperties: false,
    },
  },
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    summary: { type: 'string', minLength: 10, maxLength: 280 },
    verdict: { enum: ['go', 'wait', 'cancel'] },
    legs: {
      type: 'array',
      minItems: 1,
      items: { type: 'array', minItems: 1, items: { $ref: '#/$defs/stop' } },
    },
  },
  required: ['id', 'summary', 'verdict', 'legs'],
  additionalProperties: false,
};

const agentSchemas: Record<string, Record<string, unknown>> = {
  editor: tripSchema,
  scout: scoutSchema,
  planner: z.toJSONSchema(plannerSchema, { target: 'draft-7' }) as Record<string, unknown>,
  critic: criticSchema,
};

function tripDesk(): TeamDefinition {
  return teamDefinitionSchema.parse({
    name: 'trip-desk',
    description: 'Plans a trip from a traveller’s request.',
    outputSchema: jsonOutputSchema(tripSchema),
    agents: [
      {
        name: 'scout',
        description: 'Suggests destinations and a budget.',
        instructions: 'Suggest up to three destinations with a season and a reason, and a budget.',
        outputSchema: jsonOutputSchema(scoutSchema),
      },
      {
        name: 'planner',
        description: 'Writes a day-by-day plan.',
        instructions: 'Write a day-by-day plan starting on a date.',
        outputSchema: plannerSchema,
      },
      {
        name: 'critic',
        description: 'Reviews the plan and lists issues.',
        instructions: 'Review the plan: approve or ask for a revision, listing issues.',
        outputSchema: jsonOutputSchema(criticSchema),
        handoffs: ['planner'],
      },
      {
        name: 'editor',
        description: 'Writes the final trip from the desk’s work.',
        instructions: 'Write the final trip from the work so far.',
        outputSchema: jsonOutputSchema(tripSchema),
      },
      {
        name: 'lead',
        description: 'Runs the desk and writes the final trip.',
        instructions: 'Coordinate the desk and answer with the final trip.',
        handoffs: ['scout', 'planner', 'critic'],
      },
    ],
    patterns: {
      sequential: { order: ['scout', 'planner', 'critic', 'editor'] },
      concurrent: { agents: ['scout', 'planner', 'critic'], aggregator: { agent: 'lead' } },
      handoff: { entry: 'lead' },
      magentic: { manager: 'lead', participants: ['scout', 'planner', 'critic'] },
      'group-chat': {
        mode: 'round-robin',
        participants: ['scout', 'planner', 'critic'],
        finalizer: 'editor',
        maxTurns: 3,
      },
      map: { splitter: 'scout', items: 'destinations', worker: 'planner', reducer: { agent: 'editor' } },
    },
  });
}

const request = `We are two adults and a child travelling in late June for ten days. We like lakes and trains,
dislike long drives, and would like one city stop. Budget is about 3000 EUR. Oslo, Bergen and Stockholm
interest us; Copenhagen maybe.`;

const team = tripDesk();
const teams = new Map([[team.name, team]]);

function agentResults(journal: RunJournal): AgentResult[] {
  return journal.entries().flatMap(([, e]) => (e.kind === 'agent' && e.ok ? [e.result] : []));
}

describe('the generic player plays a team it has never seen', () => {
  it.each(patternNames)('under %s: every structured output is valid and the run ends', async (pattern) => {
    const engine = createTestEngine({ teams });
    const out = await engine.run({ team: team.name, pattern, input: request, options: { stream: false } });
    expect(out.error).toBeUndefined();
    expect(out.status).toBe('succeeded');
    expect(out.partial).toBeUndefined();
    const results = agentResults(out.journal);
    // No answer was refused and asked again: each call took one attempt.
    expect(results.every((r) => r.attempts === 1)).toBe(true);
    for (const result of results) {
      const schema = agentSchemas[result.agent];
      if (schema && result.structured !== undefined) {
        expect(ajvProblems(schema, result.structured), `${result.agent}: ${result.text}`).toBeUndefined();
      }
    }
    for (const r of engine.model.requests) {
      if (r.responseFormat) expect(r.responseFormat.schema).toBeDefined();
    }
    if (pattern === 'sequential') {
      expect(results.map((r) => r.agent)).toEqual(['scout', 'planner', 'critic', 'editor']);
    }
    expect(ajvProblems(tripSchema, out.output?.structured)).toBeUndefined();
  });

  it('handoff: the lead hands to each specialist once, then answers in the team schema', async () => {
    const engine = createTestEngine({ teams });
    const out = await engine.run({
      team: team.name,
      pattern: 'handoff',
      input: request,
      options: { stream: false },
    });
    expect(trace(out.events.events).filter((t) => t.startsWith('handoff'))).toEqual([
      'handoff(lead>scout)',
      'handoff(scout>lead)',
      'handoff(lead>planner)',
      'handoff(planner>lead)',
      // The critic may hand to the planner, but it was handed the conversation: it does its own work first.
      'handoff(lead>critic)',
      'handoff(critic>lead)',
    ]);
    expect(out.output?.structured).toMatchObject({ verdict: expect.stringMatching(/^(go|wait|cancel)$/) });
  });

  it('magentic: the ledgers name the real participants, each speaks once, then the manager is satisfied', async () => {
    const engine = createTestEngine({ teams });
    const out = await engine.run({
      team: team.name,
      pattern: 'magentic',
      input: request,
      options: { stream: false },
    });
    const events = out.events.events;
    const plan = events.find((e) => e.type === 'plan.created');
    expect(plan?.type === 'plan.created' && plan.ledger.plan).toEqual([
      { agent: 'scout', step: expect.any(String) },
      { agent: 'planner', step: expect.any(String) },
      { agent: 'critic', step: expect.any(String) },
    ]);
    const ledgers = events.flatMap((e) => (e.type === 'ledger.updated' ? [e.ledger] : []));
    const speakers = ledgers.map((l) => (l.next_speaker as { answer: string }).answer);
    const satisfied = ledgers.map((l) => (l.is_request_satisfied as { answer: boolean }).answer);
    expect(speakers.slice(0, 3)).toEqual(['scout', 'planner', 'critic']);
    expect(satisfied).toEqual([false, false, false, true]);
    expect(out.details).toMatchObject({ rounds: 4, resets: 0 });
  });

  it('answers deterministically, and differently for a different input', async () => {
    const engine = createTestEngine({ teams });
    const run = (input: string, seed = 0) =>
      engine.run({ team: team.name, pattern: 'concurrent', input, options: { stream: false, seed } });
    const first = await run(request);
    expect((await run(request)).output).toEqual(first.output);
    expect((await run(sportsArticle)).output).not.toEqual(first.output);
    expect((await run(request, 1)).output).not.toEqual(first.output);
  });

  it('writes plain text when no schema is asked: short and drawn from the task, not an echo', () => {
    const play = skillPlayer();
    const messages = [
      { role: 'system' as const, content: 'You write notes.' },
      { role: 'user' as const, content: renderPrompt({ task: request }) },
    ];
    const ask = (seed: number): ChatRequest => ({ agent: 'notes', model: {}, messages, seed });
    const text = play(ask(0), () => 0.5).text ?? '';
    expect(text.length).toBeGreaterThan(20);
    expect(text.length).toBeLessThan(request.length);
    expect(text).not.toContain('# Task');
    const sentences = request.replace(/\s+/g, ' ').split(/(?<=[.;])\s+/);
    expect(sentences.some((s) => text.includes(s.slice(0, 30)))).toBe(true);
    expect(play(ask(0), () => 0.5)).toEqual(play(ask(0), () => 0.5));
  });

  it('refuses a schema without an instance with a permanent error naming the agent', () => {
    const play = skillPlayer();
    const ask: ChatRequest = {
      agent: 'broken',
      model: {},
      messages: [{ role: 'user', content: renderPrompt({ task: request }) }],
      seed: 0,
      responseFormat: {
        name: 'broken',
        strict: false,
        schema: { type: 'string', minLength: 3, maxLength: 1 },
      },
    };
    expect(() => play(ask, () => 0.5)).toThrow(PermanentModelError);
    expect(() => play(ask, () => 0.5)).toThrow(/agent "broken": no value satisfies the schema/);
  });
});
