import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BatonClient, verifyWebhook } from '../../packages/client/src/index.js';
import { CLIENT_KEY } from '../support/baton.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { startFleet } from '../worker/harness.js';
import { askingModel, humanTeamDir } from './support.js';

/**
 * A run's webhook gets signed deliveries of its events from their own queue: `input.requested` while the run
 * waits and the terminal event, each verifiable with the client's `verifyWebhook`; a receiver that fails gets the
 * delivery again with backoff, every attempt listed on the run record. Hosts outside BATON_WEBHOOK_HOSTS, and
 * any webhook while webhooks are off, are refused with 400.
 */
const SECRET = 'a-webhook-secret-for-tests-0123456789';
let redis: TestRedis;
let receiver: WebhookReceiver;
let fleet: Awaited<ReturnType<typeof startFleet>> | undefined;

beforeAll(async () => {
  redis = await startRedis();
  receiver = await startWebhookReceiver();
});
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});
afterAll(async () => {
  await receiver?.close();
  await redis?.stop();
});

const env = async () => ({
  BATON_TEAMS_DIR: await humanTeamDir(),
  BATON_WEBHOOK_SECRET: SECRET,
  BATON_WEBHOOK_HOSTS: '127.0.0.1',
  BATON_WEBHOOK_BACKOFF_MS: '50',
});

interface Body {
  id: string;
  type: string;
  runId: string;
  createdAt: string;
  data: Record<string, unknown>;
}

describe('run webhooks', () => {
  it('deliver input.requested and run.completed, signed; the client answers with runs.answer', async () => {
    fleet = await startFleet(redis, await env());
    await fleet.addWorker({ model: askingModel().model });
    const baton = new BatonClient({ baseUrl: fleet.url, apiKey: CLIENT_KEY });
    const url = `${receiver.url}/hooks/a`;
    const run = await baton.runs.create({
      team: 'helpdesk',
      pattern: 'sequential',
      input: 'Where is my parcel?',
      webhook: { url },
    });
    const [requested] = await receiver.waitFor((d) => d.path === '/hooks/a');
    const body = requested?.body as Body;
    expect(body).toMatchObject({
      type: 'input.requested',
      runId: run.id,
      data: { request: { kind: 'question' } },
    });
    expect(
      await verifyWebhook(requested?.headers as Record<string, string>, requested?.rawBody ?? '', SECRET),
    ).toBe(true);
    expect(
      await verifyWebhook(requested?.headers as Record<string, string>, requested?.rawBody ?? '', 'wrong'),
    ).toBe(false);
    const requestId = (body.data.request as { id: string }).id;
    const accepted = await baton.runs.answer(run.id, requestId, { answer: 'Order 99' });
    expect(accepted.answer.answer).toBe('Order 99');
    const all = await receiver.waitFor((d) => d.path === '/hooks/a', { count: 2 });
    const completed = all[1];
    expect((completed?.body as Body | undefined)?.type).toBe('run.completed');
    expect((completed?.body as Body | undefined)?.data).toMatchObject({
      output: { text: 'Answer using: Order 99' },
    });
    expect(
      await verifyWebhook(completed?.headers as Record<string, string>, completed?.rawBody ?? '', SECRET),
    ).toBe(true);
    const record = await baton.runs.get(run.id);
    expect(record.webhook).toEqual({ url });
    expect(record.deliveries?.map((d) => [d.type, d.status])).toEqual([
      ['input.requested', 200],
      ['run.completed', 200],
    ]);
  });

  it('retry a delivery the receiver fails: the third attempt arrives, every attempt on the record', async () => {
    fleet = await startFleet(redis, await env());
    await fleet.addWorker({ model: askingModel().model });
    receiver.setBehaviour({ fail: { status: 500, count: 2 } });
    const created = await fleet.client.createRun({
      team: 'helpdesk',
      pattern: 'sequential',
      input: 'Where is my parcel?',
      webhook: { url: `${receiver.url}/hooks/b`, events: ['input.requested'] },
    });
    const three = await receiver.waitFor((d) => d.path === '/hooks/b', { count: 3 });
    expect(three.slice(0, 2).map((d) => d.status)).toEqual([500, 500]);
    const ids = new Set(three.map((d) => (d.body as Body).id));
    expect(ids.size).toBe(1);
    // The sender records an attempt once the receiver's answer is in.
    let record = await fleet.client.getRun(created.run.id);
    while ((record.deliveries?.length ?? 0) < 3) {
      await new Promise((r) => setTimeout(r, 20));
      record = await fleet.client.getRun(created.run.id);
    }
    expect(record.deliveries?.map((d) => [d.attempt, d.status])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
  });

  it('refuses a host outside BATON_WEBHOOK_HOSTS, and every webhook while webhooks are off', async () => {
    fleet = await startFleet(redis, await env());
    const task = { team: 'helpdesk', pattern: 'sequential', input: 'x' };
    const outside = await fleet.client.createRun({ ...task, webhook: { url: 'http://example.com/hook' } });
    expect(outside.status).toBe(400);
    expect((outside.body as { error: { code: string } }).error.code).toBe('WEBHOOK_NOT_ALLOWED');
    await fleet.stop();
    fleet = await startFleet(redis, { BATON_TEAMS_DIR: await humanTeamDir() });
    const off = await fleet.client.createRun({ ...task, webhook: { url: `${receiver.url}/hooks/c` } });
    expect(off.status).toBe(400);
    expect((off.body as { error: { code: string } }).error.code).toBe('WEBHOOKS_OFF');
  });
});
