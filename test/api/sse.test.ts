import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KEY, client, OPERATOR_KEY, OTHER_CLIENT_KEY } from '../support/baton.js';
import { sampleArticle } from '../support/engine.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startService } from '../support/service.js';

/** Server-sent event streams are bounded: validated ids, an end for finished runs, caps, shared connections. */

let redis: TestRedis;
let service: Awaited<ReturnType<typeof startService>>;
let probe: Redis;

beforeAll(async () => {
  redis = await startRedis();
  service = await startService(redis, {
    BATON_RATE_LIMIT_PER_MINUTE: '0',
    BATON_SSE_MAX_STREAMS: '14',
    BATON_SSE_MAX_STREAMS_PER_KEY: '12',
  });
  probe = new Redis(redis.url);
});
afterAll(async () => {
  probe?.disconnect();
  await service?.stop();
  await redis?.stop();
});

const run = { team: 'news-desk', pattern: 'sequential', input: sampleArticle };

/** An open event stream: resolves once the response head arrived. */
async function openStream(id: string, key: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const res = await fetch(`${service.url}/v1/runs/${id}/events`, {
    headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  return {
    res,
    close: async () => {
      controller.abort();
      await res.body?.cancel().catch(() => {});
    },
  };
}

/** Reads a response body to its end; the text. */
async function readToEnd(res: Response): Promise<string> {
  return await res.text();
}

/** Redis connections whose name says they belong to this service. */
async function batonConnections(): Promise<number> {
  const list = (await probe.client('LIST')) as string;
  return list.split('\n').filter((line) => / name=baton-/.test(line)).length;
}

describe('Last-Event-ID', () => {
  it('must be an event id within range: anything else is a 400 with the envelope, not a Redis error', async () => {
    const c = client(service.url, CLIENT_KEY);
    const { run: created } = await c.createRun(run);
    await c.waitForStatus(created.id, ['succeeded']);
    for (const id of [
      '99999999999999999999999-0',
      '1-99999999999999999999',
      'abc',
      '1-2-3',
      '-1-0',
      '1-0x',
    ]) {
      const res = await fetch(`${service.url}/v1/runs/${created.id}/events`, {
        headers: { authorization: `Bearer ${CLIENT_KEY}`, 'last-event-id': id },
      });
      expect(res.status, id).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code, id).toBe('VALIDATION_FAILED');
    }
  });

  it("beyond a finished run's last event, the stream ends at once instead of waiting forever", async () => {
    const c = client(service.url, CLIENT_KEY);
    const { run: created } = await c.createRun(run);
    await c.waitForStatus(created.id, ['succeeded']);
    const ahead = await openStream(created.id, CLIENT_KEY, { 'last-event-id': '999999999999999-0' });
    expect(ahead.res.status).toBe(200);
    expect(await readToEnd(ahead.res)).not.toContain('event:');
    // From the start, the finished run's stream replays everything and ends after the terminal event.
    const all = await openStream(created.id, CLIENT_KEY);
    const text = await readToEnd(all.res);
    expect(text).toContain('event: run.started');
    expect(text.trim().split('\n\n').at(-1)).toContain('event: run.completed');
  });
});

describe('concurrent streams', () => {
  it('share Redis connections, are capped per key and in all with 429, and free their slot when closed', async () => {
    const c = client(service.url, CLIENT_KEY);
    const other = client(service.url, OTHER_CLIENT_KEY);
    await service.deps.queue.pause();
    const streams: Awaited<ReturnType<typeof openStream>>[] = [];
    try {
      // Runs that wait in the paused queue: their streams stay open with nothing to say yet.
      const mine = await Promise.all(
        Array.from(
          { length: 3 },
          async (_, i) => (await c.createRun({ ...run, input: `${sampleArticle} #${i}` })).run,
        ),
      );
      const theirs = (await other.createRun(run)).run;
      const before = await batonConnections();
      for (let i = 0; i < 12; i++) {
        const s = await openStream(mine[i % mine.length]?.id as string, CLIENT_KEY);
        expect(s.res.status).toBe(200);
        streams.push(s);
      }
      // Twelve open streams, no connection of their own: one shared blocking connection at most.
      expect((await batonConnections()) - before).toBeLessThanOrEqual(1);

      // The 13th stream of the same key is refused.
      const thirteenth = await fetch(`${service.url}/v1/runs/${mine[0]?.id}/events`, {
        headers: { authorization: `Bearer ${CLIENT_KEY}` },
      });
      expect(thirteenth.status).toBe(429);
      expect(thirteenth.headers.get('retry-after')).toBe('5');
      expect(((await thirteenth.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_STREAMS');

      // Another key may open streams until the API's total (14) is reached.
      for (let i = 0; i < 2; i++) {
        const s = await openStream(theirs.id, OTHER_CLIENT_KEY);
        expect(s.res.status).toBe(200);
        streams.push(s);
      }
      const overTotal = await fetch(`${service.url}/v1/runs/${theirs.id}/events`, {
        headers: { authorization: `Bearer ${OTHER_CLIENT_KEY}` },
      });
      expect(overTotal.status).toBe(429);

      // Closing a stream frees its slot.
      await streams.shift()?.close();
      await expect
        .poll(async () => {
          const res = await fetch(`${service.url}/v1/runs/${theirs.id}/events`, {
            headers: { authorization: `Bearer ${OPERATOR_KEY}` },
            signal: AbortSignal.timeout(2_000),
          }).catch(() => undefined);
          const status = res?.status;
          await res?.body?.cancel().catch(() => {});
          return status;
        })
        .toBe(200);
    } finally {
      await service.deps.queue.resume();
      for (const s of streams) await s.close();
    }
  });

  it('a followed run streams its live events and ends after its terminal event', async () => {
    const c = client(service.url, CLIENT_KEY);
    await service.deps.queue.pause();
    let created: Awaited<ReturnType<typeof c.createRun>>['run'];
    let streams: Awaited<ReturnType<typeof openStream>>[] = [];
    try {
      created = (await c.createRun(run)).run;
      streams = await Promise.all([1, 2, 3].map(() => openStream(created.id, CLIENT_KEY)));
    } finally {
      await service.deps.queue.resume();
    }
    const texts = await Promise.all(streams.map((s) => readToEnd(s.res)));
    for (const text of texts) {
      expect(text).toContain('event: run.started');
      expect(text.trim().split('\n\n').at(-1)).toContain('event: run.completed');
    }
    expect(service.deps.eventHub.size).toBe(0);
  });
});
