import { fork } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
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

/** The service for the benchmarks: API and worker processes with an instant model, over real HTTP and Redis. */

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

export type ServiceRole = 'api' | 'worker';

/** What a role process is started with (bench/service-process.ts reads it from its argument). */
export interface RoleOptions {
  role: ServiceRole;
  url: string;
  chains: Record<string, number>;
  env: Record<string, string>;
}

const KEY = 'bench-key-aaaaaaaaaaaaaaaa';

function benchConfig(url: string, env: Record<string, string>) {
  return loadConfig({
    REDIS_URL: url,
    BATON_API_KEYS: `${KEY}:admin`,
    BATON_RATE_LIMIT_PER_MINUTE: '0',
    // Enough runs at once to keep both cores busy, and streams for a load generator of up to 256 clients that
    // all use the one bench key.
    BATON_WORKER_CONCURRENCY: '64',
    BATON_SSE_MAX_STREAMS_PER_KEY: '256',
    LOG_LEVEL: 'silent',
    ...env,
  });
}

/**
 * One role of the service in this process, over the Redis at `url`, with the shipped teams and a chain team per
 * entry of `chains` (name → agents): the API on a free port (its base URL returned), or a worker (concurrency 64)
 * whose agents answer with the instant model.
 */
export async function startServiceRole({ role, url, chains, env }: RoleOptions) {
  const config = benchConfig(url, env);
  const teams = new Map([
    ...shippedTeams(),
    ...Object.entries(chains).map(([name, n]) => [name, chainTeam(name, n)] as const),
  ]);
  const services = createServices(config, url, log, teams);
  if (role === 'worker') {
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
    return {
      base: undefined,
      async close() {
        await worker.close();
        await services.close();
      },
    };
  }
  const adeps = apiDeps(config, services, log);
  const app = await buildApi(adeps);
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    base,
    async close() {
      await app.close();
      await adeps.queue.close();
      await services.close();
    },
  };
}

type RoleMessage = { type: 'ready'; base?: string } | { type: 'cpu'; usage: NodeJS.CpuUsage };

/** A role in its own Node process (bench/service-process.ts), spoken to over IPC. */
async function forkRole(options: RoleOptions) {
  const child = fork(
    fileURLToPath(new URL('./service-process.js', import.meta.url)),
    [JSON.stringify(options)],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const next = <T extends RoleMessage['type']>(type: T) =>
    new Promise<Extract<RoleMessage, { type: T }>>((resolve, reject) => {
      const onMessage = (m: RoleMessage) => {
        if (m.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m as Extract<RoleMessage, { type: T }>);
      };
      const onExit = (code: number | null) =>
        reject(new Error(`the ${options.role} process exited (${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const { base } = await next('ready');
  return {
    base,
    async cpuUsage(): Promise<NodeJS.CpuUsage> {
      const reply = next('cpu');
      child.send({ type: 'cpu' });
      return (await reply).usage;
    },
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'close' });
      await exited;
    },
  };
}

/**
 * The service as it is deployed: the API and a worker each in its own process over the Redis at `url` (this
 * process is the load generator), with the chain teams of `chains`; `env` adds configuration (a Redis Cluster,
 * say). `oneRun(team)` POSTs a run and follows its SSE stream to the terminal event: the latency a client sees,
 * in ms. `serviceCpu()` is the CPU the API and worker processes have used so far, in µs.
 */
export async function startBenchService(
  url: string,
  chains: Record<string, number>,
  env: Record<string, string> = {},
) {
  const config = benchConfig(url, env);
  const [api, worker] = await Promise.all([
    forkRole({ role: 'api', url, chains, env }),
    forkRole({ role: 'worker', url, chains, env }),
  ]);
  const base = api.base;
  if (base === undefined) throw new Error('the API process reported no address');
  const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

  // Keep-alive connections and node:http rather than fetch: the load generator shares the cores with what it
  // measures, and fetch's WHATWG streams cost it about as much CPU per run as the API process spends.
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const request = (method: string, path: string, body?: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(`${base}${path}`, { method, headers, agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });

  const oneRun = async (team: string): Promise<number> => {
    const t0 = performance.now();
    const created = await request(
      'POST',
      '/v1/runs',
      JSON.stringify({ team, pattern: 'sequential', input: 'measure me', options: { stream: false } }),
    );
    if (created.status !== 202) throw new Error(`POST /v1/runs: ${created.status} ${created.text}`);
    const { id } = JSON.parse(created.text) as { id: string };
    // The stream ends after the run's terminal event.
    const events = await request('GET', `/v1/runs/${id}/events`);
    if (events.status !== 200 || !/^event: run\.(completed|failed)$/m.test(events.text))
      throw new Error(`GET /v1/runs/${id}/events: ${events.status}, no terminal event in ${events.text}`);
    return performance.now() - t0;
  };

  return {
    config,
    oneRun,
    async serviceCpu(): Promise<{ api: number; worker: number }> {
      const [a, w] = await Promise.all([api.cpuUsage(), worker.cpuUsage()]);
      return { api: a.user + a.system, worker: w.user + w.system };
    },
    async close() {
      agent.destroy();
      await api.close();
      await worker.close();
    },
  };
}
