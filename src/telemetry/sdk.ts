/**
 * The OpenTelemetry SDK bootstrap — the only baton module that loads the SDK. Started once per process
 * by the preload (`node --import ./dist/src/telemetry/preload.js dist/src/cli.js <role>`), before any
 * app module, so instrumentations can patch modules before they load and every tracer obtained later
 * is a real one.
 *
 * Exporters (DESIGN §6):
 * - Azure Monitor when `APPLICATIONINSIGHTS_CONNECTION_STRING` is set (ratio sampling, `tracesPerSecond: 0`);
 * - OTLP per signal when the standard `OTEL_*` variables ask for it (an endpoint, or `OTEL_*_EXPORTER=otlp`),
 *   over `http/protobuf` (the default), `http/json` or `grpc`;
 * - nothing otherwise: no SDK is loaded, no exporter retries against localhost:4318.
 *
 * The SDK packages are imported dynamically inside `startTelemetry`, so importing this module (the API
 * does, for `fastifyOtelPlugin`; the queue does, for `bullmqTelemetry`) costs nothing when telemetry is off.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Attributes,
  type Context,
  INVALID_SPAN_CONTEXT,
  metrics,
  type Span,
  type SpanOptions,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import type { HttpInstrumentationConfig } from '@opentelemetry/instrumentation-http';
import type { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import type { logs as sdkLogs, metrics as sdkMetrics, tracing as sdkTracing } from '@opentelemetry/sdk-node';
import type { Span as BullSpan, Telemetry as BullTelemetry } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import type { FastifyPluginCallback } from 'fastify';
import { ATTR_BATON_RUN_ID } from './attributes.js';
import { RunContextSpanProcessor } from './processors.js';
import { resetTelemetryState, telemetryState } from './state.js';
import { suppressedContext } from './tracing.js';

export { telemetryState } from './state.js';

type Env = Record<string, string | undefined>;

// ── plan: what the environment asks for ──────────────────────────────────────────────────────────

export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';
export type ExporterChoice = { kind: 'otlp'; protocol: OtlpProtocol } | { kind: 'console' };
type Signal = 'traces' | 'metrics' | 'logs';

export interface TelemetryPlan {
  serviceName: string;
  /** Azure Monitor export, when a connection string is configured. */
  azure: { connectionString: string } | undefined;
  traces: ExporterChoice[];
  metrics: ExporterChoice[];
  logs: ExporterChoice[];
  /** Misconfigurations worth one line on stderr (unknown exporter or protocol names). */
  warnings: string[];
}

/** Service names of the long-running roles; other roles (`run`, `eval`) need `OTEL_SERVICE_NAME`. */
const ROLE_SERVICE: Record<string, string> = { api: 'baton-api', worker: 'baton-worker', dev: 'baton' };

/** The CLI role: the first non-option argument after the script (`api`, `worker`, `dev`, `run`, `eval`). */
export function roleFromArgv(argv: readonly string[] = process.argv): string | undefined {
  return argv.slice(2).find((arg) => !arg.startsWith('-'));
}

