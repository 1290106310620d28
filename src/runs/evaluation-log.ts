import type { Redis } from 'ioredis';
import { z } from 'zod';
import { llmopsKeys } from './keys.js';

/**
 * The evaluation log: every online evaluation score with what it grades — the run's team, pattern, variant and
 * rollout subject — in one Redis sorted set scored by time that outlives the runs (BATON_LLMOPS_RETENTION_SECONDS).
 * `GET /v1/evaluations` lists it; `baton eval --from-production` compares variants on it.
 */
export const loggedEvaluationSchema = z.object({
  runId: z.string(),
  team: z.string(),
  pattern: z.string(),
  variant: z.string(),
  subject: z.string().optional(),
  definitionVersion: z.string(),
  scorer: z.string(),
  score: z.number().min(0).max(1),
  judgeModel: z.string().optional(),
  at: z.string(),
});
export type LoggedEvaluation = z.infer<typeof loggedEvaluationSchema>;

export interface EvaluationQuery {
  team?: string | undefined;
  scorer?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  owner?: string | undefined;
  limit: number;
}

export class EvaluationLog {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly retentionSeconds: number,
  ) {
    this.key = llmopsKeys(prefix).evaluationLog;
  }

  async add(owner: string, entry: LoggedEvaluation): Promise<void> {
    await this.redis
      .multi()
      .zadd(this.key, Date.parse(entry.at), JSON.stringify({ owner, entry }))
      .zremrangebyscore(this.key, '-inf', `(${Date.now() - this.retentionSeconds * 1000}`)
      .exec();
  }

  /** Matching scores, newest first, at most `limit`. */
  async list(query: EvaluationQuery): Promise<LoggedEvaluation[]> {
    const min = query.since ? String(Date.parse(query.since)) : '-inf';
    const max = query.until ? `(${Date.parse(query.until)}` : '+inf';
    const items: LoggedEvaluation[] = [];
    for (const line of await this.redis.zrevrangebyscore(this.key, max, min)) {
      const parsed = z
        .object({ owner: z.string(), entry: loggedEvaluationSchema })
        .safeParse(JSON.parse(line) as unknown);
      if (!parsed.success) continue;
      const { owner, entry } = parsed.data;
      if (query.owner !== undefined && owner !== query.owner) continue;
      if (query.team !== undefined && entry.team !== query.team) continue;
      if (query.scorer !== undefined && entry.scorer !== query.scorer) continue;
      items.push(entry);
      if (items.length >= query.limit) break;
    }
    return items;
  }
}
