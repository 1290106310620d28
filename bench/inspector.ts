import { pino } from 'pino';
import { buildApi } from '../src/api/app.js';
import { loadConfig } from '../src/config/index.js';
import type { RunEventInput } from '../src/core/events.js';
import { openRedisJournal } from '../src/runs/journal.js';
import { apiDeps, createServices } from '../src/services.js';
import { percentile, startRedisServer } from './support.js';

const STEPS = 200;
const LANES = 4;
const ROUNDS = 200;
const KEY = 'bench-key-aaaaaaaaaaaaaaaa';

async function main() {
  const redis = await startRedisServer();
  const config = loadConfig({
    REDIS_URL: redis.url,
    BATON_API_KEYS: `${KEY}:admin`,
    BATON_RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: 'silent',
  });
  const log = pino({ level: 'silent' });
  const services = createServices(config, redis.url, log);
  const deps = apiDeps(config, services, log);
  const app = await buildApi(deps);
  await app.ready();
  // A queued run (no worker takes it), then 200 journaled steps and their events as a worker would write them.
  await deps.queue.pause();
  const { record } = await deps.lifecycle.create({
    request: { team: 'news-desk', pattern: 'concurrent', input: 'bench' },
    owner: 'bench',
    trace: {},
  });
  const journal = await openRedisJournal(deps.redis, config.redisPrefix, record.id);
  const t0 = Date.parse(record.createdAt) + 5;
  const emit = (event: RunEventInput, at: number) =>
    deps.redis.xadd(
      `${config.redisPrefix}:run:${record.id}:events`,
      '*',
      'e',
      JSON.stringify({ ...event, runId: record.id, at: new Date(at).toISOString() }),
    );
  await emit({ type: 'run.started', attempt: 1, resumed: false }, t0);
  for (let i = 0; i < STEPS; i++) {
    const key = `bench/${i}/agent:analyst`;
    const start = t0 + Math.floor(i / LANES) * 40;
    await emit({ type: 'agent.started', agent: 'analyst', step: key }, start);
    await journal.put(key, {
      kind: 'agent',
      ok: true,
      result: {
        key,
        agent: 'analyst',
        toolCalls: [],
        text: `answer ${i}`,
        usage: { inputTokens: 300, outputTokens: 80 },
        durationMs: 35,
        attempts: 1 + (i % 7 === 0 ? 1 : 0),
        model: 'gpt-4o-mini',
        costUsd: 0.0001,
      },
      usage: { inputTokens: 300, outputTokens: 80 },
      modelCalls: 1,
      costUsd: 0.0001,
      startedAt: new Date(start).toISOString(),
      completedAt: new Date(start + 35).toISOString(),
      order: start + 35 + i / 1000,
    });
    await emit(
      {
        type: 'agent.completed',
        agent: 'analyst',
        step: key,
        durationMs: 35,
        attempts: 1,
        usage: { inputTokens: 300, outputTokens: 80 },
      },
      start + 35,
    );
    if (i % 2 === 0) await emit({ type: 'speaker.selected', turn: i, speaker: 'analyst' }, start);
  }
  const request = () =>
    app.inject({
      method: 'GET',
      url: `/admin/runs/${record.id}`,
      headers: { authorization: `Bearer ${KEY}`, accept: 'text/html' },
    });
  const first = await request();
  if (first.statusCode !== 200 || !first.body.includes(`${STEPS} steps`)) {
    throw new Error(`unexpected answer ${first.statusCode}: ${first.body.slice(0, 300)}`);
  }
  for (let i = 0; i < 30; i++) await request();
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    await request();
    times.push(performance.now() - started);
  }
  if (process.env.BENCH_PARTS) {
    const { looseEvents } = await import('../src/api/admin/inspector-routes.js');
    const part = async (name: string, fn: () => Promise<unknown>) => {
      const started = performance.now();
      for (let i = 0; i < 50; i++) await fn();
      console.log(name, ((performance.now() - started) / 50).toFixed(1), 'ms');
    };
    await part('store.get', () => deps.store.get(record.id));
    await part('events', () => looseEvents(deps, record.id));
  }
  const kb = (Buffer.byteLength(first.body) / 1024).toFixed(0);
  console.log(`| measure | p50 | p95 | max | page size | target |`);
  console.log(`| --- | --- | --- | --- | --- | --- |`);
  console.log(
    `| run page, ${STEPS} steps in ${LANES} lanes, ${STEPS * 2.5 + 1} events | ${percentile(times, 50).toFixed(1)} ms | ${percentile(times, 95).toFixed(1)} ms | ${Math.max(...times).toFixed(1)} ms | ${kb} KiB | < 100 ms |`,
  );
  await app.close();
  await deps.queue.close();
  await services.close();
  redis.stop();
}

await main();