/** `baton-api`, `baton-worker`, `baton` for `api`, `worker`, `dev`; undefined for other roles. */
export function serviceNameForRole(role: string | undefined): string | undefined {
  return role !== undefined && Object.hasOwn(ROLE_SERVICE, role) ? ROLE_SERVICE[role] : undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function exportersFor(signal: Signal, env: Env, warnings: string[]): ExporterChoice[] {
  const upper = signal.toUpperCase();
  const listed = (nonEmpty(env[`OTEL_${upper}_EXPORTER`]) ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const endpoint =
    nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT) ?? nonEmpty(env[`OTEL_EXPORTER_OTLP_${upper}_ENDPOINT`]);
  // Unlike the SDK's own default, "unset" means OTLP only when an endpoint says where to.
  const names = listed.length > 0 ? listed : endpoint ? ['otlp'] : [];
  if (names.includes('none')) return [];
  const rawProtocol =
    nonEmpty(env[`OTEL_EXPORTER_OTLP_${upper}_PROTOCOL`]) ??
    nonEmpty(env.OTEL_EXPORTER_OTLP_PROTOCOL) ??
    'http/protobuf';
  let protocol: OtlpProtocol = 'http/protobuf';
  if (rawProtocol === 'http/json' || rawProtocol === 'grpc' || rawProtocol === 'http/protobuf')
    protocol = rawProtocol;
  else if (names.includes('otlp'))
    warnings.push(`unsupported OTLP protocol "${rawProtocol}" for ${signal}; using http/protobuf`);
  const out: ExporterChoice[] = [];
  for (const name of new Set(names)) {
    if (name === 'otlp') out.push({ kind: 'otlp', protocol });
    else if (name === 'console') out.push({ kind: 'console' });
    else warnings.push(`unsupported OTEL_${upper}_EXPORTER value "${name}" (supported: otlp, console, none)`);
  }
  return out;
}

function isTrue(value: string | undefined): boolean {
  return ['true', '1', 'yes'].includes((value ?? '').trim().toLowerCase());
}

/**
 * What to start for this process, or undefined for nothing at all. `role` is the CLI role
 * (`roleFromArgv()`); `serviceName` overrides the role's name (but `OTEL_SERVICE_NAME` wins over both).
 */
export function resolveTelemetryPlan(
  env: Env = process.env,
  options: { role?: string; serviceName?: string } = {},
): TelemetryPlan | undefined {
  if (isTrue(env.OTEL_SDK_DISABLED)) return undefined;
  const serviceName =
    nonEmpty(env.OTEL_SERVICE_NAME) ?? options.serviceName ?? serviceNameForRole(options.role);
  if (!serviceName) return undefined;
  const warnings: string[] = [];
  const connectionString = nonEmpty(env.APPLICATIONINSIGHTS_CONNECTION_STRING);
  const plan: TelemetryPlan = {
    serviceName,
    azure: connectionString ? { connectionString } : undefined,
    traces: exportersFor('traces', env, warnings),
    metrics: exportersFor('metrics', env, warnings),
    logs: exportersFor('logs', env, warnings),
    warnings,
  };
  const anything = plan.azure || plan.traces.length + plan.metrics.length + plan.logs.length > 0;
  return anything ? plan : undefined;
}

// ── resource ─────────────────────────────────────────────────────────────────────────────────────

/** baton's version from its package.json (found by walking up from this file, in src/ or dist/). */
export function batonVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'baton' && pkg.version) return pkg.version;
    } catch {
      // no package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return '0.0.0';
}

/** Resource attributes baton sets itself (OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME still override). */
export function baseResourceAttributes(serviceName: string, env: Env = process.env): Attributes {
  return {
    'service.name': serviceName,
    'service.version': batonVersion(),
    'deployment.environment.name': nonEmpty(env.BATON_ENVIRONMENT) ?? 'development',
  };
}

// ── instrumentation helpers ──────────────────────────────────────────────────────────────────────

/** Routes whose requests are not traced: probes, docs and the bull-board UI (it polls). */
export function isUntracedPath(url: string): boolean {
  const path = url.split('?')[0] ?? url;
  return (
    path === '/healthz' ||
    path === '/readyz' ||
    path === '/favicon.ico' ||
    path === '/docs' ||
    path.startsWith('/docs/') ||
    path === '/admin/queues' ||
    path.startsWith('/admin/queues/')
  );
}

const BLOCKING_REDIS_COMMANDS = new Set([
  'blpop',
  'brpop',
  'brpoplpush',
  'blmove',
  'blmpop',
  'bzpopmin',
  'bzpopmax',
  'bzmpop',
]);

function argText(arg: unknown): string {
  if (typeof arg === 'string') return arg.length > 120 ? `${arg.slice(0, 120)}…` : arg;
  if (typeof arg === 'number') return String(arg);
  return '?';
}

/**
 * `db.query.text` for a Redis command without values: command and keys only. Scripts (BullMQ's
 * EVALSHA) carry job data — the run's input — in ARGV, so ARGV is never recorded.
 */
