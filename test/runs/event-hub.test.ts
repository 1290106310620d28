import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunEventHub } from '../../src/runs/event-hub.js';
import { runKeys } from '../../src/runs/keys.js';
import { startRedis, type TestRedis } from '../support/redis.js';

const event = (runId: string) =>
  JSON.stringify({ type: 'run.started', runId, at: new Date().toISOString(), attempt: 1, resumed: false });

describe('the run event hub', () => {
  // A cluster node (one command may not read two runs' slots) and a single Redis.
  let server: TestRedis;
  let reader: Redis;
  let control: Redis;
  let plainServer: TestRedis;
  let plainReader: Redis;
  let plainControl: Redis;
  beforeAll(async () => {
    server = await startRedis();
    reader = new Redis(server.url);
    control = new Redis(server.url);
    plainServer = await startRedis({ layout: 'plain' });
    plainReader = new Redis(plainServer.url);
    plainControl = new Redis(plainServer.url);
  });
  afterAll(async () => {
    for (const c of [reader, control, plainReader, plainControl]) c.disconnect();
    await Promise.all([server.stop(), plainServer.stop()]);
  });

  // The plain layout reads both streams in one blocking XREAD; the cluster layout blocks on the one stream, then
  // reads each.
  it.each([
    ['plain', () => ({ prefix: plainServer.prefix, reader: plainReader, control: plainControl })],
    ['Redis Cluster', () => ({ prefix: server.prefix, reader, control })],
  ])(
    'takes a new follower into the read at once, however long the blocked read would wait (%s key layout)',
    async (_, setup) => {
      const { prefix, reader, control } = setup();
      // A read blocks far longer than the test may take: only waking it lets the second follower's event through.
      const hub = new RunEventHub(reader, prefix, pino({ level: 'silent' }), {
        blockMs: 600_000,
        control,
      });
      const quiet = hub.follow('run-quiet', '0');
      // The first follower's read is blocked once the reader shows up blocked in CLIENT LIST.
      for (;;) {
        const list = (await control.client('LIST')) as string;
        if (list.split('\n').some((line) => line.includes('cmd=xread'))) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      const busy = hub.follow('run-busy', '0');
      await control.xadd(runKeys(prefix, 'run-busy').events, '*', 'e', event('run-busy'));
      const update = await busy.next();
      expect(update.kind === 'error' ? update.error.message : update.kind).toBe('events');
      expect(update.kind === 'events' && update.events[0]?.event.runId).toBe('run-busy');
      quiet.close();
      busy.close();
      await hub.close();
    },
  );

  it('follows many runs in the Redis Cluster key layout, each run in its own slot', async () => {
    const hub = new RunEventHub(reader, server.prefix, pino({ level: 'silent' }), { control });
    const ids = Array.from({ length: 12 }, (_, i) => `run-many-${i}`);
    const followers = ids.map((id) => hub.follow(id, '0'));
    await Promise.all(ids.map((id) => control.xadd(runKeys(server.prefix, id).events, '*', 'e', event(id))));
    const updates = await Promise.all(followers.map((f) => f.next()));
    expect(updates.map((u) => (u.kind === 'events' ? u.events[0]?.event.runId : u.kind))).toEqual(ids);
    for (const f of followers) f.close();
    await hub.close();
  });
});
