import type { Redis } from 'ioredis';
import { type TenantLimits, type TenantLimitTable, tenantLimitsFor } from '../config/tenant-limits.js';
import { indexKeys, tenantKeys, utcDay } from '../runs/keys.js';

/** One tenant (API key id) as operators see it: its limits and what it uses of them now. */
export interface TenantView {
  keyId: string;
  limits: TenantLimits;
  usage: {
    /** Runs queued or running. */
    inflight: number;
    /** Runs created in the last 60 s. */
    lastMinute: number;
    /** Tokens of the runs that finished this UTC day. */
    tokensToday: number;
  };
}

/**
 * The per-tenant view: every key id in `known` (the configured keys) and every one that has created a run, with
 * limits and usage, read in one round trip.
 */
export async function tenantViews(
  redis: Redis,
  prefix: string,
  table: TenantLimitTable | undefined,
  known: readonly string[],
): Promise<TenantView[]> {
  const seen = await redis.smembers(indexKeys(prefix).tenants);
  const keyIds = [...new Set([...known, ...seen])].sort();
  const now = Date.now();
  const pipeline = redis.pipeline();
  for (const keyId of keyIds) {
    const keys = tenantKeys(prefix, keyId);
    pipeline
      .zcard(keys.live)
      .zcount(keys.perMinute, now - 60_000, '+inf')
      .get(keys.tokens(utcDay(now)));
  }
  const replies = (await pipeline.exec()) ?? [];
  return keyIds.map((keyId, i) => {
    const at = (k: number) => Number(replies[i * 3 + k]?.[1] ?? 0);
    return {
      keyId,
      limits: tenantLimitsFor(table, keyId),
      usage: { inflight: at(0), lastMinute: at(1), tokensToday: at(2) },
    };
  });
}