export function redisStatement(command: string, args: readonly unknown[]): string {
  const name = command.toLowerCase();
  if (name === 'evalsha' || name === 'eval' || name === 'evalsha_ro' || name === 'eval_ro') {
    const numKeys = Number(args[1]);
    const keys = Number.isInteger(numKeys) && numKeys > 0 ? args.slice(2, 2 + numKeys).map(argText) : [];
    const script = name.startsWith('evalsha') ? argText(args[0]).slice(0, 12) : 'script';
    const rest = Math.max(0, args.length - 2 - keys.length);
    return `${command} ${script} ${keys.join(' ')}${rest ? ` [${rest} other arguments]` : ''}`.replace(
      / {2,}/g,
      ' ',
    );
  }
  if (name === 'xread' || name === 'xreadgroup') {
    const at = args.findIndex((a) => typeof a === 'string' && a.toUpperCase() === 'STREAMS');
    if (at >= 0) {
      const options = args.slice(0, at).map(argText);
      const streams = args.slice(at + 1);
      const keys = streams.slice(0, Math.floor(streams.length / 2)).map(argText);
      return `${command} ${[...options, 'STREAMS', ...keys].join(' ')}`;
    }
  }
  if (args.length === 0) return command;
  const rest = args.length - 1;
  return `${command} ${argText(args[0])}${rest ? ` [${rest} other arguments]` : ''}`;
}

/** Redis commands that only wait (BullMQ's job polling, an SSE tail's XREAD BLOCK): never a span. */
export function isIgnoredRedisCommand(command: string, statement: unknown): boolean {
  const name = command.toLowerCase();
  if (BLOCKING_REDIS_COMMANDS.has(name)) return true;
  return (
    (name === 'xread' || name === 'xreadgroup') && typeof statement === 'string' && / BLOCK /i.test(statement)
  );
}

const NON_RECORDING = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** A tracer provider that hands out non-recording spans for ignored Redis commands. */
function filteringTracerProvider(inner: TracerProvider): TracerProvider {
  return {
    getTracer(name, version, options): Tracer {
      const tracer = inner.getTracer(name, version, options);
      return {
        startSpan(spanName: string, spanOptions?: SpanOptions, ctx?: Context): Span {
          const statement =
            spanOptions?.attributes?.['db.query.text'] ?? spanOptions?.attributes?.['db.statement'];
          if (isIgnoredRedisCommand(spanName, statement)) return NON_RECORDING;
          return tracer.startSpan(spanName, spanOptions, ctx);
        },
        startActiveSpan: tracer.startActiveSpan.bind(tracer) as Tracer['startActiveSpan'],
      };
    },
  };
}

// ── start / shutdown ─────────────────────────────────────────────────────────────────────────────

export interface StartTelemetryOptions {
  /** CLI role (`api`, `worker`, `dev`, …); names the service. */
  role?: string;
  /** Explicit service name (below `OTEL_SERVICE_NAME`). */
  serviceName?: string;
  /**
   * Environment to decide from; `process.env` by default. (The OTLP exporters themselves read their
   * endpoint, headers, timeout and compression from `process.env`.)
   */
  env?: Env;
  /** A plan computed earlier (the preload passes its own); resolved from `env` otherwise. */
  plan?: TelemetryPlan;
  /** Azure Monitor fixed-percentage sampling ratio, 0..1 (default 1). `OTEL_TRACES_SAMPLER(_ARG)` override it. */
  samplingRatio?: number;
}

