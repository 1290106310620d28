/**
 * Small helpers over `@opentelemetry/api` only (never the SDK): the `baton` tracer, `withSpan`, the
 * run context that stamps `baton.run.id` on every span, and W3C trace-context carriers for jobs.
 *
 * Everything here is safe to call when telemetry is off: the API then hands out non-recording spans,
 * carriers come back empty and extraction yields the root context.
 */
import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  type Exception,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  type Link,
  ProxyTracerProvider,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { ATTR_BATON_LINK, ATTR_ERROR_TYPE, INSTRUMENTATION_SCOPE } from './attributes.js';

export type { Attributes, Context, Link, Span, SpanContext };
export { SpanKind, SpanStatusCode };

/**
 * The `baton` tracer. Obtained on every call, never cached at module load: the Azure Monitor distro
 * replaces the global tracer provider when it starts, and a tracer taken before that is a no-op forever.
 * (`getTracer` is a cheap map lookup once the SDK is up.)
 */
export function tracer(): Tracer {
  return trace.getTracer(INSTRUMENTATION_SCOPE);
}

/** What the global tracer provider delegates to while no SDK has registered one: the API's no-op provider. */
const NO_SDK_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();
/** The span `withSpan` hands out while nothing records spans. */
const UNRECORDED_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Whether an SDK records spans: false while no tracer provider is registered (telemetry off), when every span
 * would be a no-op. Asked on every call, since the SDK may register after this module loads. A global provider
 * this copy of the API does not recognise counts as recording.
 */
export function tracingOn(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NO_SDK_TRACER_PROVIDER;
}

/** Context key shared with the SDK's span processor (a registered symbol, so copies of this module agree). */
export const RUN_CONTEXT_KEY = createContextKey('baton.run.context');

/** Span names baton uses, in one place so the docs, the code and the tests agree. */
export const spanNames = {
  /** The whole run, in the worker: `baton.run sequential`. */
  run: (pattern: string) => `baton.run ${pattern}`,
  /** One orchestration step (planning, aggregation, routing…): `baton.step plan`. */
  step: (what: string) => `baton.step ${what}`,
  /** One agent call through the runtime (all attempts): `invoke_agent researcher`. */
  invokeAgent: (agent: string) => `invoke_agent ${agent}`,
  /** One model request (one attempt): `chat gpt-4o-mini`. */
  chat: (model: string) => `chat ${model}`,
  /** One guardrail check of an agent call: `baton.guardrail pii`. */
  guardrail: (name: string) => `baton.guardrail ${name}`,
  /** One tool execution: `execute_tool web_search`. */
  executeTool: (tool: string) => `execute_tool ${tool}`,
} as const;

export interface WithSpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
  /**
   * Parent context; the active context when omitted. An explicit parent without a run context (e.g.
   * one from `continueTrace`, computed before `withRunContext`) inherits the active run context.
   */
  parent?: Context;
}

function parentWithRun(parent: Context | undefined): Context {
  const active = context.active();
  if (!parent) return active;
  if (parent.getValue(RUN_CONTEXT_KEY) !== undefined) return parent;
  const run = active.getValue(RUN_CONTEXT_KEY);
  return run === undefined ? parent : parent.setValue(RUN_CONTEXT_KEY, run);
}

/**
 * The error's type for `error.type`: a baton error's stable `code`, else the class name, else `_OTHER`
 * (the semantic conventions' fallback value).
 */
export function errorType(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0) return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name.length > 0 && name !== 'Error') return name;
    const ctor = (error as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof ctor === 'string' && ctor.length > 0 && ctor !== 'Error' && ctor !== 'Object') return ctor;
  }
  return '_OTHER';
}

/** Records `error` on `span`: an exception event, ERROR status with the message, and `error.type`. */
export function recordSpanError(span: Span, error: unknown): void {
  const exception: Exception =
    error instanceof Error ? error : { name: errorType(error), message: String(error) };
  span.recordException(exception);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
  span.setAttribute(ATTR_ERROR_TYPE, errorType(error));
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Runs `fn` inside a new active span named `name`, then ends the span. A thrown error or rejected
 * promise is recorded (exception event, ERROR status, `error.type`) and rethrown unchanged.
 * Works for synchronous and asynchronous `fn`.
 */
export function withSpan<T>(
  name: string,
  options: WithSpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T>;
export function withSpan<T>(name: string, options: WithSpanOptions, fn: (span: Span) => T): T;
export function withSpan<T>(name: string, options: WithSpanOptions, fn: (span: Span) => T): T {
  // Telemetry off: no span to start, end or make active (a third of an in-process agent step's time otherwise).
  if (!tracingOn()) return fn(UNRECORDED_SPAN);
  const parent = parentWithRun(options.parent);
  const span = tracer().startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links: options.links },
    parent,
  );
  let result: T;
  try {
    result = context.with(trace.setSpan(parent, span), fn, undefined, span);
  } catch (error) {
    recordSpanError(span, error);
    span.end();
    throw error;
  }
  if (isPromiseLike(result)) {
    return Promise.resolve(result).then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        recordSpanError(span, error);
        span.end();
        throw error;
      },
    ) as T;
  }
  span.end();
  return result;
}

