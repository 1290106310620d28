import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KEY, client, OPERATOR_KEY, OTHER_CLIENT_KEY } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startService } from '../support/service.js';

let redis: TestRedis;
let service: Awaited<ReturnType<typeof startService>>;

beforeAll(async () => {
  redis = await startRedis();
  service = await startService(redis, { BATON_BODY_LIMIT_BYTES: '20000' });
});
afterAll(async () => {
  await service?.stop();
  await redis?.stop();
});

const run = { team: 'news-desk', pattern: 'sequential', input: sampleArticle };

describe('authentication', () => {
  it('answers 401 with the envelope when the key is missing or wrong', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer not-a-key-at-all-xxxxxxx' },
      { authorization: 'Basic abc' },
    ];
    for (const headers of attempts) {
      const res = await fetch(`${service.url}/v1/runs`, { headers });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('UNAUTHORIZED');
      expect(body.error.message).not.toContain('not-a-key');
    }
  });

  it('serves health and docs without a key', async () => {
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${service.url}/readyz`)).json()).toEqual({ status: 'ready' });
    const spec = (await (await fetch(`${service.url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/v1/runs',
        '/v1/runs/{id}',
        '/v1/runs/{id}/events',
        '/v1/runs/{id}/cancel',
        '/v1/teams',
        '/v1/agents',
      ]),
    );
    expect((await fetch(`${service.url}/docs/`)).status).toBe(200);
  });

  it('shows a client only its own runs; operators see all', async () => {
    const mine = client(service.url, CLIENT_KEY);
    const other = client(service.url, OTHER_CLIENT_KEY);
    const operator = client(service.url, OPERATOR_KEY);
    const { run: created, status } = await mine.createRun(run);
    expect(status).toBe(202);
    expect((await other.call('GET', `/v1/runs/${created.id}`)).status).toBe(404);
    expect((await other.call('POST', `/v1/runs/${created.id}/cancel`)).status).toBe(404);
    expect((await other.call('GET', `/v1/runs/${created.id}/events`)).status).toBe(404);
    expect((await mine.call('GET', `/v1/runs/${created.id}`)).status).toBe(200);
    expect((await operator.call('GET', `/v1/runs/${created.id}`)).status).toBe(200);
    const otherList = (await other.call('GET', '/v1/runs')).body as { items: { id: string }[] };
    expect(otherList.items.map((r) => r.id)).not.toContain(created.id);
    const all = (await operator.call('GET', '/v1/runs?limit=100')).body as { items: { id: string }[] };
    expect(all.items.map((r) => r.id)).toContain(created.id);
    // The owner is a hash kept beside the record, never the key.
    expect(JSON.stringify(created)).not.toContain(CLIENT_KEY);
  });
});

