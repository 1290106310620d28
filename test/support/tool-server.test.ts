import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  derivedOrder,
  ECHO_ROUTE,
  ORDER_ROUTE,
  REFUND_ROUTE,
  type Refund,
  startToolServer,
  type ToolRequest,
  type ToolServer,
} from './tool-server.js';

const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('tool server', () => {
  let server: ToolServer;
  let other: ToolServer;
  beforeAll(async () => {
    server = await startToolServer({
      orders: {
        'A-1': { status: 'shipped', deliveryDate: '2025-06-01', items: 2, total: 20, currency: 'USD' },
      },
    });
    other = await startToolServer();
  });
  afterEach(() => server.setBehaviour({}));
  afterAll(async () => {
    await server.close();
    await other.close();
  });

  it('answers orders deterministically per id and 404 with a JSON error for unknown ids', async () => {
    const first = await (await fetch(`${server.url}/v1/orders/ORD-42`)).json();
    const again = await (await fetch(`${server.url}/v1/orders/ORD-42`)).json();
    expect(first).toEqual(again);
    expect(first).toEqual(derivedOrder('ORD-42'));
    expect(first).toMatchObject({ orderId: 'ORD-42', status: 'delivered', deliveryDate: '2025-02-12' });
    expect(await (await fetch(`${server.url}/v1/orders/A-1`)).json()).toMatchObject({
      status: 'shipped',
      currency: 'USD',
    });

    const missing = await fetch(`${server.url}/v1/orders/nope`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await missing.json()).toEqual({
      error: { code: 'order_not_found', message: "No order with id 'nope'." },
    });
  });

  it('creates a refund on every POST (not idempotent) and records each Idempotency-Key', async () => {
    const before = server.refunds.length;
    const a = await postJson(
      `${server.url}/v1/refunds`,
      { orderId: 'ORD-7', amount: 5 },
      { 'idempotency-key': 'k-1' },
    );
    const b = await postJson(
      `${server.url}/v1/refunds`,
      { orderId: 'ORD-7', amount: 5 },
      { 'idempotency-key': 'k-1' },
    );
    expect([a.status, b.status]).toEqual([201, 201]);
    const [ra, rb] = [(await a.json()) as Refund, (await b.json()) as Refund];
    expect(ra.id).not.toBe(rb.id);
    expect(ra).toMatchObject({
      orderId: 'ORD-7',
      amount: 5,
      currency: 'EUR',
      status: 'pending',
      idempotencyKey: 'k-1',
    });
    expect(server.refunds.length - before).toBe(2);
    const posted = server.requests.filter((r) => r.route === REFUND_ROUTE).slice(-2);
    expect(posted.map((r) => r.idempotencyKey)).toEqual(['k-1', 'k-1']);
    expect(server.idempotencyKeys.slice(-2)).toEqual(['k-1', 'k-1']);

    expect((await postJson(`${server.url}/v1/refunds`, { orderId: 'ORD-7' })).status).toBe(400);
    expect((await postJson(`${server.url}/v1/refunds`, { orderId: 'bad', amount: 1 })).status).toBe(404);
    const notJson = await fetch(`${server.url}/v1/refunds`, { method: 'POST', body: '{oops' });
    expect(notJson.status).toBe(400);
  });

  it('honours Idempotency-Key only when asked to', async () => {
    const strict = await startToolServer({ honourIdempotencyKey: true });
    try {
      const first = await postJson(
        `${strict.url}/v1/refunds`,
        { orderId: 'ORD-1', amount: 3 },
        { 'idempotency-key': 'x' },
      );
      const second = await postJson(
        `${strict.url}/v1/refunds`,
        { orderId: 'ORD-1', amount: 3 },
        { 'idempotency-key': 'x' },
      );
      expect([first.status, second.status]).toEqual([201, 200]);
      expect(((await second.json()) as Refund).id).toBe(((await first.json()) as Refund).id);
      expect(strict.refunds).toHaveLength(1);
    } finally {
      await strict.close();
    }
  });

  it('echoes query and headers, and counts calls per route', async () => {
    const before = { ...server.calls };
    const res = await fetch(`${server.url}/echo?a=1&b=two`, { headers: { 'x-trace': 't-1' } });
    expect(await res.json()).toMatchObject({
      method: 'GET',
      path: '/echo',
      query: { a: '1', b: 'two' },
      headers: { 'x-trace': 't-1' },
    });
    await fetch(`${server.url}/v1/orders/ORD-1`);
    await fetch(`${server.url}/v1/orders/ORD-2`);
    expect((server.calls[ECHO_ROUTE] ?? 0) - (before[ECHO_ROUTE] ?? 0)).toBe(1);
    expect((server.calls[ORDER_ROUTE] ?? 0) - (before[ORDER_ROUTE] ?? 0)).toBe(2);
  });

  it('fails with status N for the next k requests, then answers normally', async () => {
    server.setBehaviour({ fail: { status: 503, count: 2, headers: { 'retry-after': '1' } } });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${server.url}/v1/orders/ORD-1`);
      statuses.push(res.status);
      retryAfter ??= res.headers.get('retry-after');
      await res.arrayBuffer();
    }
    expect(statuses).toEqual([503, 503, 200]);
    expect(retryAfter).toBe('1');
  });

  it('limits faults to the given paths', async () => {
    server.setBehaviour({ paths: ['/v1/refunds'], fail: { status: 500 } });
    expect((await fetch(`${server.url}/v1/orders/ORD-1`)).status).toBe(200);
    expect((await postJson(`${server.url}/v1/refunds`, { orderId: 'ORD-1', amount: 1 })).status).toBe(500);
  });

  it('hangs the next request and records that the client closed the connection', async () => {
    server.setBehaviour({ hang: { count: 1 } });
    const controller = new AbortController();
    const pending = fetch(`${server.url}/v1/orders/ORD-9`, { signal: controller.signal });
    const [hung] = await server.waitForRequest((r) => r.fault === 'hang' && r.path === '/v1/orders/ORD-9');
    expect(hung?.clientClosed).toBe(false);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await server.waitForRequest((r) => r === hung && r.clientClosed);
    expect(hung?.status).toBeUndefined();
    expect((await fetch(`${server.url}/v1/orders/ORD-9`)).status).toBe(200);
  });

  it('delays the next request', async () => {
    server.setBehaviour({ delay: { ms: 150, count: 1 } });
    await (await fetch(`${server.url}/echo?d=1`)).arrayBuffer();
    const [delayed] = await server.waitForRequest((r) => r.query.d === '1' && r.respondedAt !== undefined);
    expect(delayed?.fault).toBe('delay');
    expect((delayed?.respondedAt ?? 0) - (delayed?.receivedAt ?? 0)).toBeGreaterThanOrEqual(140);
  });

  it('redirects to another host:port, keeping the path', async () => {
    server.setBehaviour({ redirect: { to: other.url, status: 307, count: 1 } });
    const res = await fetch(`${server.url}/v1/orders/ORD-3?x=1`, { redirect: 'manual' });
    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toBe(`${other.url}/v1/orders/ORD-3?x=1`);
    expect(new URL(res.headers.get('location') ?? '').port).toBe(String(other.port));
    expect(other.requests).toHaveLength(0);
  });

  it('answers a body of the configured size, and notices a client that stops reading', async () => {
    server.setBehaviour({ largeBody: { bytes: 300_000, count: 1 } });
    const text = await (await fetch(`${server.url}/v1/orders/ORD-1`)).text();
    expect(Buffer.byteLength(text)).toBe(300_000);
    expect((JSON.parse(text) as { data: string }).data).toMatch(/^x+$/);

    server.setBehaviour({ largeBody: { bytes: 64 * 1024 * 1024, count: 1 } });
    const res = await fetch(`${server.url}/v1/orders/ORD-2`);
    const reader = res.body?.getReader();
    await reader?.read();
    await reader?.cancel();
    await server.waitForRequest(
      (r) => r.path === '/v1/orders/ORD-2' && r.fault === 'largeBody' && r.clientClosed,
    );
  });

  it('answers non-JSON when scripted', async () => {
    server.setBehaviour({ nonJson: { count: 1 } });
    const res = await fetch(`${server.url}/v1/orders/ORD-1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    await expect(res.json()).rejects.toThrow();
  });

  it('refuses requests without the required headers', async () => {
    const guarded = await startToolServer({ requiredHeaders: { Authorization: 'Bearer s3cret' } });
    try {
      expect((await fetch(`${guarded.url}/echo`)).status).toBe(401);
      expect(
        (await fetch(`${guarded.url}/echo`, { headers: { authorization: 'Bearer s3cret' } })).status,
      ).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});

describe('tool server started from another process', () => {
  let child: ChildProcess;
  let url: string;
  beforeAll(async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'test/support/tool-server.ts', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    url = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
      lines.once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
    });
  });
  afterAll(() => {
    child.kill('SIGTERM');
  });

  it('is scripted and inspected over HTTP', async () => {
    await fetch(`${url}/_control/behaviour`, {
      method: 'PUT',
      body: JSON.stringify({ fail: { status: 502, count: 1 } }),
    });
    expect((await fetch(`${url}/v1/orders/ORD-5`)).status).toBe(502);
    expect(
      (await postJson(`${url}/v1/refunds`, { orderId: 'ORD-5', amount: 1 }, { 'idempotency-key': 'r' }))
        .status,
    ).toBe(201);
    const requests = (await (await fetch(`${url}/_control/requests`)).json()) as ToolRequest[];
    expect(requests.map((r) => [r.route, r.status, r.idempotencyKey ?? null])).toEqual([
      [ORDER_ROUTE, 502, null],
      [REFUND_ROUTE, 201, 'r'],
    ]);
    const state = (await (await fetch(`${url}/_control/state`)).json()) as {
      calls: Record<string, number>;
      refunds: Refund[];
    };
    expect(state.calls).toEqual({ [ORDER_ROUTE]: 1, [REFUND_ROUTE]: 1 });
    expect(state.refunds).toHaveLength(1);
  });
});
