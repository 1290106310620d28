import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { orchestrators } from '../src/orchestrators/index.js';
import { shippedTeams } from '../src/teams/files.js';
import { DEFAULT_CONCURRENCY, type EvalFlags, resolvePlan, seedFor } from './experiment.js';

const catalog = shippedTeams();

const plan = (flags: EvalFlags) => resolvePlan(flags, catalog, orchestrators);

function yamlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'baton-exp-')), 'exp.yaml');
  writeFileSync(file, text);
  return file;
}

describe('plan from flags', () => {
  it('defaults to news-desk, its dataset, every pattern it is wired for, one option set', async () => {
    const p = await plan({});
    expect(p.team).toBe('news-desk');
    expect(p.datasetPath).toBe('evals/datasets/news-articles.jsonl');
    const wired = ['sequential', 'concurrent', 'handoff', 'magentic', 'group-chat', 'map'].filter((x) =>
      orchestrators.has(x as never),
    );
    expect(p.patterns).toEqual(wired);
    expect(p.variants.map((v) => v.label)).toEqual(wired);
    expect(p).toMatchObject({ repeat: 1, limit: null, seed: 0, concurrency: DEFAULT_CONCURRENCY });
    expect(p.split).toBe('test');
  });

  it('scores the test part unless --split (or the experiment) says dev', async () => {
    expect((await plan({ split: 'dev' })).split).toBe('dev');
    const file = yamlFile('name: tune\nteam: news-desk\nsplit: dev\npatterns: [sequential]\n');
    expect((await plan({ experiment: file })).split).toBe('dev');
    expect((await plan({ experiment: file, split: 'test' })).split).toBe('test');
    await expect(plan({ split: 'train' })).rejects.toThrow('--split must be one of dev, test, got "train".');
  });

  it('parses --patterns, --repeat, --limit, --seed and --option (dots nest)', async () => {
    const p = await plan({
      team: 'news-desk',
      patterns: 'sequential, concurrent,sequential',
      repeat: '3',
      limit: '5',
      seed: '7',
      option: { context: 'last', 'model.temperature': '0.2' },
    });
    expect(p.patterns).toEqual(['sequential', 'concurrent']);
    expect(p.variants[0]!.options).toEqual({ context: 'last', model: { temperature: 0.2 } });
    expect(p).toMatchObject({ repeat: 3, limit: 5, seed: 7 });
    // repeats run with seed, seed + 1, …
    expect([0, 1, 2].map((r) => seedFor(p, p.variants[0]!, r))).toEqual([7, 8, 9]);
  });

  it('uses --option seed=N as the base seed', async () => {
    const p = await plan({ patterns: 'sequential', option: { seed: '4' } });
    expect(p.seed).toBe(4);
    expect(seedFor(p, p.variants[0]!, 1)).toBe(5);
  });

  it('refuses unknown teams and patterns, and patterns the team is not wired for, in one sentence', async () => {
    await expect(plan({ team: 'nope' })).rejects.toThrow(
      'Unknown team "nope"; known teams: news-desk, support-desk.',
    );
    await expect(plan({ patterns: 'sequential,groupchat' })).rejects.toThrow(
      'Unknown pattern "groupchat"; patterns are sequential, concurrent, handoff, magentic, group-chat, map.',
    );
    await expect(plan({ team: 'support-desk', patterns: 'sequential' })).rejects.toThrow(
      /^Team "support-desk" is not wired for the sequential pattern \(it supports [a-z, ]+\)\.$/,
    );
    await expect(plan({ option: { colour: 'blue' } })).rejects.toThrow(/unknown option\(s\) colour/);
    await expect(plan({ limit: '0' })).rejects.toThrow('--limit must be an integer of at least 1, got "0".');
  });
});

describe('experiment files', () => {
  it('expands the shipped example into its variants', async () => {
    const p = await plan({ experiment: 'evals/experiments/news-desk-context.yaml' });
    expect(p.experiment).toEqual({
      path: 'evals/experiments/news-desk-context.yaml',
      name: 'news-desk-context',
    });
    expect(p.variants.map((v) => [v.label, v.options])).toEqual([
      ['sequential · context-full', { context: 'full' }],
      ['sequential · context-last', { context: 'last' }],
      ['concurrent · merge', { aggregator: 'merge' }],
    ]);
    expect(p.limit).toBe(8);
  });

  it('crosses option sets with models, and flags win over the file', async () => {
    const file = yamlFile(`
name: models
team: news-desk
limit: 4
patterns: [sequential]
optionSets:
  full: { options: { context: full } }
models:
  small: { deployment: gpt-4o-mini, temperature: 0 }
  large: { deployment: gpt-4o }
`);
    const p = await plan({ experiment: file, limit: '2', option: { 'model.provider': 'azure-openai' } });
    expect(p.limit).toBe(2);
    expect(p.variants.map((v) => [v.label, v.options])).toEqual([
      [
        'sequential · full+small',
        { context: 'full', model: { deployment: 'gpt-4o-mini', temperature: 0, provider: 'azure-openai' } },
      ],
      [
        'sequential · full+large',
        { context: 'full', model: { deployment: 'gpt-4o', provider: 'azure-openai' } },
      ],
    ]);
  });

  it('validates the file with zod and names the bad field', async () => {
    const bad = yamlFile(
      'name: x\nteam: news-desk\npatterns: [sequential]\noptionSets:\n  a: { options: { context: most } }\n',
    );
    await expect(plan({ experiment: bad })).rejects.toThrow(/is invalid: optionSets\.a\.options\.context: /);
    const unknown = yamlFile('name: x\nteam: news-desk\npatterns: [sequential]\ncolour: red\n');
    await expect(plan({ experiment: unknown })).rejects.toThrow(/colour/);
    const stray = yamlFile(
      'name: x\nteam: news-desk\npatterns: [sequential]\noptionSets:\n  a: { patterns: [magentic] }\n',
    );
    await expect(plan({ experiment: stray })).rejects.toThrow(
      /"magentic" is not in the experiment's patterns/,
    );
    await expect(plan({ experiment: '/nonexistent.yaml' })).rejects.toThrow(
      /Cannot read the experiment file/,
    );
  });
});
