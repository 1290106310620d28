import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { TenantLimitName, TenantLimits } from '../config/tenant-limits.js';
import { RunCancelledError } from '../core/errors.js';
import { type RunEventInput, terminalEventTypes } from '../core/events.js';
import type { HumanAnswer, PendingInput, RunOutcome, RunUsage } from '../core/run.js';
import { countRunFinished, type FinishedStatus } from '../queue/stats.js';
import { encodeStoredEvent, MAX_EVENTS_PER_RUN, type RedisEventLog } from '../runs/events.js';
import { type JournalEntry, readJournal, usageOf } from '../runs/journal.js';
import { indexKeys, runKeys, tenantKeys, utcDay } from '../runs/keys.js';
import { waitForReplicas } from '../runs/redis-connection.js';
import { fieldsOf, redisScript } from '../runs/redis-script.js';
import type { RunRecord, Webhook } from '../runs/schema.js';
import { encodeRecordFields, PENDING_FIELD_PREFIX, RECORD_FOLLOWS_INDEX_MS } from '../runs/store.js';
import {
  ADMIT_RUN,
  CLAIM_STATUS,
  CLOSE_INPUT,
  FINISH_RUN,
  RELEASE_IF_OURS,
  START_ATTEMPT,
  WAIT_FOR_INPUT,
} from './scripts.js';

const claimStatusScript = redisScript(CLAIM_STATUS);
const closeInputScript = redisScript(CLOSE_INPUT);
const finishRunScript = redisScript(FINISH_RUN);
const admitRunScript = redisScript(ADMIT_RUN);
const startAttemptScript = redisScript(START_ATTEMPT);
const releaseIfOursScript = redisScript(RELEASE_IF_OURS);
const waitForInputScript = redisScript(WAIT_FOR_INPUT);

/**
 * Every Redis write that moves a run through its lifecycle — creation with its idempotency key and its tenant's
 * limits, start, the cancel request, the finish with its terminal event, the reset for a retry — in one module,
 * used only by the `RunLifecycle`. (The run store reads; feedback and the journal write their own keys.) The
 * checked writes are Lua scripts (./scripts.ts).
 */

/** An idempotency key is kept a day, and never longer than its run (so a key always names a stored run). */
const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
/** A tenant's tokens-per-day counter outlives its day a little (the per-tenant view reads today's). */
const TOKENS_COUNTER_TTL_SECONDS = 2 * 24 * 3600;
const TERMINAL_STORED = new Set(['"succeeded"', '"failed"', '"cancelled"']);

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

export type Inserted =
  | { created: true }
  | { created: false; existingId: string }
  | { conflict: string }
  | { limited: TenantLimitName; retryAfterMs: number };

/** How a finishing write went: written, refused because the run had finished or a newer attempt owns it, or gone. */
export type Finished = 'finished' | 'finished-already' | 'superseded' | 'gone';

/**
 * How an attempt's start went (`startAttempt`): with the attempt number and the record's stored fields, and for a
 * run that starts, its journal's stored fields (read in the same step, after the attempt was counted).
 */
export type AttemptStart =
  | { verdict: 'gone' }
  | { verdict: 'finished' | 'cancel'; attempt: number; fields: Record<string, string> }
  | { verdict: 'running'; attempt: number; fields: Record<string, string>; journal: Record<string, string> };

/** How recording a wait for human input went (see WAIT_FOR_INPUT). */
export type Waited = 'waiting' | 'answered' | 'finished' | 'superseded' | 'gone';

/** How recording a wait went, and which of the requests became pending just now. */
export interface WaitRecorded {
  waited: Waited;
  added: string[];
}

/** How closing a human-input request went (see CLOSE_INPUT). */
export type Closed = 'ok' | 'closed' | 'finished' | 'gone';

