import { pino } from 'pino';
import { AgentRuntime } from '../../src/agents/runtime.js';
import type { ChatModel, ChatRequest } from '../../src/core/model.js';
import type { RunOutcome } from '../../src/core/run.js';
import { type EngineDeps, execute } from '../../src/engine/index.js';
import { orchestrators } from '../../src/orchestrators/index.js';
import { CircuitBreakers } from '../../src/policies/breakers.js';
import { MemoryEventLog } from '../../src/runs/events.js';
import { memoryJournal, type RunJournal } from '../../src/runs/journal.js';
import type { RunRequest } from '../../src/runs/schema.js';
import { type SimulatedTeamsModelOptions, simulatedModel } from '../../src/simulation/index.js';
import { shippedTeams } from '../../src/teams/files.js';
import { staticTeams, type TeamResolver } from '../../src/teams/resolver.js';
import type { TeamDefinition } from '../../src/teams/schema.js';
import { engineTelemetry, runtimeTelemetry } from '../../src/telemetry/hooks.js';
import type { ToolRuntime } from '../../src/tools/runtime.js';

const catalog = shippedTeams();

/** A request-recording wrapper around a model: tests count real (non-replayed) model calls through it. */
export function recording(model: ChatModel): ChatModel & { requests: ChatRequest[] } {
  const requests: ChatRequest[] = [];
  return {
    provider: model.provider,
    requests,
    complete(request, options) {
      requests.push(request);
      return model.complete(request, options);
    },
  };
}

export interface TestEngineOptions extends SimulatedTeamsModelOptions {
  latencyMs?: [number, number];
  failureRate?: number;
  hangRate?: number;
  teams?: ReadonlyMap<string, TeamDefinition>;
  /** Resolves teams instead of `teams` (versions, registries). */
  resolver?: TeamResolver;
  breakers?: CircuitBreakers;
  /** The worker's tools (agents' tools are offered only with them). */
  tools?: ToolRuntime;
}

/** The real engine, runtime and simulated model in-process, with a memory journal and event log. */
export function createTestEngine(options: TestEngineOptions = {}) {
  const model = recording(
    simulatedModel(
      {
        latencyMs: options.latencyMs ?? [0, 0],
        failureRate: options.failureRate ?? 0,
        hangRate: options.hangRate ?? 0,
      },
      options,
    ),
  );
  const breakers = options.breakers ?? new CircuitBreakers();
  const deps: EngineDeps = {
    runtime: new AgentRuntime({
      models: { modelFor: () => model },
      breakers,
      random: () => 0.5,
      hooks: runtimeTelemetry({ captureContent: false }),
    }),
    hooks: engineTelemetry(),
    teams: options.resolver ?? staticTeams(options.teams ?? catalog),
    orchestrators,
    log: pino({ level: 'silent' }),
    ...(options.tools ? { tools: options.tools } : {}),
  };
  let counter = 0;
  return {
    model,
    breakers,
    deps,
    async run(
      request: RunRequest,
      extra: {
        journal?: RunJournal;
        signal?: AbortSignal;
        drain?: AbortSignal;
        attempt?: number;
        runId?: string;
      } = {},
    ): Promise<RunOutcome & { events: MemoryEventLog; journal: RunJournal }> {
      const events = new MemoryEventLog();
      const journal = extra.journal ?? memoryJournal();
      const outcome = await execute(
        {
          runId: extra.runId ?? `run-${++counter}`,
          request,
          attempt: extra.attempt ?? 1,
          journal,
          events,
          ...(extra.signal ? { signal: extra.signal } : {}),
          ...(extra.drain ? { drain: extra.drain } : {}),
        },
        deps,
      );
      return { ...outcome, events, journal };
    },
  };
}

export const sampleArticle = `Contoso Motors raises guidance after record quarter

Contoso Motors reported record quarterly profit on Tuesday and raised its full-year guidance, sending shares higher in early trading. Analysts said strong orders for its electric vans beat expectations. Meanwhile, supplier Fabrikam Industries warned of a revenue shortfall after a recall of faulty battery packs, and its shares fell. Investors expect the market to watch both companies closely next quarter.`;
