import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, KEYS } from '../admin/harness.js';
import { CLIENT_KEY, client, OPERATOR_KEY, OTHER_CLIENT_KEY } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startService } from '../support/service.js';

/** Hostile requests (ids, nesting, foreign jobs, router errors, rate limits) never reach a 500. */

let redis: TestRedis;
let service: Awaited<ReturnType<typeof startService>>;

beforeAll(async () => {
  redis = await startRedis();
  service = await startService(redis, {
    BATON_API_KEYS: KEYS,
    BATON_RATE_LIMIT_PER_MINUTE: '0',
    BATON_AUTH_FAILURES_PER_MINUTE: '0',
  });
});
afterAll(async () => {
  await service?.stop();
  await redis?.stop();
});

const run = { team: 'news-desk', pattern: 'sequential', input: sampleArticle };

interface Envelope {
  error: { code: string; message: string };
}

async function envelope(res: Response): Promise<Envelope> {
  const body = (await res.json()) as Envelope;
  expect(body.error.code, JSON.stringify(body)).toEqual(expect.any(String));
  expect(body.error.message).toEqual(expect.any(String));
  return body;
}

const call = (path: string, init: RequestInit & { key?: string } = {}) =>
  fetch(`${service.url}${path}`, {
    ...init,
    redirect: 'manual',
    headers: {
      ...(init.key === undefined ? {} : { authorization: `Bearer ${init.key}` }),
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(init.headers as Record<string, string> | undefined),
    },
  });

describe('run ids are checked by format at every route', () => {
  it('an id that names another key of the run (<id>:events, :journal, :feedback) is a 400, never a Redis error', async () => {
    const c = client(service.url, CLIENT_KEY);
    const { run: created } = await c.createRun(run);
    await c.waitForStatus(created.id, ['succeeded']);
    // The run's event stream, journal and feedback list exist now: each is another Redis type.
    await c.call('POST', `/v1/runs/${created.id}/feedback`, { score: 1 });
    const operator = client(service.url, OPERATOR_KEY);
    expect((await c.call('GET', `/v1/runs/${created.id}`)).status).toBe(200);
    for (const suffix of [':events', ':journal', ':feedback', '%3Aevents', ':x', 'X', '-0']) {
      const id = `${created.id}${suffix}`;
      const tries: [string, string, ReturnType<typeof client>, unknown?][] = [
        ['GET', `/v1/runs/${id}`, c],
        ['POST', `/v1/runs/${id}/cancel`, c],
        ['POST', `/v1/runs/${id}/feedback`, c, { score: 1 }],
        ['GET', `/v1/runs/${id}/events`, c],
        ['POST', `/v1/runs/${id}/retry`, operator],
      ];
      for (const [method, path, who, body] of tries) {
        const res = await who.call(method, path, body);
        expect(res.status, `${method} ${path}`).toBe(400);
        expect(res.body, `${method} ${path}`).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
      }
    }
    // The console's retry button route checks the id too.
    const consoleRetry = await call(`/admin/runs/${created.id}:events/retry`, {
      method: 'POST',
      key: OPERATOR_KEY,
    });
    expect(consoleRetry.status).toBe(400);
    expect((await envelope(consoleRetry)).error.code).toBe('VALIDATION_FAILED');
  });
});

describe('input nesting', () => {
  const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const post = (input: string) =>
    call('/v1/runs', {
      method: 'POST',
      key: CLIENT_KEY,
      body: `{"team":"news-desk","pattern":"sequential","input":${input}}`,
    });

  it('an input nested deeper than 32 levels is a 400, and 5,000 levels is a 400, not a stack overflow', async () => {
    const ok = await post(nested(31));
    expect(ok.status).toBe(202);
    const deep = await post(nested(40));
    expect(deep.status).toBe(400);
    const body = await envelope(deep);
    expect(body.error.code).toBe('VALIDATION_FAILED');
    expect(body.error.message).toMatch(
      /body\.input must not nest objects or arrays more than 32 levels deep/,
    );
    for (const depth of [5_000, 100_000]) {
      const res = await post(nested(depth));
      expect(res.status, String(depth)).toBe(400);
      expect((await envelope(res)).error.code).toBe('JSON_TOO_DEEP');
    }
    const arrays = await post(`${'['.repeat(5_000)}${']'.repeat(5_000)}`);
    expect(arrays.status).toBe(400);
    // Deep nesting anywhere in any body is refused the same way.
    const feedback = await call('/v1/runs/00000000-0000-4000-8000-000000000000/feedback', {
      method: 'POST',
      key: CLIENT_KEY,
      body: `{"score":1,"comment":${nested(5_000)}}`,
    });
    expect(feedback.status).toBe(400);
  });
});

