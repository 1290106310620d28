import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { terminalEventTypes } from '../../src/core/events.js';
import type { RunRecord } from '../../src/runs/schema.js';
import { API_KEYS, CLIENT_KEY, client, OPERATOR_KEY } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startService } from '../support/service.js';

/**
 * Teams that are not in the repository, through the real API, queue and worker with the simulated model: one
 * read from a YAML file in a folder of its own (BATON_TEAMS_DIR), the same registered with PUT /v1/teams/{name}.
 */

const ADMIN_KEY = 'admin-key-dddddddddddddddd';
const keys = `${API_KEYS},${ADMIN_KEY}:admin`;
const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url).pathname;
const documentOf = (file: string) => parse(readFileSync(fixture(file), 'utf8')) as Record<string, unknown>;

let redis: TestRedis;
let fromFiles: Awaited<ReturnType<typeof startService>>;
let fromApi: Awaited<ReturnType<typeof startService>>;

beforeAll(async () => {
  redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), 'baton-teams-'));
  for (const file of ['market-brief.yaml', 'incident-review.yaml'])
    copyFileSync(fixture(file), join(dir, file));
  fromFiles = await startService(redis, { BATON_API_KEYS: keys, BATON_TEAMS_DIR: dir });
  fromApi = await startService(redis, { BATON_API_KEYS: keys });
});
afterAll(async () => {
  await fromFiles?.stop();
  await fromApi?.stop();
  await redis?.stop();
});

/** Creates a run and follows its events to the terminal one (no polling), then reads the record. */
async function runToEnd(url: string, body: Record<string, unknown>): Promise<RunRecord> {
  const c = client(url, CLIENT_KEY);
  const { run, status, body: answer } = await c.createRun({ input: sampleArticle, ...body });
  if (status !== 202) throw new Error(`run refused (${status}): ${JSON.stringify(answer)}`);
  await c.events(run.id, { until: (e) => (terminalEventTypes as readonly string[]).includes(e.type) });
  return c.getRun(run.id);
}

function validatorFor(file: string) {
  return new Ajv2020({ allErrors: true }).compile(documentOf(file).outputSchema as object);
}

const admin = (url: string) => client(url, ADMIN_KEY);

describe('a team from a YAML file in BATON_TEAMS_DIR', () => {
  const validate = validatorFor('market-brief.yaml');

  it('is listed with its version and patterns', async () => {
    const { body } = await client(fromFiles.url, CLIENT_KEY).call('GET', '/v1/teams');
    const items = body.items as {
      name: string;
      definitionVersion: string;
      patterns: { pattern: string }[];
    }[];
    expect(items.map((t) => t.name)).toEqual(['incident-review', 'market-brief']);
    const brief = items.find((t) => t.name === 'market-brief');
    expect(brief?.patterns.map((p) => p.pattern)).toEqual(['sequential', 'concurrent']);
    expect(brief?.definitionVersion).toMatch(/^[0-9a-f]{12}$/);
  });

  for (const pattern of ['sequential', 'concurrent'] as const) {
    it(`runs under ${pattern}, and its output validates against its JSON Schema`, async () => {
      const done = await runToEnd(fromFiles.url, { team: 'market-brief', pattern });
      expect(done.status).toBe('succeeded');
      expect(validate(done.output?.structured), JSON.stringify(validate.errors)).toBe(true);
      expect(done.output?.structured).toMatchObject({
        isBusiness: true,
        companies: expect.arrayContaining([expect.objectContaining({ name: 'Contoso Motors' })]),
      });
      expect(done.teamVersion).toBe(done.definitionVersion);
    });
  }
});

describe('a team the simulated model has never seen (no skills)', () => {
  const validate = validatorFor('incident-review.yaml');

  for (const pattern of ['sequential', 'concurrent'] as const) {
    it(`runs under ${pattern} to an end on its own version; a structured answer is in its schema`, async () => {
      const done = await runToEnd(fromFiles.url, {
        team: 'incident-review',
        pattern,
        input: 'The API was down.',
      });
      expect(done.status).toBe('succeeded');
      expect(done.partial).toBeUndefined();
      expect(done.definitionVersion).toBe(done.teamVersion);
      expect(done.steps.map((s) => s.agent)).toEqual(expect.arrayContaining(['triager', 'investigator']));
      // The simulated model plays a team it has never seen: its final answer is in the team's schema.
      expect(validate(done.output?.structured), JSON.stringify(validate.errors)).toBe(true);
    });
  }
});

