/**
 * The stable benchmark entry point (`dist/bench/harness.js`): outside harnesses and peer comparisons measure the
 * engine through `createBenchEngine` instead of internal modules that refactors move. A run goes through the
 * same engine, agent runtime (budget, circuit breaker, retry, timeout, events, usage) and telemetry hooks as in a
 * worker; `durable: true` journals to Redis with the attempt's fencing token and appends events to the run's
 * Redis stream, as a worker does.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { AgentRuntime } from '../src/agents/runtime.js';
import type { ChatModel } from '../src/core/model.js';
import type { RunOutput, RunUsage, StepRecord } from '../src/core/run.js';
import { type EngineDeps, execute } from '../src/engine/index.js';
import { orchestrators } from '../src/orchestrators/index.js';
import { CircuitBreakers } from '../src/policies/breakers.js';
import { MemoryEventLog, RedisEventLog } from '../src/runs/events.js';
import { memoryJournal, openRedisJournal } from '../src/runs/journal.js';
import { runKeys } from '../src/runs/keys.js';
import { fieldsOf, redisScript } from '../src/runs/redis-script.js';
import { patternSchema } from '../src/runs/schema.js';
import type { TeamResolver, VersionedTeam } from '../src/teams/resolver.js';
import { type TeamDefinition, teamDefinitionSchema } from '../src/teams/schema.js';
import { definitionVersion } from '../src/teams/version.js';
import { engineTelemetry, runtimeTelemetry } from '../src/telemetry/hooks.js';

export interface BenchEngineOptions {
  /** Journal and events in Redis at `redisUrl` (the path every production run takes); in memory otherwise. */
  durable: boolean;
  redisUrl?: string;
  model: ChatModel;
}

export interface BenchRunResult {
  status: 'succeeded' | 'failed' | 'cancelled';
  output: RunOutput | undefined;
  usage: RunUsage;
  steps: StepRecord[];
}

export interface BenchEngine {
  /** Runs `input` through `team` (a team document in the team-file format) under `pattern`. */
  run(team: unknown, pattern: string, input: string): Promise<BenchRunResult>;
  close(): Promise<void>;
}

/**
 * A start's attempt count and journal read, as the lifecycle's start script does them (a script rather than a
 * `MULTI`: ioredis gives every pipeline a getter closure of its own, which keeps it and its commands alive until a
 * full collection; docs/benchmarks.md).
 */
const startAttempt = redisScript(`redis.call('HSET', KEYS[1], 'attempt', ARGV[1])
return redis.call('HGETALL', KEYS[2])`);

/** Key prefix of the runs a durable bench engine writes (one per engine, so engines sharing a Redis stay apart). */
const benchPrefix = () => `baton-bench-${randomUUID().slice(0, 8)}`;

export async function createBenchEngine(options: BenchEngineOptions): Promise<BenchEngine> {
  const { model } = options;
  if (options.durable && !options.redisUrl) throw new Error('createBenchEngine: durable needs redisUrl');
  // Team documents are parsed once per document object (a worker parses a team once, when it loads).
  const parsed = new WeakMap<object, TeamDefinition>();
  const byName = new Map<string, VersionedTeam>();
  const teams: TeamResolver = {
    current: async (name) => byName.get(name),
    version: async (name, version) => {
      const found = byName.get(name);
      return found?.version === version ? found.team : undefined;
    },
    list: async () => [...byName.values()],
  };
  const deps: EngineDeps = {
    runtime: new AgentRuntime({
      models: { modelFor: () => model },
      breakers: new CircuitBreakers(),
      hooks: runtimeTelemetry({ captureContent: false }),
    }),
    teams,
    orchestrators,
    log: pino({ level: 'silent' }),
    hooks: engineTelemetry(),
  };
  const redis = options.durable
    ? // The options of a worker's step-writes connection (src/services.ts).
      new Redis(options.redisUrl as string, {
        maxRetriesPerRequest: null,
        connectionName: 'baton-bench',
      })
    : undefined;
  const prefix = benchPrefix();
  const events = redis ? new RedisEventLog(redis, prefix) : undefined;
  let seq = 0;

  const teamOf = (doc: unknown): TeamDefinition => {
    if (typeof doc !== 'object' || doc === null)
      throw new Error('createBenchEngine: team must be a document');
    let team = parsed.get(doc);
    if (!team) {
      team = teamDefinitionSchema.parse(doc);
      parsed.set(doc, team);
      byName.set(team.name, { version: definitionVersion(team), team });
    }
    return team;
  };

  return {
    async run(teamDoc, pattern, input) {
      const team = teamOf(teamDoc);
      const runId = `bench-${++seq}`;
      const attempt = 1;
      let journal = memoryJournal();
      if (redis) {
        // What a worker's lifecycle start does in one script: records the attempt (the journal's writes are fenced
        // on it) and reads the journal back.
        const keys = runKeys(prefix, runId);
        const flat = await startAttempt(redis, [keys.record, keys.journal], [attempt]);
        const stored = fieldsOf(flat as string[]);
        journal = await openRedisJournal(redis, prefix, runId, { attempt, stepEvents: true, stored });
      }
      const outcome = await execute(
        {
          runId,
          request: {
            team: team.name,
            pattern: patternSchema.parse(pattern),
            input,
            options: { stream: false },
          },
          attempt,
          journal,
          events: events ?? new MemoryEventLog(),
        },
        deps,
      );
      return { status: outcome.status, output: outcome.output, usage: outcome.usage, steps: outcome.steps };
    },
    async close() {
      await redis?.quit();
    },
  };
}
