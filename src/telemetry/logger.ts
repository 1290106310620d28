import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { type AnyValue, type AnyValueMap, logs, SeverityNumber } from '@opentelemetry/api-logs';
import { type DestinationStream, type Logger, type LoggerOptions, multistream, pino } from 'pino';
import { ATTR_BATON_RUN_ID, ATTR_GEN_AI_AGENT_NAME, INSTRUMENTATION_SCOPE } from './attributes.js';
import { telemetryState } from './state.js';
import { runContextOf } from './tracing.js';

/** Paths pino blanks in every log line: credentials always, wherever they appear. */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers["api-key"]',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["api-key"]',
  'headers["x-api-key"]',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers["api-key"]',
  '*.headers["x-api-key"]',
  '*.headers.cookie',
  'authorization',
  'apiKey',
  'apiKeys',
  'key',
  'password',
  'token',
  'accessToken',
  'connectionString',
  '*.apiKey',
  '*.apiKeys',
  '*.authorization',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.connectionString',
];

/**
 * Paths holding model content (prompts, messages, completions, run input and output): blanked unless
 * content capture is on (`BATON_CAPTURE_CONTENT=true`).
 */
export const contentPaths = [
  'messages',
  'content',
  'prompt',
  'completion',
  'input',
  'output',
  '*.messages',
  '*.content',
  '*.prompt',
  '*.completion',
  '*.input',
  '*.output',
];

/**
 * Key names whose values are secrets at ANY depth of a logged object (compared lowercase, without `-` and `_`):
 * `authorization`, `x-api-key`, `client_secret`, `accessToken`… pino's path redaction above reaches fixed depths
 * only; `redactSecrets` walks the whole object.
 */
const secretKeys = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'apikey',
  'apikeys',
  'xapikey',
  'key',
  'password',
  'passwd',
  'secret',
  'clientsecret',
  'sessionsecret',
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'bearer',
  'connectionstring',
  'privatekey',
  'xxsrftoken',
  'csrf',
]);

export const isSecretKey = (key: string): boolean => secretKeys.has(key.toLowerCase().replace(/[-_]/g, ''));

const CENSOR = '[redacted]';
/** Deeper than this, a logged object is cut off (nothing past it reaches the log, secret or not). */
const MAX_LOGGED_DEPTH = 32;

function isPlainContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A copy of `value` with the value of every secret-named key replaced, however deep it is nested. Only plain
 * objects and arrays are walked (class instances such as errors or requests have their own serializers); a
 * container reached twice is logged once; past `MAX_LOGGED_DEPTH` levels the rest is cut off.
 */
export function redactSecrets(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (!isPlainContainer(value)) return value;
  if (depth >= MAX_LOGGED_DEPTH) return '[too deep]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretKey(k) && v !== undefined && v !== null ? CENSOR : redactSecrets(v, depth + 1, seen);
  }
  return out;
}

/** The parts of an HTTP request a log line may carry (structurally a Fastify request). */
interface LoggableRequest {
  method: string;
  ip?: string;
  query?: unknown;
  routeOptions?: { url?: string };
  raw: unknown;
}

function isLoggableRequest(value: unknown): value is LoggableRequest {
  return typeof value === 'object' && value !== null && 'raw' in value && 'method' in value;
}

/**
 * How a request appears in log lines (`incoming request`): its method, the ROUTE PATTERN it matched
 * (`/v1/runs/:id`, never the URL: a caller may put a key in a path or a query) and the names of its query
 * parameters with every value redacted. Anything that is not a server request (a plain object) is left as it is.
 */
export function serializeRequest(req: unknown): unknown {
  if (!isLoggableRequest(req)) return req;
  let query: Record<string, string> | undefined;
  try {
    if (req.query && typeof req.query === 'object') {
      const names = Object.keys(req.query);
      if (names.length > 0) query = Object.fromEntries(names.map((name) => [name, CENSOR]));
    }
  } catch {
    // An unparseable query string is left out.
  }
  return {
    method: req.method,
    route: req.routeOptions?.url ?? null,
    ...(query ? { query } : {}),
    ...(req.ip ? { remoteAddress: req.ip } : {}),
  };
}

export interface LoggerSettings {
  level: string;
  /** Pretty, human output (baton dev on a terminal); JSON otherwise. */
  pretty?: boolean;
  /** Where JSON lines go (tests capture them); stdout by default. */
  destination?: NodeJS.WritableStream;
  base?: Record<string, unknown>;
  /** Keep message content in log lines (`config.telemetry.captureContent`); redacted by default. */
  captureContent?: boolean;
  /**
   * Also emit every line as an OpenTelemetry log record (to Azure Monitor's `traces` table or OTLP
   * logs). Defaults to whether the telemetry bootstrap started a log exporter.
   */
  exportLogs?: boolean;
}

/** Marks loggers made by `runLogger`, whose bindings already carry the run fields. */
const runBound = Symbol.for('baton.logger.runBound');

type MaybeRunBound = { [runBound]?: true };