describe('the same team registered through PUT /v1/teams/{name}', () => {
  it('is refused to clients and operators (admin only), and refused with sentences when invalid', async () => {
    const document = documentOf('market-brief.yaml');
    for (const key of [CLIENT_KEY, OPERATOR_KEY]) {
      const res = await client(fromApi.url, key).call('PUT', '/v1/teams/market-brief', document);
      expect(res.status).toBe(403);
    }
    const broken = structuredClone(document) as { patterns: { sequential: { order: string[] } } };
    broken.patterns.sequential.order[2] = 'brifer';
    const res = await admin(fromApi.url).call('PUT', '/v1/teams/market-brief', broken);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'TEAM_INVALID',
      message: 'PUT /v1/teams/market-brief, patterns.sequential.order[2]: unknown agent "brifer".',
    });
  });

  it('registers the version the file service runs, and runs the same way', async () => {
    const file = (await client(fromFiles.url, CLIENT_KEY).call('GET', '/v1/teams/market-brief')).body as {
      current: { version: string; source: string };
    };
    expect(file.current.source).toBe('file');
    const res = await admin(fromApi.url).call(
      'PUT',
      '/v1/teams/market-brief',
      documentOf('market-brief.yaml'),
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'market-brief', version: file.current.version, created: true });
    const again = await admin(fromApi.url).call(
      'PUT',
      '/v1/teams/market-brief',
      documentOf('market-brief.yaml'),
    );
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ version: file.current.version, created: false, changed: false });

    for (const pattern of ['sequential', 'concurrent'] as const) {
      const [registered, filed] = await Promise.all([
        runToEnd(fromApi.url, { team: 'market-brief', pattern }),
        runToEnd(fromFiles.url, { team: 'market-brief', pattern }),
      ]);
      expect(registered.status).toBe('succeeded');
      expect(registered.definitionVersion).toBe(file.current.version);
      expect(registered.output).toEqual(filed.output);
    }
  });

  it('shows the current version, its document and earlier versions; one version; and retires', async () => {
    const api = admin(fromApi.url);
    const before = (await api.call('GET', '/v1/teams/market-brief')).body as { current: { version: string } };
    const changed = documentOf('market-brief.yaml') as { description: string };
    changed.description = 'Turns a news article into a market brief for traders.';
    const put = await api.call('PUT', '/v1/teams/market-brief', changed);
    expect(put.status).toBe(201);
    expect(put.body.previous).toBe(before.current.version);

    const team = (await client(fromApi.url, CLIENT_KEY).call('GET', '/v1/teams/market-brief')).body as {
      current: { version: string; document: { description: string }; source: string };
      versions: { version: string; current: boolean }[];
    };
    expect(team.current).toMatchObject({ version: put.body.version, source: 'api' });
    expect(team.current.document.description).toBe(changed.description);
    expect(team.versions.map((v) => [v.version, v.current])).toEqual([
      [before.current.version, false],
      [put.body.version, true],
    ]);
    const old = await client(fromApi.url, CLIENT_KEY).call(
      'GET',
      `/v1/teams/market-brief/versions/${before.current.version}`,
    );
    expect(old.body).toMatchObject({ version: before.current.version, current: false, source: 'api' });

    expect((await client(fromApi.url, CLIENT_KEY).call('DELETE', '/v1/teams/market-brief')).status).toBe(403);
    const retired = await api.call('DELETE', '/v1/teams/market-brief');
    expect(retired.body).toEqual({ name: 'market-brief', retired: put.body.version });
    const refused = await client(fromApi.url, CLIENT_KEY).createRun({
      team: 'market-brief',
      pattern: 'sequential',
      input: sampleArticle,
    });
    expect(refused.status).toBe(400);
    expect((refused.body.error as { code: string }).code).toBe('UNKNOWN_TEAM');
    const list = (await client(fromApi.url, CLIENT_KEY).call('GET', '/v1/teams')).body.items as {
      name: string;
    }[];
    expect(list.map((t) => t.name)).toEqual(['news-desk', 'support-desk']);
    // A run may still pin a retired version explicitly (it finishes what it started).
    const pinned = await runToEnd(fromApi.url, {
      team: 'market-brief',
      teamVersion: put.body.version,
      pattern: 'sequential',
    });
    expect(pinned).toMatchObject({ status: 'succeeded', definitionVersion: put.body.version });
  });

  it('refuses a file team’s name (files own their names under BATON_TEAMS_REGISTRY=both)', async () => {
    const res = await admin(fromApi.url).call('PUT', '/v1/teams/news-desk', { name: 'news-desk' });
    expect(res.status).toBe(400);
    const doc = parse(readFileSync(new URL('../../teams/news-desk.yaml', import.meta.url), 'utf8'));
    const owned = await admin(fromApi.url).call('PUT', '/v1/teams/news-desk', doc);
    expect(owned.status).toBe(409);
    expect((owned.body.error as { code: string }).code).toBe('TEAM_DEFINED_BY_FILE');
  });
});

