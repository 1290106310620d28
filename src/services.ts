import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { onlineEvaluator } from '../evals/online.js';
import { AgentRuntime } from './agents/runtime.js';
import { ApiKeys } from './api/auth.js';
import type { ApiDeps } from './api/deps.js';
import { OidcVerifier } from './api/oidc.js';
import type { Config } from './config/index.js';
import { tenantWeight } from './config/tenant-limits.js';
import type { EngineDeps } from './engine/index.js';
import { loggedCoordinationEvents, redisCoordination, type TenantScope, tenantScope } from './fleet-redis.js';
import { ContentSafetyClient, Guardrails } from './guardrails/index.js';
import { RunLifecycle } from './lifecycle/lifecycle.js';
import { RunWrites } from './lifecycle/run-writes.js';
import { orchestrators } from './orchestrators/index.js';
import { CircuitBreakers } from './policies/breakers.js';
import type { Coordination } from './policies/coordination.js';
import { FleetQuota } from './policies/fleet-quota.js';
import { createModelAllowList } from './policies/model-allowlist.js';
import { type BatonModelRouter, createModelRouter, type PolicyRouterDeps } from './policies/model-router.js';
import {
  createEvalsQueue,
  type EvalJobData,
  OnlineEvalSampler,
  startEvalsWorker,
} from './queue/evals-queue.js';
import { createRunsQueue, type RunJobData, runQueuePort } from './queue/runs-queue.js';
import { createWebhooksQueue, webhookQueuePort } from './queue/webhooks-queue.js';
import { RunEventHub } from './runs/event-hub.js';
import { RedisEventLog } from './runs/events.js';
import { openRedis, type RedisTarget } from './runs/redis-connection.js';
import { RunStore } from './runs/store.js';
import { simulatedModel } from './simulation/index.js';
import { TeamCatalog } from './teams/catalog.js';
import { defaultTeamsDir, type LoadedTeam, loadTeamsFrom } from './teams/files.js';
import { modelEnvironment } from './teams/models.js';
import { TeamRegistryStore } from './teams/registry-store.js';
import type { TeamDefinition } from './teams/schema.js';
import { definitionVersion, resolvedDocument } from './teams/version.js';
import { guardrailTelemetry } from './telemetry/guardrails.js';
import { engineTelemetry, runtimeTelemetry } from './telemetry/hooks.js';
import { McpClients, mcpSource } from './tools/mcp.js';
import { ToolRuntime } from './tools/runtime.js';
import { searchSource } from './tools/search.js';
import type { WorkerDeps } from './worker/run-worker.js';

/**
 * The composition root: builds the process's shared services from config. Every dependency is created here
 * and passed down; nothing below reads the environment or holds a module-level singleton.
 */
export interface Services {
  /** Opens a named connection that `close()` will quit. */
  connect(name: string): Redis;
  redis: Redis;
  store: RunStore;
  events: RedisEventLog;
  /** The `runs` queue (BullMQ): the API enqueues and inspects it, the lifecycle takes jobs off it. */
  queue: Queue<RunJobData>;
  /** The one writer of runs' status and terminal events. */
  lifecycle: RunLifecycle;
  /** Team files and the registry: what runs resolve their team from. */
  teams: TeamCatalog;
  breakers: CircuitBreakers;
  /** Quotas and breakers shared by the fleet through Redis (BATON_FLEET_LIMITS); undefined: per process. */
  fleet: Coordination | undefined;
  /** The tenant a run executes for, as the fleet quota's fair shares read it. */
  tenants: TenantScope;
  /** The `evals` queue: finished runs sampled for online evaluation. */
  evalsQueue: Queue<EvalJobData>;
  close(): Promise<void>;
}

function connectRedis(target: RedisTarget, log: Logger, name: string): Redis {
  // BullMQ needs maxRetriesPerRequest: null on the connections its workers block on. No connection is
  // auto-pipelined: ioredis then builds a pipeline per tick, which cost a lone command 30-40 µs of CPU here
  // (docs/benchmarks.md); the journal already sends what a step writes together as one script call.
  const redis = openRedis(target, { maxRetriesPerRequest: null, connectionName: `baton-${name}` });
  redis.on('error', (err) => log.warn({ err: err.message, connection: name }, 'redis connection error'));
  return redis;
}

/**
 * The team files of this process: BATON_TEAMS_DIR (default: the shipped `teams/` folder), checked against the
 * configured models. Throws `TeamFilesError` naming every bad file: start-up refuses them.
 */
export function loadTeamFiles(config: Config): LoadedTeam[] {
  return loadTeamsFrom(config.teams.dir ?? defaultTeamsDir(), modelEnvironment(config));
}

