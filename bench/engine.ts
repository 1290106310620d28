/**
 * `npm run bench`: engine overhead per agent step (in-process, instant model) and end-to-end latency and
 * throughput through API → Redis → worker (zero model latency). Prints a Markdown table for docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { createParser } from 'eventsource-parser';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { AgentRuntime } from '../src/agents/runtime.js';
import { buildApi } from '../src/api/app.js';
import { loadConfig } from '../src/config/index.js';
import type { ChatModel } from '../src/core/model.js';
import { execute } from '../src/engine/index.js';
import { orchestrators } from '../src/orchestrators/index.js';
import { CircuitBreakers } from '../src/policies/breakers.js';
import { MemoryEventLog } from '../src/runs/events.js';
import { memoryJournal } from '../src/runs/journal.js';
import { apiDeps, createServices, workerDeps } from '../src/services.js';
import { shippedTeams } from '../src/teams/files.js';
import { staticTeams } from '../src/teams/resolver.js';
import { type TeamDefinition, teamDefinitionSchema } from '../src/teams/schema.js';
import { engineTelemetry, runtimeTelemetry } from '../src/telemetry/hooks.js';
import { startRunWorker } from '../src/worker/run-worker.js';

const catalog = shippedTeams();

const log = pino({ level: 'silent' });

/** A model that answers at once, so what is measured is baton's own work. */
const instantModel: ChatModel = {
  provider: 'simulated',
  async complete(request) {
    return {
      message: { role: 'assistant', content: `ok ${request.agent}` },
      toolCalls: [],
      usage: { inputTokens: 10, outputTokens: 2 },
      model: 'instant',
      finishReason: 'stop',
    };
  },
};

function chainTeam(name: string, n: number): TeamDefinition {
  const agents = Array.from({ length: n }, (_, i) => ({
    name: `step-${i}`,
    description: `step ${i}`,
    instructions: 'Answer briefly.',
  }));
  return teamDefinitionSchema.parse({
    name,
    description: `${n}-agent chain`,
    agents,
    patterns: { sequential: { order: agents.map((a) => a.name) } },
  });
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
};

async function engineOverhead() {
  const teams = new Map([['chain-10', chainTeam('chain-10', 10)]]);
  const deps = {
    // The telemetry hooks the worker runs with (spans are no-ops without an SDK, as in the old inline calls).
    runtime: new AgentRuntime({
      models: { modelFor: () => instantModel },
      breakers: new CircuitBreakers(),
      hooks: runtimeTelemetry({ captureContent: false }),
    }),
    teams: staticTeams(teams),
    orchestrators,
    log,
    hooks: engineTelemetry(),
  };
  const runOnce = async (i: number) =>
    execute(
      {
        runId: `bench-${i}`,
        request: { team: 'chain-10', pattern: 'sequential', input: 'measure me', options: { stream: false } },
        attempt: 1,
        journal: memoryJournal(),
        events: new MemoryEventLog(),
      },
      deps,
    );
  for (let i = 0; i < 200; i++) await runOnce(i); // warm-up
  const runs = 2_000;
  const started = performance.now();
  for (let i = 0; i < runs; i++) await runOnce(i);
  const elapsed = performance.now() - started;
  return { steps: runs * 10, usPerStep: (elapsed * 1000) / (runs * 10) };
}

async function startRedisServer(): Promise<{ url: string; stop: () => void }> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => {});
    try {
      await probe.connect();
      probe.disconnect();
      return { url, stop: () => child.kill() };
    } catch {
      probe.disconnect();
      await sleep(50);
    }
  }
  throw new Error('redis-server did not start');
}

async function endToEnd(url: string) {
  const key = 'bench-key-aaaaaaaaaaaaaaaa';
  const config = loadConfig({
    REDIS_URL: url,
    BATON_API_KEYS: `${key}:admin`,
    BATON_RATE_LIMIT_PER_MINUTE: '0',
    BATON_WORKER_CONCURRENCY: '16',
    LOG_LEVEL: 'silent',
  });
  const teams = new Map([
    ...catalog,
    ['chain-1', chainTeam('chain-1', 1)],
    ['chain-4', chainTeam('chain-4', 4)],
  ]);
  const services = createServices(config, url, log, teams);
  const wdeps = workerDeps(config, services, log);
  wdeps.engine = {
    ...wdeps.engine,
    runtime: new AgentRuntime({
      models: { modelFor: () => instantModel },
      breakers: services.breakers,
      hooks: runtimeTelemetry({ captureContent: false }),
    }),
  };
  const worker = await startRunWorker(wdeps);
  const adeps = apiDeps(config, services, log);
  const app = await buildApi(adeps);
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

  /** POST a run, then follow its SSE stream to the terminal event: the latency a client sees. */
  const oneRun = async (team: string) => {
    const t0 = performance.now();
    const res = await fetch(`${base}/v1/runs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ team, pattern: 'sequential', input: 'measure me', options: { stream: false } }),
    });
    const { id } = (await res.json()) as { id: string };
    const stream = await fetch(`${base}/v1/runs/${id}/events`, { headers });
    let done = false;
    const parser = createParser({
      onEvent(m) {
        if (m.event === 'run.completed' || m.event === 'run.failed') done = true;
      },
    });
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    while (!done) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
    await reader.cancel();
    return performance.now() - t0;
  };

  const results: Record<string, { p50: number; p95: number; runsPerSecond: number }> = {};
  for (const team of ['chain-1', 'chain-4']) {
    for (let i = 0; i < 30; i++) await oneRun(team); // warm-up
    const latencies: number[] = [];
    for (let i = 0; i < 200; i++) latencies.push(await oneRun(team));
    const clients = 16;
    const perClient = 40;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        for (let i = 0; i < perClient; i++) await oneRun(team);
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    results[team] = {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      runsPerSecond: (clients * perClient) / seconds,
    };
  }
  await app.close();
  await worker.close();
  await adeps.queue.close();
  await services.close();
  return results;
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
);
const overhead = await engineOverhead();
console.log(
  `engine overhead: ${overhead.usPerStep.toFixed(1)} µs per step (${overhead.steps} steps, 10-agent sequential chain, instant model)`,
);
const redis = await startRedisServer();
try {
  const e2e = await endToEnd(redis.url);
  console.log('\n| run | p50 latency | p95 latency | throughput (16 clients) |\n|---|---|---|---|');
  for (const [team, r] of Object.entries(e2e)) {
    console.log(
      `| ${team.replace('chain-', '')}-agent sequential | ${r.p50.toFixed(1)} ms | ${r.p95.toFixed(1)} ms | ${r.runsPerSecond.toFixed(0)} runs/s |`,
    );
  }
} finally {
  redis.stop();
}
process.exit(0);
