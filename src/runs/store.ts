import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { BatonError } from '../core/errors.js';
import type { PendingInput } from '../core/run.js';
import { type JournalEntry, readJournal, stepsFromJournal } from './journal.js';
import { indexKeys, llmopsKeys, runKeys } from './keys.js';
import {
  type DeliveryAttempt,
  type FeedbackEntry,
  isRunId,
  type RunRecord,
  type RunStatus,
  runRecordSchema,
  terminalStatuses,
} from './schema.js';

/**
 * How long after a run's admission its index entries may stand without its record: its record is written just
 * after (see `ADMIT_RUN`); past this, a creator that died in between left them, and they no longer count.
 */
export const RECORD_FOLLOWS_INDEX_MS = 60_000;

/** The latest webhook delivery attempts a record shows. */
const MAX_DELIVERIES_SHOWN = 100;

/** Stored beside the record, never served: which API key (by hash) created the run. */
export interface StoredRun {
  record: RunRecord;
  owner: string;
  /** W3C trace context of the request that created the run: later signals (feedback) join its trace. */
  trace: Record<string, string>;
}

/**
 * A stored run whose record does not parse (written by an older or faulty version, or damaged). Listings skip it;
 * where the run itself is asked for, this error answers. `owner` says who may learn that it exists.
 */
export class UnreadableRunError extends BatonError {
  constructor(
    readonly runId: string,
    readonly owner: string,
    problem: string,
  ) {
    super('RUN_UNREADABLE', `The stored record of run "${runId}" cannot be read.`, { runId, problem });
  }
}

