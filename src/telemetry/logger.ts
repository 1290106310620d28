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
    redact: { paths, censor: '[redacted]' },
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
