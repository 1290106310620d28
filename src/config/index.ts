import { z } from 'zod';
import { type HostList, parseHostList } from '../core/host-list.js';
import { modelProviders } from '../core/model.js';
import { type AllowedModel, allowedModelsSchema } from './allowed-models.js';
import {
  emptyTable,
  type PriceTable,
  priceTableSchema,
  type QuotaTable,
  quotasFromEnv,
  quotaTableSchema,
} from './tables.js';
import {
  type TenantLimitTable,
  type TenantWeights,
  tenantLimitsSchema,
  tenantWeightsSchema,
} from './tenant-limits.js';

/**
 * Every setting baton reads, as one zod schema over environment variables. Parsed once at start-up
 * (`loadConfig`) and then passed down as a plain object: nothing else reads `process.env`.
 */

const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().min(0);
const rate = z.coerce.number().min(0).max(1);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const url = z.url();

export const apiRoles = ['client', 'operator', 'admin'] as const;
export type ApiRole = (typeof apiRoles)[number];

const apiKeyList = z.string().transform((raw, ctx) => {
  const keys: { key: string; role: ApiRole }[] = [];
  for (const entry of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const at = entry.lastIndexOf(':');
    const key = at > 0 ? entry.slice(0, at) : '';
    const role = at > 0 ? entry.slice(at + 1) : '';
    if (!key || !(apiRoles as readonly string[]).includes(role)) {
      // Never echo the entry: it holds a secret.
      ctx.addIssue({
        code: 'custom',
        message: `each entry must be key:role with role one of ${apiRoles.join(', ')} (entry ${keys.length + 1} is not)`,
      });
      return z.NEVER;
    }
    if (key.length < 16) {
      ctx.addIssue({
        code: 'custom',
        message: `entry ${keys.length + 1} has a key shorter than 16 characters`,
      });
      return z.NEVER;
    }
    keys.push({ key, role: role as ApiRole });
  }
  return keys;
});

/** `claim-value=role` pairs (`Baton.Admin=admin,Baton.Operator=operator`): which role a token's role claim gives. */
const roleMap = z.string().transform((raw, ctx) => {
  const map: Record<string, ApiRole> = Object.create(null);
  for (const entry of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const at = entry.lastIndexOf('=');
    const value = at > 0 ? entry.slice(0, at).trim() : '';
    const role = at > 0 ? entry.slice(at + 1).trim() : '';
    if (!value || !(apiRoles as readonly string[]).includes(role)) {
      ctx.addIssue({
        code: 'custom',
        message: `each entry must be claim-value=role with role one of ${apiRoles.join(', ')} (got "${entry}")`,
      });
      return z.NEVER;
    }
    map[value] = role as ApiRole;
  }
  return map;
});

