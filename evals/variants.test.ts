import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { orchestrators } from '../src/orchestrators/index.js';
import { shippedTeams } from '../src/teams/files.js';
import { withVariant } from '../src/teams/variants.js';
import { definitionVersion } from '../src/teams/version.js';
import { resolvePlan } from './experiment.js';
import { runEval } from './runner.js';

const teams = shippedTeams();
const newsDesk = teams.get('news-desk')!;

describe('baton eval --variants', () => {
  it('crosses the team variants with the patterns, as option sets with options.variant', async () => {
    const plan = await resolvePlan(
      { variants: 'base,concise', patterns: 'sequential,concurrent' },
      teams,
      orchestrators,
    );
    expect(plan.variants.map((v) => [v.label, v.options])).toEqual([
      ['sequential · base', {}],
      ['sequential · concise', { variant: 'concise' }],
      ['concurrent · base', {}],
      ['concurrent · concise', { variant: 'concise' }],
    ]);
    await expect(resolvePlan({ variants: 'base,verbose' }, teams, orchestrators)).rejects.toThrow(
      'Team "news-desk" has no variant "verbose" (its variants: base, concise).',
    );
  });

  it('compares two variants on the same cases and seeds, naming each one’s definitionVersion', async () => {
    const out = mkdtempSync(join(tmpdir(), 'baton-variants-'));
    const { results, files } = await runEval(
      { team: 'news-desk', variants: 'base,concise', patterns: 'sequential', limit: '3', out },
      { env: { BATON_SIMULATED_LATENCY_MS: '0' }, stderr: new PassThrough().resume(), teams },
    );
    const base = definitionVersion(newsDesk);
    const concise = definitionVersion(withVariant(newsDesk, 'concise')!);
    expect(base).not.toBe(concise);
    expect(results.config.variants.map((v) => [v.label, v.definitionVersion])).toEqual([
      ['sequential · base', base],
      ['sequential · concise', concise],
    ]);
    expect(results.config.definitionVersion).toBe(base);
    const versions = new Map(results.cases.map((c) => [c.variant, c.definitionVersion]));
    expect(versions).toEqual(
      new Map([
        ['sequential · base', base],
        ['sequential · concise', concise],
      ]),
    );
    const casesOf = (label: string) =>
      results.cases.filter((c) => c.variant === label).map((c) => [c.caseId, c.seed]);
    expect(casesOf('sequential · concise')).toEqual(casesOf('sequential · base'));
    expect(results.comparisons).toHaveLength(1);
    expect(results.comparisons[0]).toMatchObject({
      a: { variant: 'sequential · base' },
      b: { variant: 'sequential · concise' },
      n: 3,
    });
    const report = await readFile(files.markdown, 'utf8');
    expect(report).toContain(
      `| team variants | base (definition ${base}) · concise (definition ${concise}) |`,
    );
  });
});
