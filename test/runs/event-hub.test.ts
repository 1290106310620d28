import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunEventHub } from '../../src/runs/event-hub.js';
import { runKeys } from '../../src/runs/keys.js';
import { startRedis, type TestRedis } from '../support/redis.js';

const event = (runId: string) =>
  JSON.stringify({ type: 'run.started', runId, at: new Date().toISOString(), attempt: 1, resumed: false });

describe('the run event hub', () => {
  let server: TestRedis;
  let reader: Redis;
  let control: Redis;
  beforeAll(async () => {
    server = await startRedis();
    reader = new Redis(server.url);
    control = new Redis(server.url);
  });
  afterAll(async () => {
    reader.disconnect();
    control.disconnect();
    await server.stop();
  });

  it('takes a new follower into the read at once, however long the blocked read would wait', async () => {
    // A read blocks far longer than the test may take: only waking it lets the second follower's event through.
    const hub = new RunEventHub(reader, server.prefix, pino({ level: 'silent' }), {
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
    await control.xadd(runKeys(server.prefix, 'run-busy').events, '*', 'e', event('run-busy'));
    const update = await busy.next();
    expect(update.kind).toBe('events');
    expect(update.kind === 'events' && update.events[0]?.event.runId).toBe('run-busy');
    quiet.close();
    busy.close();
    await hub.close();
  });
});
