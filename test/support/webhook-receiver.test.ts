import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookDelivery, type WebhookReceiver } from './webhook-receiver.js';

describe('webhook receiver', () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
  });
  afterEach(() => receiver.setBehaviour({}));
  afterAll(() => receiver.close());

  const deliver = (body: string, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    fetch(`${receiver.url}/hooks/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal,
    });

  it('records headers, the exact raw body, parsed JSON and time, and answers 200', async () => {
    const raw = '{"type":"run.completed",  "runId":"r-1"}';
    const signature = createHmac('sha256', 'secret').update(raw).digest('hex');
    const res = await deliver(raw, { 'x-baton-signature': `sha256=${signature}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true });
    const [delivery] = await receiver.waitFor(
      (d) => d.body !== undefined && (d.body as { runId?: string }).runId === 'r-1',
    );
    expect(delivery).toMatchObject({ method: 'POST', path: '/hooks/runs', rawBody: raw, status: 200 });
    expect(delivery?.body).toEqual({ type: 'run.completed', runId: 'r-1' });
    expect(
      createHmac('sha256', 'secret')
        .update(delivery?.rawBody ?? '')
        .digest('hex'),
    ).toBe(signature);
    expect(delivery?.headers['x-baton-signature']).toBe(`sha256=${signature}`);
    expect(delivery?.receivedAt).toBeGreaterThan(0);
  });

  it('keeps non-JSON bodies as text and refuses other methods', async () => {
    await deliver('not json');
    const [plain] = await receiver.waitFor((d) => d.rawBody === 'not json');
    expect(plain?.body).toBeUndefined();
    const get = await fetch(`${receiver.url}/hooks/runs`);
    expect(get.status).toBe(405);
    expect(receiver.deliveries.every((d) => d.method === 'POST')).toBe(true);
  });

  it('waitFor resolves when the matching delivery arrives later', async () => {
    const waiting = receiver.waitFor((d) => (d.body as { seq?: number } | undefined)?.seq === 3, {
      count: 1,
    });
    for (const seq of [1, 2, 3]) await deliver(JSON.stringify({ seq }));
    const [third] = await waiting;
    expect(third?.body).toEqual({ seq: 3 });
    const several = await receiver.waitFor(
      (d) => typeof (d.body as { seq?: number } | undefined)?.seq === 'number',
      {
        count: 3,
      },
    );
    expect(several.map((d) => (d.body as { seq: number }).seq)).toEqual([1, 2, 3]);
  });

  it('answers status N for the next k deliveries, with headers', async () => {
    receiver.setBehaviour({ fail: { status: 503, count: 2, headers: { 'retry-after': '2' } } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await deliver(JSON.stringify({ attempt: i }));
      statuses.push(res.status);
      if (i === 0) expect(res.headers.get('retry-after')).toBe('2');
    }
    expect(statuses).toEqual([503, 503, 200]);
    const attempts = receiver.deliveries.filter(
      (d) => (d.body as { attempt?: number } | undefined)?.attempt !== undefined,
    );
    expect(attempts.map((d) => d.status)).toEqual([503, 503, 200]);
  });

  it('hangs and records the sender giving up', async () => {
    receiver.setBehaviour({ hang: { count: 1 } });
    const controller = new AbortController();
    const pending = deliver('{"slow":true}', {}, controller.signal);
    const [hung] = await receiver.waitFor((d) => d.rawBody === '{"slow":true}');
    expect(hung?.fault).toBe('hang');
    controller.abort();
    await expect(pending).rejects.toThrow();
    await receiver.waitFor((d) => d === hung && d.clientClosed);
    expect(hung?.status).toBeUndefined();
  });
});

describe('webhook receiver started from another process', () => {
  let child: ChildProcess;
  let url: string;
  beforeAll(async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'test/support/webhook-receiver.ts', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    url = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`receiver exited with ${code}`)));
      lines.once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
    });
  });
  afterAll(() => {
    child.kill('SIGTERM');
  });

  it('is scripted and inspected over HTTP', async () => {
    await fetch(`${url}/_control/behaviour`, {
      method: 'PUT',
      body: JSON.stringify({ fail: { status: 410, count: 1 } }),
    });
    expect((await fetch(`${url}/h`, { method: 'POST', body: '{"n":1}' })).status).toBe(410);
    expect((await fetch(`${url}/h`, { method: 'POST', body: '{"n":2}' })).status).toBe(200);
    const deliveries = (await (await fetch(`${url}/_control/deliveries`)).json()) as WebhookDelivery[];
    expect(deliveries.map((d) => [d.body, d.status])).toEqual([
      [{ n: 1 }, 410],
      [{ n: 2 }, 200],
    ]);
  });
});
