import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../src/core/model.js';
import type { TeamDefinition, TeamDefinitionInput } from '../../src/teams/schema.js';
import { teamDefinitionSchema } from '../../src/teams/schema.js';
import { createTestEngine } from '../support/engine.js';
import { businessArticle, teams, testTeam } from './helpers.js';

/**
 * A team that declares an output schema gets its final answer in it under every pattern, from whichever agent
 * gives that answer, even when the agent's own definition declares no schema.
 */

const withoutOwnSchema =
  (...names: string[]) =>
  (t: TeamDefinitionInput): TeamDefinitionInput => ({
    ...t,
    agents: t.agents.map((a) => (names.includes(a.name) ? { ...a, outputSchema: undefined } : a)),
  });

/** The requests of `agent` that asked for exactly the team's output schema. */
function askedForTeamSchema(
  requests: readonly ChatRequest[],
  agent: string,
  team: TeamDefinition,
): ChatRequest[] {
  return requests.filter(
    (r) => r.agent === agent && r.responseFormat?.schema === team.outputSchema?.jsonSchema,
  );
}

function expectInTeamSchema(team: TeamDefinition, structured: unknown): void {
  expect(structured).toBeDefined();
  expect(team.outputSchema?.check(structured)).toMatchObject({ ok: true });
}

describe('the team output schema is the final answer’s schema', () => {
  it('sequential: the last agent is asked for it', async () => {
    const team = testTeam('news-desk', { change: withoutOwnSchema('editor') });
    expect(team.agents.find((a) => a.name === 'editor')?.outputSchema).toBeUndefined();
    const engine = createTestEngine({ teams: teams(team) });
    const out = await engine.run({ team: 'news-desk', pattern: 'sequential', input: businessArticle });

    expect(out.status).toBe('succeeded');
    expect(askedForTeamSchema(engine.model.requests, 'editor', team)).toHaveLength(1);
    expectInTeamSchema(team, out.output?.structured);
  });

  it('sequential: a fallback doing the last agent’s work is asked for it too', async () => {
    const team = testTeam('news-desk', {
      change: (t) => ({
        ...withoutOwnSchema('editor', 'desk-chief')(t),
        patterns: { sequential: { order: ['summarizer', 'classifier', 'editor'], fallback: 'desk-chief' } },
      }),
    });
    const engine = createTestEngine({
      teams: teams(team),
      faults: (request) => (request.agent === 'editor' ? 'permanent' : undefined),
    });
    const out = await engine.run({ team: 'news-desk', pattern: 'sequential', input: businessArticle });

    expect(out.status).toBe('succeeded');
    expect(out.failedAgents).toEqual(['editor']);
    expect(askedForTeamSchema(engine.model.requests, 'desk-chief', team)).toHaveLength(1);
    expectInTeamSchema(team, out.output?.structured);
  });

  it('concurrent with an aggregator agent: the aggregator is asked for it', async () => {
    const team = testTeam('support-desk', { change: withoutOwnSchema('triage') });
    const engine = createTestEngine({ teams: teams(team) });
    const out = await engine.run({
      team: 'support-desk',
      pattern: 'concurrent',
      input: 'I was charged twice for my subscription this month; please refund one of the payments.',
    });

    expect(out.status).toBe('succeeded');
    expect(askedForTeamSchema(engine.model.requests, 'triage', team)).toHaveLength(1);
    expectInTeamSchema(team, out.output?.structured);
  });

  it('concurrent by vote: every branch is asked for it, since one of them becomes the answer', async () => {
    const team = teamDefinitionSchema.parse({
      name: 'voters',
      description: 'Agents answering the same question.',
      outputSchema: {
        type: 'object',
        properties: { isBusiness: { type: 'boolean' }, reason: { type: 'string', minLength: 1 } },
        required: ['isBusiness', 'reason'],
        additionalProperties: false,
      },
      agents: [1, 2, 3].map((i) => ({
        name: `voter-${i}`,
        description: 'Answers whether an article is about business.',
        instructions: 'Answer JSON {"isBusiness","reason"}.',
        simulation: { skill: 'news.classify' },
      })),
      patterns: { concurrent: { agents: ['voter-1', 'voter-2', 'voter-3'], aggregator: 'vote' } },
    });
    const engine = createTestEngine({ teams: teams(team) });
    const out = await engine.run({ team: 'voters', pattern: 'concurrent', input: businessArticle });

    expect(out.status).toBe('succeeded');
    for (const voter of ['voter-1', 'voter-2', 'voter-3']) {
      expect(askedForTeamSchema(engine.model.requests, voter, team)).toHaveLength(1);
    }
    expectInTeamSchema(team, out.output?.structured);
    expect(out.output?.structured).toMatchObject({ isBusiness: true });
  });

  it('concurrent by merge: the merged answers fill it', async () => {
    const team = testTeam('news-desk');
    const engine = createTestEngine({ teams: teams(team) });
    const out = await engine.run({ team: 'news-desk', pattern: 'concurrent', input: businessArticle });

    expect(out.status).toBe('succeeded');
    expectInTeamSchema(team, out.output?.structured);
  });

  it('handoff: the owner’s final answer is read in it', async () => {
    const team = testTeam('news-desk', { change: withoutOwnSchema('desk-chief', 'editor') });
    const engine = createTestEngine({ teams: teams(team) });
    const out = await engine.run({ team: 'news-desk', pattern: 'handoff', input: businessArticle });

    expect(out.status).toBe('succeeded');
    expect(out.details).toMatchObject({ owner: 'desk-chief' });
    expectInTeamSchema(team, out.output?.structured);
  });

  it('magentic: the manager’s synthesis is asked for it', async () => {
    const team = testTeam('news-desk');
    expect(team.agents.find((a) => a.name === 'desk-manager')?.outputSchema).toBeUndefined();
    const engine = createTestEngine({ teams: teams(team) });
    const out = await engine.run({ team: 'news-desk', pattern: 'magentic', input: businessArticle });

    expect(out.status).toBe('succeeded');
    expect(askedForTeamSchema(engine.model.requests, 'desk-manager', team)).toHaveLength(1);
    expectInTeamSchema(team, out.output?.structured);
  });
});
