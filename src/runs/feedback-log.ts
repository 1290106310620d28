import type { Redis } from 'ioredis';
import { z } from 'zod';
import { runOutputSchema } from '../core/run.js';
import { llmopsKeys } from './keys.js';
import { type FeedbackEntry, feedbackEntrySchema, type RunRecord } from './schema.js';

/**
 * The feedback log: every feedback entry, copied with what it is about — the run's team, pattern, variant,
 * versions and subject, and (only when the operator allows it, BATON_FEEDBACK_CONTENT) the run's input and
 * output — into one Redis sorted set scored by time that outlives the runs (BATON_LLMOPS_RETENTION_SECONDS).
 * `GET /v1/feedback` lists and aggregates it; `baton feedback export` turns it into an eval dataset.
 */

export const loggedFeedbackSchema = feedbackEntrySchema.extend({
  runId: z.string(),
  team: z.string(),
  pattern: z.string(),
  variant: z.string(),
  teamVersion: z.string().optional(),
  definitionVersion: z.string(),
  subject: z.string().optional(),
  input: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  output: runOutputSchema.optional(),
});
export type LoggedFeedback = z.infer<typeof loggedFeedbackSchema>;

export const feedbackAggregateSchema = z.object({
  team: z.string(),
  variant: z.string(),
  pattern: z.string(),
  /** UTC day, `YYYY-MM-DD`. */
  day: z.string(),
  n: z.number().int(),
  meanScore: z.number(),
});
export type FeedbackAggregate = z.infer<typeof feedbackAggregateSchema>;

export interface FeedbackQuery {
  team?: string | undefined;
  variant?: string | undefined;
  pattern?: string | undefined;
  /** ISO times; `since` inclusive, `until` exclusive. */
  since?: string | undefined;
  until?: string | undefined;
  /** Only this owner's feedback (a client sees its own runs' feedback). */
  owner?: string | undefined;
  limit: number;
}

export class FeedbackLog {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly settings: { retentionSeconds: number; keepContent: boolean },
  ) {
    this.key = llmopsKeys(prefix).feedbackLog;
  }

  /** Logs `entry` about `record`, and forgets entries older than the retention. */
  async add(record: RunRecord, owner: string, entry: FeedbackEntry): Promise<LoggedFeedback> {
    const logged: LoggedFeedback = {
      ...entry,
      runId: record.id,
      team: record.team,
      pattern: record.pattern,
      variant: record.variant ?? 'base',
      ...(record.teamVersion ? { teamVersion: record.teamVersion } : {}),
      definitionVersion: record.definitionVersion,
      ...(record.subject ? { subject: record.subject } : {}),
      ...(this.settings.keepContent
        ? { input: record.input, ...(record.output ? { output: record.output } : {}) }
        : {}),
    };
    const at = Date.parse(entry.at);
    await this.redis
      .multi()
      .zadd(this.key, at, JSON.stringify({ owner, entry: logged }))
      .zremrangebyscore(this.key, '-inf', `(${Date.now() - this.settings.retentionSeconds * 1000}`)
      .exec();
    return logged;
  }

  /** The matching entries, newest first (at most `limit`), and aggregates over every match. */
  async list(query: FeedbackQuery): Promise<{ items: LoggedFeedback[]; aggregates: FeedbackAggregate[] }> {
    const min = query.since ? String(Date.parse(query.since)) : '-inf';
    const max = query.until ? `(${Date.parse(query.until)}` : '+inf';
    const raw = await this.redis.zrevrangebyscore(this.key, max, min);
    const items: LoggedFeedback[] = [];
    const groups = new Map<string, FeedbackAggregate & { sum: number }>();
    for (const line of raw) {
      const parsed = z
        .object({ owner: z.string(), entry: loggedFeedbackSchema })
        .safeParse(JSON.parse(line) as unknown);
      if (!parsed.success) continue;
      const { owner, entry } = parsed.data;
      if (query.owner !== undefined && owner !== query.owner) continue;
      if (query.team !== undefined && entry.team !== query.team) continue;
      if (query.variant !== undefined && entry.variant !== query.variant) continue;
      if (query.pattern !== undefined && entry.pattern !== query.pattern) continue;
      if (items.length < query.limit) items.push(entry);
      const day = entry.at.slice(0, 10);
      const id = JSON.stringify([entry.team, entry.variant, entry.pattern, day]);
      const g = groups.get(id) ?? {
        team: entry.team,
        variant: entry.variant,
        pattern: entry.pattern,
        day,
        n: 0,
        meanScore: 0,
        sum: 0,
      };
      g.n += 1;
      g.sum += entry.score;
      groups.set(id, g);
    }
    const aggregates = [...groups.values()]
      .map(({ sum, ...g }) => ({ ...g, meanScore: sum / g.n }))
      .sort((a, b) =>
        a.day !== b.day
          ? a.day < b.day
            ? 1
            : -1
          : `${a.team}/${a.variant}`.localeCompare(`${b.team}/${b.variant}`),
      );
    return { items, aggregates };
  }
}