/**
 * The process logger: pino JSON carrying the active span's `traceId` and `spanId`, and inside
 * `withRunContext` the run's `runId` (and `agent`), on every line.
 */
export function createLogger(settings: LoggerSettings): Logger {
  const paths = settings.captureContent ? redactedPaths : [...redactedPaths, ...contentPaths];
  const options: LoggerOptions = {
    level: settings.level,
    base: settings.base ?? null,
    redact: { paths, censor: CENSOR },
    serializers: { req: serializeRequest },
    formatters: {
      log: (object) => redactSecrets(object) as Record<string, unknown>,
    },
    mixin(_merge, _level, logger) {
      const ctx = context.active();
      const fields: Record<string, string> = {};
      const spanContext = trace.getSpanContext(ctx);
      if (spanContext && isSpanContextValid(spanContext)) {
        fields.traceId = spanContext.traceId;
        fields.spanId = spanContext.spanId;
      }
      const run = runContextOf(ctx);
      if (run && !(logger as MaybeRunBound)[runBound]) {
        fields.runId = run.runId;
        if (run.agent) fields.agent = run.agent;
      }
      return fields;
    },
  };
  const exportLogs = (settings.exportLogs ?? telemetryState().signals.logs) && settings.level !== 'silent';
  if (!exportLogs) {
    if (settings.pretty) {
      return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true } } });
    }
    return settings.destination ? pino(options, settings.destination) : pino(options);
  }
  const primary: DestinationStream = settings.pretty
    ? pino.transport({ target: 'pino-pretty', options: { colorize: true } })
    : ((settings.destination as DestinationStream | undefined) ?? pino.destination(1));
  const level = settings.level as pino.Level;
  return pino(
    options,
    multistream([
      { stream: primary, level },
      { stream: new OtelLogBridge(), level },
    ]),
  );
}

/**
 * A child logger for one run (outside `withRunContext`, e.g. in the API after enqueueing): binds
 * `runId` and, when given, `agent`, `pattern`, `team`. Lines from it never repeat the run fields.
 */
export function runLogger(
  logger: Logger,
  run: { runId: string; agent?: string; pattern?: string; team?: string },
): Logger {
  const bindings: Record<string, string> = { runId: run.runId };
  if (run.agent) bindings.agent = run.agent;
  if (run.pattern) bindings.pattern = run.pattern;
  if (run.team) bindings.team = run.team;
  const child = logger.child(bindings);
  (child as MaybeRunBound)[runBound] = true;
  return child;
}

const SEVERITY: Record<number, { number: SeverityNumber; text: string }> = {
  10: { number: SeverityNumber.TRACE, text: 'TRACE' },
  20: { number: SeverityNumber.DEBUG, text: 'DEBUG' },
  30: { number: SeverityNumber.INFO, text: 'INFO' },
  40: { number: SeverityNumber.WARN, text: 'WARN' },
  50: { number: SeverityNumber.ERROR, text: 'ERROR' },
  60: { number: SeverityNumber.FATAL, text: 'FATAL' },
};

/** Fields of a pino line that become the record's own fields, not attributes. */
const RECORD_FIELDS = new Set([
  'level',
  'time',
  'msg',
  'traceId',
  'spanId',
  'runId',
  'agent',
  'err',
  'pid',
  'hostname',
]);

function attributeValue(value: unknown): AnyValue {
  if (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  ) {
    return value;
  }
  return JSON.stringify(value);
}

/**
 * A pino destination that re-emits each (already redacted) line as an OpenTelemetry log record.
 * pino writes synchronously, so the active context here is the logging call's: the record is
 * correlated with the active span without parsing ids.
 */
export class OtelLogBridge implements DestinationStream {
  write(line: string): void {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const attributes: AnyValueMap = {};
    for (const [key, value] of Object.entries(record)) {
      if (!RECORD_FIELDS.has(key) && value !== undefined) attributes[key] = attributeValue(value);
    }
    if (typeof record.runId === 'string') attributes[ATTR_BATON_RUN_ID] = record.runId;
    if (typeof record.agent === 'string') attributes[ATTR_GEN_AI_AGENT_NAME] = record.agent;
    const err = record.err as { type?: unknown; message?: unknown; stack?: unknown } | undefined;
    if (err && typeof err === 'object') {
      if (typeof err.type === 'string') attributes['exception.type'] = err.type;
      if (typeof err.message === 'string') attributes['exception.message'] = err.message;
      if (typeof err.stack === 'string') attributes['exception.stacktrace'] = err.stack;
    }
    const severity = SEVERITY[Number(record.level)] ?? {
      number: SeverityNumber.UNSPECIFIED,
      text: String(record.level),
    };
    logs.getLogger(INSTRUMENTATION_SCOPE).emit({
      timestamp: typeof record.time === 'number' ? record.time : Date.now(),
      severityNumber: severity.number,
      severityText: severity.text,
      body: typeof record.msg === 'string' ? record.msg : '',
      attributes,
      context: context.active(),
    });
  }
}
