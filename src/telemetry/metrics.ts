/**
 * baton's metric instruments, over `@opentelemetry/api` only. The meter is looked up lazily and the
 * instruments are rebuilt whenever the global meter provider changes (an instrument created from the
 * no-op provider stays a no-op forever). All functions are cheap no-ops while telemetry is off.
 */
import {
  type Attributes,
  type BatchObservableResult,
  type Counter,
  createNoopMeter,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  type ObservableGauge,
  type ObservableResult,
} from '@opentelemetry/api';
import {
  ATTR_BATON_AGENT_OUTCOME,
  ATTR_BATON_PATTERN,
  ATTR_BATON_QUEUE,
  ATTR_BATON_RUN_STATUS,
  ATTR_BATON_TEAM,
  ATTR_BATON_VARIANT,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_TOKEN_TYPE,
  ATTR_GEN_AI_TOOL_NAME,
  GEN_AI_OPERATION,
  INSTRUMENTATION_SCOPE,
} from './attributes.js';

/** Metric names, for dashboards and tests. */
export const METRIC_NAMES = {
  tokenUsage: 'gen_ai.client.token.usage',
  operationDuration: 'gen_ai.client.operation.duration',
  runs: 'baton.runs',
  runDuration: 'baton.run.duration',
  agentCallDuration: 'baton.agent.call.duration',
  toolCalls: 'baton.tool.calls',
  toolCallDuration: 'baton.tool.call.duration',
  breakerState: 'baton.agent.breaker.state',
  queueWaiting: 'baton.queue.waiting',
  queueActive: 'baton.queue.active',
  queueFailed: 'baton.queue.failed',
  queueOldestWait: 'baton.queue.oldest_wait_ms',
  evalScore: 'baton.eval.score',
} as const;

/** Bucket boundaries the GenAI semantic conventions recommend. */
const TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
const GEN_AI_DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
/** Runs last seconds to many minutes. */
const RUN_DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560];

interface Instruments {
  provider: MeterProvider;
  meter: Meter;
  /** False under the API's no-op provider (telemetry off): the hot paths then build no attributes. */
  recording: boolean;
  tokenUsage: Histogram;
  operationDuration: Histogram;
  runs: Counter;
  runDuration: Histogram;
  agentCallDuration: Histogram;
  toolCalls: Counter;
  toolCallDuration: Histogram;
  breakerState: ObservableGauge;
  queueWaiting: ObservableGauge;
  queueActive: ObservableGauge;
  queueFailed: ObservableGauge;
  queueOldestWait: ObservableGauge;
  evalScore: Histogram;
}

let cached: Instruments | undefined;

function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  if (cached && cached.provider === provider) return cached;
  const meter = provider.getMeter(INSTRUMENTATION_SCOPE);
  cached = {
    provider,
    meter,
    recording: meter !== createNoopMeter(),
    tokenUsage: meter.createHistogram(METRIC_NAMES.tokenUsage, {
      description: 'Number of input and output tokens used per model request.',
      unit: '{token}',
      advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
    }),
    operationDuration: meter.createHistogram(METRIC_NAMES.operationDuration, {
      description: 'Duration of one model request (one attempt).',
      unit: 's',
      advice: { explicitBucketBoundaries: GEN_AI_DURATION_BUCKETS },
    }),
    runs: meter.createCounter(METRIC_NAMES.runs, {
      description: 'Finished runs by pattern, team and final status.',
      unit: '{run}',
    }),
    runDuration: meter.createHistogram(METRIC_NAMES.runDuration, {
      description: 'Wall-clock duration of one run execution in a worker.',
      unit: 's',
      advice: { explicitBucketBoundaries: RUN_DURATION_BUCKETS },
    }),
    agentCallDuration: meter.createHistogram(METRIC_NAMES.agentCallDuration, {
      description: 'Duration of one agent call through the runtime, retries included, by outcome.',
      unit: 's',
      advice: { explicitBucketBoundaries: GEN_AI_DURATION_BUCKETS },
    }),
    toolCalls: meter.createCounter(METRIC_NAMES.toolCalls, {
      description: 'Tool calls by tool and outcome (error.type set on failures).',
      unit: '{call}',
    }),
    toolCallDuration: meter.createHistogram(METRIC_NAMES.toolCallDuration, {
      description: 'Duration of one tool call, retries included, by tool and outcome.',
      unit: 's',
      advice: { explicitBucketBoundaries: GEN_AI_DURATION_BUCKETS },
    }),
    breakerState: meter.createObservableGauge(METRIC_NAMES.breakerState, {
      description: 'Circuit-breaker state per agent in this process: 0 closed, 0.5 half-open, 1 open.',
      unit: '1',
    }),
    queueWaiting: meter.createObservableGauge(METRIC_NAMES.queueWaiting, {
      description: 'Jobs waiting in the queue (includes delayed and prioritized).',
      unit: '{job}',
    }),
    queueActive: meter.createObservableGauge(METRIC_NAMES.queueActive, {
      description: 'Jobs being processed by a worker.',
      unit: '{job}',
    }),
    queueFailed: meter.createObservableGauge(METRIC_NAMES.queueFailed, {
      description: 'Jobs in the failed set (retained for inspection).',
      unit: '{job}',
    }),
    evalScore: meter.createHistogram(METRIC_NAMES.evalScore, {
      description:
        'Online evaluation scores of finished runs, in [0, 1], by team, pattern, variant and scorer.',
      unit: '1',
      advice: { explicitBucketBoundaries: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1] },
    }),
    queueOldestWait: meter.createObservableGauge(METRIC_NAMES.queueOldestWait, {
      description: 'Age of the oldest waiting job (0 when none waits).',
      unit: 'ms',
    }),
  };
  return cached;
}