export interface ListQuery {
  status?: RunStatus;
  owner?: string;
  limit: number;
  cursor?: string;
  /** Created at or after this time (ms since the epoch). */
  createdFrom?: number;
  /** Created at or before this time (ms since the epoch). */
  createdTo?: number;
  /** Keeps only the runs it accepts (the operator console's filters beyond status and owner). */
  where?: (record: RunRecord) => boolean;
  /** Stops after looking at this many runs (a filter that matches few runs cannot walk the whole index). */
  scanLimit?: number;
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
 * Reads of the run record in Redis: a hash with one JSON-encoded field per top-level record field (so the API and
 * the worker update disjoint fields without read-modify-write) and an index by creation time (all runs and per
 * owner). `steps` are never stored twice: they are read from the journal. Lifecycle writes (status, terminal
 * events) belong to src/lifecycle/run-writes.ts; feedback is appended here.
 */
export class RunStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly retentionSeconds: number,
    private readonly log?: Logger,
  ) {}

  /**
   * The run, or undefined when there is none; throws `UnreadableRunError` when its record does not parse. With
   * `details: false` its steps and feedback are left empty (one read instead of three).
   */
  async get(id: string, options: { details?: boolean } = {}): Promise<StoredRun | undefined> {
    // Only a run id names a run: anything else (a foreign job id, `<id>:events`) could reach another key.
    if (!isRunId(id)) return undefined;
    const keys = runKeys(this.prefix, id);
    const raw = await this.redis.hgetall(keys.record);
    if (!raw.owner) return undefined;
    // Without details (a worker starting the run), the record alone: no steps, feedback, scores or deliveries.
    if (options.details === false) return this.fromFields(id, raw);
    const read = Promise.all([
      readJournal(this.redis, this.prefix, id),
      this.redis.lrange(keys.feedback, 0, -1),
      this.redis.hvals(llmopsKeys(this.prefix).evaluations(id)),
      this.redis.lrange(keys.deliveries, -MAX_DELIVERIES_SHOWN, -1),
    ]);
    const [journal, feedback, evaluations, deliveries] = await read.catch((err: unknown) => {
      throw unreadable(id, raw.owner ?? '', err);
    });
    return this.fromFields(id, raw, { journal, feedback, evaluations, deliveries });
  }

  /**
   * The run that the record's stored fields (as HGETALL returns them) describe, with the details given (none:
   * no steps, feedback, scores or deliveries). Throws `UnreadableRunError` when a field does not parse.
   */
  fromFields(
    id: string,
    raw: Record<string, string>,
    details: {
      journal: readonly [string, JournalEntry][];
      feedback: readonly string[];
      evaluations: readonly string[];
      deliveries: readonly string[];
    } = { journal: [], feedback: [], evaluations: [], deliveries: [] },
  ): StoredRun {
    // Beside the record's own fields: who owns it, its trace, and what its tenant's daily tokens already count.
    const { owner = '', trace, tenantTokens: _counted, ...fields } = raw;
    const { journal, feedback, evaluations, deliveries } = details;
    try {
      if (feedback.length > 0) fields.feedback = `[${feedback.join(',')}]`;
      if (evaluations.length > 0) fields.evaluations = `[${evaluations.join(',')}]`;
      if (deliveries.length > 0) fields.deliveries = `[${deliveries.join(',')}]`;
      return {
        record: decode({ ...fields }, stepsFromJournal(journal)),
        owner,
        trace: trace ? (JSON.parse(trace) as Record<string, string>) : {},
      };
    } catch (err) {
      throw unreadable(id, owner, err);
    }
  }

  /** The runs of `ids` that exist and can be read, in order; unreadable ones are logged and left out. */
  async getMany(ids: readonly string[]): Promise<StoredRun[]> {
    const runs = await Promise.all(ids.map((id) => this.readable(id)));
    return runs.filter((run): run is StoredRun => run !== undefined);
  }

  private async readable(id: string): Promise<StoredRun | undefined> {
    try {
      return await this.get(id);
    } catch (err) {
      if (!(err instanceof UnreadableRunError)) throw err;
      this.log?.error({ err: err.toJSON(), runId: id }, 'skipping a run whose stored record cannot be read');
      return undefined;
    }
  }

  /** Records one webhook delivery attempt with the run; it is kept as long as the run. */
  async addDeliveryAttempt(id: string, attempt: DeliveryAttempt): Promise<void> {
    const key = runKeys(this.prefix, id).deliveries;
    await this.redis.multi().rpush(key, JSON.stringify(attempt)).expire(key, this.retentionSeconds).exec();
  }

  /** Appends a quality signal to the run; it is kept as long as the run. */
  async addFeedback(id: string, entry: FeedbackEntry): Promise<void> {
    const key = runKeys(this.prefix, id).feedback;
    await this.redis.multi().rpush(key, JSON.stringify(entry)).expire(key, this.retentionSeconds).exec();
  }

  async list(query: ListQuery): Promise<{ items: RunRecord[]; nextCursor?: string; scanStopped?: boolean }> {
    const idx = indexKeys(this.prefix);
    const key = query.owner ? idx.byOwner(query.owner) : idx.all;
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const items: RunRecord[] = [];
    const to = query.createdTo !== undefined ? String(query.createdTo) : '+inf';
    let max = after ? String(after.score) : to;
    const min = query.createdFrom !== undefined ? String(query.createdFrom) : '-inf';
    let skipUntil = after?.id;
    const batch = Math.max(50, query.limit * 2);
    let scanned = 0;
    let seen: { id: string; score: number } | undefined;
    for (;;) {
      const page = await this.redis.zrevrangebyscore(key, max, min, 'WITHSCORES', 'LIMIT', 0, batch);
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
        if (query.scanLimit !== undefined && scanned >= query.scanLimit && seen) {
          return { items, nextCursor: encodeCursor(seen.score, seen.id), scanStopped: true };
        }
        scanned += 1;
        seen = { id, score };
        const run = await this.readable(id);
        if (!run) {
          // Expired, unless just created: a run enters the indexes a moment before its record is written.
          const settled = score < Date.now() - RECORD_FOLLOWS_INDEX_MS;
          if (settled && !(await this.redis.exists(runKeys(this.prefix, id).record)))
            await this.redis.zrem(key, id);
          continue;
        }
        if (query.status && run.record.status !== query.status) continue;
        if (query.where && !query.where(run.record)) continue;
        items.push(run.record);
        if (items.length === query.limit) return { items, nextCursor: encodeCursor(score, id) };
      }
      const last = ids[ids.length - 1];
      if (!last || ids.length < batch) return { items };
      max = String(last.score);
      skipUntil = last.id;
    }
  }

  isTerminal(status: RunStatus): boolean {
    return terminalStatuses.includes(status);
  }
}

/** Record fields as the run hash stores them: one JSON value per top-level field (`steps` live in the journal). */
export function encodeRecordFields(fields: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined && k !== 'steps') out[k] = JSON.stringify(v);
  }
  return out;
}

/** The record field of one open human-input request (each its own field, so an answer removes just it). */
export const PENDING_FIELD_PREFIX = 'pending:';

function decode(fields: Record<string, string>, steps: RunRecord['steps']): RunRecord {
  const obj: Record<string, unknown> = { steps };
  const pending: PendingInput[] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (k.startsWith(PENDING_FIELD_PREFIX)) pending.push(JSON.parse(v) as PendingInput);
    else obj[k] = JSON.parse(v);
  }
  if (pending.length > 0) {
    obj.pending = pending.sort((a, b) =>
      a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0,
    );
  }
  return runRecordSchema.parse(obj);
}

function unreadable(id: string, owner: string, err: unknown): UnreadableRunError {
  return new UnreadableRunError(id, owner, err instanceof Error ? err.message.slice(0, 500) : String(err));
}
