import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  BatonApiError,
  BatonClient,
  type RunEvent,
  type StreamedEvent,
  signWebhook,
  verifyWebhook,
} from '../../../packages/client/src/index.js';
import { API_KEYS, CLIENT_KEY, OPERATOR_KEY, ROOT } from '../../../test/support/baton.js';
import { sampleArticle } from '../../../test/support/engine.js';
import { type FaultProxy, startFaultProxy } from '../../../test/support/fault-proxy.js';
import { startRedis, type TestRedis } from '../../../test/support/redis.js';
import { startService } from '../../../test/support/service.js';

const ADMIN_KEY = 'admin-key-dddddddddddddddd';

/** The client against a live service (API + worker + Redis), through a proxy that injects network faults. */
let redis: TestRedis;
let service: Awaited<ReturnType<typeof startService>>;
let proxy: FaultProxy;

beforeAll(async () => {
  redis = await startRedis();
  service = await startService(redis, {
    BATON_SIMULATED_LATENCY_MS: '30',
    BATON_API_KEYS: `${API_KEYS},${ADMIN_KEY}:admin`,
  });
  proxy = await startFaultProxy(service.url);
});
afterAll(async () => {
  await proxy?.close();
  await service?.stop();
  await redis?.stop();
});

const client = (options: Partial<ConstructorParameters<typeof BatonClient>[0]> = {}) =>
  new BatonClient({ baseUrl: proxy.url, apiKey: CLIENT_KEY, maxRetryDelayMs: 2_000, ...options });