function seconds(durationMs: number): number {
  return Math.max(0, durationMs) / 1000;
}

function definedAttributes(attributes: Record<string, string | number | boolean | undefined>): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined) out[key] = value;
  return out;
}

export interface ModelCallRecord {
  /** `chat` by default. */
  operation?: string;
  /** `gen_ai.provider.name`: `azure.ai.openai`, `openai`, `baton.simulated`, … */
  provider: string;
  requestModel: string;
  responseModel?: string;
  durationMs: number;
  inputTokens?: number;
  outputTokens?: number;
  /** Set when the request failed: the error's stable code (see `errorType`). */
  errorType?: string;
}

/** One model request (one attempt): `gen_ai.client.operation.duration` and `gen_ai.client.token.usage`. */
export function recordModelCall(call: ModelCallRecord): void {
  const i = instruments();
  if (!i.recording) return;
  // Built field by field, not through definedAttributes: this runs on every model request.
  const base: Attributes = {
    [ATTR_GEN_AI_OPERATION_NAME]: call.operation ?? GEN_AI_OPERATION.chat,
    [ATTR_GEN_AI_PROVIDER_NAME]: call.provider,
    [ATTR_GEN_AI_REQUEST_MODEL]: call.requestModel,
  };
  if (call.responseModel !== undefined) base[ATTR_GEN_AI_RESPONSE_MODEL] = call.responseModel;
  i.operationDuration.record(
    seconds(call.durationMs),
    call.errorType === undefined ? base : { ...base, [ATTR_ERROR_TYPE]: call.errorType },
  );
  if (call.inputTokens !== undefined) {
    i.tokenUsage.record(call.inputTokens, { ...base, [ATTR_GEN_AI_TOKEN_TYPE]: 'input' });
  }
  if (call.outputTokens !== undefined) {
    i.tokenUsage.record(call.outputTokens, { ...base, [ATTR_GEN_AI_TOKEN_TYPE]: 'output' });
  }
}

/** How one agent call through the runtime ended. */
export type AgentCallOutcome =
  | 'success'
  | 'error'
  | 'timeout'
  | 'circuit_open'
  | 'budget_exceeded'
  | 'cancelled'
  | 'replayed';

export interface AgentCallRecord {
  agent: string;
  outcome: AgentCallOutcome;
  durationMs: number;
  pattern?: string;
  team?: string;
  errorType?: string;
}

/** One agent call (all attempts): `baton.agent.call.duration` by agent and outcome. */
export function recordAgentCall(call: AgentCallRecord): void {
  const i = instruments();
  if (!i.recording) return;
  i.agentCallDuration.record(
    seconds(call.durationMs),
    definedAttributes({
      [ATTR_GEN_AI_AGENT_NAME]: call.agent,
      [ATTR_BATON_AGENT_OUTCOME]: call.outcome,
      [ATTR_BATON_PATTERN]: call.pattern,
      [ATTR_BATON_TEAM]: call.team,
      [ATTR_ERROR_TYPE]: call.errorType,
    }),
  );
}

export interface ToolCallRecord {
  tool: string;
  ok: boolean;
  durationMs: number;
  errorType?: string;
}