describe('bad input never reaches a 500', () => {
  const c = () => client(service.url, CLIENT_KEY);
  const cases: [string, string | object, number, string, RegExp?][] = [
    ['malformed JSON', '{"pattern": "sequential",', 400, 'INVALID_JSON'],
    [
      'unknown field',
      { ...run, colour: 'blue' },
      400,
      'VALIDATION_FAILED',
      /body has unknown field\(s\) "colour"/,
    ],
    [
      'wrong type',
      { ...run, options: { maxTokens: 'many' } },
      400,
      'VALIDATION_FAILED',
      /body\.options\.maxTokens/,
    ],
    ['empty input', { ...run, input: '   ' }, 400, 'VALIDATION_FAILED', /body\.input/],
    ['missing pattern', { input: 'x' }, 400, 'VALIDATION_FAILED', /body\.pattern/],
    ['unknown pattern', { ...run, pattern: 'swarm' }, 400, 'VALIDATION_FAILED', /body\.pattern/],
    ['unknown team', { ...run, team: 'nobody' }, 400, 'UNKNOWN_TEAM'],
    ['unknown option', { ...run, options: { turbo: true } }, 400, 'VALIDATION_FAILED', /turbo/],
    ['oversize body', { ...run, input: 'x'.repeat(30_000) }, 413, 'PAYLOAD_TOO_LARGE'],
  ];
  for (const [name, body, status, code, message] of cases) {
    it(`${name} → ${status} ${code}`, async () => {
      const res = await c().call('POST', '/v1/runs', body);
      expect(res.status).toBe(status);
      const error = (res.body as { error: { code: string; message: string } }).error;
      expect(error.code).toBe(code);
      expect(error.message).toMatch(/\.$/);
      if (message) expect(error.message).toMatch(message);
    });
  }

  it('a non-JSON content type → 415', async () => {
    const res = await fetch(`${service.url}/v1/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('an unknown route → 404 envelope; bad query → 400', async () => {
    expect((await c().call('GET', '/v1/nothing')).status).toBe(404);
    const res = await c().call('GET', '/v1/runs?limit=5000');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
  });
});

describe('runs', () => {
  it('runs a sequential news-desk run to a record with per-step timing, tokens and structured output', async () => {
    const c = client(service.url, CLIENT_KEY);
    const { run: created, status, headers } = await c.createRun(run);
    expect(status).toBe(202);
    expect(headers.get('location')).toBe(`/v1/runs/${created.id}`);
    expect(created.status).toBe('queued');
    const done = await c.waitForStatus(created.id, ['succeeded', 'failed']);
    expect(done.status).toBe('succeeded');
    expect(done.steps).toHaveLength(5);
    for (const step of done.steps) {
      expect(step.durationMs).toBeGreaterThanOrEqual(0);
      expect(step.usage.inputTokens).toBeGreaterThan(0);
      expect(step.usage.outputTokens).toBeGreaterThan(0);
    }
    expect(done.usage.inputTokens).toBe(done.steps.reduce((n, s) => n + s.usage.inputTokens, 0));
    expect(done.output?.structured).toMatchObject({
      isBusiness: true,
      companies: expect.arrayContaining([
        expect.objectContaining({ name: 'Contoso Motors', direction: 'increase' }),
      ]),
    });
  });

  it('honours Idempotency-Key: the same request returns the first run, a different one is a 409', async () => {
    const c = client(service.url, CLIENT_KEY);
    const key = { 'idempotency-key': `idem-${Date.now()}` };
    const first = await c.createRun(run, key);
    const second = await c.createRun(run, key);
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(second.run.id).toBe(first.run.id);
    const conflict = await c.createRun({ ...run, input: 'something else' }, key);
    expect(conflict.status).toBe(409);
    // Keys are per API key: another client may use the same idempotency key for its own run.
    const other = await client(service.url, OTHER_CLIENT_KEY).createRun(run, key);
    expect(other.status).toBe(202);
    expect(other.run.id).not.toBe(first.run.id);
  });

  it('streams events over SSE, ends after the terminal event, and replays after Last-Event-ID', async () => {
    const c = client(service.url, CLIENT_KEY);
    const { run: created } = await c.createRun(run);
    const all = await c.events(created.id);
    const types = all.map((e) => e.event.type);
    expect(types[0]).toBe('run.started');
    expect(types.at(-1)).toBe('run.completed');
    expect(types.filter((t) => t === 'agent.completed')).toHaveLength(5);
    expect(types.indexOf('agent.delta')).toBeLessThan(types.indexOf('agent.completed'));

    const cut = 4;
    const rest = await c.events(created.id, { lastEventId: all[cut - 1]?.id });
    expect(rest.map((e) => e.id)).toEqual(all.slice(cut).map((e) => e.id));
  });

  it('lists runs newest first, filters by status and pages with a cursor', async () => {
    const c = client(service.url, OTHER_CLIENT_KEY);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await c.createRun({ ...run, input: `${sampleArticle} #${i}` })).run.id);
    for (const id of ids) await c.waitForStatus(id, ['succeeded']);
    const page1 = (await c.call('GET', '/v1/runs?limit=2&status=succeeded')).body as {
      items: { id: string }[];
      nextCursor?: string;
    };
    expect(page1.items).toHaveLength(2);
    expect(page1.nextCursor).toBeDefined();
    const page2 = (await c.call('GET', `/v1/runs?limit=2&status=succeeded&cursor=${page1.nextCursor}`))
      .body as { items: { id: string }[] };
    const seen = [...page1.items, ...page2.items].map((r) => r.id);
    for (const id of ids) expect(seen).toContain(id);
    expect(new Set(seen).size).toBe(seen.length);
    const queued = (await c.call('GET', '/v1/runs?status=queued')).body as { items: unknown[] };
    expect(queued.items).toHaveLength(0);
  });

  it('takes feedback on a run or one of its steps, kept with the run', async () => {
    const c = client(service.url, CLIENT_KEY);
    const { run: created } = await c.createRun(run);
    const done = await c.waitForStatus(created.id, ['succeeded']);
    const step = done.steps[0]?.key ?? '';
    const res = await c.call('POST', `/v1/runs/${created.id}/feedback`, {
      score: 1,
      comment: 'useful',
      step,
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ score: 1, comment: 'useful', step });
    await c.call('POST', `/v1/runs/${created.id}/feedback`, { score: 0 });
    const record = await c.getRun(created.id);
    expect(record.feedback?.map((f) => f.score)).toEqual([1, 0]);

    const bad = await c.call('POST', `/v1/runs/${created.id}/feedback`, { score: 7 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    const unknownStep = await c.call('POST', `/v1/runs/${created.id}/feedback`, {
      score: 1,
      step: 'seq/9/agent:nobody',
    });
    expect(unknownStep.status).toBe(400);
    expect(unknownStep.body).toMatchObject({ error: { code: 'UNKNOWN_STEP' } });
    const other = await client(service.url, OTHER_CLIENT_KEY).call(
      'POST',
      `/v1/runs/${created.id}/feedback`,
      {
        score: 0,
      },
    );
    expect(other.status).toBe(404);
  });

  it('lists teams and agents', async () => {
    const c = client(service.url, CLIENT_KEY);
    const teams = (await c.call('GET', '/v1/teams')).body as { items: { name: string }[] };
    expect(teams.items.map((t) => t.name)).toContain('news-desk');
    const agents = (await c.call('GET', '/v1/agents')).body as { items: { name: string; policy: unknown }[] };
    expect(agents.items.map((a) => a.name)).toEqual(expect.arrayContaining(['summarizer', 'editor']));
  });
});
