/**
 * A local OTLP/HTTP collector for tests: plain node:http on a free 127.0.0.1 port. Accepts
 * `POST /v1/traces`, `/v1/metrics` and `/v1/logs` in the http/json protocol (`application/json`,
 * optionally gzip-compressed), decodes them into flat records and lets tests wait for them.
 * http/protobuf bodies are refused with 415, like a collector without that receiver.
 *
 * ```ts
 * const collector = await startOtlpCollector();
 * // child env: OTEL_EXPORTER_OTLP_PROTOCOL=http/json OTEL_EXPORTER_OTLP_ENDPOINT=collector.url
 * const [span] = await collector.waitForSpans((s) => s.name === 'baton.run sequential');
 * await collector.close();
 * ```
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';

export type Attributes = Record<string, unknown>;

export type CollectedSpanKind = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';

export interface CollectedSpan {
  traceId: string;
  spanId: string;
  /** Undefined for a root span. */
  parentSpanId: string | undefined;
  name: string;
  kind: CollectedSpanKind;
  attributes: Attributes;
  resource: Attributes;
  scope: { name: string; version: string | undefined };
  links: { traceId: string; spanId: string; attributes: Attributes }[];
  events: { name: string; timeUnixNano: string; attributes: Attributes }[];
  status: { code: 'unset' | 'ok' | 'error'; message: string | undefined };
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  durationMs: number;
}

export interface CollectedDataPoint {
  attributes: Attributes;
  /** Sums and gauges. */
  value: number | undefined;
  /** Histograms. */
  count: number | undefined;
  sum: number | undefined;
  bucketCounts: number[] | undefined;
  explicitBounds: number[] | undefined;
}

export interface CollectedMetric {
  name: string;
  description: string | undefined;
  unit: string | undefined;
  type: 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram' | 'summary' | 'unknown';
  resource: Attributes;
  scope: { name: string; version: string | undefined };
  dataPoints: CollectedDataPoint[];
}

export interface CollectedLog {
  timeUnixNano: string | undefined;
  severityNumber: number | undefined;
  severityText: string | undefined;
  body: unknown;
  attributes: Attributes;
  resource: Attributes;
  scope: { name: string; version: string | undefined };
  traceId: string | undefined;
  spanId: string | undefined;
}

export interface CollectorRequest {
  path: string;
  contentType: string | undefined;
  status: number;
}

export interface OtlpCollector {
  /** Base URL for `OTEL_EXPORTER_OTLP_ENDPOINT` (`http://127.0.0.1:PORT`, no trailing slash). */
  url: string;
  port: number;
  readonly spans: CollectedSpan[];
  readonly metrics: CollectedMetric[];
  readonly logs: CollectedLog[];
  /** Every request received, accepted or not. */
  readonly requests: CollectorRequest[];
  /**
   * Resolves with the spans matching `predicate` once at least `count` (default 1) have arrived;
   * rejects after `timeoutMs` (default 10 s) naming what did arrive.
   */
  waitForSpans(
    predicate: (span: CollectedSpan) => boolean,
    timeoutMs?: number,
    count?: number,
  ): Promise<CollectedSpan[]>;
  waitForMetrics(
    predicate: (metric: CollectedMetric) => boolean,
    timeoutMs?: number,
    count?: number,
  ): Promise<CollectedMetric[]>;
  waitForLogs(
    predicate: (log: CollectedLog) => boolean,
    timeoutMs?: number,
    count?: number,
  ): Promise<CollectedLog[]>;
  /** Answer every export with this HTTP status (e.g. 503) until cleared with undefined. */
  failWith(status: number | undefined): void;
  /** Forgets everything received. */
  reset(): void;
  close(): Promise<void>;
}

// ── OTLP/JSON decoding ───────────────────────────────────────────────────────────────────────────

type Json = Record<string, unknown>;

function asArray(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}

function asString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

/** OTLP/JSON ids are hex; tolerate base64 (the proto3 JSON default) too. */
function decodeId(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  if (/^[0-9a-f]+$/i.test(value) && (value.length === 32 || value.length === 16)) return value.toLowerCase();
  return Buffer.from(value, 'base64').toString('hex');
}

