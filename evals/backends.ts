import { BatonApiError, BatonClient, BatonConnectionError, BatonTimeoutError } from '@baton/client';
import { pino } from 'pino';
import { AgentRuntime, type AgentRuntimeDeps } from '../src/agents/runtime.js';
import type { Config } from '../src/config/index.js';
import type { ModelRouter } from '../src/core/model.js';
import type { ErrorInfo, RunOutput, RunUsage, StepRecord } from '../src/core/run.js';
import { type EngineDeps, execute } from '../src/engine/index.js';
import type { RegisteredPattern } from '../src/orchestrators/pattern.js';
import { CircuitBreakers } from '../src/policies/breakers.js';
import type { EventSink } from '../src/runs/events.js';
import { type JournalEntry, memoryJournal } from '../src/runs/journal.js';
import type { RunRequest } from '../src/runs/schema.js';
import { createModels } from '../src/services.js';
import { staticTeams } from '../src/teams/resolver.js';
import type { TeamDefinition } from '../src/teams/schema.js';
import { EvalInputError } from './experiment.js';
import { readRecording, replayModel } from './record.js';
import type { Variant } from './results-schema.js';

/**
 * Where the runs of an eval execute: in this process (the worker's engine, built from the same config), through
 * a running baton API, or replayed from recordings. Each backend turns one job into one observation.
 */

export interface RunJob {
  /** Position in the plan (results are reported in this order, whatever order runs finish in). */
  index: number;
  caseId: string;
  variant: Variant;
  repeat: number;
  seed: number;
  runId: string;
  request: RunRequest & { team: string };
  /** Replay: the recording to run from, relative to the replayed directory. */
  recording?: string;
}

export interface RunObservation {
  runId: string;
  status: 'succeeded' | 'failed' | 'cancelled';
  output?: RunOutput;
  partial: boolean;
  error?: ErrorInfo;
  usage: RunUsage;
  steps: StepRecord[];
  definitionVersion: string;
  latencyMs: number;
  /** The run's journal (in-process and replay), for --record. */
  entries?: [string, JournalEntry][];
}

export interface Backend {
  run(job: RunJob): Promise<RunObservation>;
  close(): Promise<void>;
}

export interface EngineParts {
  teams: ReadonlyMap<string, TeamDefinition>;
  orchestrators: ReadonlyMap<string, RegisteredPattern>;
}

/** Events go nowhere in an eval: the outcome carries everything scored. */
const discardEvents: EventSink = { append: async () => {} };

function engineFor(parts: EngineParts, models: ModelRouter, costOf?: AgentRuntimeDeps['costOf']): EngineDeps {
  return {
    runtime: new AgentRuntime({ models, breakers: new CircuitBreakers(), ...(costOf ? { costOf } : {}) }),
    teams: staticTeams(parts.teams),
    orchestrators: parts.orchestrators,
    log: pino({ level: 'silent' }),
  };
}

async function executeJob(
  job: RunJob,
  deps: EngineDeps,
  seed: [string, JournalEntry][] = [],
): Promise<RunObservation> {
  const journal = memoryJournal(seed);
  const started = performance.now();
  try {
    const outcome = await execute(
      { runId: job.runId, request: job.request, attempt: 1, journal, events: discardEvents },
      deps,
    );
    return {
      runId: job.runId,
      status: outcome.status,
      ...(outcome.output ? { output: outcome.output } : {}),
      partial: outcome.partial === true,
      ...(outcome.error ? { error: outcome.error } : {}),
      usage: outcome.usage,
      steps: outcome.steps,
      definitionVersion: outcome.definitionVersion,
      latencyMs: performance.now() - started,
      entries: journal.entries(),
    };
  } catch (err) {
    // An infrastructure error the engine does not turn into an outcome: the run counts as failed.
    return {
      runId: job.runId,
      status: 'failed',
      partial: false,
      error: { code: (err as { code?: string }).code ?? 'INTERNAL', message: (err as Error).message },
      usage: { inputTokens: 0, outputTokens: 0, modelCalls: 0 },
      steps: [],
      definitionVersion: '',
      latencyMs: performance.now() - started,
      entries: journal.entries(),
    };
  }
}

/**
 * The worker's engine in this process: the model router from `config` (BATON_MODEL_PROVIDER, the simulated
 * latency, quotas and prices apply), a fresh circuit-breaker set, a memory journal per run.
 */
export function inProcessBackend(config: Config, parts: EngineParts): Backend {
  const router = createModels(config);
  const deps = engineFor(parts, router, router.costOf);
  return { run: (job) => executeJob(job, deps), close: async () => {} };
}

/**
 * Replays recorded runs: each journal is preloaded and the only model refuses and counts every request, so a
 * faithful replay makes zero model calls. The latency and usage reported are the recorded ones.
 */
export function replayBackend(dir: string, parts: EngineParts): Backend & { modelCalls(): number } {
  const model = replayModel();
  const deps = engineFor(parts, { modelFor: () => model });
  return {
    async run(job) {
      if (!job.recording) throw new EvalInputError(`Run ${job.runId} has no recording to replay.`);
      const recording = await readRecording(dir, job.recording);
      const observed = await executeJob(
        { ...job, request: { ...recording.request, team: job.request.team } },
        deps,
        recording.entries,
      );
      return { ...observed, runId: recording.runId, latencyMs: recording.latencyMs, usage: recording.usage };
    },
    close: async () => {},
    modelCalls: () => model.calls,
  };
}

/**
 * Runs through a baton API with the client (@baton/client): create the run, wait for its end (following its event
 * stream), read the record. Latency is the record's `durationMs` (worker start to finish, queue wait excluded).
 * The client retries 429 and 503 after `Retry-After`; any other error stops the eval with the API's message.
 */
export function apiBackend(base: string, key: string, options: { timeoutMs?: number } = {}): Backend {
  const timeoutMs = options.timeoutMs ?? 600_000;
  const controller = new AbortController();
  const client = new BatonClient({ baseUrl: base, apiKey: key, maxRetries: 9 });

  /** The client's errors as the eval's input errors (one sentence, the API's code). */
  const explained = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      if (err instanceof BatonApiError) {
        throw new EvalInputError(
          `The baton API refused to ${what} (HTTP ${err.status} ${err.code}): ${err.message}`,
        );
      }
      if (err instanceof BatonConnectionError)
        throw new EvalInputError(`Cannot reach the baton API at ${base}.`);
      if (err instanceof BatonTimeoutError) {
        throw new EvalInputError(`A run did not finish within ${Math.round(timeoutMs / 1000)} s.`);
      }
      throw err;
    }
  };

  return {
    async run(job) {
      const started = performance.now();
      const created = await explained(`create a run for ${job.caseId} (${job.variant.label})`, () =>
        client.runs.create(
          {
            ...job.request,
            metadata: {
              evalCase: job.caseId,
              evalVariant: job.variant.label,
              evalRepeat: String(job.repeat),
            },
          },
          { signal: controller.signal },
        ),
      );
      const record = await explained(`read run ${created.id}`, () =>
        client.runs.wait(created.id, { signal: controller.signal, timeoutMs }),
      );
      return {
        runId: record.id,
        status: record.status as RunObservation['status'],
        ...(record.output ? { output: record.output } : {}),
        partial: record.partial === true,
        ...(record.error ? { error: record.error } : {}),
        usage: record.usage,
        steps: record.steps,
        definitionVersion: record.definitionVersion,
        latencyMs: record.durationMs ?? performance.now() - started,
      };
    },
    async close() {
      controller.abort();
    },
  };
}
