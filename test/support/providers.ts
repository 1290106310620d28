import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { buildApi } from '../../src/api/app.js';
import { loadConfig } from '../../src/config/index.js';
import type { RunEvent } from '../../src/core/events.js';
import type { PolicyRouterDeps } from '../../src/policies/model-router.js';
import type { RunRecord } from '../../src/runs/schema.js';
import { apiDeps, createModels, createServices, engineDeps, workerDeps } from '../../src/services.js';
import { startRunWorker } from '../../src/worker/run-worker.js';
import type { AzureOpenAIServer, RecordedRequest } from './azure-openai-server.js';
import { API_KEYS, CLIENT_KEY, client, startApi, startWorker } from './baton.js';
import { sampleArticle } from './engine.js';
import { startRedis, subPrefix, type TestRedis } from './redis.js';

/**
 * Shared pieces of the provider acceptance tests (`test/integration/providers*.test.ts`): a private Redis, a
 * `baton api` process and `baton worker` processes pointed at a local protocol server, and helpers that match
 * what the server recorded to the run that caused it.
 */

export const DEPLOYMENT = 'gpt-4o-mini';
export const AZURE_KEY = 'test-key';
export const API_VERSION = '2024-10-21';
export const TERMINAL: RunRecord['status'][] = ['succeeded', 'failed', 'cancelled'];

/** The environment of a worker that sends every model call to the local Azure OpenAI server. */
export function azureEnv(server: { url: string }): Record<string, string> {
  return {
    BATON_MODEL_PROVIDER: 'azure-openai',
    AZURE_OPENAI_ENDPOINT: server.url,
    AZURE_OPENAI_API_KEY: AZURE_KEY,
    AZURE_OPENAI_DEPLOYMENT: DEPLOYMENT,
    OPENAI_API_VERSION: API_VERSION,
  };
}

/** The environment of a worker that uses the server's v1 (OpenAI-compatible) surface. */
export function compatibleEnv(server: { url: string }): Record<string, string> {
  return {
    BATON_MODEL_PROVIDER: 'openai-compatible',
    OPENAI_BASE_URL: `${server.url}/openai/v1`,
    OPENAI_API_KEY: AZURE_KEY,
    BATON_MODEL: DEPLOYMENT,
  };
}

export type Client = ReturnType<typeof client>;

/** Redis + `baton api` (processes); workers are started per scenario with their own settings. */
export interface Stack {
  redis: TestRedis;
  api: Awaited<ReturnType<typeof startApi>>;
  client: Client;
  /** A `baton worker` process on the stack's queue; resolves once it is ready. */
  worker(env: Record<string, string>): Promise<ReturnType<typeof startWorker>>;
  stop(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const redis = await startRedis();
  const workers: ReturnType<typeof startWorker>[] = [];
  let api: Awaited<ReturnType<typeof startApi>> | undefined;
  try {
    api = await startApi(redis.url, redis.prefix);
  } catch (err) {
    await redis.stop();
    throw err;
  }
  const started = api;
  return {
    redis,
    api: started,
    client: client(started.url, CLIENT_KEY),
    async worker(env) {
      const w = startWorker(redis.url, redis.prefix, env);
      workers.push(w);
      await w.waitFor(/worker ready/);
      return w;
    },
    async stop() {
      await Promise.all(workers.map((w) => w.kill()));
      await started.kill();
      await redis.stop();
    },
  };
}

/** A news article carrying a unique tag, so that a server's recorded requests can be matched to one run. */
export function taggedArticle(label: string): { tag: string; input: string } {
  const tag = `[case ${label} ${randomUUID().slice(0, 8)}]`;
  return { tag, input: `${sampleArticle}\n\n${tag}` };
}

/** The recorded model requests whose body mentions `tag` (every agent sees the run's task). */
export function requestsFor(requests: readonly RecordedRequest[], tag: string): RecordedRequest[] {
  return requests.filter((r) => JSON.stringify(r.body ?? '').includes(tag));
}

/** The usage the server reported over `requests`. */
export function reportedUsage(requests: readonly RecordedRequest[]): {
  inputTokens: number;
  outputTokens: number;
} {
  let inputTokens = 0;
  let outputTokens = 0;
  for (const r of requests) {
    inputTokens += r.usage?.inputTokens ?? 0;
    outputTokens += r.usage?.outputTokens ?? 0;
  }
  return { inputTokens, outputTokens };
}

/** The largest number of `times` (ms) that fall in any window of `windowMs`. */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

/** Polls `predicate` until it holds; fails with `what` after `timeoutMs`. */
export async function until(what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Creates a run and waits for it to finish; returns the final record and every event of its stream. */
export async function runToEnd(
  c: Client,
  body: Record<string, unknown>,
  timeoutMs = 30_000,
): Promise<{ run: RunRecord; events: RunEvent[] }> {
  const created = await c.createRun(body);
  if (created.status !== 202) {
    throw new Error(`POST /v1/runs answered ${created.status}: ${JSON.stringify(created.body)}`);
  }
  const id = created.run.id;
  const events = await c.events(id, {
    until: (e) => e.type === 'run.completed' || e.type === 'run.failed' || e.type === 'run.cancelled',
    timeoutMs,
  });
  const run = await c.waitForStatus(id, TERMINAL, 5_000);
  return { run, events: events.map((e) => e.event) };
}

/** The requests that reached the model path of an Azure OpenAI server (not the control endpoints). */
export function chatRequests(server: AzureOpenAIServer): RecordedRequest[] {
  return server.requests.filter((r) => r.path.endsWith('/chat/completions'));
}

/**
 * The API and a worker in this process, over real HTTP and a real Redis, with the worker's model router built
 * from `routerDeps`: for providers whose transport a process cannot be pointed at through environment variables
 * (Foundry: an https endpoint, an Entra ID credential).
 */
export async function startInProcessService(
  redis: TestRedis,
  env: Record<string, string>,
  routerDeps: PolicyRouterDeps,
) {
  const config = loadConfig({
    REDIS_URL: redis.url,
    BATON_REDIS_PREFIX: subPrefix(redis.prefix, Math.random().toString(36).slice(2, 6)),
    BATON_API_KEYS: API_KEYS,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const log = pino({ level: 'silent' });
  const services = createServices(config, redis.url, log);
  const base = workerDeps(config, services, log);
  const models = createModels(config, routerDeps);
  const worker = await startRunWorker({
    ...base,
    engine: engineDeps(config, services, log, models),
  });
  const deps = apiDeps(config, services, log);
  const app = await buildApi({ ...deps, localBreakers: () => services.breakers.snapshot() });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    client: client(url, CLIENT_KEY),
    async stop() {
      await app.close();
      await worker.close();
      await deps.queue.close();
      await services.close();
    },
  };
}
