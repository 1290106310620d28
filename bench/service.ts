import { createParser } from 'eventsource-parser';
import { pino } from 'pino';
import { AgentRuntime } from '../src/agents/runtime.js';
import { buildApi } from '../src/api/app.js';
import { loadConfig } from '../src/config/index.js';
import type { ChatModel } from '../src/core/model.js';
import { apiDeps, createServices, workerDeps } from '../src/services.js';
import { shippedTeams } from '../src/teams/files.js';
import { type TeamDefinition, teamDefinitionSchema } from '../src/teams/schema.js';
import { runtimeTelemetry } from '../src/telemetry/hooks.js';
import { startRunWorker } from '../src/worker/run-worker.js';

/** The whole service in one process for the benchmarks: API, worker and an instant model, over real HTTP. */

const log = pino({ level: 'silent' });

/** A model that answers at once, so what is measured is baton's own work. */
export const instantModel: ChatModel = {
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

/** A team document (the team-file format) of an n-agent sequential chain. */
export function chainDocument(name: string, n: number) {
  const agents = Array.from({ length: n }, (_, i) => ({
    name: `step-${i}`,
    description: `step ${i}`,
    instructions: 'Answer briefly.',
  }));
  return {
    name,
    description: `${n}-agent chain`,
    agents,
    patterns: { sequential: { order: agents.map((a) => a.name) } },
  };
}

/** The team of an n-agent sequential chain. */
export function chainTeam(name: string, n: number): TeamDefinition {
  return teamDefinitionSchema.parse(chainDocument(name, n));
}

/**
 * API and worker (concurrency 16) over the Redis at `url`, with the shipped teams and a chain team per entry of
 * `chains` (name → agents); `env` adds configuration (a Redis Cluster, say). `oneRun(team)` POSTs a run and
 * follows its SSE stream to the terminal event: the latency a client sees, in ms.
 */
export async function startBenchService(
  url: string,
  chains: Record<string, number>,
  env: Record<string, string> = {},
) {
  const key = 'bench-key-aaaaaaaaaaaaaaaa';
  const config = loadConfig({
    REDIS_URL: url,
    BATON_API_KEYS: `${key}:admin`,
    BATON_RATE_LIMIT_PER_MINUTE: '0',
    BATON_WORKER_CONCURRENCY: '16',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const teams = new Map([
    ...shippedTeams(),
    ...Object.entries(chains).map(([name, n]) => [name, chainTeam(name, n)] as const),
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

  const oneRun = async (team: string): Promise<number> => {
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

  return {
    config,
    oneRun,
    async close() {
      await app.close();
      await worker.close();
      await adeps.queue.close();
      await services.close();
    },
  };
}