/** The environment variables and what they mean. Keys are the exact names operators set. */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).optional(),
  PORT: port.default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  REDIS_URL: z
    .string()
    .regex(
      /^rediss?:\/\/[^,\s]+(\s*,\s*rediss?:\/\/[^,\s]+)*$/,
      'must start with redis:// or rediss:// (with BATON_REDIS_CLUSTER, a comma-separated list of such URLs)',
    )
    .optional(),
  BATON_REDIS_CLUSTER: bool.default(false),
  BATON_REDIS_WAIT_REPLICAS: nonNegativeInt.max(5).default(0),
  BATON_REDIS_WAIT_TIMEOUT_MS: positiveInt.max(10_000).default(1_000),
  BATON_REDIS_PREFIX: z
    .string()
    .regex(
      /^([A-Za-z0-9_-]+|\{[A-Za-z0-9_-]+\})$/,
      'must be letters, digits, dashes or underscores, or those in braces (a hash tag: the Redis Cluster key layout)',
    )
    .default('baton'),
  BATON_API_KEYS: apiKeyList.optional(),
  BATON_DATA_DIR: z.string().min(1).default('.baton'),
  BATON_ENVIRONMENT: z.string().min(1).default('development'),

  BATON_MODEL_PROVIDER: z.enum(modelProviders).default('simulated'),
  AZURE_OPENAI_ENDPOINT: url.optional(),
  AZURE_OPENAI_API_KEY: z.string().min(1).optional(),
  AZURE_OPENAI_DEPLOYMENT: z.string().min(1).optional(),
  OPENAI_API_VERSION: z.string().min(1).default('2024-10-21'),
  AZURE_AI_PROJECT_ENDPOINT: url.optional(),
  OPENAI_BASE_URL: url.optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  BATON_MODEL: z.string().min(1).optional(),
  BATON_ALLOWED_MODELS: allowedModelsSchema.optional(),
  BATON_QUOTAS: quotaTableSchema.optional(),
  BATON_PRICES: priceTableSchema.optional(),
  BATON_QUOTAS_WINDOW_MS: positiveInt.min(100).default(60_000),
  BATON_QUOTAS_SLACK_MS: nonNegativeInt.max(60_000).default(500),
  BATON_FLEET_LIMITS: bool.default(true),
  BATON_FLEET_TIMEOUT_MS: positiveInt.min(10).max(10_000).default(1_000),
  BATON_TENANT_WEIGHTS: tenantWeightsSchema.optional(),

  BATON_SIMULATED_LATENCY_MS: z
    .string()
    .regex(/^\d+(-\d+)?$/, 'must be a number of milliseconds or a range like 100-300')
    .default('100-300'),
  BATON_SIMULATED_FAILURE_RATE: rate.default(0),
  BATON_SIMULATED_HANG_RATE: rate.default(0),

  BATON_AGENT_TIMEOUT_MS: positiveInt.optional(),
  BATON_RETRY_MAX_ATTEMPTS: positiveInt.max(10).optional(),
  BATON_RETRY_INITIAL_DELAY_MS: nonNegativeInt.optional(),
  BATON_RETRY_AFTER_MAX_MS: nonNegativeInt.default(30_000),
  BATON_BREAKER_FAILURE_THRESHOLD: positiveInt.optional(),
  BATON_BREAKER_HALF_OPEN_MS: positiveInt.optional(),

  BATON_WORKER_CONCURRENCY: positiveInt.max(1000).default(8),
  BATON_JOB_ATTEMPTS: positiveInt.max(100).default(5),
  BATON_JOB_LOCK_MS: positiveInt.min(1000).default(30_000),
  BATON_STALLED_INTERVAL_MS: positiveInt.min(500).default(15_000),
  BATON_SHUTDOWN_GRACE_MS: nonNegativeInt.default(25_000),
  BATON_RETENTION_SECONDS: positiveInt.default(7 * 24 * 3600),
  BATON_BODY_LIMIT_BYTES: positiveInt.default(1_048_576),
  BATON_REQUEST_TIMEOUT_MS: positiveInt.default(30_000),
  BATON_PUBLIC_URL: url
    .optional()
    .describe('The URL clients reach the API at (the OpenAPI document’s server).'),
  BATON_RATE_LIMIT_PER_MINUTE: nonNegativeInt.default(600),
  BATON_AUTH_FAILURES_PER_MINUTE: nonNegativeInt.default(30),
  BATON_TRUST_PROXY: nonNegativeInt.max(10).default(0),
  BATON_SSE_MAX_STREAMS: positiveInt.default(1000),
  BATON_SSE_MAX_STREAMS_PER_KEY: positiveInt.default(20),
  BATON_OIDC_ISSUER: url.optional(),
  BATON_OIDC_AUDIENCE: z.string().min(1).optional(),
  BATON_OIDC_JWKS_URI: url.optional(),
  BATON_OIDC_CLOCK_SKEW_SECONDS: nonNegativeInt.max(600).default(60),
  BATON_OIDC_ROLE_CLAIM: z.string().min(1).default('roles'),
  BATON_OIDC_ROLE_MAP: roleMap.default(roleMap.parse('client=client,operator=operator,admin=admin')),
  BATON_OIDC_TENANT_CLAIM: z.string().min(1).default('sub'),
  BATON_TENANT_LIMITS: tenantLimitsSchema.optional(),
  BATON_SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  BATON_SESSION_TTL_SECONDS: positiveInt
    .min(60)
    .max(7 * 24 * 3600)
    .default(8 * 3600),
  BATON_TRACE_URL: url
    .refine((v) => v.includes('{traceId}'), 'must contain {traceId}')
    .optional()
    .describe("Link to a run's trace from the operator console: a URL with {traceId} in it."),
  BATON_HEARTBEAT_INTERVAL_MS: positiveInt.min(50).default(5_000),
  BATON_HEARTBEAT_TTL_MS: positiveInt.min(100).default(15_000),
  BATON_RECONCILE_INTERVAL_MS: positiveInt.min(100).max(30_000).default(15_000),

  BATON_ONLINE_EVAL_RATE: rate.default(0),
  BATON_ONLINE_EVAL_MAX_TOKENS_PER_HOUR: nonNegativeInt.default(100_000),
  BATON_ONLINE_EVAL_MODEL: z
    .string()
    .regex(
      new RegExp(`^(${modelProviders.join('|')})(/[^/\\s]+)?$`),
      `must be <provider> or <provider>/<deployment>, the provider one of ${modelProviders.join(', ')}`,
    )
    .optional(),
  BATON_LLMOPS_RETENTION_SECONDS: positiveInt.default(365 * 24 * 3600),
  BATON_FEEDBACK_CONTENT: bool.default(false),
  BATON_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  BATON_WEBHOOK_HOSTS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      try {
        return parseHostList(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  BATON_WEBHOOK_TIMEOUT_MS: positiveInt.max(60_000).default(10_000),
  BATON_WEBHOOK_ATTEMPTS: positiveInt.max(20).default(8),
  BATON_WEBHOOK_BACKOFF_MS: positiveInt.max(600_000).default(2_000),

  BATON_TEAMS_DIR: z.string().min(1).optional(),
  BATON_TEAMS_REGISTRY: z.enum(['files', 'both', 'api']).default('both'),

  BATON_TOOL_SECRETS: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*(,[A-Za-z_][A-Za-z0-9_]*)*$/, 'must be comma-separated variable names')
    .optional()
    .describe('Variables team tools may read as ${env:NAME} (in headers and keys).'),
  BATON_TOOL_HOSTS: z
    .string()
    .regex(
      /^(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?(,(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?)*$/,
      'must be comma-separated host or host:port entries (a leading *. matches subdomains)',
    )
    .optional()
    .describe('Hosts the tools of teams registered through the API may call.'),
  BATON_TOOL_RESULT_MAX_CHARS: positiveInt.min(256).default(16_000),
  BATON_TOOL_CONCURRENCY: positiveInt.max(64).default(4),
  BATON_GUARDRAILS_PII: z
    .enum(['off', 'redact', 'block'])
    .default('off')
    .describe('PII mode for teams whose document declares none.'),
  AZURE_CONTENT_SAFETY_ENDPOINT: url.optional(),
  AZURE_CONTENT_SAFETY_KEY: z.string().min(1).optional(),
  AZURE_CONTENT_SAFETY_API_VERSION: z.string().min(1).default('2024-09-01'),
  BATON_CONTENT_SAFETY_TIMEOUT_MS: positiveInt.default(5_000),
  BATON_CONTENT_SAFETY_BREAKER_THRESHOLD: positiveInt.default(5),
  BATON_CONTENT_SAFETY_BREAKER_HALF_OPEN_MS: positiveInt.default(30_000),

  BATON_CAPTURE_CONTENT: bool.default(false),
  APPLICATIONINSIGHTS_CONNECTION_STRING: z.string().min(1).optional(),
  AZURE_CLIENT_ID: z.string().min(1).optional().describe('User-assigned managed identity for Entra ID auth.'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** Variables the schema does not list one by one but knows by prefix (OpenTelemetry's standard set). */
export const envPrefixes = ['OTEL_', 'BATON_QUOTA_'] as const;

/** Whether `name` is a variable baton reads (used by tests that check compose files and infrastructure). */
export function isKnownEnvVar(name: string): boolean {
  return name in envSchema.shape || envPrefixes.some((p) => name.startsWith(p));
}

export type Env = z.infer<typeof envSchema>;

export interface WebhookSettings {
  /** Signs every delivery (`Baton-Signature`). */
  secret: string;
  /** The hosts webhook URLs may point at. */
  hosts: HostList;
  /** Longest one delivery attempt may take. */
  timeoutMs: number;
  /** Attempts per delivery, the first included. */
  attempts: number;
  /** First retry delay; doubled on each further attempt. */
  backoffMs: number;
}

export interface Config {
  env: Env;
  /** Signed run webhooks; undefined (refused with 400) unless both a secret and the allowed hosts are set. */
  webhooks: WebhookSettings | undefined;
  port: number;
  host: string;
  redisUrl: string | undefined;
  /** BATON_REDIS_CLUSTER: REDIS_URL names nodes of a Redis Cluster. */
  redisCluster: boolean;
  /** BATON_REDIS_WAIT_REPLICAS / _TIMEOUT_MS: replicas that hold a run before the API accepts it. */
  redisReplicas: { count: number; timeoutMs: number };
  redisPrefix: string;
  apiKeys: { key: string; role: ApiRole }[] | undefined;
  dataDir: string;
  environment: string;
  models: {
    provider: (typeof modelProviders)[number];
    simulated: { latencyMs: [number, number]; failureRate: number; hangRate: number };
    /** Requests/tokens per minute by deployment (BATON_QUOTAS, BATON_QUOTA_<DEPLOYMENT>). */
    quotas: QuotaTable;
    /** USD per 1K tokens by deployment (BATON_PRICES). */
    prices: PriceTable;
    /** Longest wait a provider's retry-after may impose (BATON_RETRY_AFTER_MAX_MS); longer ones fail the attempt. */
    retryAfterMaxMs: number;
    /** The quotas' window (BATON_QUOTAS_WINDOW_MS): a minute, shorter in tests. */
    quotaWindowMs: number;
    /** BATON_QUOTAS_SLACK_MS: the longest expected time from a fleet grant to the request's arrival. */
    quotaSlackMs: number;
  };
  /** Quotas and circuit breakers shared by the worker fleet through Redis. */
  fleet: {
    /** BATON_FLEET_LIMITS: off, each worker keeps its own (as with a single worker). */
    enabled: boolean;
    /** BATON_FLEET_TIMEOUT_MS: longest wait for Redis on a coordination call before the local limits apply. */
    timeoutMs: number;
    /** BATON_TENANT_WEIGHTS: tenants' shares of a saturated deployment (default 1 each). */
    tenantWeights: TenantWeights;
  };
  /** The models a run may choose (BATON_ALLOWED_MODELS); undefined: each configured provider's default. */
  allowedModels: AllowedModel[] | undefined;
  /** Operator overrides of every agent's policy (unset fields keep each agent's own). */
  agentPolicy: {
    timeoutMs?: number;
    retryMaxAttempts?: number;
    retryInitialDelayMs?: number;
    breakerFailureThreshold?: number;
    breakerHalfOpenMs?: number;
  };
  worker: {
    concurrency: number;
    jobAttempts: number;
    lockMs: number;
    stalledIntervalMs: number;
    shutdownGraceMs: number;
    /** Worker heartbeats to Redis: how often, and how long one stays visible without a newer one. */
    heartbeatIntervalMs: number;
    heartbeatTtlMs: number;
    /** How often the fleet looks for runs whose job ended without ending them (one worker per interval). */
    reconcileIntervalMs: number;
  };
  /** Operator console sessions (/admin): signing secret (unset: random per process) and lifetime. */
  admin: {
    sessionSecret: string | undefined;
    sessionTtlSeconds: number;
    /** The run inspector's trace link: a URL template with `{traceId}` (BATON_TRACE_URL); unset: no link. */
    traceUrl: string | undefined;
  };
  /**
   * Teams: the folder of team files (unset: the `teams/` folder shipped with baton) and where teams come from
   * (files, the registry API, or both).
   */
  teams: { dir: string | undefined; registry: 'files' | 'both' | 'api' };
  retentionSeconds: number;
  http: {
    /** Where clients reach the API: the OpenAPI document's `servers` entry. */
    publicUrl: string;
    bodyLimit: number;
    requestTimeoutMs: number;
    rateLimitPerMinute: number;
    /** Failed authentications (wrong key or token) one client address may make per minute before it gets 429. */
    authFailuresPerMinute: number;
    /** Proxies in front of the API whose X-Forwarded-For is trusted for the client address (0: none). */
    trustProxy: number;
    /** Concurrent event streams (SSE): in all, and per caller. */
    sse: { maxStreams: number; maxStreamsPerKey: number };
  };
  /** Per-tenant (API key id) limits on runs (BATON_TENANT_LIMITS); undefined: none. */
  tenantLimits: TenantLimitTable | undefined;
  /** JWT bearer tokens from an OpenID Connect issuer (Entra ID), beside the API keys; unset: keys only. */
  oidc: OidcConfig | undefined;
  telemetry: { captureContent: boolean; logLevel: Env['LOG_LEVEL'] };
  /** Online evaluation, and how long scores and feedback outlive runs. */
  llmops: {
    /** Fraction of finished runs the judge grades (a team's `evaluation.rate` overrides it). */
    onlineEvalRate: number;
    /** Tokens the online judge may spend per hour, across the fleet; over it, runs go ungraded. */
    maxTokensPerHour: number;
    /** The judge's model (default: the process's provider with its default deployment). */
    judgeModel: { provider: (typeof modelProviders)[number]; deployment?: string } | undefined;
    retentionSeconds: number;
    /** Feedback keeps the run's input and output (what `baton feedback export` needs). */
    feedbackContent: boolean;
  };
  tools: {
    /** `${env:NAME}` values team tools may use: only the variables BATON_TOOL_SECRETS names. */
    secrets: ReadonlyMap<string, string>;
    /** Hosts API-registered teams' tools may call (BATON_TOOL_HOSTS); empty: none. */
    hosts: string[];
    maxResultChars: number;
    concurrency: number;
  };
  /** The operator's guardrail defaults and Azure AI Content Safety (unset endpoint: none). */
  guardrails: { pii: Env['BATON_GUARDRAILS_PII']; contentSafety: ContentSafetyConfig | undefined };
}

export interface ContentSafetyConfig {
  endpoint: string;
  /** Unset: Entra ID (managed identity or developer credentials). */
  apiKey: string | undefined;
  apiVersion: string;
  timeoutMs: number;
  breaker: { failureThreshold: number; halfOpenAfterMs: number };
}

export interface OidcConfig {
  issuer: string;
  audience: string;
  /** Where the issuer publishes its signing keys; unset: read from its discovery document. */
  jwksUri: string | undefined;
  clockSkewSeconds: number;
  /** The claim holding the caller's role(s) (a string or an array), and which claim value gives which role. */
  roleClaim: string;
  roleMap: Record<string, ApiRole>;
  /** The claim that names the tenant: runs created with the token belong to it (as runs belong to a key). */
  tenantClaim: string;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

function describeIssue(issue: z.core.$ZodIssue, env: Record<string, string | undefined>): string {
  const name = String(issue.path[0] ?? 'configuration');
  const raw = env[name];
  const secret = /KEY|SECRET|CONNECTION_STRING|TOKEN/.test(name);
  const got = raw === undefined || secret ? '' : ` (got "${raw}")`;
  return `${name} ${issue.message.replace(/^Invalid input: /, '')}${got}`;
}

/** Parses the environment into a `Config`, or throws one sentence naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset" (compose files and shells often export VAR= ).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const reasons = parsed.error.issues.map((i) => describeIssue(i, cleaned)).join('; ');
    throw new ConfigError(`Invalid configuration: ${reasons}.`);
  }
  const e = parsed.data;
  const { quotas, problems } = quotasFromEnv(e.BATON_QUOTAS, cleaned);
  if (problems.length > 0) throw new ConfigError(`Invalid configuration: ${problems.join('; ')}.`);
  if (e.BATON_HEARTBEAT_TTL_MS <= e.BATON_HEARTBEAT_INTERVAL_MS) {
    throw new ConfigError(
      'Invalid configuration: BATON_HEARTBEAT_TTL_MS must be longer than BATON_HEARTBEAT_INTERVAL_MS.',
    );
  }
  if (e.BATON_OIDC_ISSUER && !e.BATON_OIDC_AUDIENCE) {
    throw new ConfigError(
      'Invalid configuration: BATON_OIDC_AUDIENCE is required with BATON_OIDC_ISSUER (the API accepts only tokens issued for it).',
    );
  }
  if (e.REDIS_URL?.includes(',') && !e.BATON_REDIS_CLUSTER) {
    throw new ConfigError(
      'Invalid configuration: REDIS_URL lists several servers, which only a Redis Cluster (BATON_REDIS_CLUSTER=true) takes.',
    );
  }
  const [lo, hi] = e.BATON_SIMULATED_LATENCY_MS.split('-').map(Number) as [number, number | undefined];
  return {
    env: e,
    port: e.PORT,
    host: e.HOST,
    redisUrl: e.REDIS_URL,
    redisCluster: e.BATON_REDIS_CLUSTER,
    redisReplicas: { count: e.BATON_REDIS_WAIT_REPLICAS, timeoutMs: e.BATON_REDIS_WAIT_TIMEOUT_MS },
    // A cluster needs the hash-tag key layout (src/runs/keys.ts): the prefix becomes the tag.
    redisPrefix:
      e.BATON_REDIS_CLUSTER && !e.BATON_REDIS_PREFIX.startsWith('{')
        ? `{${e.BATON_REDIS_PREFIX}}`
        : e.BATON_REDIS_PREFIX,
    apiKeys: e.BATON_API_KEYS,
    dataDir: e.BATON_DATA_DIR,
    environment: e.BATON_ENVIRONMENT,
    models: {
      provider: e.BATON_MODEL_PROVIDER,
      simulated: {
        latencyMs: [lo, Math.max(lo, hi ?? lo)],
        failureRate: e.BATON_SIMULATED_FAILURE_RATE,
        hangRate: e.BATON_SIMULATED_HANG_RATE,
      },
      quotas,
      prices: e.BATON_PRICES ?? emptyTable(),
      retryAfterMaxMs: e.BATON_RETRY_AFTER_MAX_MS,
      quotaWindowMs: e.BATON_QUOTAS_WINDOW_MS,
      quotaSlackMs: e.BATON_QUOTAS_SLACK_MS,
    },
    fleet: {
      enabled: e.BATON_FLEET_LIMITS,
      timeoutMs: e.BATON_FLEET_TIMEOUT_MS,
      tenantWeights: e.BATON_TENANT_WEIGHTS ?? emptyTable(),
    },
    allowedModels: e.BATON_ALLOWED_MODELS,
    agentPolicy: {
      timeoutMs: e.BATON_AGENT_TIMEOUT_MS,
      retryMaxAttempts: e.BATON_RETRY_MAX_ATTEMPTS,
      retryInitialDelayMs: e.BATON_RETRY_INITIAL_DELAY_MS,
      breakerFailureThreshold: e.BATON_BREAKER_FAILURE_THRESHOLD,
      breakerHalfOpenMs: e.BATON_BREAKER_HALF_OPEN_MS,
    },
    worker: {
      concurrency: e.BATON_WORKER_CONCURRENCY,
      jobAttempts: e.BATON_JOB_ATTEMPTS,
      lockMs: e.BATON_JOB_LOCK_MS,
      stalledIntervalMs: e.BATON_STALLED_INTERVAL_MS,
      shutdownGraceMs: e.BATON_SHUTDOWN_GRACE_MS,
      heartbeatIntervalMs: e.BATON_HEARTBEAT_INTERVAL_MS,
      heartbeatTtlMs: e.BATON_HEARTBEAT_TTL_MS,
      reconcileIntervalMs: e.BATON_RECONCILE_INTERVAL_MS,
    },
    admin: {
      sessionSecret: e.BATON_SESSION_SECRET,
      sessionTtlSeconds: e.BATON_SESSION_TTL_SECONDS,
      traceUrl: e.BATON_TRACE_URL,
    },
    teams: { dir: e.BATON_TEAMS_DIR, registry: e.BATON_TEAMS_REGISTRY },
    webhooks:
      e.BATON_WEBHOOK_SECRET && e.BATON_WEBHOOK_HOSTS
        ? {
            secret: e.BATON_WEBHOOK_SECRET,
            hosts: e.BATON_WEBHOOK_HOSTS,
            timeoutMs: e.BATON_WEBHOOK_TIMEOUT_MS,
            attempts: e.BATON_WEBHOOK_ATTEMPTS,
            backoffMs: e.BATON_WEBHOOK_BACKOFF_MS,
          }
        : undefined,
    retentionSeconds: e.BATON_RETENTION_SECONDS,
    http: {
      publicUrl: e.BATON_PUBLIC_URL ?? `http://${e.HOST === '0.0.0.0' ? '127.0.0.1' : e.HOST}:${e.PORT}`,
      bodyLimit: e.BATON_BODY_LIMIT_BYTES,
      requestTimeoutMs: e.BATON_REQUEST_TIMEOUT_MS,
      rateLimitPerMinute: e.BATON_RATE_LIMIT_PER_MINUTE,
      authFailuresPerMinute: e.BATON_AUTH_FAILURES_PER_MINUTE,
      trustProxy: e.BATON_TRUST_PROXY,
      sse: { maxStreams: e.BATON_SSE_MAX_STREAMS, maxStreamsPerKey: e.BATON_SSE_MAX_STREAMS_PER_KEY },
    },
    oidc:
      e.BATON_OIDC_ISSUER && e.BATON_OIDC_AUDIENCE
        ? {
            issuer: e.BATON_OIDC_ISSUER,
            audience: e.BATON_OIDC_AUDIENCE,
            jwksUri: e.BATON_OIDC_JWKS_URI,
            clockSkewSeconds: e.BATON_OIDC_CLOCK_SKEW_SECONDS,
            roleClaim: e.BATON_OIDC_ROLE_CLAIM,
            roleMap: e.BATON_OIDC_ROLE_MAP,
            tenantClaim: e.BATON_OIDC_TENANT_CLAIM,
          }
        : undefined,
    tenantLimits: e.BATON_TENANT_LIMITS,
    telemetry: { captureContent: e.BATON_CAPTURE_CONTENT, logLevel: e.LOG_LEVEL },
    llmops: {
      onlineEvalRate: e.BATON_ONLINE_EVAL_RATE,
      maxTokensPerHour: e.BATON_ONLINE_EVAL_MAX_TOKENS_PER_HOUR,
      judgeModel: judgeModelOf(e.BATON_ONLINE_EVAL_MODEL),
      retentionSeconds: e.BATON_LLMOPS_RETENTION_SECONDS,
      feedbackContent: e.BATON_FEEDBACK_CONTENT,
    },
    tools: {
      secrets: new Map(
        (e.BATON_TOOL_SECRETS?.split(',') ?? []).flatMap((name) => {
          const value = cleaned[name];
          return value === undefined ? [] : [[name, value] as const];
        }),
      ),
      hosts: e.BATON_TOOL_HOSTS?.split(',').map((h) => h.toLowerCase()) ?? [],
      maxResultChars: e.BATON_TOOL_RESULT_MAX_CHARS,
      concurrency: e.BATON_TOOL_CONCURRENCY,
    },
    guardrails: {
      pii: e.BATON_GUARDRAILS_PII,
      contentSafety: e.AZURE_CONTENT_SAFETY_ENDPOINT
        ? {
            endpoint: e.AZURE_CONTENT_SAFETY_ENDPOINT,
            apiKey: e.AZURE_CONTENT_SAFETY_KEY,
            apiVersion: e.AZURE_CONTENT_SAFETY_API_VERSION,
            timeoutMs: e.BATON_CONTENT_SAFETY_TIMEOUT_MS,
            breaker: {
              failureThreshold: e.BATON_CONTENT_SAFETY_BREAKER_THRESHOLD,
              halfOpenAfterMs: e.BATON_CONTENT_SAFETY_BREAKER_HALF_OPEN_MS,
            },
          }
        : undefined,
    },
  };
}

/** `<provider>[/<deployment>]` as model settings. */
function judgeModelOf(value: string | undefined): Config['llmops']['judgeModel'] {
  if (!value) return undefined;
  const [provider, deployment] = value.split('/') as [(typeof modelProviders)[number], string | undefined];
  return { provider, ...(deployment ? { deployment } : {}) };
}