describe('runs.create', () => {
  it('sends an idempotency key of its own and reuses it when the answer is lost: one run, not two', async () => {
    proxy.add({ method: 'POST', path: /^\/v1\/runs$/, fault: { kind: 'drop-response' }, count: 1 });
    const before = proxy.requests.length;
    const run = await client().runs.create({
      team: 'news-desk',
      pattern: 'sequential',
      input: sampleArticle,
    });
    const posts = proxy.requests.slice(before).filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(2);
    const keys = posts.map((p) => p.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    // The lost answer had created the run; the retry got that same run back.
    const mine = [];
    for await (const r of client().runs.list({ limit: 100 })) if (r.input === sampleArticle) mine.push(r.id);
    expect(mine).toEqual([run.id]);
  });

  it('waits out a 429 as Retry-After says, then succeeds', async () => {
    proxy.add({
      method: 'POST',
      path: /^\/v1\/runs$/,
      fault: {
        kind: 'status',
        status: 429,
        headers: { 'retry-after': '1' },
        body: { error: { code: 'RATE_LIMITED', message: 'Slow down.' } },
      },
      count: 1,
    });
    const before = proxy.requests.length;
    const run = await client().runs.create({
      team: 'news-desk',
      pattern: 'sequential',
      input: 'throttled once',
    });
    const posts = proxy.requests.slice(before).filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(2);
    expect((posts[1]?.at ?? 0) - (posts[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(run.status).toBe('queued');
  });
});

describe('runs.stream', () => {
  it('follows a magentic run to its end across a dropped connection, losing and repeating nothing', async () => {
    const c = client();
    const run = await c.runs.create({ team: 'news-desk', pattern: 'magentic', input: sampleArticle });
    proxy.add({
      path: new RegExp(`^/v1/runs/${run.id}/events$`),
      fault: { kind: 'cut-stream', afterEvents: 4 },
      count: 1,
    });
    const seen: StreamedEvent[] = [];
    for await (const event of c.runs.stream(run.id)) seen.push(event);
    const connects = proxy.requests.filter((r) => r.path === `/v1/runs/${run.id}/events`);
    expect(connects.length).toBeGreaterThanOrEqual(2);
    // The reconnect resumed after an event the client had seen, before the end of the run.
    const resumedAfter = connects[1]?.headers['last-event-id'];
    const at = seen.findIndex((e) => e.eventId === resumedAfter);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(at).toBeLessThan(seen.length - 1);
    // The whole stream, read afresh, is exactly what the client saw across the break.
    const direct = new BatonClient({ baseUrl: service.url, apiKey: CLIENT_KEY });
    const all: StreamedEvent[] = [];
    for await (const event of direct.runs.stream(run.id)) all.push(event);
    expect(seen.map((e) => e.eventId)).toEqual(all.map((e) => e.eventId));
    expect(new Set(seen.map((e) => e.eventId)).size).toBe(seen.length);
    const types = seen.map((e: RunEvent) => e.type);
    expect(types).toContain('plan.created');
    expect(types.at(-1)).toBe('run.completed');
  });
});

describe('runs.wait, cancel, list', () => {
  it('wait resolves with the final record', async () => {
    const c = client();
    const run = await c.runs.create({ team: 'news-desk', pattern: 'concurrent', input: sampleArticle });
    const done = await c.runs.wait(run.id, { timeoutMs: 30_000 });
    expect(done.status).toBe('succeeded');
    expect(done.output?.structured).toMatchObject({ isBusiness: true });
  });

  it('cancel stops a run, and a second cancel is a typed 409', async () => {
    const slow = await startService(redis, { BATON_SIMULATED_LATENCY_MS: '2000' }, false);
    try {
      const c = new BatonClient({ baseUrl: slow.url, apiKey: CLIENT_KEY });
      const run = await c.runs.create({ team: 'news-desk', pattern: 'sequential', input: 'cancel me' });
      const cancelled = await c.runs.cancel(run.id);
      expect(cancelled.status).toBe('cancelled');
      const again = await c.runs.cancel(run.id).catch((e: unknown) => e);
      expect(again).toBeInstanceOf(BatonApiError);
      expect(again).toMatchObject({ status: 409, code: 'RUN_FINISHED' });
    } finally {
      await slow.stop();
    }
  });

  it('list pages through every run', async () => {
    const c = new BatonClient({ baseUrl: service.url, apiKey: OPERATOR_KEY });
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      ids.add((await c.runs.create({ team: 'news-desk', pattern: 'sequential', input: `page ${i}` })).id);
    }
    const before = proxy.requests.length;
    const listed: string[] = [];
    for await (const run of new BatonClient({ baseUrl: proxy.url, apiKey: OPERATOR_KEY }).runs.list({
      limit: 2,
    })) {
      listed.push(run.id);
    }
    for (const id of ids) expect(listed).toContain(id);
    expect(new Set(listed).size).toBe(listed.length);
    expect(proxy.requests.slice(before).length).toBeGreaterThanOrEqual(Math.ceil(listed.length / 2));
  });
});

describe('teams', () => {
  const newsDesk = parseYaml(readFileSync(join(ROOT, 'teams/news-desk.yaml'), 'utf8')) as Record<
    string,
    unknown
  >;
  const reviewDesk = (instructions: string) => ({
    ...newsDesk,
    name: 'review-desk',
    description: `News desk for reviews. ${instructions}`,
  });

  it('registers versions, reads them, runs on the current one and retires the team', async () => {
    const admin = client({ apiKey: ADMIN_KEY });
    const first = await admin.teams.register('review-desk', reviewDesk('First.'));
    expect(first).toMatchObject({ name: 'review-desk', created: true, changed: true });
    const again = await admin.teams.register('review-desk', reviewDesk('First.'));
    expect(again).toMatchObject({ version: first.version, created: false });
    const second = await admin.teams.register('review-desk', reviewDesk('Second.'));
    expect(second).toMatchObject({ created: true, previous: first.version });

    const record = await client().teams.get('review-desk');
    expect(record.current?.version).toBe(second.version);
    expect(record.versions.map((v) => v.version)).toEqual([first.version, second.version]);
    const old = await client().teams.version('review-desk', first.version);
    expect(old).toMatchObject({ version: first.version, current: false });
    expect(old.document).toMatchObject({ description: 'News desk for reviews. First.' });
    expect((await client().teams.list()).map((t) => t.name)).toContain('review-desk');

    const run = await client().runs.create({
      team: 'review-desk',
      pattern: 'sequential',
      input: sampleArticle,
    });
    expect(await client().runs.wait(run.id, { timeoutMs: 30_000 })).toMatchObject({
      status: 'succeeded',
      teamVersion: second.version,
    });

    expect(await admin.teams.retire('review-desk')).toEqual({ name: 'review-desk', retired: second.version });
    const refused = await client()
      .runs.create({ team: 'review-desk', pattern: 'sequential', input: sampleArticle })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BatonApiError);
    expect((refused as BatonApiError).status).toBe(400);
  });

  it('a client key may read teams but not register one: a typed 403', async () => {
    const err = await client()
      .teams.register('review-desk', reviewDesk('Mine.'))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    const missing = await client()
      .teams.get('no-such-team')
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });
});

describe('typed errors', () => {
  it('400: the validation envelope, with the request id', async () => {
    const err = await client()
      .runs.create({ team: 'news-desk', pattern: 'sequential', input: '' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatonApiError);
    expect(err).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect((err as BatonApiError).message).toContain('input');
    expect((err as BatonApiError).requestId).toMatch(/\S/);
  });

  it('401 for a wrong key and 404 for a run the caller cannot see', async () => {
    const unauthorised = await client({ apiKey: 'not-a-key-of-this-service' })
      .runs.get('00000000-0000-4000-8000-000000000000')
      .catch((e: unknown) => e);
    expect(unauthorised).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    const missing = await client()
      .runs.get('00000000-0000-4000-8000-000000000000')
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });
});

describe('verifyWebhook', () => {
  const secret = 'whsec-test-secret-with-enough-length';
  const body = JSON.stringify({
    id: 'e1',
    type: 'run.completed',
    runId: 'r1',
    createdAt: '2026-01-01T00:00:00Z',
    data: {},
  });

  it('accepts a delivery signed with the secret, within the tolerance', async () => {
    const t = 1_800_000_000;
    const headers = { 'Baton-Signature': `t=${t},v1=${await signWebhook(body, secret, t)}` };
    expect(await verifyWebhook(headers, body, secret, { now: t + 10 })).toBe(true);
    expect(await verifyWebhook(new Headers(headers), body, secret, { now: t + 10 })).toBe(true);
  });

  it('refuses a changed body, another secret, an old signature and a missing header', async () => {
    const t = 1_800_000_000;
    const headers = { 'baton-signature': `t=${t},v1=${await signWebhook(body, secret, t)}` };
    expect(await verifyWebhook(headers, `${body} `, secret, { now: t })).toBe(false);
    expect(await verifyWebhook(headers, body, 'another-secret-entirely', { now: t })).toBe(false);
    expect(await verifyWebhook(headers, body, secret, { now: t + 301 })).toBe(false);
    expect(await verifyWebhook({}, body, secret, { now: t })).toBe(false);
  });
});