/** Teams given in code (tests, benchmarks) as if they had been read from files. */
function givenTeams(teams: ReadonlyMap<string, TeamDefinition>): LoadedTeam[] {
  return [...teams.values()].map((team) => ({
    team,
    version: definitionVersion(team),
    document: resolvedDocument(team),
    file: `(${team.name}, given in code)`,
  }));
}

export function createServices(
  config: Config,
  redisUrl: string,
  log: Logger,
  /** Teams instead of the team files (tests, benchmarks). */
  teams?: ReadonlyMap<string, TeamDefinition>,
): Services {
  const files = teams ? givenTeams(teams) : loadTeamFiles(config);
  const connections: Redis[] = [];
  const target = { url: redisUrl, cluster: config.redisCluster };
  const connect = (name: string) => {
    const conn = connectRedis(target, log, name);
    connections.push(conn);
    return conn;
  };
  const redis = connect('state');
  const store = new RunStore(redis, config.redisPrefix, config.retentionSeconds, log);
  const events = new RedisEventLog(redis, config.redisPrefix);
  const queue = createRunsQueue(connect('queue'), {
    prefix: config.redisPrefix,
    attempts: config.worker.jobAttempts,
    retentionSeconds: config.retentionSeconds,
  });
  const fleet = config.fleet.enabled
    ? redisCoordination(target, config.redisPrefix, config.fleet.timeoutMs, log)
    : undefined;
  const evalsQueue = createEvalsQueue(connect('evals-queue'), config.redisPrefix);
  const webhooks = config.webhooks
    ? createWebhooksQueue(connect('webhooks-queue'), {
        prefix: config.redisPrefix,
        attempts: config.webhooks.attempts,
        backoffMs: config.webhooks.backoffMs,
        retentionSeconds: config.retentionSeconds,
      })
    : undefined;
  const models = modelEnvironment(config);
  const catalog = new TeamCatalog({
    files,
    store: new TeamRegistryStore(redis, config.redisPrefix),
    mode: config.teams.registry,
    toolHosts: config.tools.hosts,
    env: models,
    overrides: config.agentPolicy,
    log,
  });
  const lifecycle = new RunLifecycle({
    redis,
    prefix: config.redisPrefix,
    store,
    writes: new RunWrites(redis, config.redisPrefix, config.retentionSeconds, events),
    queue: runQueuePort(queue, redis),
    teams: catalog,
    modelEnvironment: models,
    models: createModelAllowList(config),
    tenantLimits: config.tenantLimits,
    webhooks:
      webhooks && config.webhooks
        ? { port: webhookQueuePort(webhooks), hosts: config.webhooks.hosts }
        : undefined,
    replicas: config.redisReplicas,
    log,
  });
  return {
    connect,
    redis,
    store,
    events,
    queue,
    lifecycle,
    teams: catalog,
    breakers: new CircuitBreakers(
      fleet ? { coordination: fleet, events: loggedCoordinationEvents(log) } : undefined,
    ),
    fleet,
    tenants: tenantScope(),
    evalsQueue,
    async close() {
      await queue.close().catch(() => {});
      await evalsQueue.close().catch(() => {});
      await fleet?.close();
      await webhooks?.close().catch(() => {});
      await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}

/** The process's model router: the configured providers under the quota, the simulated one playing baton's teams. */
export function createModels(config: Config, deps: PolicyRouterDeps = {}): BatonModelRouter {
  return createModelRouter(config, { simulated: simulatedModel(config.models.simulated), ...deps });
}

/** The router deps that put the fleet's quota over the process's, when the fleet shares its limits. */
export function fleetRouterDeps(config: Config, services: Services, log: Logger): PolicyRouterDeps {
  const coordination = services.fleet;
  if (!coordination) return {};
  const events = loggedCoordinationEvents(log);
  return {
    shareQuota: (local) =>
      new FleetQuota({
        coordination,
        local,
        tenantOf: services.tenants.current,
        weightOf: (tenant) => tenantWeight(config.fleet.tenantWeights, tenant),
        slackMs: config.models.quotaSlackMs,
        events,
      }),
  };
}

export function engineDeps(
  config: Config,
  services: Services,
  log: Logger,
  models: BatonModelRouter = createModels(config, fleetRouterDeps(config, services, log)),
): EngineDeps {
  return {
    runtime: new AgentRuntime({
      models,
      breakers: services.breakers,
      costOf: models.costOf,
      retryAfterMaxMs: config.models.retryAfterMaxMs,
      allowedModels: createModelAllowList(config),
      hooks: runtimeTelemetry({ captureContent: config.telemetry.captureContent }),
    }),
    teams: services.teams,
    orchestrators,
    log,
    captureContent: config.telemetry.captureContent,
    hooks: engineTelemetry(),
    tools: createToolRuntime(config),
    toolConcurrency: config.tools.concurrency,
    guardrails: createGuardrails(config),
  };
}

/** The worker's tools: HTTP, MCP servers (one client per server, reused across runs) and search indexes. */
export function createToolRuntime(config: Config): ToolRuntime {
  const { secrets, maxResultChars } = config.tools;
  // BATON_TEAMS_DIR may name one team file: its folder holds what the team's tools read.
  const teamsPath = config.teams.dir ?? defaultTeamsDir();
  const teamsDir = existsSync(teamsPath) && statSync(teamsPath).isFile() ? dirname(teamsPath) : teamsPath;
  const mcp = new McpClients(teamsDir);
  return new ToolRuntime({
    secrets,
    maxResultChars,
    sources: { search: searchSource(teamsDir, secrets), mcp: mcpSource(mcp) },
    close: () => mcp.close(),
  });
}

/** The operator's guardrail defaults, and the Content Safety client when an endpoint is configured. */
export function createGuardrails(config: Config): Guardrails {
  const safety = config.guardrails.contentSafety;
  return new Guardrails({
    defaultPii: config.guardrails.pii,
    contentSafety: safety ? new ContentSafetyClient(safety) : undefined,
    hooks: guardrailTelemetry(),
  });
}

export function apiDeps(config: Config, services: Services, log: Logger): ApiDeps {
  if (!config.apiKeys?.length && !config.oidc) {
    throw new Error('Neither BATON_API_KEYS nor BATON_OIDC_ISSUER is set.');
  }
  return {
    config,
    redis: services.redis,
    store: services.store,
    lifecycle: services.lifecycle,
    events: services.events,
    eventHub: new RunEventHub(services.connect('event-streams'), config.redisPrefix, log, {
      control: services.redis,
    }),
    queue: services.queue,
    teams: services.teams,
    keys: new ApiKeys(config.apiKeys ?? []),
    ...(config.oidc ? { oidc: new OidcVerifier(config.oidc, log) } : {}),
    log,
  };
}

/** Deliveries one worker process sends at once (they wait on the network, not the CPU). */
const WEBHOOK_CONCURRENCY = 16;

/**
 * The engine's step writes (journal entries and step events) on a connection of their own that never blocks: a
 * step's writes do not queue behind the lifecycle's or the queue's commands.
 */
export function stepWrites(services: Services, prefix: string): WorkerDeps['steps'] {
  const redis = services.connect('run-steps');
  return { redis, events: new RedisEventLog(redis, prefix) };
}

export function workerDeps(config: Config, services: Services, log: Logger): WorkerDeps {
  const sampler = new OnlineEvalSampler(
    services.evalsQueue,
    services.teams,
    config.llmops.onlineEvalRate,
    log,
  );
  return {
    connection: services.connect('worker'),
    redis: services.redis,
    subscriber: services.connect('cancel-subscriber'),
    lifecycle: services.lifecycle,
    events: services.events,
    steps: stepWrites(services, config.redisPrefix),
    engine: engineDeps(config, services, log),
    breakers: services.breakers,
    log,
    onBehalfOf: services.tenants.run,
    runFinished: (run) => sampler.runFinished(run),
    webhooks: config.webhooks
      ? {
          connection: services.connect('webhook-worker'),
          secret: config.webhooks.secret,
          hosts: config.webhooks.hosts,
          timeoutMs: config.webhooks.timeoutMs,
          concurrency: WEBHOOK_CONCURRENCY,
          record: (runId, attempt) => services.store.addDeliveryAttempt(runId, attempt),
        }
      : undefined,
    settings: {
      prefix: config.redisPrefix,
      concurrency: config.worker.concurrency,
      lockMs: config.worker.lockMs,
      stalledIntervalMs: config.worker.stalledIntervalMs,
      maxStalledCount: config.worker.jobAttempts,
      attempts: config.worker.jobAttempts,
      shutdownGraceMs: config.worker.shutdownGraceMs,
      heartbeatIntervalMs: config.worker.heartbeatIntervalMs,
      heartbeatTtlMs: config.worker.heartbeatTtlMs,
      reconcileIntervalMs: config.worker.reconcileIntervalMs,
    },
  };
}

/**
 * The online evaluation worker of a worker process: grades the runs the `evals` queue holds with the judge on
 * BATON_ONLINE_EVAL_MODEL (default: the process's provider) and the label-free scorers.
 */
export function startOnlineEvaluation(config: Config, services: Services, log: Logger) {
  const evaluate = onlineEvaluator({
    redis: services.redis,
    prefix: config.redisPrefix,
    store: services.store,
    teams: services.teams,
    models: createModels(config),
    judgeModel: config.llmops.judgeModel,
    maxTokensPerHour: config.llmops.maxTokensPerHour,
    retentionSeconds: config.llmops.retentionSeconds,
    log,
  });
  return startEvalsWorker(services.connect('evals-worker'), config.redisPrefix, evaluate, log);
}