export function decodeAnyValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Json;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return asNumber(v.intValue);
  if ('doubleValue' in v) return asNumber(v.doubleValue);
  if ('bytesValue' in v) return v.bytesValue;
  if ('arrayValue' in v) return asArray((v.arrayValue as Json | undefined)?.values).map(decodeAnyValue);
  if ('kvlistValue' in v) return decodeAttributes((v.kvlistValue as Json | undefined)?.values);
  return undefined;
}

export function decodeAttributes(list: unknown): Attributes {
  const out: Attributes = {};
  for (const kv of asArray(list)) {
    if (typeof kv.key === 'string') out[kv.key] = decodeAnyValue(kv.value);
  }
  return out;
}

function decodeScope(scope: unknown): { name: string; version: string | undefined } {
  const s = (scope ?? {}) as Json;
  return { name: asString(s.name) ?? '', version: asString(s.version) };
}

const KINDS: CollectedSpanKind[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS: CollectedSpan['status']['code'][] = ['unset', 'ok', 'error'];

function nanosToMs(start: string, end: string): number {
  try {
    return Number(BigInt(end) - BigInt(start)) / 1e6;
  } catch {
    return Number.NaN;
  }
}

export function decodeTraces(body: Json): CollectedSpan[] {
  const out: CollectedSpan[] = [];
  for (const rs of asArray(body.resourceSpans)) {
    const resource = decodeAttributes((rs.resource as Json | undefined)?.attributes);
    for (const ss of asArray(rs.scopeSpans)) {
      const scope = decodeScope(ss.scope);
      for (const span of asArray(ss.spans)) {
        const kindIndex = asNumber(span.kind) ?? 0;
        const status = (span.status ?? {}) as Json;
        const start = asString(span.startTimeUnixNano) ?? '0';
        const end = asString(span.endTimeUnixNano) ?? '0';
        out.push({
          traceId: decodeId(span.traceId) ?? '',
          spanId: decodeId(span.spanId) ?? '',
          parentSpanId: decodeId(span.parentSpanId),
          name: asString(span.name) ?? '',
          kind: KINDS[kindIndex] ?? 'unspecified',
          attributes: decodeAttributes(span.attributes),
          resource,
          scope,
          links: asArray(span.links).map((l) => ({
            traceId: decodeId(l.traceId) ?? '',
            spanId: decodeId(l.spanId) ?? '',
            attributes: decodeAttributes(l.attributes),
          })),
          events: asArray(span.events).map((e) => ({
            name: asString(e.name) ?? '',
            timeUnixNano: asString(e.timeUnixNano) ?? '0',
            attributes: decodeAttributes(e.attributes),
          })),
          status: {
            code: STATUS[asNumber(status.code) ?? 0] ?? 'unset',
            message: asString(status.message) || undefined,
          },
          startTimeUnixNano: start,
          endTimeUnixNano: end,
          durationMs: nanosToMs(start, end),
        });
      }
    }
  }
  return out;
}

function decodeDataPoint(dp: Json): CollectedDataPoint {
  return {
    attributes: decodeAttributes(dp.attributes),
    value: asNumber(dp.asDouble) ?? asNumber(dp.asInt),
    count: asNumber(dp.count),
    sum: asNumber(dp.sum),
    bucketCounts: Array.isArray(dp.bucketCounts) ? dp.bucketCounts.map((c) => asNumber(c) ?? 0) : undefined,
    explicitBounds: Array.isArray(dp.explicitBounds)
      ? dp.explicitBounds.map((c) => asNumber(c) ?? 0)
      : undefined,
  };
}

export function decodeMetrics(body: Json): CollectedMetric[] {
  const out: CollectedMetric[] = [];
  for (const rm of asArray(body.resourceMetrics)) {
    const resource = decodeAttributes((rm.resource as Json | undefined)?.attributes);
    for (const sm of asArray(rm.scopeMetrics)) {
      const scope = decodeScope(sm.scope);
      for (const metric of asArray(sm.metrics)) {
        const types = ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'] as const;
        const type = types.find((t) => t in metric) ?? 'unknown';
        const data = type === 'unknown' ? undefined : (metric[type] as Json | undefined);
        out.push({
          name: asString(metric.name) ?? '',
          description: asString(metric.description) || undefined,
          unit: asString(metric.unit) || undefined,
          type,
          resource,
          scope,
          dataPoints: asArray(data?.dataPoints).map(decodeDataPoint),
        });
      }
    }
  }
  return out;
}

export function decodeLogs(body: Json): CollectedLog[] {
  const out: CollectedLog[] = [];
  for (const rl of asArray(body.resourceLogs)) {
    const resource = decodeAttributes((rl.resource as Json | undefined)?.attributes);
    for (const sl of asArray(rl.scopeLogs)) {
      const scope = decodeScope(sl.scope);
      for (const record of asArray(sl.logRecords)) {
        out.push({
          timeUnixNano: asString(record.timeUnixNano),
          severityNumber: asNumber(record.severityNumber),
          severityText: asString(record.severityText),
          body: decodeAnyValue(record.body),
          attributes: decodeAttributes(record.attributes),
          resource,
          scope,
          traceId: decodeId(record.traceId),
          spanId: decodeId(record.spanId),
        });
      }
    }
  }
  return out;
}

// ── server ───────────────────────────────────────────────────────────────────────────────────────

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const encoding = (req.headers['content-encoding'] ?? '').toLowerCase();
  if (encoding === 'gzip') return gunzipSync(raw);
  if (encoding === 'deflate') return inflateSync(raw);
  return raw;
}

