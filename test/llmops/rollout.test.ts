import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { metrics as sdkMetrics } from '@opentelemetry/sdk-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { teamDefinitionSchema } from '../../src/teams/schema.js';
import { startTestTelemetry } from '../../src/telemetry/testing.js';
import { startLifecycleApi } from '../lifecycle/harness.js';
import { CLIENT_KEY, client, ROOT } from '../support/baton.js';
import { createTestEngine, sampleArticle } from '../support/engine.js';
import { startRedis, type TestRedis } from '../support/redis.js';

/** The shipped news desk with a 50/50 rollout over its base and its `concise` variant. */
function rolloutTeamsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-rollout-teams-'));
  const news = readFileSync(join(ROOT, 'teams/news-desk.yaml'), 'utf8');
  writeFileSync(join(dir, 'news-desk.yaml'), `${news}\nrollout: { base: 50, concise: 50 }\n`);
  writeFileSync(join(dir, 'support-desk.yaml'), readFileSync(join(ROOT, 'teams/support-desk.yaml'), 'utf8'));
  return dir;
}

let redis: TestRedis;
let api: Awaited<ReturnType<typeof startLifecycleApi>>;

beforeAll(async () => {
  redis = await startRedis();
  api = await startLifecycleApi(redis, { env: { BATON_TEAMS_DIR: rolloutTeamsDir() } });
});
afterAll(async () => {
  await api?.stop();
  await redis?.stop();
});

const body = (extra: Record<string, unknown> = {}) => ({
  team: 'news-desk',
  pattern: 'sequential',
  input: sampleArticle,
  ...extra,
});

describe('A/B rollouts', () => {
  it('a 50/50 rollout over 200 subjects assigns both variants within the binomial range', async () => {
    const c = client(api.url, CLIENT_KEY);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const { status, run } = await c.createRun(body({ metadata: { subject: `user-${i}` } }));
      expect(status).toBe(202);
      counts[run.variant ?? 'unset'] = (counts[run.variant ?? 'unset'] ?? 0) + 1;
    }
    expect(Object.keys(counts).sort()).toEqual(['base', 'concise']);
    // Binomial(200, 0.5): mean 100, sd 7.07; ±3.5 sd is [75, 125].
    expect(counts.base).toBeGreaterThanOrEqual(75);
    expect(counts.base).toBeLessThanOrEqual(125);
  });

  it('the same subject always gets the same variant, by metadata.subject or the Baton-Subject header', async () => {
    const c = client(api.url, CLIENT_KEY);
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      seen.add((await c.createRun(body({ metadata: { subject: 'alice' } }))).run.variant as string);
      seen.add((await c.createRun(body(), { 'baton-subject': 'alice' })).run.variant as string);
    }
    expect(seen.size).toBe(1);
    const run = (await c.createRun(body(), { 'baton-subject': 'alice' })).run;
    expect(run.subject).toBe('alice');
  });

  it('an explicit options.variant wins, and the job carries the assigned variant to the worker', async () => {
    const c = client(api.url, CLIENT_KEY);
    for (let i = 0; i < 10; i++) {
      const { run } = await c.createRun(
        body({ options: { variant: 'base' }, metadata: { subject: `s${i}` } }),
      );
      expect(run.variant).toBe('base');
    }
    let concise: { id: string } | undefined;
    for (let i = 0; !concise; i++) {
      const { run } = await c.createRun(body({ metadata: { subject: `job-${i}` } }));
      if (run.variant === 'concise') concise = run;
    }
    const job = await api.services.queue.getJob(concise.id);
    expect(job?.data.request.options?.variant).toBe('concise');
  });

  it('a team without a rollout runs as base, and the run record says so', async () => {
    const c = client(api.url, CLIENT_KEY);
    const { run } = await c.createRun({
      team: 'support-desk',
      pattern: 'handoff',
      input: 'I was charged twice.',
    });
    expect(run.variant).toBe('base');
  });

  it('refuses a rollout over a variant the team does not declare', () => {
    const news = parseYaml(readFileSync(join(ROOT, 'teams/news-desk.yaml'), 'utf8')) as Record<
      string,
      unknown
    >;
    const result = teamDefinitionSchema.safeParse({ ...news, rollout: { base: 90, verbose: 10 } });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('unknown variant \\"verbose\\"');
  });
});

describe('per-variant metrics', () => {
  it('baton.runs counts runs by variant', async () => {
    const telemetry = startTestTelemetry();
    try {
      const engine = createTestEngine();
      await engine.run({
        team: 'news-desk',
        pattern: 'sequential',
        input: sampleArticle,
        options: { variant: 'concise' },
      });
      await engine.run({ team: 'news-desk', pattern: 'sequential', input: sampleArticle });
      const runs: sdkMetrics.MetricData | undefined = (await telemetry.collectMetrics()).get('baton.runs');
      const variants = runs?.dataPoints.map((p) => p.attributes['baton.variant']).sort();
      expect(variants).toEqual(['base', 'concise']);
    } finally {
      await telemetry.shutdown();
    }
  });
});