function positiveNumberFromEnv(env: Env, name: string, fallback: number): number {
  const n = Number(nonEmpty(env[name]));
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/**
 * Starts the SDK when the environment asks for telemetry; resolves to whether it started. Idempotent.
 * Never throws for an unreachable endpoint (exporters fail later, silently, in the background).
 */
export async function startTelemetry(options: StartTelemetryOptions = {}): Promise<boolean> {
  const state = telemetryState();
  if (state.started) return true;
  const env = options.env ?? process.env;
  const plan =
    options.plan ?? resolveTelemetryPlan(env, { role: options.role, serviceName: options.serviceName });
  if (!plan) return false;

  const [sdkNode, { HttpInstrumentation }, { IORedisInstrumentation: IORedis }, fastifyOtel] =
    await Promise.all([
      import('@opentelemetry/sdk-node'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-ioredis'),
      import('@fastify/otel'),
    ]);
  const { resources, tracing, metrics: sdkMetricsNs, logs: sdkLogsNs } = sdkNode;

  const resource = resources
    .resourceFromAttributes(baseResourceAttributes(plan.serviceName, env))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));

  // Exporters, per signal.
  const spanProcessors: sdkTracing.SpanProcessor[] = [];
  for (const choice of plan.traces) {
    if (choice.kind === 'console')
      spanProcessors.push(new tracing.SimpleSpanProcessor(new tracing.ConsoleSpanExporter()));
    else spanProcessors.push(new tracing.BatchSpanProcessor(await otlpSpanExporter(choice.protocol)));
  }
  const metricReaders: sdkMetrics.MetricReader[] = [];
  const exportIntervalMillis = positiveNumberFromEnv(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000);
  const exportTimeoutMillis = Math.min(
    exportIntervalMillis,
    positiveNumberFromEnv(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 30_000),
  );
  for (const choice of plan.metrics) {
    const exporter =
      choice.kind === 'console'
        ? new sdkMetricsNs.ConsoleMetricExporter()
        : await otlpMetricExporter(choice.protocol);
    metricReaders.push(
      new sdkMetricsNs.PeriodicExportingMetricReader({ exporter, exportIntervalMillis, exportTimeoutMillis }),
    );
  }
  const logProcessors: sdkLogs.LogRecordProcessor[] = [];
  for (const choice of plan.logs) {
    if (choice.kind === 'console') {
      logProcessors.push(new sdkLogsNs.SimpleLogRecordProcessor(new sdkLogsNs.ConsoleLogRecordExporter()));
    } else {
      logProcessors.push(new sdkLogsNs.BatchLogRecordProcessor(await otlpLogExporter(choice.protocol)));
    }
  }

  const tracingOn = plan.azure !== undefined || spanProcessors.length > 0;
  const metricsOn = plan.azure !== undefined || metricReaders.length > 0;
  const logsOn = plan.azure !== undefined || logProcessors.length > 0;

  // Instrumentations (only when spans go somewhere). Incoming HTTP requests get their server span from
  // @fastify/otel (route-aware, one per request); the http instrumentation covers outgoing calls.
  const httpConfig: HttpInstrumentationConfig = {
    disableIncomingRequestInstrumentation: true,
    requireParentforOutgoingSpans: true,
  };
  let ioredis: IORedisInstrumentation | undefined;
  let fastify: InstanceType<typeof fastifyOtel.FastifyOtelInstrumentation> | undefined;
  if (tracingOn) {
    ioredis = new IORedis({ requireParentSpan: true, dbStatementSerializer: redisStatement });
    fastify = new fastifyOtel.FastifyOtelInstrumentation({
      registerOnInitialization: false,
      instrumentHooks: false,
      ignorePaths: (route) => isUntracedPath(route.url),
      requestHook: (span, request) => {
        span.updateName(`${request.method} ${request.routeOptions.url ?? 'unmatched'}`);
      },
      lifecycleHook: (span, info) => {
        if (info.hookName === 'handler')
          span.updateName(`handler ${info.request.routeOptions.url ?? 'unmatched'}`);
      },
    });
  }
  const runContext = new RunContextSpanProcessor();

  let stop: () => Promise<void>;
  if (plan.azure) {
    const azure = await import('@azure/monitor-opentelemetry');
    type AzureMetricReaders = NonNullable<Parameters<typeof azure.useAzureMonitor>[0]>['metricReaders'];
    azure.useAzureMonitor({
      azureMonitorExporterOptions: { connectionString: plan.azure.connectionString },
      resource,
      samplingRatio: options.samplingRatio ?? 1,
      tracesPerSecond: 0,
      enableLiveMetrics: false,
      spanProcessors: [runContext, ...spanProcessors],
      // Same MetricReader class from two installed copies of sdk-metrics (sdk-node's and the hoisted
      // one the distro's types name); the distro hands them to sdk-node, whose copy built them.
      metricReaders: metricReaders as unknown as AzureMetricReaders,
      logRecordProcessors: logProcessors,
      instrumentationOptions: {
        http: { enabled: true, ...httpConfig },
        azureSdk: { enabled: true },
        mongoDb: { enabled: false },
        mySql: { enabled: false },
        postgreSql: { enabled: false },
        redis: { enabled: false },
        redis4: { enabled: false },
        bunyan: { enabled: false },
        winston: { enabled: false },
      },
    });
    // The distro does not know ioredis or Fastify: attach them to the providers it just registered.
    for (const instrumentation of [ioredis, fastify]) {
      instrumentation?.setTracerProvider(trace.getTracerProvider());
      instrumentation?.setMeterProvider(metrics.getMeterProvider());
    }
    stop = async () => {
      await azure.shutdownAzureMonitor();
    };
  } else {
    const instrumentations = tracingOn ? [new HttpInstrumentation(httpConfig), ioredis!, fastify!] : [];
    const sdk = new sdkNode.NodeSDK({
      resource,
      autoDetectResources: true,
      // Explicit lists (possibly empty): left undefined, NodeSDK falls back to OTLP on localhost:4318.
      spanProcessors: tracingOn ? [runContext, ...spanProcessors] : [],
      metricReaders,
      logRecordProcessors: logProcessors,
      instrumentations,
    });
    sdk.start();
    stop = () => sdk.shutdown();
  }
  ioredis?.setTracerProvider(filteringTracerProvider(trace.getTracerProvider()));

  state.started = true;
  state.serviceName = plan.serviceName;
  state.signals = { traces: tracingOn, metrics: metricsOn, logs: logsOn };
  state.fastify = fastify;
  state.shutdown = stop;
  return true;
}

