import { cpus } from 'node:os';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { ChatModel, ChatRequest } from '../src/core/model.js';
import { redisCoordination } from '../src/fleet-redis.js';
import { CircuitBreakers } from '../src/policies/breakers.js';
import { FleetQuota } from '../src/policies/fleet-quota.js';
import { type DeploymentQuota, QuotaManager, withQuota } from '../src/policies/quota.js';
import { percentile, startRedisServer } from './support.js';

const log = pino({ level: 'silent' });
const DEPLOYMENT = 'gpt-4o-mini';
const limits = { [DEPLOYMENT]: { rpm: 1_000_000, tpm: 1_000_000_000 } };

const instantModel: ChatModel = {
  provider: 'azure-openai',
  async complete() {
    return {
      message: { role: 'assistant', content: 'ok' },
      toolCalls: [],
      usage: { inputTokens: 10, outputTokens: 2 },
      model: 'instant',
      finishReason: 'stop',
    };
  },
};

const request = {
  agent: 'summarizer',
  messages: [{ role: 'user', content: 'Summarise the article.' }],
  model: { deployment: DEPLOYMENT },
} as unknown as ChatRequest;

/** One model call as the runtime makes it: breaker around the quota-limited model. */
function caller(quota: DeploymentQuota, breakers: CircuitBreakers) {
  const model = withQuota(instantModel, quota, () => DEPLOYMENT);
  const breaker = breakers.circuitBreakerFor(
    { agent: 'summarizer', provider: 'azure-openai', model: DEPLOYMENT },
    { failureThreshold: 5, halfOpenAfterMs: 30_000 },
  );
  return () => breaker.execute(() => model.complete(request, { signal: new AbortController().signal }));
}

async function measure(call: () => Promise<unknown>, calls: number, parallel: number) {
  for (let i = 0; i < 200; i++) await call();
  const latencies: number[] = [];
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < calls) {
        next++;
        const t = performance.now();
        await call();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = performance.now() - started;
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    perSecond: (calls / elapsed) * 1000,
  };
}

async function main() {
  const server = await startRedisServer();
  const ping = new Redis(server.url);
  const rtts: number[] = [];
  for (let i = 0; i < 2_000; i++) {
    const t = performance.now();
    await ping.ping();
    rtts.push(performance.now() - t);
  }
  ping.disconnect();
  const coordination = redisCoordination(
    { url: server.url, cluster: false },
    `bench${Date.now()}`,
    1_000,
    log,
  );
  const local = () => new QuotaManager({ limits });
  const setups = {
    'per process': () => caller(local(), new CircuitBreakers()),
    fleet: () =>
      caller(new FleetQuota({ coordination, local: local() }), new CircuitBreakers({ coordination })),
  };
  const rows: string[] = [];
  for (const parallel of [1, 16]) {
    for (const [name, make] of Object.entries(setups)) {
      const r = await measure(make(), 5_000, parallel);
      rows.push(
        `| ${name} | ${parallel} | ${(r.p50 * 1000).toFixed(0)} µs | ${(r.p99 * 1000).toFixed(0)} µs | ${r.perSecond.toFixed(0)} |`,
      );
    }
  }
  await coordination.close();
  server.stop();
  console.log(
    `Redis PING round trip: p50 ${(percentile(rtts, 50) * 1000).toFixed(0)} µs (${cpus().length} CPUs)\n`,
  );
  console.log('| limits | calls at once | p50 per call | p99 per call | calls/s |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
}

await main();
