import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/index.js';
import { RefusedError } from '../../src/core/errors.js';
import { type RegistryMode, TeamCatalog } from '../../src/teams/catalog.js';
import { defaultTeamsDir, loadTeamsFrom } from '../../src/teams/files.js';
import { modelEnvironment } from '../../src/teams/models.js';
import { TeamRegistryStore } from '../../src/teams/registry-store.js';
import { resolveRunTeam } from '../../src/teams/resolver.js';
import { startRedis, subPrefix, type TestRedis } from '../support/redis.js';

/** The team registry over a real Redis: versions, current version, retirement, the files/both/api rule. */

let redis: TestRedis;
let conn: Redis;
beforeAll(async () => {
  redis = await startRedis();
  conn = new Redis(redis.url);
});
afterAll(async () => {
  conn?.disconnect();
  await redis?.stop();
});

const env = modelEnvironment(loadConfig({}));
const files = loadTeamsFrom(defaultTeamsDir(), env);

function catalog(mode: RegistryMode, prefix: string, withFiles = true) {
  const audit: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => audit.push(JSON.parse(line)) });
  const teams = new TeamCatalog({
    files: withFiles ? files : [],
    store: new TeamRegistryStore(conn, prefix),
    mode,
    env,
    log,
  });
  const auditLines = () =>
    audit.flatMap((l) =>
      l.audit ? [l.audit as { action: string; team: string; version: string; by: string }] : [],
    );
  return { teams, auditLines };
}

const review = (instructions = 'Decide whether to approve.') => ({
  name: 'review-desk',
  description: 'Reviews a pull request.',
  agents: [
    { name: 'reader', description: 'Reads the change.', instructions: 'Read the change.' },
    { name: 'judge', description: 'Decides.', instructions },
  ],
  patterns: { sequential: { order: ['reader', 'judge'] } },
});

const prefix = () => subPrefix(redis.prefix, Math.random().toString(36).slice(2, 8));