/** What `resetForRetry` changed. */
export interface RetryReset {
  /** Journal keys removed: failed agent calls, and pattern steps recorded at or after the first failure. */
  removedSteps: string[];
  /** Successful agent calls kept: the retry replays them instead of calling the model again. */
  keptSteps: string[];
}

const flat = (fields: Record<string, string>) => Object.entries(fields).flat();
const arg = (n: number | undefined) => (n === undefined ? '' : String(n));

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
   * id comes back (`created: false`), or a conflict when that key came with a different request. A run over one
   * of its tenant's `limits` is not stored (`limited`), and its idempotency key is released.
   */
  async insert(
    record: RunRecord,
    owner: string,
    trace: Record<string, string>,
    idempotency: Idempotency | undefined,
    limits?: TenantLimits,
  ): Promise<Inserted> {
    if (idempotency) {
      const idemKey = this.idempotencyKey(owner, idempotency.key);
      const value = `${record.id} ${idempotency.requestHash}`;
      const ttl = Math.min(IDEMPOTENCY_TTL_SECONDS, this.retentionSeconds);
      const claimed = await this.redis.set(idemKey, value, 'EX', ttl, 'NX');
      if (claimed === null) {
        const [existingId = '', existingHash] = ((await this.redis.get(idemKey)) ?? '').split(' ');
        return existingHash === idempotency.requestHash
          ? { created: false, existingId }
          : { conflict: existingId };
      }
    }
    const refused = await this.admitAndStore(record, owner, trace, limits);
    if (refused) {
      if (idempotency) await this.releaseIdempotencyKey(record.id, owner, idempotency.key);
      return refused;
    }
    return { created: true };
  }

  /**
   * The tenant's limits checked and the run entered in the indexes in one step (`ADMIT_RUN`), then its record
   * written. A tenant at its in-flight limit is looked at once more after the runs that finished or vanished
   * without leaving its in-flight set are taken out of it.
   */
  private async admitAndStore(
    record: RunRecord,
    owner: string,
    trace: Record<string, string>,
    limits: TenantLimits | undefined,
  ): Promise<Extract<Inserted, { limited: TenantLimitName }> | undefined> {
    let admitted = await this.admit(record, owner, limits);
    if (admitted.verdict === 'inflight' && (await this.pruneInflight(owner)) > 0) {
      admitted = await this.admit(record, owner, limits);
    }
    if (admitted.verdict !== 'ok') {
      return { limited: admitted.verdict, retryAfterMs: admitted.retryAfterMs };
    }
    const fields = { ...encodeRecordFields(record), owner, trace: JSON.stringify(trace) };
    await this.redis.hset(runKeys(this.prefix, record.id).record, fields);
    return undefined;
  }

  private async admit(
    record: RunRecord,
    owner: string,
    limits: TenantLimits | undefined,
  ): Promise<{ verdict: TenantLimitName | 'ok'; retryAfterMs: number }> {
    const idx = indexKeys(this.prefix);
    const tenant = tenantKeys(this.prefix, owner);
    const now = Date.now();
    const [verdict, retryAfterMs] = (await admitRunScript(
      this.redis,
      [
        idx.all,
        idx.byOwner(owner),
        idx.live,
        tenant.live,
        tenant.perMinute,
        tenant.tokens(utcDay(now)),
        idx.tenants,
      ],
      [
        record.id,
        String(Date.parse(record.createdAt)),
        String(now),
        arg(limits?.inflight),
        arg(limits?.perMinute),
        arg(limits?.tokensPerDay),
        owner,
      ],
    )) as [TenantLimitName | 'ok', number];
    return { verdict, retryAfterMs: Number(retryAfterMs) };
  }

  /**
   * Takes out of the tenant's in-flight set the runs that finished without leaving it (their finisher stopped
   * between writing the run and the indexes) or vanished (no record past the creation grace). Returns how many.
   */
  private async pruneInflight(owner: string): Promise<number> {
    const key = tenantKeys(this.prefix, owner).live;
    const members = await this.redis.zrange(key, '0', '-1', 'WITHSCORES');
    const stale: string[] = [];
    const checks: Promise<void>[] = [];
    const graceEnd = Date.now() - RECORD_FOLLOWS_INDEX_MS;
    for (let i = 0; i + 1 < members.length; i += 2) {
      const id = members[i] as string;
      const admittedAt = Number(members[i + 1]);
      checks.push(
        this.redis.hget(runKeys(this.prefix, id).record, 'status').then((status) => {
          if (status === null ? admittedAt < graceEnd : TERMINAL_STORED.has(status)) stale.push(id);
        }),
      );
    }
    await Promise.all(checks);
    if (stale.length > 0) await this.redis.zrem(key, ...stale);
    return stale.length;
  }

  private async releaseIdempotencyKey(id: string, owner: string, key: string): Promise<void> {
    await releaseIfOursScript(this.redis, [this.idempotencyKey(owner, key)], [id]);
  }

  /**
   * Removes a run that could not be enqueued (so a 503 leaves nothing behind), and releases its idempotency key
   * unless the key already names another run, so the client can retry with the same key.
   */
  async discard(id: string, owner: string, idempotencyKey?: string): Promise<void> {
    const idx = indexKeys(this.prefix);
    const keys = runKeys(this.prefix, id);
    const tenant = tenantKeys(this.prefix, owner);
    // The run's keys and the indexes are in different slots on a Redis Cluster: one transaction each.
    await Promise.all([
      this.redis.del(keys.record, keys.journal, keys.events, keys.feedback, keys.deliveries),
      this.redis
        .multi()
        .zrem(idx.all, id)
        .zrem(idx.byOwner(owner), id)
        .zrem(idx.live, id)
        .zrem(tenant.live, id)
        .zrem(tenant.perMinute, id)
        .exec(),
    ]);
    if (idempotencyKey !== undefined) await this.releaseIdempotencyKey(id, owner, idempotencyKey);
  }

  /**
   * Begins a worker's attempt at the run (`START_ATTEMPT`): its fencing token, which the attempt's journal and
   * finishing writes must still match, and the record's fields after the start. `startedAt` is kept only when the
   * run has not started before.
   */
  async startAttempt(id: string, startedAt: string): Promise<AttemptStart> {
    const keys = runKeys(this.prefix, id);
    const [verdict, attempt, fields, journal] = (await startAttemptScript(
      this.redis,
      [keys.record, keys.journal],
      [JSON.stringify(startedAt)],
    )) as [AttemptStart['verdict'], number?, string[]?, string[]?];
    if (verdict === 'gone') return { verdict };
    const started = { attempt: Number(attempt), fields: fieldsOf(fields) };
    return verdict === 'running'
      ? { verdict, ...started, journal: fieldsOf(journal) }
      : { verdict, ...started };
  }

  /**
   * How many of `replicas` replicas hold what this connection wrote of run `id` — its record, and the indexes
   * (another server on a Redis Cluster) — waiting at most `timeoutMs`: the fewer of the two.
   */
  async replicated(id: string, replicas: number, timeoutMs: number): Promise<number> {
    const confirmed = await Promise.all([
      waitForReplicas(this.redis, runKeys(this.prefix, id).record, replicas, timeoutMs),
      waitForReplicas(this.redis, indexKeys(this.prefix).all, replicas, timeoutMs),
    ]);
    return Math.min(...confirmed);
  }

  /** Fields that are not the run's status: the queue-paused note. */
  async setFields(id: string, fields: Partial<Omit<RunRecord, 'id' | 'steps'>>): Promise<void> {
    const encoded = encodeRecordFields(fields);
    if (Object.keys(encoded).length > 0) await this.redis.hset(runKeys(this.prefix, id).record, encoded);
  }

  /** Attempt `attempt` stopped for `requests`: they become pending (with their events) and the run `waiting`. */
  async waitForInput(id: string, attempt: number, requests: readonly PendingInput[]): Promise<WaitRecorded> {
    const keys = runKeys(this.prefix, id);
    const args = requests.flatMap((r) => [
      r.id,
      r.step,
      JSON.stringify(r),
      encodeStoredEvent({ type: 'input.requested', request: r }),
    ]);
    const [waited, ...added] = (await waitForInputScript(
      this.redis,
      [keys.record, keys.journal, keys.events],
      [String(attempt), String(MAX_EVENTS_PER_RUN), ...args],
    )) as [Waited, ...string[]];
    return { waited, added };
  }

  /** One pending request of the run, as stored. */
  async pendingInput(id: string, requestId: string): Promise<PendingInput | undefined> {
    const raw = await this.redis.hget(runKeys(this.prefix, id).record, `${PENDING_FIELD_PREFIX}${requestId}`);
    return raw ? (JSON.parse(raw) as PendingInput) : undefined;
  }

  /** Closes a pending request with `answer` (journaled) and its event, once. */
  async closeInput(
    id: string,
    request: PendingInput,
    answer: HumanAnswer,
    event: RunEventInput,
  ): Promise<Closed> {
    const keys = runKeys(this.prefix, id);
    return (await closeInputScript(
      this.redis,
      [keys.record, keys.journal, keys.events],
      [
        request.id,
        request.step,
        JSON.stringify({ kind: 'step', value: answer, completedAt: answer.at }),
        encodeStoredEvent(event),
        String(MAX_EVENTS_PER_RUN),
      ],
    )) as Closed;
  }

  /** The answer journaled for a request (whoever closed it). */
  async journaledAnswer(id: string, step: string): Promise<HumanAnswer | undefined> {
    const raw = await this.redis.hget(runKeys(this.prefix, id).journal, step);
    return raw ? ((JSON.parse(raw) as { value: HumanAnswer }).value as HumanAnswer) : undefined;
  }

  /**
   * An expired request that never became pending (its attempt stopped before recording the wait): its default
   * answer journaled unless one is there, with its event. Returns the answer the journal holds.
   */
  async closeExpiredUnrecorded(
    id: string,
    request: PendingInput,
    answer: HumanAnswer,
  ): Promise<HumanAnswer | undefined> {
    const entry = JSON.stringify({ kind: 'step', value: answer, completedAt: answer.at });
    if ((await this.redis.hsetnx(runKeys(this.prefix, id).journal, request.step, entry)) === 1) {
      await this.events.append(id, {
        type: 'input.expired',
        requestId: request.id,
        step: request.step,
        decision: 'reject',
      });
      return answer;
    }
    return this.journaledAnswer(id, request.step);
  }

  /** The run's webhook, if its request had one. */
  async webhookOf(id: string): Promise<Webhook | undefined> {
    const raw = await this.redis.hget(runKeys(this.prefix, id).record, 'webhook');
    return raw ? (JSON.parse(raw) as Webhook) : undefined;
  }

  /** The run's status as stored (undefined: no such run). */
  async status(id: string): Promise<string | undefined> {
    const raw = await this.redis.hget(runKeys(this.prefix, id).record, 'status');
    return raw ? (JSON.parse(raw) as string) : undefined;
  }

  /** Marks the run cancel-requested and tells every worker (the one running it aborts it). */
  async requestCancel(id: string): Promise<void> {
    await this.setFields(id, { cancelRequested: true });
    await this.redis.publish(indexKeys(this.prefix).cancelChannel, id);
  }

  /** Whether a cancel was requested for the run (workers check it besides the channel). */
  async cancelRequested(ids: readonly string[]): Promise<string[]> {
    // One read per run, all at once (the runs' records are in different slots on a Redis Cluster).
    const replies = await Promise.all(
      ids.map((id) => this.redis.hget(runKeys(this.prefix, id).record, 'cancelRequested')),
    );
    return ids.filter((_, i) => replies[i] === 'true');
  }

  /**
   * Writes a finished run's outcome and its terminal event in one step (a client that sees the event reads the
   * final record), takes it off the live indexes, counts its tokens for its tenant and starts the retention clock.
   * Refused when the run has finished already, or — with `fence`, the attempt number of the execution that
   * finishes it — when a newer attempt owns the run.
   */
  async finish(
    id: string,
    outcome: RunOutcome,
    options: { startedAt?: string | undefined; fence?: number | undefined; owner?: string | undefined } = {},
  ): Promise<Finished> {
    const keys = runKeys(this.prefix, id);
    const owner = options.owner ?? (await this.redis.hget(keys.record, 'owner')) ?? '';
    const finishedAt = new Date().toISOString();
    const fields = encodeRecordFields({
      status: outcome.status,
      usage: outcome.usage,
      finishedAt,
      ...(options.startedAt ? { durationMs: Date.parse(finishedAt) - Date.parse(options.startedAt) } : {}),
      ...(outcome.output ? { output: outcome.output } : {}),
      ...(outcome.partial ? { partial: true } : {}),
      ...(outcome.failedAgents ? { failedAgents: outcome.failedAgents } : {}),
      ...(outcome.details ? { details: outcome.details } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
      // What the worker executed (the version pinned at creation, so the same unless the run could not resolve it).
      ...(outcome.definitionVersion ? { definitionVersion: outcome.definitionVersion } : {}),
    });
    const [finished, tokens] = (await finishRunScript(
      this.redis,
      [keys.record, keys.events, keys.journal],
      [
        arg(options.fence),
        String(outcome.usage.inputTokens + outcome.usage.outputTokens),
        encodeStoredEvent(terminalEvent(outcome)),
        String(MAX_EVENTS_PER_RUN),
        String(this.retentionSeconds),
        ...flat(fields),
      ],
    )) as [Finished, number?];
    if (finished === 'finished') await this.settleFinished(id, owner, Number(tokens), outcome.status);
    return finished;
  }

  /**
   * A finished run leaves the live indexes, its tokens count for its tenant's day and — with `counted`, how it
   * ended — it counts in the queue's throughput: the second half of `finish`, one transaction in the indexes'
   * slot. A finisher that stops between the two leaves the run in the live indexes (`forgetFinished` takes it
   * out later), its tokens uncounted and its finish out of the throughput.
   */
  private async settleFinished(
    id: string,
    owner: string,
    tokens: number,
    counted?: FinishedStatus,
  ): Promise<void> {
    const tx = this.redis
      .multi()
      .zrem(indexKeys(this.prefix).live, id)
      .zrem(tenantKeys(this.prefix, owner).live, id);
    if (tokens > 0) {
      const counter = tenantKeys(this.prefix, owner).tokens(utcDay(Date.now()));
      tx.incrby(counter, tokens).expire(counter, TOKENS_COUNTER_TTL_SECONDS);
    }
    if (counted) countRunFinished(tx, this.prefix, id, counted);
    await tx.exec();
  }

  /** Finishes a run that never reached (or no longer has) a worker as cancelled, keeping what it had spent. */
  async finishCancelled(
    record: RunRecord,
    options: { startedAt?: string | undefined; fence?: number | undefined } = {},
  ): Promise<Finished> {
    return this.finish(
      record.id,
      {
        status: 'cancelled',
        error: new RunCancelledError().toJSON(),
        usage: record.usage,
        steps: record.steps,
        definitionVersion: record.definitionVersion,
      },
      options,
    );
  }

  /** Runs not finished yet that were queued before `before` (ms since epoch), oldest first: `limit` from `offset`. */
  async liveRuns(before: number, limit: number, offset = 0): Promise<string[]> {
    const key = indexKeys(this.prefix).live;
    return this.redis.zrangebyscore(key, '-inf', String(before), 'LIMIT', offset, limit);
  }

  /** Takes a run whose record is gone off the live index. */
  async forgetLive(id: string): Promise<void> {
    await this.redis.zrem(indexKeys(this.prefix).live, id);
  }

  /** Takes a finished run still in the live indexes (its finisher stopped half-way) out of them. */
  async forgetFinished(id: string, owner: string): Promise<void> {
    await this.settleFinished(id, owner, 0);
  }

  /** What a run's journal says it spent (the usage of a run that ends without an outcome of its own). */
  async journaledUsage(id: string): Promise<RunUsage> {
    return usageOf(await readJournal(this.redis, this.prefix, id));
  }

  /**
   * Puts a failed run back to `queued` for a new attempt that reuses its journal. Successful agent calls stay
   * journaled (the retry replays them); journaled agent *failures* are deleted so those calls are tried again,
   * and so are pattern steps (`ctx.step`: plans, routing decisions, emitted pattern events) recorded at or
   * after the first failure, because they were decided knowing about it. The outcome fields of the failed
   * attempt are cleared, usage is recomputed from the kept steps, the terminal event is removed from the event
   * stream (a client following the events sees the new attempt to its own end), the run is live again and the
   * retention clock stops. Returns undefined when the run is not failed (or another retry claimed it first).
   */
  async resetForRetry(id: string): Promise<RetryReset | undefined> {
    const keys = runKeys(this.prefix, id);
    const claimed = await claimStatusScript(
      this.redis,
      [keys.record],
      [JSON.stringify('failed'), JSON.stringify('queued')],
    );
    if (claimed !== 1) return undefined;
    const owner = (await this.redis.hget(keys.record, 'owner')) ?? '';
    const entries = await readJournal(this.redis, this.prefix, id);
    const { removed, kept, usage } = splitForRetry(entries);
    const now = Date.now();
    const run = this.redis.multi();
    if (removed.length > 0) run.hdel(keys.journal, ...removed);
    run
      .hdel(keys.record, ...OUTCOME_FIELDS)
      .hset(keys.record, encodeRecordFields({ usage }))
      .persist(keys.record)
      .persist(keys.journal)
      .persist(keys.events);
    // The run's keys, then the indexes (another slot on a Redis Cluster).
    await run.exec();
    await this.redis
      .multi()
      .zadd(indexKeys(this.prefix).live, now, id)
      .zadd(tenantKeys(this.prefix, owner).live, now, id)
      .exec();
    await this.removeTerminalEvents(id);
    return { removedSteps: removed, keptSteps: kept };
  }

  /** Undoes `resetForRetry`'s status change when the retried run could not be enqueued. */
  async restoreFailed(record: RunRecord, owner: string): Promise<void> {
    await this.setFields(record.id, {
      status: 'failed',
      ...(record.error ? { error: record.error } : {}),
      ...(record.finishedAt ? { finishedAt: record.finishedAt } : {}),
    });
    await this.redis
      .multi()
      .zrem(indexKeys(this.prefix).live, record.id)
      .zrem(tenantKeys(this.prefix, owner).live, record.id)
      .exec();
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
}

/** The terminal event of an outcome. */
export function terminalEvent(outcome: RunOutcome): RunEventInput {
  if (outcome.status === 'succeeded') {
    return {
      type: 'run.completed',
      partial: outcome.partial ?? false,
      output: outcome.eventOutput ?? outcome.output ?? { text: '' },
      usage: outcome.usage,
    };
  }
  if (outcome.status === 'cancelled') return { type: 'run.cancelled' };
  return { type: 'run.failed', error: outcome.error ?? { code: 'INTERNAL', message: 'failed' } };
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
  const keptEntries = entries.filter(([key, e]) => !removed.has(key) && e.kind === 'agent');
  return { removed: [...removed], kept: keptEntries.map(([k]) => k), usage: usageOf(keptEntries) };
}