describe('jobs not created by baton (bull-board "add")', () => {
  it('fail at once without retries, and every reader of job data keeps working', async () => {
    const admin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
    const operator = client(service.url, OPERATOR_KEY);
    await service.deps.queue.pause();
    const foreign: unknown[] = [
      null,
      'just a string',
      [1, 2],
      { hello: 1 },
      { request: null },
      { request: { team: 'news-desk' } },
      { runId: { a: 1 }, request: 5 },
      {
        runId: '00000000-0000-4000-8000-000000000000',
        request: { team: 'news-desk', pattern: 'sequential' },
      },
    ];
    const ids: string[] = [];
    for (const data of foreign) {
      const res = await fetch(`${service.url}/admin/queues/api/queues/runs/add`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ name: 'by-hand', data, options: {} }),
      });
      expect(res.status).toBe(200);
      ids.push(((await res.json()) as { job: { id: string } }).job.id);
    }
    try {
      // While they wait: the team cancel, queue statistics, console and dashboard all answer.
      const cancel = await operator.call('POST', '/v1/teams/news-desk/cancel');
      expect(cancel.status).toBe(202);
      expect((await operator.call('GET', '/v1/queue')).status).toBe(200);
      expect((await call('/admin', { key: OPERATOR_KEY, headers: { accept: 'text/html' } })).status).toBe(
        200,
      );
      expect((await call('/admin/queues/api/queues', { key: OPERATOR_KEY })).status).toBe(200);
    } finally {
      await service.deps.queue.resume();
    }
    // The worker fails each of them on its first attempt (not 5 attempts with backoff), as not a run job.
    for (const id of ids) {
      await expect
        .poll(async () => (await service.deps.queue.getJob(id))?.failedReason ?? '', { timeout: 10_000 })
        .toMatch(/^FOREIGN_JOB/);
      expect((await service.deps.queue.getJob(id))?.attemptsMade, id).toBe(1);
    }
    // And real runs still run.
    const { run: created } = await client(service.url, CLIENT_KEY).createRun(run);
    expect((await client(service.url, CLIENT_KEY).waitForStatus(created.id, ['succeeded'])).status).toBe(
      'succeeded',
    );
  });
});

describe('router errors and the console path', () => {
  it('/%61dmin/... without credentials is a 401 (or a redirect to sign in), never a 500', async () => {
    for (const path of ['/%61dmin/queues/api/queues', '/%61dmin/queues/api/redis/stats', '/%61dmin']) {
      const res = await call(path, { headers: { accept: 'application/json' } });
      expect(res.status, path).toBe(401);
      expect((await envelope(res)).error.code).toBe('UNAUTHORIZED');
      const page = await call(path, { headers: { accept: 'text/html' } });
      expect([302, 401], path).toContain(page.status);
    }
    const put = await call('/%61dmin/queues/api/queues/runs/pause', { method: 'PUT' });
    expect(put.status).toBe(401);
    expect(await service.deps.queue.isPaused()).toBe(false);
    // With a key it is the console as usual; a client key gets 403.
    expect((await call('/%61dmin/queues/api/queues', { key: OPERATOR_KEY })).status).toBe(200);
    expect((await call('/%61dmin/queues/api/queues', { key: CLIENT_KEY })).status).toBe(403);
  });

  it('answers too-long ids (414), bad URL encoding (400) and unknown routes (404) with the envelope', async () => {
    const cases: [string, number, string][] = [
      [`/v1/runs/${'a'.repeat(150)}`, 414, 'URI_TOO_LONG'],
      [`/v1/runs/${'a'.repeat(150)}/events`, 414, 'URI_TOO_LONG'],
      ['/v1/runs/%E0%A4%A', 400, 'BAD_URL'],
      ['/v1/runs/%', 400, 'BAD_URL'],
      ['/v1/teams/%ZZ/cancel', 400, 'BAD_URL'],
      ['/v1/nothing/here', 404, 'NOT_FOUND'],
    ];
    for (const [path, status, code] of cases) {
      for (const key of [undefined, CLIENT_KEY]) {
        const res = await call(path, { key, method: path.endsWith('cancel') ? 'POST' : 'GET' });
        expect(res.status, path).toBe(status);
        expect(res.headers.get('content-type'), path).toMatch(/^application\/json/);
        expect((await envelope(res)).error.code, path).toBe(code);
      }
    }
  });
});