/** One tool call (all attempts): `baton.tool.calls` +1 and `baton.tool.call.duration`, by tool and outcome. */
export function recordToolCall(call: ToolCallRecord): void {
  const i = instruments();
  if (!i.recording) return;
  const attributes = definedAttributes({
    [ATTR_GEN_AI_TOOL_NAME]: call.tool,
    [ATTR_BATON_AGENT_OUTCOME]: call.ok ? 'success' : 'error',
    [ATTR_ERROR_TYPE]: call.errorType,
  });
  i.toolCalls.add(1, attributes);
  i.toolCallDuration.record(seconds(call.durationMs), attributes);
}

export type RunStatus = 'succeeded' | 'failed' | 'cancelled';

export interface RunRecord {
  pattern: string;
  team?: string;
  variant?: string;
  status: RunStatus;
  durationMs: number;
  errorType?: string;
}

/** One finished run execution: `baton.runs` +1 and `baton.run.duration`. */
export function recordRun(run: RunRecord): void {
  const i = instruments();
  if (!i.recording) return;
  const attributes = definedAttributes({
    [ATTR_BATON_PATTERN]: run.pattern,
    [ATTR_BATON_TEAM]: run.team,
    [ATTR_BATON_VARIANT]: run.variant,
    [ATTR_BATON_RUN_STATUS]: run.status,
    [ATTR_ERROR_TYPE]: run.errorType,
  });
  i.runs.add(1, attributes);
  i.runDuration.record(seconds(run.durationMs), attributes);
}

export interface EvalScoreRecord {
  team: string;
  pattern: string;
  variant: string;
  scorer: string;
  score: number;
}

/** One online evaluation score: `baton.eval.score` (a quality drop alert watches its mean). */
export function recordEvalScore(e: EvalScoreRecord): void {
  instruments().evalScore.record(e.score, {
    [ATTR_BATON_TEAM]: e.team,
    [ATTR_BATON_PATTERN]: e.pattern,
    [ATTR_BATON_VARIANT]: e.variant,
    'baton.eval.scorer': e.scorer,
  });
}

export type BreakerState = 'closed' | 'half-open' | 'open';

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 0.5, open: 1 };

/** Gauge value of a breaker state. */
export function breakerStateValue(state: BreakerState): number {
  return BREAKER_VALUE[state];
}

/**
 * Reports `baton.agent.breaker.state` from `list()` at every collection. Returns a function that
 * stops reporting (call it when the runtime is disposed).
 */
export function observeBreakers(
  list: () => Iterable<{ agent: string; provider?: string; model?: string; state: BreakerState }>,
): () => void {
  const gauge = instruments().breakerState;
  const callback = (result: ObservableResult) => {
    for (const { agent, provider, model, state } of list()) {
      result.observe(BREAKER_VALUE[state], {
        [ATTR_GEN_AI_AGENT_NAME]: agent,
        ...(provider !== undefined ? { [ATTR_GEN_AI_PROVIDER_NAME]: provider } : {}),
        ...(model ? { [ATTR_GEN_AI_REQUEST_MODEL]: model } : {}),
      });
    }
  };
  gauge.addCallback(callback);
  return () => gauge.removeCallback(callback);
}

export interface QueueSnapshot {
  waiting: number;
  active: number;
  failed: number;
  /** Age in ms of the oldest waiting job; 0 when none waits. */
  oldestWaitMs: number;
}

/**
 * Reports the four queue gauges from one `snapshot()` per collection (one Redis round trip). A
 * snapshot that throws is skipped for that collection. Returns a function that stops reporting.
 */
export function observeQueue(
  snapshot: () => QueueSnapshot | Promise<QueueSnapshot>,
  queue = 'runs',
): () => void {
  const i = instruments();
  const gauges = [i.queueWaiting, i.queueActive, i.queueFailed, i.queueOldestWait];
  const attributes = { [ATTR_BATON_QUEUE]: queue };
  const callback = async (result: BatchObservableResult) => {
    let s: QueueSnapshot;
    try {
      s = await snapshot();
    } catch {
      return; // Redis unavailable this time: report nothing rather than zeros.
    }
    result.observe(i.queueWaiting, s.waiting, attributes);
    result.observe(i.queueActive, s.active, attributes);
    result.observe(i.queueFailed, s.failed, attributes);
    result.observe(i.queueOldestWait, s.oldestWaitMs, attributes);
  };
  i.meter.addBatchObservableCallback(callback, gauges);
  return () => i.meter.removeBatchObservableCallback(callback, gauges);
}