/** Sets attributes on the active span (no-op without one): e.g. `baton.run.id` on the API request span. */
export function setActiveSpanAttributes(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** The active span's trace id (32 hex chars), or undefined without a valid active span. */
export function currentTraceId(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/** The active span's span id, or undefined. */
export function currentSpanId(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext.spanId : undefined;
}

// ── trace context carriers (job data) ────────────────────────────────────────────────────────────

/** A W3C trace-context carrier (`traceparent`, optional `tracestate`, `baggage`) as stored in a job. */
export type TraceCarrier = Record<string, string>;

/**
 * Serialises `ctx` (the active context by default) with the global propagator (W3C trace context and
 * baggage once the SDK is up). Empty object when telemetry is off or nothing is active.
 */
export function injectTraceContext(ctx: Context = context.active()): TraceCarrier {
  const carrier: TraceCarrier = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The context a carrier describes, on top of `base` (the root context by default). */
export function extractTraceContext(
  carrier: TraceCarrier | undefined | null,
  base: Context = ROOT_CONTEXT,
): Context {
  if (!carrier || typeof carrier !== 'object') return base;
  return propagation.extract(base, carrier);
}

/** The remote span context a carrier names, or undefined when it names none (or telemetry is off). */
export function spanContextFromCarrier(carrier: TraceCarrier | undefined | null): SpanContext | undefined {
  const spanContext = trace.getSpanContext(extractTraceContext(carrier));
  return spanContext && isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** A span link to the span a carrier names, or undefined. */
export function linkFromCarrier(
  carrier: TraceCarrier | undefined | null,
  attributes?: Attributes,
): Link | undefined {
  const spanContext = spanContextFromCarrier(carrier);
  return spanContext ? { context: spanContext, attributes } : undefined;
}

/**
 * Where the worker's run span belongs: `parent` continues the trace (the active context when it
 * already has a span of the carrier's trace — BullMQ's consumer span — else the carrier's context,
 * else the active context), and `links` points at the enqueuing span so the relation survives even
 * when the parent is something else (a resumed run, a re-queued job, sampling).
 */
export function continueTrace(carrier: TraceCarrier | undefined | null): { parent: Context; links: Link[] } {
  const active = context.active();
  const remote = spanContextFromCarrier(carrier);
  if (!remote) return { parent: active, links: [] };
  const links: Link[] = [{ context: remote, attributes: { [ATTR_BATON_LINK]: 'enqueue' } }];
  const activeSpan = trace.getSpanContext(active);
  if (activeSpan && isSpanContextValid(activeSpan) && activeSpan.traceId === remote.traceId) {
    return { parent: active, links };
  }
  return { parent: extractTraceContext(carrier, active), links };
}

// ── run context: baton.run.id on every span ──────────────────────────────────────────────────────

/** What the run context carries. `runId` is stamped as `baton.run.id` on every span started inside. */
export interface RunContextValue {
  runId: string;
  pattern?: string;
  team?: string;
  /** The agent currently being called (set with `withAgentContext`); logs carry it as `agent`. */
  agent?: string;
}

/** The run context in `ctx` (the active context by default), if any. */
export function runContextOf(ctx: Context = context.active()): RunContextValue | undefined {
  const value = ctx.getValue(RUN_CONTEXT_KEY);
  return typeof value === 'object' && value !== null && typeof (value as RunContextValue).runId === 'string'
    ? (value as RunContextValue)
    : undefined;
}

/**
 * Runs `fn` with `run` in the active context: every span started inside (baton's, ioredis', http's)
 * gets `baton.run.id`, and every log line gets `runId`.
 */
export function withRunContext<T>(run: RunContextValue, fn: () => T): T {
  return context.with(context.active().setValue(RUN_CONTEXT_KEY, { ...run }), fn);
}

/** Runs `fn` with `agent` added to the current run context (log lines get `agent`). */
export function withAgentContext<T>(agent: string, fn: () => T): T {
  const run = runContextOf();
  if (!run) return fn();
  return context.with(context.active().setValue(RUN_CONTEXT_KEY, { ...run, agent }), fn);
}

// ── suppression ──────────────────────────────────────────────────────────────────────────────────

/** The SDK's suppress-tracing key (the SDK creates it with the same registered description). */
const SUPPRESS_TRACING_KEY = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

/** Context in which no span is recorded (the SDK returns non-recording spans). */
export function suppressedContext(ctx: Context = context.active()): Context {
  return ctx.setValue(SUPPRESS_TRACING_KEY, true);
}

/**
 * Runs `fn` without recording any span inside it: for high-volume plumbing such as one Redis XADD per
 * streamed token, which would otherwise add a span per delta to the run's trace.
 */
export function withoutTracing<T>(fn: () => T): T {
  return context.with(suppressedContext(), fn);
}