async function otlpSpanExporter(protocol: OtlpProtocol): Promise<sdkTracing.SpanExporter> {
  if (protocol === 'http/json')
    return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
  if (protocol === 'grpc')
    return new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter();
  return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
}

async function otlpMetricExporter(protocol: OtlpProtocol): Promise<sdkMetrics.PushMetricExporter> {
  if (protocol === 'http/json') {
    return new (await import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter();
  }
  if (protocol === 'grpc')
    return new (await import('@opentelemetry/exporter-metrics-otlp-grpc')).OTLPMetricExporter();
  return new (await import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter();
}

async function otlpLogExporter(protocol: OtlpProtocol): Promise<sdkLogs.LogRecordExporter> {
  if (protocol === 'http/json')
    return new (await import('@opentelemetry/exporter-logs-otlp-http')).OTLPLogExporter();
  if (protocol === 'grpc')
    return new (await import('@opentelemetry/exporter-logs-otlp-grpc')).OTLPLogExporter();
  return new (await import('@opentelemetry/exporter-logs-otlp-proto')).OTLPLogExporter();
}

/**
 * Flushes and stops the SDK. Never throws and never waits longer than `timeoutMs` (an unreachable
 * endpoint makes exporters retry; shutting down must not hang the process). No-op when not started.
 */
export async function shutdownTelemetry(options: { timeoutMs?: number } = {}): Promise<void> {
  const state = telemetryState();
  const stop = state.shutdown;
  resetTelemetryState();
  if (!stop) return;
  let timer: NodeJS.Timeout | undefined;
  // Not unref'd: the deadline keeps the process alive while the exporters flush. Their work alone may not (an
  // exporter's first send waits for a dynamic import, which holds no handle on the event loop), and a process
  // ending here on an empty loop — the preload's `beforeExit` path — would drop what was never sent.
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, options.timeoutMs ?? 5_000);
  });
  try {
    await Promise.race([stop().catch(() => undefined), deadline]);
  } catch {
    // Shutdown errors (unreachable collector) are not the caller's problem.
  } finally {
    clearTimeout(timer);
  }
}

// ── integrations the API and the queue wire in ───────────────────────────────────────────────────

