import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RunCancelledError } from '../core/errors.js';
import type { RedisEventLog } from './events.js';
import { type JournalEntry, readJournal, stepsFromJournal } from './journal.js';
import { indexKeys, runKeys } from './keys.js';
import type { FeedbackEntry } from './schema.js';
import { type RunRecord, type RunStatus, runRecordSchema, terminalStatuses } from './schema.js';
import type { RunOutcome } from '../core/run.js';
import { terminalEventTypes } from '../core/events.js';

/** Stored beside the record, never served: which API key (by hash) created the run. */
export interface StoredRun {
  record: RunRecord;
  owner: string;
  /** W3C trace context of the request that created the run: later signals (feedback) join its trace. */
  trace: Record<string, string>;
}

const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** Moves the record from ARGV[1] to ARGV[2] only if it is in ARGV[1] (one retry wins a race). */
const CLAIM_STATUS = `if redis.call('HGET', KEYS[1], 'status') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'status', ARGV[2])
  return 1
end
return 0`;

/** Record fields of a finished attempt that a retry clears. */
const OUTCOME_FIELDS = [
  'output',
  'partial',
  'failedAgents',
  'details',
  'error',
  'finishedAt',
  'durationMs',
  'startedAt',
  'cancelRequested',
  'queuePaused',
] as const;

/** What `resetForRetry` changed. */
export interface RetryReset {
  /** Journal keys removed: failed agent calls, and pattern steps recorded at or after the first failure. */
  removedSteps: string[];
  /** Successful agent calls kept: the retry replays them instead of calling the model again. */
  keptSteps: string[];
}

export interface ListQuery {
  status?: RunStatus;
  owner?: string;
  limit: number;
  cursor?: string;
}

