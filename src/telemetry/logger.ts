import { trace } from '@opentelemetry/api';
import { type Logger, type LoggerOptions, pino } from 'pino';

/** Paths pino blanks in every log line: credentials always, wherever they appear. */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers["api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["api-key"]',
  'authorization',
  'apiKey',
  'apiKeys',
  'key',
  'connectionString',
  '*.apiKey',
  '*.authorization',
  '*.connectionString',
];

export interface LoggerSettings {
  level: string;
  /** Pretty, human output (baton dev on a terminal); JSON otherwise. */
  pretty?: boolean;
  /** Where JSON lines go (tests capture them); stdout by default. */
  destination?: NodeJS.WritableStream;
  base?: Record<string, unknown>;
}

/** The process logger: pino JSON carrying the active span's `traceId` and `spanId` on every line. */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: settings.base ?? null,
    redact: { paths: redactedPaths, censor: '[redacted]' },
    mixin() {
      const span = trace.getActiveSpan();
      if (!span) return {};
      const { traceId, spanId } = span.spanContext();
      return { traceId, spanId };
    },
  };
  if (settings.pretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return settings.destination ? pino(options, settings.destination) : pino(options);
}