/**
 * The @fastify/otel plugin, or undefined when tracing is off. Register it on the root instance before
 * any route: `const otel = fastifyOtelPlugin(); if (otel) await app.register(otel);`
 * It creates one SERVER span per request named `<METHOD> <route>` (continuing an incoming
 * `traceparent`), skipping /healthz, /readyz, /docs and /admin/queues.
 */
export function fastifyOtelPlugin(): FastifyPluginCallback | undefined {
  const instrumentation = telemetryState().fastify as { plugin(): FastifyPluginCallback } | undefined;
  return instrumentation?.plugin();
}

/**
 * Sets attributes (e.g. `baton.run.id` once the run is created) on the request's SERVER span — the one
 * App Insights lists under `requests`. Inside a route handler the active span is @fastify/otel's
 * handler span, a child: `setActiveSpanAttributes` would miss the server span. Falls back to the active
 * span when the plugin is not registered; no-op when telemetry is off.
 */
export function annotateRequestSpan(request: unknown, attributes: Attributes): void {
  const otel = (request as { opentelemetry?: () => { span: Span | null } } | null)?.opentelemetry;
  const span = typeof otel === 'function' ? otel.call(request).span : undefined;
  (span ?? trace.getActiveSpan())?.setAttributes(attributes);
}

/** BullMQ operations that run on timers or poll: they never get spans (nor do their Redis commands). */
const UNTRACED_BULLMQ_OPERATIONS = new Set([
  'getNextJob',
  'extendLocks',
  'moveStalledJobsToWait',
  'startStalledCheckTimer',
]);

const JOB_ID_ATTRIBUTE = 'bullmq.job.id';

/** A BullMQ span that records nothing and suppresses every span under it. */
const suppressedBullSpan: BullSpan<Context> = {
  setSpanOnContext: (ctx) => suppressedContext(ctx),
  setAttribute: () => {},
  setAttributes: () => {},
  addEvent: () => {},
  recordException: () => {},
  end: () => {},
};

/** Wraps a BullMQ span so the job id is also recorded as `baton.run.id` (a run's id is its job id). */
function withRunId(span: BullSpan<Context>): BullSpan<Context> {
  return {
    setSpanOnContext: (ctx) => span.setSpanOnContext(ctx),
    setAttribute: (key, value) => {
      span.setAttribute(key, value);
      if (key === JOB_ID_ATTRIBUTE && typeof value === 'string') span.setAttribute(ATTR_BATON_RUN_ID, value);
    },
    setAttributes: (attributes) => {
      span.setAttributes(attributes);
      const jobId = attributes[JOB_ID_ATTRIBUTE];
      if (typeof jobId === 'string') span.setAttribute(ATTR_BATON_RUN_ID, jobId);
    },
    addEvent: (name, attributes) => span.addEvent(name, attributes),
    recordException: (exception, time) => span.recordException(exception, time),
    end: () => span.end(),
  };
}

/**
 * BullMQ telemetry for the `runs` Queue and Worker (`new Queue(name, { telemetry: bullmqTelemetry() })`),
 * or undefined when tracing is off. Built on bullmq-otel's `BullMQOtel`: a PRODUCER span
 * `add runs.<job name>` on enqueue and a CONSUMER span `process runs` per job attempt, child of the
 * producer span (the context travels in the job). Polling and timer operations (`getNextJob`,
 * `extendLocks`, stalled-job checks) are not traced, and the job id is copied to `baton.run.id`.
 */
export function bullmqTelemetry(): BullTelemetry<Context> | undefined {
  if (!telemetryState().signals.traces) return undefined;
  const otel = new BullMQOtel({ tracerName: 'bullmq', version: batonVersion() });
  const inner = otel.tracer;
  return {
    contextManager: otel.contextManager,
    tracer: {
      startSpan(name, spanOptions, ctx) {
        const operation = name.split(' ', 1)[0] ?? name;
        if (UNTRACED_BULLMQ_OPERATIONS.has(operation)) return suppressedBullSpan;
        return withRunId(inner.startSpan(name, spanOptions, ctx));
      },
    },
  };
}
