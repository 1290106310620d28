import { pino } from 'pino';
import { AgentRuntime } from '../../src/agents/runtime.js';
import { buildApi } from '../../src/api/app.js';
import { loadConfig } from '../../src/config/index.js';
import type { ChatModel, ChatRequest } from '../../src/core/model.js';
import { CircuitBreakers } from '../../src/policies/breakers.js';
import { apiDeps, createServices, workerDeps } from '../../src/services.js';
import { simulatedModel } from '../../src/simulation/index.js';
import { engineTelemetry, runtimeTelemetry } from '../../src/telemetry/hooks.js';
import { type RunWorker, startRunWorker } from '../../src/worker/run-worker.js';
import { API_KEYS } from '../support/baton.js';
import { recording } from '../support/engine.js';
import type { TestRedis } from '../support/redis.js';
import { subPrefix } from '../support/redis.js';

export const ADMIN_KEY = 'admin-key-dddddddddddddddddd';
export const KEYS = `${API_KEYS},${ADMIN_KEY}:admin`;

/** Marks a run input whose agent calls fail permanently while `failing` is on (see `startConsole`). */
export const FAIL_MARKER = 'PLEASE-FAIL-THIS-RUN';
/** Marks a run input whose agent calls hang until aborted (a run that stays running until cancelled). */
export const HANG_MARKER = 'PLEASE-HANG-THIS-RUN';

export interface ConsoleWorker {
  worker: RunWorker;
  breakers: CircuitBreakers;
}

/**
 * The API (with the operator console) and any number of workers in this process, over real HTTP and a real
 * Redis. Every worker has its own circuit breakers and a recording simulated model; an agent call whose
 * prompt contains FAIL_MARKER fails permanently while `failures.on` is true (and, when `failures.agent` is
 * set, only for that agent); one whose prompt contains HANG_MARKER hangs until the run is aborted.
 */
export async function startConsole(
  redis: TestRedis,
  options: {
    env?: Record<string, string>;
    workers?: number;
    /** Awaited before every model request (with its abort signal): a test holds a run at a step with it. */
    beforeCall?: (request: ChatRequest, signal: AbortSignal) => Promise<void> | undefined;
  } = {},
) {
  const config = loadConfig({
    REDIS_URL: redis.url,
    BATON_REDIS_PREFIX: subPrefix(redis.prefix, Math.random().toString(36).slice(2, 6)),
    BATON_API_KEYS: KEYS,
    BATON_SIMULATED_LATENCY_MS: '0',
    BATON_RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const log = pino({ level: 'silent' });
  const services = createServices(config, redis.url, log);
  const failures: { on: boolean; agent?: string } = { on: true };
  const model = recording(
    simulatedModel(config.models.simulated, {
      faults: (request: ChatRequest) => {
        const has = (marker: string) => request.messages.some((m) => m.content.includes(marker));
        if (has(HANG_MARKER)) return 'hang';
        const fails = failures.agent === undefined || failures.agent === request.agent;
        return failures.on && fails && has(FAIL_MARKER) ? 'permanent' : undefined;
      },
    }),
  );
  const gated: ChatModel = {
    provider: model.provider,
    async complete(request, callOptions) {
      await options.beforeCall?.(request, callOptions.signal);
      return model.complete(request, callOptions);
    },
  };
  const workers: ConsoleWorker[] = [];
  const addWorker = async (): Promise<ConsoleWorker> => {
    const breakers = new CircuitBreakers();
    const deps = workerDeps(config, services, log);
    deps.breakers = breakers;
    deps.engine = {
      ...deps.engine,
      runtime: new AgentRuntime({
        models: { modelFor: () => gated },
        breakers,
        random: () => 0.5,
        hooks: runtimeTelemetry({ captureContent: false }),
      }),
      hooks: engineTelemetry(),
    };
    const entry = { worker: await startRunWorker(deps), breakers };
    workers.push(entry);
    return entry;
  };
  for (let i = 0; i < (options.workers ?? 1); i++) await addWorker();
  const deps = apiDeps(config, services, log);
  const app = await buildApi(deps);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    config,
    services,
    deps,
    model,
    failures,
    workers,
    addWorker,
    async stop() {
      await app.close();
      for (const w of workers) await w.worker.close();
      await deps.queue.close();
      await services.close();
    },
  };
}

export type Console = Awaited<ReturnType<typeof startConsole>>;

/** Calls made to `agent` (through the recording model) for runs whose input contains `marker`. */
export function callsTo(c: Console, agent: string, marker: string): number {
  return c.model.requests.filter(
    (r) => r.agent === agent && r.messages.some((m) => m.content.includes(marker)),
  ).length;
}
