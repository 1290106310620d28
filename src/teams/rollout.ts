import { createHash } from 'node:crypto';
import type { TeamDefinition } from './schema.js';
import { BASE_VARIANT } from './variants.js';

/**
 * A/B rollouts. A team's `rollout` gives each arm (`base` or a declared variant) a weight. A new run without an
 * explicit `options.variant` gets an arm by its assignment key — the client's subject (`metadata.subject` or the
 * `Baton-Subject` header), else the run id — so the same subject always gets the same arm while the rollout's
 * weights stay the same:
 *
 *   u = first 4 bytes of SHA-256("<team>:<key>") as a big-endian integer / 2^32        (uniform in [0, 1))
 *   the arms in name order, each covering weight / total of [0, 1); the arm whose range holds u is assigned.
 *
 * Name order (not file order) means reordering the document never moves a subject; changing a weight moves only
 * the subjects whose u falls in the ranges that changed.
 */
export function rolloutBucket(team: string, key: string): number {
  return createHash('sha256').update(`${team}:${key}`).digest().readUInt32BE(0) / 2 ** 32;
}

/** The arm of `rollout` that `key` falls in, or `base` when the team declares no rollout. */
export function assignVariant(team: TeamDefinition, key: string): string {
  const arms = Object.entries(team.rollout ?? {})
    .filter(([, weight]) => weight > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const total = arms.reduce((sum, [, weight]) => sum + weight, 0);
  if (arms.length === 0 || total <= 0) return BASE_VARIANT;
  const u = rolloutBucket(team.name, key) * total;
  let upTo = 0;
  for (const [arm, weight] of arms) {
    upTo += weight;
    if (u < upTo) return arm;
  }
  return arms[arms.length - 1]?.[0] ?? BASE_VARIANT;
}
