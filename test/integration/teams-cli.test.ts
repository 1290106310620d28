import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../support/baton.js';

/** `baton teams validate` and `baton teams list` from the built CLI, and start-up refusing bad team files. */

const sh = promisify(execFile);
const fixture = new URL('../fixtures/market-brief.yaml', import.meta.url).pathname;
const brief = readFileSync(fixture, 'utf8');

async function baton(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await sh(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A folder with one bad team file per kind of problem the acceptance names. */
function badTeams(): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-bad-teams-'));
  writeFileSync(
    join(dir, 'a-unknown-agent.yaml'),
    brief.replace('[reader, screener, briefer]', '[reader, screner, briefer]'),
  );
  writeFileSync(
    join(dir, 'b-bad-schema.yaml'),
    brief
      .replace('name: market-brief', 'name: brief-b')
      .replace('isBusiness: { type: boolean }', 'isBusiness: { type: bool }'),
  );
  writeFileSync(
    join(dir, 'c-duplicate.yaml'),
    brief.replace('name: market-brief', 'name: brief-c').replace('  - name: screener', '  - name: reader'),
  );
  return dir;
}

describe('baton teams validate', () => {
  it('accepts the shipped teams and a team file, exit code 0', async () => {
    const shipped = await baton(['teams', 'validate', 'teams']);
    expect(shipped.code).toBe(0);
    expect(shipped.stdout).toMatch(/^ok teams\/news-desk\.yaml: team news-desk, version [0-9a-f]{12}$/m);
    expect(shipped.stdout).toMatch(
      /^ok teams\/support-desk\.yaml: team support-desk, version [0-9a-f]{12}$/m,
    );
    const one = await baton(['teams', 'validate', fixture]);
    expect(one.code).toBe(0);
  });

  it('rejects an unknown agent in a wiring, an invalid JSON Schema and a duplicate agent name, exit code 1', async () => {
    const dir = badTeams();
    const { code, stderr, stdout } = await baton(['teams', 'validate', dir]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.trim().split('\n');
    expect(lines).toContain(
      `${dir}/a-unknown-agent.yaml, line 47, patterns.sequential.order[1]: unknown agent "screner".`,
    );
    expect(lines).toContain(
      `${dir}/b-bad-schema.yaml, line 12, outputSchema.properties.isBusiness.type: is not a usable JSON Schema: must be equal to one of the allowed values (array, boolean, integer, null, number, object, string).`,
    );
    expect(lines).toContain(
      `${dir}/c-duplicate.yaml, line 38, agents[1].name: duplicate agent name "reader".`,
    );
  });
});

describe('baton teams list', () => {
  it('prints what a service would load from BATON_TEAMS_DIR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-teams-'));
    copyFileSync(fixture, join(dir, 'market-brief.yaml'));
    const { code, stdout } = await baton(['teams', 'list'], { BATON_TEAMS_DIR: dir });
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^market-brief\t[0-9a-f]{12}\t.*market-brief\.yaml\tsequential,concurrent\t3 agents\tvariants concise\n$/,
    );
  });
});

describe('start-up', () => {
  it('refuses bad team files with one sentence per problem (exit code 2)', async () => {
    const dir = badTeams();
    const { code, stderr } = await baton(['api'], {
      BATON_TEAMS_DIR: dir,
      REDIS_URL: 'redis://127.0.0.1:1',
      BATON_API_KEYS: 'admin-key-dddddddddddddddd:admin',
    });
    expect(code).toBe(2);
    expect(stderr).toContain('baton: the team files are invalid:');
    expect(stderr).toContain(
      'a-unknown-agent.yaml, line 47, patterns.sequential.order[1]: unknown agent "screner".',
    );
  });
});
