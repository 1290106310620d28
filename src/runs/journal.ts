import type { Redis } from 'ioredis';
import type { AgentResult } from '../core/agent.js';
import { AttemptSupersededError } from '../core/errors.js';
import type { ErrorInfo, RunUsage, StepRecord } from '../core/run.js';
import { runKeys } from './keys.js';

/**
 * The journal of one run: the result of every completed step under its deterministic key. A run that starts
 * again (another worker after a crash, a retried job, a replayed eval) reads it first and replays recorded
 * steps instead of calling models again. Agent failures are journaled too, so a replay degrades the same way.
 */
interface AgentEntryBase {
  kind: 'agent';
  /** Tokens and model calls of every attempt of the step (what a replay adds to the run's budget). */
  usage: { inputTokens: number; outputTokens: number };
  modelCalls: number;
  costUsd?: number;
  startedAt: string;
  completedAt: string;
  /**
   * When the step completed, in fractional milliseconds since the epoch: steps that finish within one millisecond
   * keep their order (entries written before this field sort by `completedAt`, then key).
   */
  order?: number;
}

/**
 * One tool call. `started` is written before the call is sent: an attempt that finds it knows the call may have
 * taken effect (re-sent only when the tool is idempotent). The result is what the model was shown; arguments are
 * in the model turn's entry; headers (and the secrets in them) are never journaled.
 */
export interface ToolEntry {
  kind: 'tool';
  status: 'started' | 'succeeded' | 'failed';
  agent: string;
  tool: string;
  callId: string;
  idempotent: boolean;
  startedAt: string;
  attempts: number;
  completedAt?: string;
  durationMs?: number;
  content?: string;
  error?: ErrorInfo;
  order?: number;
}

export type JournalEntry =
  | (AgentEntryBase & { ok: true; result: AgentResult })
  | (AgentEntryBase & { ok: false; agent: string; error: ErrorInfo; attempts: number; durationMs: number })
  | { kind: 'step'; value: unknown; completedAt: string }
  | ToolEntry;

const noUsage = { inputTokens: 0, outputTokens: 0 };

/** A finished tool call as a step of the run record. */
function toolStep(key: string, e: ToolEntry) {
  return {
    key,
    kind: 'tool' as const,
    agent: e.agent,
    tool: e.tool,
    status: e.status === 'succeeded' ? ('succeeded' as const) : ('failed' as const),
    attempts: e.attempts,
    startedAt: e.startedAt,
    completedAt: e.completedAt ?? e.startedAt,
    order: e.order,
    durationMs: e.durationMs ?? 0,
    usage: noUsage,
    ...(e.error ? { error: e.error } : {}),
  };
}

/** The run record's `steps`: one per journaled agent call (model turn) and tool call, in completion order. */
export function stepsFromJournal(entries: readonly [string, JournalEntry][]): StepRecord[] {
  const steps: (StepRecord & { completedAt: string; order: number | undefined })[] = [];
  for (const [key, e] of entries) {
    if (e.kind === 'tool' && e.status !== 'started') steps.push(toolStep(key, e));
    if (e.kind !== 'agent') continue;
    const common = {
      key,
      kind: 'agent' as const,
      startedAt: e.startedAt,
      completedAt: e.completedAt,
      order: e.order,
      usage: e.usage,
      ...(e.costUsd !== undefined ? { costUsd: e.costUsd } : {}),
    };
    steps.push(
      e.ok
        ? {
            ...common,
            agent: e.result.agent,
            status: 'succeeded',
            attempts: e.result.attempts,
            durationMs: e.result.durationMs,
            model: e.result.model,
          }
        : {
            ...common,
            agent: e.agent,
            status: 'failed',
            attempts: e.attempts,
            durationMs: e.durationMs,
            error: e.error,
          },
    );
  }
  // ISO timestamps of one format sort as strings; plain comparison is much cheaper than localeCompare.
  steps.sort((a, b) => {
    if (a.order !== undefined && b.order !== undefined && a.order !== b.order) return a.order - b.order;
    if (a.completedAt !== b.completedAt) return a.completedAt < b.completedAt ? -1 : 1;
    return a.key < b.key ? -1 : 1;
  });
  return steps.map(({ completedAt: _, order: __, ...step }) => step);
}

export interface RunJournal {
  get(key: string): JournalEntry | undefined;
  put(key: string, entry: JournalEntry): Promise<void>;
  entries(): [string, JournalEntry][];
  /**
   * Throws `AttemptSupersededError` when a newer attempt owns the run (journals opened with an attempt number
   * only): checked before each model call, so an attempt that lost its job does not call models for steps the
   * newer one is journaling.
   */
  assertCurrent?(): Promise<void>;
}

/** Writes a journal entry only while ARGV[1] is still the run's current attempt (its fencing token). */
const PUT_IF_CURRENT = `if redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1`;

/**
 * Loads the journal once, then serves reads from memory and writes through to Redis. With `attempt` (the attempt
 * number the run lifecycle gave this execution), a write is refused once a newer attempt has started — an
 * execution that lost its job's lock while another took over — and `put` throws `AttemptSupersededError`.
 */
export async function openRedisJournal(
  redis: Redis,
  prefix: string,
  runId: string,
  attempt?: number,
): Promise<RunJournal> {
  const keys = runKeys(prefix, runId);
  const raw = await redis.hgetall(keys.journal);
  const entries = new Map<string, JournalEntry>(
    Object.entries(raw).map(([k, v]) => [k, JSON.parse(v) as JournalEntry]),
  );
  const current = async () =>
    attempt === undefined || (await redis.hget(keys.record, 'attempt')) === String(attempt);
  return {
    get: (k) => entries.get(k),
    async assertCurrent() {
      if (!(await current())) throw new AttemptSupersededError();
    },
    async put(k, entry) {
      const value = JSON.stringify(entry);
      if (attempt === undefined) await redis.hset(keys.journal, k, value);
      else if (
        (await redis.eval(PUT_IF_CURRENT, 2, keys.record, keys.journal, String(attempt), k, value)) !== 1
      ) {
        throw new AttemptSupersededError();
      }
      entries.set(k, entry);
    },
    entries: () => [...entries.entries()],
  };
}

/** What the journaled agent calls spent (failures included): the usage of a run that ends without an outcome. */
export function usageOf(entries: readonly [string, JournalEntry][]): RunUsage {
  const usage: RunUsage = { inputTokens: 0, outputTokens: 0, modelCalls: 0 };
  for (const [, e] of entries) {
    if (e.kind !== 'agent') continue;
    usage.inputTokens += e.usage.inputTokens;
    usage.outputTokens += e.usage.outputTokens;
    usage.modelCalls += e.modelCalls;
    if (e.costUsd !== undefined) usage.costUsd = (usage.costUsd ?? 0) + e.costUsd;
  }
  return usage;
}

/** An in-process journal (unit tests, benchmarks, evals); `seed` pre-loads recorded steps. */
export function memoryJournal(seed: Iterable<[string, JournalEntry]> = []): RunJournal {
  const entries = new Map(seed);
  return {
    get: (k) => entries.get(k),
    put: async (k, entry) => {
      entries.set(k, entry);
    },
    entries: () => [...entries.entries()],
  };
}

export async function readJournal(
  redis: Redis,
  prefix: string,
  runId: string,
): Promise<[string, JournalEntry][]> {
  const raw = await redis.hgetall(runKeys(prefix, runId).journal);
  return Object.entries(raw).map(([k, v]) => [k, JSON.parse(v) as JournalEntry]);
}