interface Waiter {
  check(): boolean;
}

export async function startOtlpCollector(options: { port?: number } = {}): Promise<OtlpCollector> {
  const spans: CollectedSpan[] = [];
  const metrics: CollectedMetric[] = [];
  const logs: CollectedLog[] = [];
  const requests: CollectorRequest[] = [];
  const waiters = new Set<Waiter>();
  let fault: number | undefined;

  const notify = () => {
    for (const waiter of [...waiters]) if (waiter.check()) waiters.delete(waiter);
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const contentType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    const record = (status: number) => requests.push({ path, contentType, status });
    try {
      const body = await readBody(req);
      const decoders: Record<string, (json: Json) => void> = {
        '/v1/traces': (json) => spans.push(...decodeTraces(json)),
        '/v1/metrics': (json) => metrics.push(...decodeMetrics(json)),
        '/v1/logs': (json) => logs.push(...decodeLogs(json)),
      };
      const decode = decoders[path];
      if (req.method !== 'POST' || !decode) {
        record(404);
        return send(res, 404, { code: 5, message: `no receiver for ${req.method} ${path}` });
      }
      if (fault !== undefined) {
        record(fault);
        return send(res, fault, { code: 14, message: 'collector told to fail' });
      }
      if (contentType !== 'application/json') {
        record(415);
        return send(res, 415, { code: 3, message: `unsupported content type ${contentType ?? '(none)'}` });
      }
      let json: Json;
      try {
        json = JSON.parse(body.toString('utf8')) as Json;
      } catch {
        record(400);
        return send(res, 400, { code: 3, message: 'body is not JSON' });
      }
      decode(json);
      record(200);
      send(res, 200, {});
      notify();
    } catch (error) {
      record(500);
      send(res, 500, { code: 13, message: String(error) });
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  function waitFor<T>(
    list: T[],
    what: string,
    describe: (item: T) => string,
    predicate: (item: T) => boolean,
    timeoutMs = 10_000,
    count = 1,
  ): Promise<T[]> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check() {
          const matching = list.filter(predicate);
          if (matching.length < count) return false;
          clearTimeout(timer);
          resolve(matching);
          return true;
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        const seen = list.map(describe).join(', ') || 'nothing';
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${count} matching ${what}; received: ${seen}`,
          ),
        );
      }, timeoutMs);
      if (!waiter.check()) waiters.add(waiter);
    });
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    spans,
    metrics,
    logs,
    requests,
    waitForSpans: (predicate, timeoutMs, count) =>
      waitFor(spans, 'spans', (s) => s.name, predicate, timeoutMs, count),
    waitForMetrics: (predicate, timeoutMs, count) =>
      waitFor(metrics, 'metrics', (m) => m.name, predicate, timeoutMs, count),
    waitForLogs: (predicate, timeoutMs, count) =>
      waitFor(logs, 'log records', (l) => String(l.body), predicate, timeoutMs, count),
    failWith(status) {
      fault = status;
    },
    reset() {
      spans.length = 0;
      metrics.length = 0;
      logs.length = 0;
      requests.length = 0;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
