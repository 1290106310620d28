import { describe, expect, it } from 'vitest';
import { RunInterruptedError } from '../../src/core/errors.js';
import { memoryJournal } from '../../src/runs/journal.js';
import { loadTeamsFrom } from '../../src/teams/files.js';
import type { TeamResolver } from '../../src/teams/resolver.js';
import type { TeamDefinition } from '../../src/teams/schema.js';
import { withVariant } from '../../src/teams/variants.js';
import { definitionVersion } from '../../src/teams/version.js';
import { createTestEngine, sampleArticle } from '../support/engine.js';

/** The engine executes the version a run is pinned to and the variant it selects, whatever is current. */

const [loaded] = loadTeamsFrom(new URL('../fixtures/market-brief.yaml', import.meta.url).pathname, undefined);
const a = loaded!.team;
const b: TeamDefinition = {
  ...a,
  agents: a.agents.map((agent) =>
    agent.name === 'briefer' ? { ...agent, instructions: 'Version B: write it for a newsletter.' } : agent,
  ),
};
const [versionA, versionB] = [definitionVersion(a), definitionVersion(b)];

/** A registry whose current version is B, and which still knows A. */
const registry: TeamResolver = {
  current: async (name) => (name === a.name ? { version: versionB, team: b } : undefined),
  version: async (name, version) =>
    name !== a.name ? undefined : version === versionA ? a : version === versionB ? b : undefined,
  list: async () => [{ version: versionB, team: b }],
};

const systemPromptOf = (engine: ReturnType<typeof createTestEngine>, agent: string) =>
  engine.model.requests.filter((r) => r.agent === agent).map((r) => r.messages[0]?.content);

describe('team versions in the engine', () => {
  it('a run pinned to version A executes A while B is current; an unpinned run takes B', async () => {
    const engine = createTestEngine({ resolver: registry });
    const pinned = await engine.run({
      team: a.name,
      teamVersion: versionA,
      pattern: 'sequential',
      input: sampleArticle,
    });
    expect(pinned).toMatchObject({ status: 'succeeded', definitionVersion: versionA });
    expect(systemPromptOf(engine, 'briefer')).toEqual([a.agents[2]?.instructions]);

    const current = await engine.run({ team: a.name, pattern: 'sequential', input: sampleArticle });
    expect(current.definitionVersion).toBe(versionB);
    expect(systemPromptOf(engine, 'briefer').at(-1)).toBe('Version B: write it for a newsletter.');
  });

  it('a run resumed after an interruption executes its pinned version again, replaying what it did', async () => {
    const drain = new AbortController();
    // The worker starts draining while the second agent is answering: the run stops before the third.
    const engine = createTestEngine({
      resolver: registry,
      faults: (request) => {
        if (request.agent === 'screener') drain.abort();
        return undefined;
      },
    });
    const journal = memoryJournal();
    const request = {
      team: a.name,
      teamVersion: versionA,
      pattern: 'sequential' as const,
      input: sampleArticle,
    };
    await expect(engine.run(request, { journal, drain: drain.signal })).rejects.toBeInstanceOf(
      RunInterruptedError,
    );
    expect(engine.model.requests.map((r) => r.agent)).toEqual(['reader', 'screener']);

    const resumed = await engine.run(request, { journal, attempt: 2 });
    expect(resumed).toMatchObject({ status: 'succeeded', definitionVersion: versionA });
    expect(engine.model.requests.map((r) => r.agent)).toEqual(['reader', 'screener', 'briefer']);
    expect(systemPromptOf(engine, 'briefer')).toEqual([a.agents[2]?.instructions]);
  });

  it('an unknown version fails the run with UNKNOWN_TEAM_VERSION', async () => {
    const engine = createTestEngine({ resolver: registry });
    const out = await engine.run({
      team: a.name,
      teamVersion: 'abcdef123456',
      pattern: 'sequential',
      input: 'x',
    });
    expect(out).toMatchObject({ status: 'failed', error: { code: 'UNKNOWN_TEAM_VERSION' } });
  });

  it('a variant changes what the model is sent and the recorded definitionVersion', async () => {
    const engine = createTestEngine({ teams: new Map([[a.name, a]]) });
    const base = await engine.run({ team: a.name, pattern: 'sequential', input: sampleArticle });
    const concise = await engine.run({
      team: a.name,
      pattern: 'sequential',
      input: sampleArticle,
      options: { variant: 'concise' },
    });
    expect(base.definitionVersion).toBe(versionA);
    expect(concise.definitionVersion).toBe(definitionVersion(withVariant(a, 'concise')!));
    expect(concise.definitionVersion).not.toBe(versionA);
    const briefer = engine.model.requests.filter((r) => r.agent === 'briefer');
    expect(briefer.map((r) => r.messages[0]?.content)).toEqual([
      'Write the brief as JSON {"title","summary","isBusiness","companies"}.',
      'Write the brief in as few words as the schema allows.',
    ]);
    expect(briefer.map((r) => r.model.temperature)).toEqual([undefined, 0]);
    // Agents the variant does not touch are sent exactly what the base sends.
    const reader = engine.model.requests.filter((r) => r.agent === 'reader');
    expect(reader[0]?.messages).toEqual(reader[1]?.messages);
  });

  it('base names the team without a variant; variants leave the team’s own definition alone', () => {
    expect(withVariant(a, 'base')).toBe(a);
    expect(withVariant(a, undefined)).toBe(a);
    expect(withVariant(a, 'nope')).toBeUndefined();
    expect(withVariant(a, 'concise')).toBe(withVariant(a, 'concise'));
    expect(a.agents[2]?.instructions).not.toBe('Write the brief in as few words as the schema allows.');
  });
});