function encodeCursor(score: number, id: string): string {
  return Buffer.from(`${score}:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): { score: number; id: string } | undefined {
  const [score, id] = Buffer.from(cursor, 'base64url').toString().split(':');
  const n = Number(score);
  return Number.isFinite(n) && id ? { score: n, id } : undefined;
}

/**
 * The run record in Redis: a hash with one JSON-encoded field per top-level record field (so the API and the
 * worker update disjoint fields without read-modify-write), an index by creation time (all runs and per owner)
 * and idempotency keys. `steps` are never stored twice: they are read from the journal.
 */
export class RunStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly retentionSeconds: number,
  ) {}

  /**
   * Creates the run unless `idempotencyKey` was used before by the same owner, in which case the earlier run is
   * returned (`created: false`). The same key with a different request is a conflict.
   */
  async create(
    record: RunRecord,
    owner: string,
    idempotency?: { key: string; requestHash: string },
    trace: Record<string, string> = {},
  ): Promise<{ run: StoredRun; created: boolean } | { conflict: string }> {
    const idx = indexKeys(this.prefix);
    if (idempotency) {
      const idemKey = idx.idempotency(owner, createHash('sha256').update(idempotency.key).digest('hex'));
      const claimed = await this.redis.set(
        idemKey,
        `${record.id} ${idempotency.requestHash}`,
        'EX',
        IDEMPOTENCY_TTL_SECONDS,
        'NX',
      );
      if (claimed === null) {
        const [existingId, existingHash] = ((await this.redis.get(idemKey)) ?? '').split(' ');
        if (existingHash !== idempotency.requestHash) return { conflict: existingId ?? '' };
        const existing = existingId ? await this.get(existingId) : undefined;
        if (existing) return { run: existing, created: false };
        return { conflict: existingId ?? '' };
      }
    }
    const created = Date.parse(record.createdAt);
    await this.redis
      .multi()
      .hset(runKeys(this.prefix, record.id).record, {
        ...encode(record),
        owner,
        trace: JSON.stringify(trace),
      })
      .zadd(idx.all, created, record.id)
      .zadd(idx.byOwner(owner), created, record.id)
      .exec();
    return { run: { record, owner, trace }, created: true };
  }

  /** Removes a run that could not be enqueued (so a 503 leaves nothing behind). */
  async discard(id: string, owner: string): Promise<void> {
    const idx = indexKeys(this.prefix);
    const keys = runKeys(this.prefix, id);
    await this.redis
      .multi()
      .del(keys.record, keys.journal, keys.events, keys.feedback)
      .zrem(idx.all, id)
      .zrem(idx.byOwner(owner), id)
      .exec();
  }

  async get(id: string): Promise<StoredRun | undefined> {
    const raw = await this.redis.hgetall(runKeys(this.prefix, id).record);
    if (!raw.owner) return undefined;
    const { owner, trace, ...fields } = raw;
    const keys = runKeys(this.prefix, id);
    const [journal, feedback] = await Promise.all([
      readJournal(this.redis, this.prefix, id),
      this.redis.lrange(keys.feedback, 0, -1),
    ]);
    if (feedback.length > 0) fields.feedback = `[${feedback.join(',')}]`;
    return {
      record: decode({ ...fields }, stepsFromJournal(journal)),
      owner,
      trace: trace ? (JSON.parse(trace) as Record<string, string>) : {},
    };
  }

  /** Appends a quality signal to the run; it is kept as long as the run. */
  async addFeedback(id: string, entry: FeedbackEntry): Promise<void> {
    const key = runKeys(this.prefix, id).feedback;
    await this.redis.multi().rpush(key, JSON.stringify(entry)).expire(key, this.retentionSeconds).exec();
  }

  async update(id: string, patch: Partial<Omit<RunRecord, 'id' | 'steps'>>): Promise<void> {
    const fields = encode(patch);
    if (Object.keys(fields).length > 0) await this.redis.hset(runKeys(this.prefix, id).record, fields);
  }

  /** Counts a worker attempt at the run and returns it (durable across crashes). */
  async nextAttempt(id: string): Promise<number> {
    return this.redis.hincrby(runKeys(this.prefix, id).record, 'attempt', 1);
  }

  async list(query: ListQuery): Promise<{ items: RunRecord[]; nextCursor?: string }> {
    const idx = indexKeys(this.prefix);
    const key = query.owner ? idx.byOwner(query.owner) : idx.all;
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const items: RunRecord[] = [];
    let max = after ? String(after.score) : '+inf';
    let skipUntil = after?.id;
    const batch = Math.max(50, query.limit * 2);
    for (;;) {
      const page = await this.redis.zrevrangebyscore(key, max, '-inf', 'WITHSCORES', 'LIMIT', 0, batch);
      if (page.length === 0) return { items };
      const ids: { id: string; score: number }[] = [];
      for (let i = 0; i < page.length; i += 2) ids.push({ id: page[i] ?? '', score: Number(page[i + 1]) });
      let candidates = ids;
      if (skipUntil) {
        const at = ids.findIndex((x) => x.id === skipUntil);
        candidates = at >= 0 ? ids.slice(at + 1) : ids.filter((x) => x.score < (after?.score ?? Infinity));
        skipUntil = undefined;
      }
      for (const { id, score } of candidates) {
        const run = await this.get(id);
        if (!run) {
          await this.redis.zrem(key, id); // expired by retention
          continue;
        }
        if (query.status && run.record.status !== query.status) continue;
        items.push(run.record);
        if (items.length === query.limit) return { items, nextCursor: encodeCursor(score, id) };
      }
      const last = ids[ids.length - 1];
      if (!last || ids.length < batch) return { items };
      max = String(last.score);
      skipUntil = last.id;
    }
  }

  /** Marks the run cancel-requested and tells every worker (the one running it aborts it). */
  async requestCancel(id: string): Promise<void> {
    await this.update(id, { cancelRequested: true });
    await this.redis.publish(indexKeys(this.prefix).cancelChannel, id);
  }

  /**
   * Writes a finished run's outcome, then its terminal event (so a client that sees the event reads the final
   * record), then starts the retention clock on all its keys.
   */
  async finish(id: string, outcome: RunOutcome, events: RedisEventLog, startedAt?: string): Promise<void> {
    const finishedAt = new Date().toISOString();
    await this.update(id, {
      status: outcome.status,
      usage: outcome.usage,
      finishedAt,
      ...(startedAt ? { durationMs: Date.parse(finishedAt) - Date.parse(startedAt) } : {}),
      ...(outcome.output ? { output: outcome.output } : {}),
      ...(outcome.partial ? { partial: true } : {}),
      ...(outcome.failedAgents ? { failedAgents: outcome.failedAgents } : {}),
      ...(outcome.details ? { details: outcome.details } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
    });
    if (outcome.status === 'succeeded') {
      await events.append(id, {
        type: 'run.completed',
        partial: outcome.partial ?? false,
        output: outcome.output ?? { text: '' },
        usage: outcome.usage,
      });
    } else if (outcome.status === 'cancelled') {
      await events.append(id, { type: 'run.cancelled' });
    } else {
      await events.append(id, {
        type: 'run.failed',
        error: outcome.error ?? { code: 'INTERNAL', message: 'failed' },
      });
    }
    await this.expire(id);
  }

  /**
   * Puts a failed run back to `queued` for a new attempt that reuses its journal. Successful agent calls stay
   * journaled (the retry replays them); journaled agent *failures* are deleted so those calls are tried again,
   * and so are pattern steps (`ctx.step`: plans, routing decisions, emitted pattern events) recorded at or
   * after the first failure, because they were decided knowing about it. The outcome fields of the failed
   * attempt are cleared, usage is recomputed from the kept steps, the terminal event is removed from the event
   * stream (a client following the events sees the new attempt to its own end) and the retention clock stops.
   * Returns undefined when the run is not failed (or another retry claimed it first). The caller re-enqueues.
   */
  async resetForRetry(id: string): Promise<RetryReset | undefined> {
    const keys = runKeys(this.prefix, id);
    const claimed = await this.redis.eval(
      CLAIM_STATUS,
      1,
      keys.record,
      JSON.stringify('failed'),
      JSON.stringify('queued'),
    );
    if (claimed !== 1) return undefined;
    const entries = await readJournal(this.redis, this.prefix, id);
    const isFailure = (e: JournalEntry) => e.kind === 'agent' && !e.ok;
    const firstFailureAt = entries
      .filter(([, e]) => isFailure(e))
      .map(([, e]) => e.completedAt)
      .sort()[0];
    const removed = entries.filter(
      ([, e]) =>
        isFailure(e) ||
        (e.kind === 'step' && firstFailureAt !== undefined && e.completedAt >= firstFailureAt),
    );
    const removedKeys = new Set(removed.map(([k]) => k));
    const kept = entries.filter(([k]) => !removedKeys.has(k));
    const usage = { inputTokens: 0, outputTokens: 0, modelCalls: 0 } as RunRecord['usage'];
    for (const [, e] of kept) {
      if (e.kind !== 'agent') continue;
      usage.inputTokens += e.usage.inputTokens;
      usage.outputTokens += e.usage.outputTokens;
      usage.modelCalls += e.modelCalls;
      if (e.costUsd !== undefined) usage.costUsd = (usage.costUsd ?? 0) + e.costUsd;
    }
    const tx = this.redis.multi();
    if (removedKeys.size > 0) tx.hdel(keys.journal, ...removedKeys);
    tx.hdel(keys.record, ...OUTCOME_FIELDS)
      .hset(keys.record, encode({ usage }))
      .persist(keys.record)
      .persist(keys.journal)
      .persist(keys.events);
    await tx.exec();
    const tail = await this.redis.xrevrange(keys.events, '+', '-', 'COUNT', 50);
    const terminal = tail
      .filter(([, fields]) => {
        try {
          const type = (JSON.parse(fields[1] ?? '{}') as { type?: string }).type;
          return terminalEventTypes.some((t) => t === type);
        } catch {
          return false;
        }
      })
      .map(([eventId]) => eventId);
    if (terminal.length > 0) await this.redis.xdel(keys.events, ...terminal);
    return {
      removedSteps: [...removedKeys],
      keptSteps: kept.filter(([, e]) => e.kind === 'agent').map(([k]) => k),
    };
  }

  /** Finishes a run that never reached (or no longer has) a worker as cancelled, keeping what it had spent. */
  async finishCancelled(record: RunRecord, events: RedisEventLog, startedAt?: string): Promise<void> {
    await this.finish(
      record.id,
      {
        status: 'cancelled',
        error: new RunCancelledError().toJSON(),
        usage: record.usage,
        steps: record.steps,
        definitionVersion: record.definitionVersion,
      },
      events,
      startedAt,
    );
  }

  isTerminal(status: RunStatus): boolean {
    return terminalStatuses.includes(status);
  }

  private async expire(id: string): Promise<void> {
    const keys = runKeys(this.prefix, id);
    await this.redis
      .multi()
      .expire(keys.record, this.retentionSeconds)
      .expire(keys.journal, this.retentionSeconds)
      .expire(keys.events, this.retentionSeconds)
      .exec();
  }
}

function encode(fields: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined && k !== 'steps') out[k] = JSON.stringify(v);
  }
  return out;
}

function decode(fields: Record<string, string>, steps: RunRecord['steps']): RunRecord {
  const obj: Record<string, unknown> = { steps };
  for (const [k, v] of Object.entries(fields)) obj[k] = JSON.parse(v);
  return runRecordSchema.parse(obj);
}
