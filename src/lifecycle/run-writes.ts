import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RunCancelledError } from '../core/errors.js';
import { terminalEventTypes } from '../core/events.js';
import type { RunOutcome, RunUsage } from '../core/run.js';
import type { RedisEventLog } from '../runs/events.js';
import { type JournalEntry, readJournal } from '../runs/journal.js';
import { indexKeys, runKeys } from '../runs/keys.js';
import type { RunRecord } from '../runs/schema.js';
import { encodeRecordFields } from '../runs/store.js';

/**
 * Every Redis write that moves a run through its lifecycle — creation with its idempotency key, start, the cancel
 * request, the finish with its terminal event, the reset for a retry — in one module, used only by the
 * `RunLifecycle`. (The run store reads; feedback and the journal write their own keys.)
 */

const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** Moves the record from ARGV[1] to ARGV[2] only if it is in ARGV[1] (one retry wins a race). */
const CLAIM_STATUS = `if redis.call('HGET', KEYS[1], 'status') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'status', ARGV[2])
  return 1
end
return 0`;

/** Deletes KEYS[1] only while it still names run ARGV[1] (`<runId> <request hash>`). */
const RELEASE_IF_OURS = `local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ' ' then
  return redis.call('DEL', KEYS[1])
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

export interface Idempotency {
  key: string;
  requestHash: string;
}

export type Inserted = { created: true } | { created: false; existingId: string } | { conflict: string };

/** What `resetForRetry` changed. */
export interface RetryReset {
  /** Journal keys removed: failed agent calls, and pattern steps recorded at or after the first failure. */
  removedSteps: string[];
  /** Successful agent calls kept: the retry replays them instead of calling the model again. */
  keptSteps: string[];
}

export class RunWrites {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly retentionSeconds: number,
    private readonly events: RedisEventLog,
  ) {}

  private idempotencyKey(owner: string, key: string): string {
    return indexKeys(this.prefix).idempotency(owner, createHash('sha256').update(key).digest('hex'));
  }

  /**
   * Stores a new `queued` run, unless `idempotency.key` was used before by the same owner: then the earlier run's
   * id comes back (`created: false`), or a conflict when that key came with a different request.
   */
  async insert(
    record: RunRecord,
    owner: string,
    trace: Record<string, string>,
    idempotency: Idempotency | undefined,
  ): Promise<Inserted> {
    const idx = indexKeys(this.prefix);
    if (idempotency) {
      const idemKey = this.idempotencyKey(owner, idempotency.key);
      const claimed = await this.redis.set(
        idemKey,
        `${record.id} ${idempotency.requestHash}`,
        'EX',
        IDEMPOTENCY_TTL_SECONDS,
        'NX',
      );
      if (claimed === null) {
        const [existingId = '', existingHash] = ((await this.redis.get(idemKey)) ?? '').split(' ');
        return existingHash === idempotency.requestHash
          ? { created: false, existingId }
          : { conflict: existingId };
      }
    }
    const created = Date.parse(record.createdAt);
    await this.redis
      .multi()
      .hset(runKeys(this.prefix, record.id).record, {
        ...encodeRecordFields(record),
        owner,
        trace: JSON.stringify(trace),
      })
      .zadd(idx.all, created, record.id)
      .zadd(idx.byOwner(owner), created, record.id)
      .exec();
    return { created: true };
  }

  /**
   * Removes a run that could not be enqueued (so a 503 leaves nothing behind), and releases its idempotency key
   * unless the key already names another run, so the client can retry with the same key.
   */
  async discard(id: string, owner: string, idempotencyKey?: string): Promise<void> {
    const idx = indexKeys(this.prefix);
    const keys = runKeys(this.prefix, id);
    await this.redis
      .multi()
      .del(keys.record, keys.journal, keys.events, keys.feedback)
      .zrem(idx.all, id)
      .zrem(idx.byOwner(owner), id)
      .exec();
    if (idempotencyKey !== undefined) {
      await this.redis.eval(RELEASE_IF_OURS, 1, this.idempotencyKey(owner, idempotencyKey), id);
    }
  }

  /** Counts a worker attempt at the run and returns it (durable across crashes). */
  async nextAttempt(id: string): Promise<number> {
    return this.redis.hincrby(runKeys(this.prefix, id).record, 'attempt', 1);
  }

  async markRunning(id: string, startedAt: string, attempt: number): Promise<void> {
    await this.setFields(id, { status: 'running', startedAt, attempt });
  }

  /** Fields that are not the run's status: the queue-paused note, the trace of a retry. */
  async setFields(id: string, fields: Partial<Omit<RunRecord, 'id' | 'steps'>>): Promise<void> {
    const encoded = encodeRecordFields(fields);
    if (Object.keys(encoded).length > 0) await this.redis.hset(runKeys(this.prefix, id).record, encoded);
  }

  /** Marks the run cancel-requested and tells every worker (the one running it aborts it). */
  async requestCancel(id: string): Promise<void> {
    await this.setFields(id, { cancelRequested: true });
    await this.redis.publish(indexKeys(this.prefix).cancelChannel, id);
  }

  /**
   * Writes a finished run's outcome, then its terminal event (so a client that sees the event reads the final
   * record), then starts the retention clock on all its keys.
   */
  async finish(id: string, outcome: RunOutcome, startedAt?: string): Promise<void> {
    const finishedAt = new Date().toISOString();
    await this.setFields(id, {
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
      await this.events.append(id, {
        type: 'run.completed',
        partial: outcome.partial ?? false,
        output: outcome.output ?? { text: '' },
        usage: outcome.usage,
      });
    } else if (outcome.status === 'cancelled') {
      await this.events.append(id, { type: 'run.cancelled' });
    } else {
      await this.events.append(id, {
        type: 'run.failed',
        error: outcome.error ?? { code: 'INTERNAL', message: 'failed' },
      });
    }
    await this.expire(id);
  }

  /** Finishes a run that never reached (or no longer has) a worker as cancelled, keeping what it had spent. */
  async finishCancelled(record: RunRecord, startedAt?: string): Promise<void> {
    await this.finish(
      record.id,
      {
        status: 'cancelled',
        error: new RunCancelledError().toJSON(),
        usage: record.usage,
        steps: record.steps,
        definitionVersion: record.definitionVersion,
      },
      startedAt,
    );
  }

  /**
   * Puts a failed run back to `queued` for a new attempt that reuses its journal. Successful agent calls stay
   * journaled (the retry replays them); journaled agent *failures* are deleted so those calls are tried again,
   * and so are pattern steps (`ctx.step`: plans, routing decisions, emitted pattern events) recorded at or
   * after the first failure, because they were decided knowing about it. The outcome fields of the failed
   * attempt are cleared, usage is recomputed from the kept steps, the terminal event is removed from the event
   * stream (a client following the events sees the new attempt to its own end) and the retention clock stops.
   * Returns undefined when the run is not failed (or another retry claimed it first).
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
    const { removed, kept, usage } = splitForRetry(entries);
    const tx = this.redis.multi();
    if (removed.length > 0) tx.hdel(keys.journal, ...removed);
    tx.hdel(keys.record, ...OUTCOME_FIELDS)
      .hset(keys.record, encodeRecordFields({ usage }))
      .persist(keys.record)
      .persist(keys.journal)
      .persist(keys.events);
    await tx.exec();
    await this.removeTerminalEvents(id);
    return { removedSteps: removed, keptSteps: kept };
  }

  /** Undoes `resetForRetry`'s status change when the retried run could not be enqueued. */
  async restoreFailed(record: RunRecord): Promise<void> {
    await this.setFields(record.id, {
      status: 'failed',
      ...(record.error ? { error: record.error } : {}),
      ...(record.finishedAt ? { finishedAt: record.finishedAt } : {}),
    });
  }

  private async removeTerminalEvents(id: string): Promise<void> {
    const key = runKeys(this.prefix, id).events;
    const tail = await this.redis.xrevrange(key, '+', '-', 'COUNT', 50);
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
    if (terminal.length > 0) await this.redis.xdel(key, ...terminal);
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

/** Which journal entries a retry keeps (successful agent calls before the first failure) and their usage. */
function splitForRetry(entries: [string, JournalEntry][]): {
  removed: string[];
  kept: string[];
  usage: RunUsage;
} {
  const isFailure = (e: JournalEntry) => e.kind === 'agent' && !e.ok;
  const firstFailureAt = entries
    .filter(([, e]) => isFailure(e))
    .map(([, e]) => e.completedAt)
    .sort()[0];
  const removed = new Set(
    entries
      .filter(
        ([, e]) =>
          isFailure(e) ||
          (e.kind === 'step' && firstFailureAt !== undefined && e.completedAt >= firstFailureAt),
      )
      .map(([k]) => k),
  );
  const usage: RunUsage = { inputTokens: 0, outputTokens: 0, modelCalls: 0 };
  const kept: string[] = [];
  for (const [key, e] of entries) {
    if (removed.has(key) || e.kind !== 'agent') continue;
    kept.push(key);
    usage.inputTokens += e.usage.inputTokens;
    usage.outputTokens += e.usage.outputTokens;
    usage.modelCalls += e.modelCalls;
    if (e.costUsd !== undefined) usage.costUsd = (usage.costUsd ?? 0) + e.costUsd;
  }
  return { removed: [...removed], kept, usage };
}