describe('rate limiting', () => {
  let limited: Awaited<ReturnType<typeof startService>>;
  beforeAll(async () => {
    limited = await startService(
      redis,
      { BATON_RATE_LIMIT_PER_MINUTE: '5', BATON_AUTH_FAILURES_PER_MINUTE: '3' },
      false,
    );
  });
  afterAll(async () => {
    await limited?.stop();
  });

  const get = (path: string, key?: string) =>
    fetch(`${limited.url}${path}`, key ? { headers: { authorization: `Bearer ${key}` } } : {});

  it('limits each key to its requests per minute with 429, Retry-After and the envelope; other keys are not affected', async () => {
    for (let i = 0; i < 5; i++) expect((await get('/v1/teams', CLIENT_KEY)).status).toBe(200);
    const over = await get('/v1/teams', CLIENT_KEY);
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await envelope(over)).error.code).toBe('RATE_LIMITED');
    // Same address, another key: its own budget.
    expect((await get('/v1/teams', OTHER_CLIENT_KEY)).status).toBe(200);
    // Probes are never limited.
    for (let i = 0; i < 7; i++) expect((await get('/healthz')).status).toBe(200);
  });

  it('counts requests with wrong keys per address before authentication: guessing keys is throttled', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await get('/v1/runs', `wrong-key-${i}-xxxxxxxxxxxxxxxx`);
      expect(res.status).toBe(401);
    }
    const throttled = await get('/v1/runs', 'wrong-key-3-xxxxxxxxxxxxxxxx');
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await envelope(throttled)).error.code).toBe('TOO_MANY_AUTH_FAILURES');
    // The address is throttled whatever it presents, so a right guess looks like a wrong one.
    expect((await get('/v1/runs', OPERATOR_KEY)).status).toBe(429);
    // Bearer keys at the console and its sign-in form count the same way.
    expect((await get('/admin/queues/api/queues', 'wrong-key-4-xxxxxxxxxxxxxxxx')).status).toBe(429);
  });
});

describe('request heads over 16 KB', () => {
  /** Sends a request in two TCP writes (the head split inside its headers) and reads the raw answer. */
  async function rawAnswer(method: string, padding: number): Promise<string> {
    const { connect } = await import('node:net');
    const { port } = new URL(service.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const head = `${method} /v1/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${CLIENT_KEY}\r\nX-Padding: ${'x'.repeat(padding)}\r\nConnection: close\r\n\r\n`;
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString('latin1');
    });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    const cut = 200;
    socket.write(head.slice(0, cut));
    await new Promise((r) => setTimeout(r, 50));
    socket.write(head.slice(cut));
    await closed;
    return answer;
  }

  it('answer 431 with the envelope, and a HEAD request with no body even when its head arrives in pieces', async () => {
    const got = await rawAnswer('GET', 20_000);
    expect(got).toMatch(/^HTTP\/1\.1 431 /);
    expect(got.slice(got.indexOf('\r\n\r\n') + 4)).toContain('"HEADERS_TOO_LARGE"');
    const head = await rawAnswer('HEAD', 20_000);
    expect(head).toMatch(/^HTTP\/1\.1 431 /);
    // Nothing after the header block: a client reading a HEAD answer takes no body.
    expect(head.slice(head.indexOf('\r\n\r\n') + 4)).toBe('');
  });
});
