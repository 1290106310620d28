import type { Redis } from 'ioredis';
import type { AgentResult } from '../core/agent.js';
import type { ErrorInfo, StepRecord } from '../core/run.js';
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

export type JournalEntry =
  | (AgentEntryBase & { ok: true; result: AgentResult })
  | (AgentEntryBase & { ok: false; agent: string; error: ErrorInfo; attempts: number; durationMs: number })
  | { kind: 'step'; value: unknown; completedAt: string };

/** The run record's `steps`: one per journaled agent call, in completion order. */
export function stepsFromJournal(entries: readonly [string, JournalEntry][]): StepRecord[] {
  const steps: (StepRecord & { completedAt: string; order: number | undefined })[] = [];
  for (const [key, e] of entries) {
    if (e.kind !== 'agent') continue;
    const common = {
      key,
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
}

/** Loads the journal once, then serves reads from memory and writes through to Redis. */
export async function openRedisJournal(redis: Redis, prefix: string, runId: string): Promise<RunJournal> {
  const key = runKeys(prefix, runId).journal;
  const raw = await redis.hgetall(key);
  const entries = new Map<string, JournalEntry>(
    Object.entries(raw).map(([k, v]) => [k, JSON.parse(v) as JournalEntry]),
  );
  return {
    get: (k) => entries.get(k),
    async put(k, entry) {
      await redis.hset(key, k, JSON.stringify(entry));
      entries.set(k, entry);
    },
    entries: () => [...entries.entries()],
  };
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