describe('version pinning, variants and models', () => {
  const doc = () => {
    const d = documentOf('market-brief.yaml');
    d.name = 'pinned-brief';
    return d;
  };

  it('a run queued on version A completes on A after version B was registered while it waited', async () => {
    const api = admin(fromApi.url);
    const a = await api.call('PUT', '/v1/teams/pinned-brief', doc());
    const c = client(fromApi.url, CLIENT_KEY);
    expect((await client(fromApi.url, OPERATOR_KEY).call('POST', '/v1/queue/pause')).status).toBe(200);
    const queued = await c.createRun({ team: 'pinned-brief', pattern: 'sequential', input: sampleArticle });
    expect(queued.run).toMatchObject({ status: 'queued', queuePaused: true, teamVersion: a.body.version });

    const changed = doc() as { agents: { instructions: string }[] };
    changed.agents[2]!.instructions = 'Write the brief for a newsletter, as JSON.';
    const b = await api.call('PUT', '/v1/teams/pinned-brief', changed);
    expect(b.body.version).not.toBe(a.body.version);
    const later = await c.createRun({ team: 'pinned-brief', pattern: 'sequential', input: sampleArticle });
    expect(later.run.teamVersion).toBe(b.body.version);

    await client(fromApi.url, OPERATOR_KEY).call('POST', '/v1/queue/resume');
    const until = (e: { type: string }) => (terminalEventTypes as readonly string[]).includes(e.type);
    await Promise.all([c.events(queued.run.id, { until }), c.events(later.run.id, { until })]);
    const [first, second] = await Promise.all([c.getRun(queued.run.id), c.getRun(later.run.id)]);
    // The record's definitionVersion is written again by the worker from what it executed.
    expect(first).toMatchObject({ status: 'succeeded', definitionVersion: a.body.version });
    expect(second).toMatchObject({ status: 'succeeded', definitionVersion: b.body.version });
  });

  it('options.variant runs the variant, recorded with its own definitionVersion; an unknown one is refused', async () => {
    const base = await runToEnd(fromFiles.url, { team: 'market-brief', pattern: 'sequential' });
    const concise = await runToEnd(fromFiles.url, {
      team: 'market-brief',
      pattern: 'sequential',
      options: { variant: 'concise' },
    });
    expect(concise).toMatchObject({ status: 'succeeded', variant: 'concise', teamVersion: base.teamVersion });
    expect(concise.definitionVersion).not.toBe(base.definitionVersion);
    expect(base.variant).toBe('base');

    const refused = await client(fromFiles.url, CLIENT_KEY).createRun({
      team: 'market-brief',
      pattern: 'sequential',
      input: sampleArticle,
      options: { variant: 'verbose' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: 'UNKNOWN_VARIANT',
      message: 'Team "market-brief" has no variant "verbose" (its variants: base, concise).',
    });
  });

  it('refuses a run whose options.model is outside the team’s models', async () => {
    const refused = await client(fromFiles.url, CLIENT_KEY).createRun({
      team: 'market-brief',
      pattern: 'sequential',
      input: sampleArticle,
      options: { model: { provider: 'openai-compatible', deployment: 'llama-3' } },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: 'MODEL_NOT_ALLOWED',
      message: 'Team "market-brief" may not use openai-compatible/llama-3 (its models: simulated/*).',
    });
    const allowed = await client(fromFiles.url, CLIENT_KEY).createRun({
      team: 'market-brief',
      pattern: 'sequential',
      input: sampleArticle,
      options: { model: { temperature: 0 } },
    });
    expect(allowed.status).toBe(202);
  });
});