describe('the team registry', () => {
  it('registers immutable versions: new, identical (a no-op), changed, earlier (current again)', async () => {
    const { teams, auditLines } = catalog('both', prefix());
    const a = await teams.register('review-desk', review(), 'key-admin-1');
    expect(a).toMatchObject({ created: true, changed: true });
    expect(a.version).toMatch(/^[0-9a-f]{12}$/);
    expect(await teams.register('review-desk', review(), 'key-admin-1')).toEqual({
      version: a.version,
      created: false,
      changed: false,
      previous: a.version,
    });
    const b = await teams.register('review-desk', review('Approve only small changes.'), 'key-admin-2');
    expect(b).toMatchObject({ created: true, changed: true, previous: a.version });
    expect((await teams.current('review-desk'))?.version).toBe(b.version);

    const again = await teams.register('review-desk', review(), 'key-admin-1');
    expect(again).toEqual({ version: a.version, created: false, changed: true, previous: b.version });
    const record = await teams.describe('review-desk');
    expect(record?.current).toMatchObject({ version: a.version, source: 'api', document: review() });
    expect(record?.versions.map((v) => [v.version, v.current, v.registeredBy])).toEqual([
      [a.version, true, 'key-admin-1'],
      [b.version, false, 'key-admin-2'],
    ]);
    expect(auditLines().filter((l) => l.team === 'review-desk')).toEqual([
      { action: 'registered', team: 'review-desk', version: a.version, by: 'key-admin-1' },
      { action: 'registered', team: 'review-desk', version: b.version, by: 'key-admin-2' },
      { action: 'restored', team: 'review-desk', version: a.version, by: 'key-admin-1' },
    ]);
  });

  it('refuses an invalid document with the same sentences as validate', async () => {
    const { teams } = catalog('both', prefix());
    const bad = review();
    bad.patterns.sequential.order[1] = 'jugde';
    const err = await teams.register('review-desk', bad, 'k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect(err).toMatchObject({
      refusal: 'invalid',
      code: 'TEAM_INVALID',
      message: 'PUT /v1/teams/review-desk, patterns.sequential.order[1]: unknown agent "jugde".',
    });
    const renamed = await teams.register('review-desk', { ...review(), name: 'other' }, 'k').catch((e) => e);
    expect(renamed).toMatchObject({
      message: 'PUT /v1/teams/review-desk, name: is "other", not "review-desk" as in the URL.',
    });
  });

  it('retires a team for new runs; a run pinned to a version still resolves it', async () => {
    const { teams, auditLines } = catalog('both', prefix());
    const { version } = await teams.register('review-desk', review(), 'k1');
    expect(await teams.retire('review-desk', 'k2')).toEqual({ version });
    expect(await teams.current('review-desk')).toBeUndefined();
    expect((await teams.list()).map((t) => t.team.name)).toEqual(['news-desk', 'support-desk']);
    await expect(resolveRunTeam(teams, { team: 'review-desk' })).rejects.toMatchObject({
      code: 'UNKNOWN_TEAM',
    });
    const pinned = await resolveRunTeam(teams, { team: 'review-desk', teamVersion: version });
    expect(pinned).toMatchObject({ teamVersion: version, definitionVersion: version });
    expect((await teams.describe('review-desk'))?.current).toBeNull();
    expect(auditLines().at(-1)).toEqual({ action: 'retired', team: 'review-desk', version, by: 'k2' });
    await expect(teams.retire('review-desk', 'k2')).rejects.toMatchObject({ refusal: 'not-found' });
  });

  it('files: the registry refuses changes; file versions are still kept for runs in flight', async () => {
    const p = prefix();
    const { teams } = catalog('files', p);
    await expect(teams.register('review-desk', review(), 'k')).rejects.toMatchObject({
      code: 'TEAMS_REGISTRY_DISABLED',
    });
    await teams.ready();
    const news = files.find((f) => f.team.name === 'news-desk');
    const stored = await new TeamRegistryStore(conn, p).get('news-desk', news?.version ?? '');
    expect(stored).toMatchObject({ source: 'file', version: news?.version });
  });

  it('both: a name a file defines belongs to the file', async () => {
    const { teams } = catalog('both', prefix());
    const doc = parse(
      (await import('node:fs')).readFileSync(`${defaultTeamsDir()}/news-desk.yaml`, 'utf8'),
    ) as Record<string, unknown>;
    await expect(teams.register('news-desk', doc, 'k')).rejects.toMatchObject({
      code: 'TEAM_DEFINED_BY_FILE',
    });
    await expect(teams.retire('news-desk', 'k')).rejects.toMatchObject({ code: 'TEAM_DEFINED_BY_FILE' });
    const record = await teams.describe('news-desk');
    expect(record?.current).toMatchObject({ source: 'file', version: files[0]?.version });
  });

  it('api: a registered version shadows its file until the next start-up registers the file again', async () => {
    const p = prefix();
    const first = catalog('api', p);
    await first.teams.ready();
    const fileVersion = files.find((f) => f.team.name === 'news-desk')?.version;
    expect((await first.teams.current('news-desk'))?.version).toBe(fileVersion);
    expect(first.auditLines().map((l) => l.action)).toEqual(['registered', 'registered']);

    const record = await first.teams.describe('news-desk');
    const hotfix = structuredClone(record?.current?.document) as { agents: { instructions: string }[] };
    hotfix.agents[0]!.instructions = 'Summarise in one sentence.';
    const patched = await first.teams.register('news-desk', hotfix, 'admin');
    expect((await first.teams.current('news-desk'))?.version).toBe(patched.version);

    const restarted = catalog('api', p);
    await restarted.teams.ready();
    expect((await restarted.teams.current('news-desk'))?.version).toBe(fileVersion);
    expect(await restarted.teams.version('news-desk', patched.version)).toBeDefined();
  });
});
